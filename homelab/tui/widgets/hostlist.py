"""The host list: name, system, and marks for invalid, unsaved, undeployed changes."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

# marks, in the order they are shown; a legend sits under the list
INVALID = ("✗", "red")
UNSAVED = ("✎", "yellow")
AHEAD = ("●", "dark_orange")  # changes not deployed yet
NEVER = ("○", "grey50")  # never deployed
LEGEND = "✗ invalid  ✎ unsaved\n● not deployed yet\n○ never deployed"


@dataclass(frozen=True)
class HostRow:
    folder: str
    system: str = ""
    invalid: bool | None = None  # None: not checked yet
    unsaved: bool = False
    deploy: str = ""  # "", "ahead" or "never"


def _system(system: str) -> str:
    return {"x86_64-linux": "x86_64", "aarch64-linux": "aarch64"}.get(system, system)


def prompt(row: HostRow) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    marks = [
        INVALID if row.invalid else None,
        UNSAVED if row.unsaved else None,
        AHEAD if row.deploy == "ahead" else NEVER if row.deploy == "never" else None,
    ]
    for mark in marks:
        text.append(mark[0] if mark else " ", style=mark[1] if mark else "")
    text.append(" ")
    text.append(row.folder, style="bold" if row.unsaved else "")
    if row.system:
        text.append(f"  {_system(row.system)}", style="dim")
    return text


class HostList(OptionList):
    """One line per host; the option id is the host's folder."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[str, HostRow] = {}

    def set_rows(self, rows: list[HostRow], selected: str | None = None) -> None:
        self.rows = {r.folder: r for r in rows}
        self.clear_options()
        self.add_options([Option(prompt(r), id=r.folder) for r in rows])
        if selected is not None and selected in self.rows:
            self.highlighted = self.get_option_index(selected)
        elif rows:
            self.highlighted = 0

    def update_row(self, row: HostRow) -> None:
        if row.folder not in self.rows:
            return
        if self.rows[row.folder] == row:
            return
        self.rows[row.folder] = row
        self.replace_option_prompt(row.folder, prompt(row))

    def row(self, folder: str) -> HostRow:
        return self.rows.get(folder) or HostRow(folder)

    @property
    def folder(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None
