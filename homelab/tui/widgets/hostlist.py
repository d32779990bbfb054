"""The host list: name, system, and marks for invalid, unsaved, undeployed changes."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets.option_list import Option

from homelab.editing.session import Session
from homelab.lab import HostState, Lab
from homelab.tui.widgets.lists import MarkedList

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


def host_row(
    folder: str, host: HostState | None, valid: bool | None, unsaved: bool, deploy: str
) -> HostRow:
    """A host's row: its system, as its profile says (or as its text says, when invalid)."""
    system = ""
    if host is not None and host.profile is not None:
        system = host.profile.host.system
    elif host is not None and host.document is not None and isinstance(host.document.data, dict):
        system = str((host.document.data.get("host") or {}).get("system") or "")
    return HostRow(folder, system, None if valid is None else not valid, unsaved, deploy)


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


class HostList(MarkedList):
    """One line per host of the session; the option id is the host's folder."""

    noun = "host"

    def __init__(self, session: Session[Lab], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self.rows: dict[str, HostRow] = {}
        self.marks: dict[str, str] = {}  # folder -> "ahead" or "never" (deploy marks)

    def show_folders(self, selected: str | None = None, folders: list[str] | None = None) -> None:
        """A row per host folder (a host was added or removed); folders: as just read."""
        folders = self.session.folders() if folders is None else folders
        self.set_rows([self.row(f) for f in folders], selected)

    def show(self, folder: str) -> None:
        """The folder's row as the session knows it now: checked, unsaved, deployed."""
        check = self.session.checks.get(folder)
        state = self.session.state.hosts.get(folder) if self.session.state else None
        host = check.host if check is not None else state
        valid = check.valid if check is not None else state.valid if state is not None else None
        draft = self.session.drafts.get(folder)
        unsaved = bool(draft and draft.dirty)
        self.update_row(host_row(folder, host, valid, unsaved, self.marks.get(folder, "")))

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

    def step(self, step: int) -> None:
        """Highlight the host step rows down (up when negative), within the list."""
        if self.option_count:
            index = (self.highlighted or 0) + step
            self.highlighted = max(0, min(index, self.option_count - 1))

    def row(self, folder: str) -> HostRow:
        return self.rows.get(folder) or HostRow(folder)

    @property
    def folder(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None
