"""extraConfig (the Raw Nix tab): NixOS options written as Nix, checked by the parser as
you type."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import TextArea

from homelab.errors import Problem
from homelab.tui.messages import FieldEdited
from homelab.tui.optionhelp import option_line
from homelab.tui.plain import Static
from homelab.tui.widgets.editors.base import Data, Editor
from homelab.tui.widgets.nix import NixArea
from homelab.tui.widgets.textbox import BoxKeys


class NixBox(BoxKeys, NixArea):
    """Nix text, highlighted: tab indents, escape leaves the box."""

    def __init__(self, text: str, **kwargs: Any) -> None:
        super().__init__(text, **kwargs)
        self._box_init()


# the option path being typed before the cursor: names, dots, quoted names
PATH_BEFORE = re.compile(r'(?:[A-Za-z_][\w\'-]*|"[^"\n]*")(?:\.(?:[A-Za-z_][\w\'-]*|"[^"\n]*")?)*$')
SHOWN = 8  # continuations named on the completion line at most


def completions(names: list[str], typed: str) -> tuple[str, list[str]]:
    """What completes typed among option names: the text every continuation starts with
    (inserted at once) and the continuations up to their next dot (named to choose)."""
    nexts = sorted(
        {
            rest[: rest.index(".") + 1] if "." in rest else rest
            for name in names
            if name.startswith(typed)
            for rest in [name[len(typed) :]]
        }
    )
    if not nexts:
        return "", []
    common = nexts[0]
    for other in nexts[1:]:
        while not other.startswith(common):
            common = common[:-1]
    return common, nexts


# `extraConfig: |` at the top of a profile: its text begins on the next line
BLOCK = re.compile(r"^extraConfig\s*:\s*[|>][-+0-9]*\s*(#.*)?$")


def block_start(profile: str) -> int | None:
    """The profile's line (1-based) where the text of extraConfig begins, when it is a
    block (`extraConfig: |`); None when it is quoted, or not there."""
    for number, line in enumerate(profile.splitlines(), start=1):
        if BLOCK.match(line):
            return number + 1
    return None


class RawNixEditor(Editor, Vertical):
    """The profile's extraConfig as Nix text; its problems (from the parser) below it."""

    DEFAULT_CSS = """
    RawNixEditor { layout: vertical; height: 1fr; }
    RawNixEditor > .raw-help { color: $text-muted; padding: 0 1; }
    RawNixEditor > TextArea { height: 1fr; }
    RawNixEditor > .raw-error { color: $text-error; padding: 0 1; height: auto; }
    RawNixEditor > .raw-complete { color: $text-muted; padding: 0 1; height: auto;
                                   max-height: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+space", "complete", "Complete an option path (Raw Nix)", show=False),
        # what a terminal sends for ctrl+space; unnamed: help shows ctrl+space alone
        Binding("ctrl+@", "complete", "", show=False),
    ]

    def __init__(
        self, own: Data, merged: Data, profile: Callable[[], str], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.own = own
        self.profile = profile  # the profile's text as it is now: where extraConfig begins
        self._shown = ""

    def _text(self) -> str:
        value = self.own.get("extraConfig")
        return value if isinstance(value, str) else ""

    def compose(self) -> ComposeResult:
        yield Static(
            "Raw NixOS options (extraConfig): `name = value;` lines, or a whole module. "
            "Parsed as you type; a profile whose Nix does not parse is not saved. "
            "ctrl+space completes an option path.",
            classes="raw-help",
        )
        self._shown = self._text()
        yield NixBox(self._shown, id="raw-nix", show_line_numbers=True)
        yield Static("", classes="raw-complete")
        yield Static("", classes="raw-error")

    @property
    def area(self) -> TextArea:
        return self.query_one(TextArea)

    def show(self, own: Data, merged: Data) -> None:
        self.own = own
        text = self._text()
        if text != self.area.text:
            with self.prevent(TextArea.Changed):
                self.area.load_text(text)
        self._shown = text

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.wait_for_pause()

    # ---- completing option paths (ctrl+space) --------------------------------------------

    def _said(self, text: str) -> None:
        self.query_one(".raw-complete", Static).update(text)

    def action_complete(self) -> None:
        """The option path before the cursor completed from the option index: as far as
        every option that fits agrees, the next parts to choose from named below the box."""
        index = getattr(self.app, "option_index", lambda: None)()
        if index is None:
            self._said("No option index for this lab yet: `homelab options update` makes one.")
            return
        area = self.area
        row, column = area.cursor_location
        line = area.document.get_line(row)[:column]
        match = PATH_BEFORE.search(line)
        typed = match.group(0) if match else ""
        if not typed:
            self._said("Type the start of an option path (services.ope), then ctrl+space.")
            return
        names = getattr(self, "_names", None)
        if names is None:
            names = self._names = [o.name for o in index.nixos]
        common, nexts = completions(names, typed)
        if not nexts:
            self._said(f"No option starts with {typed}")
            return
        if common:
            area.insert(common)
        whole = typed + common
        option = index.nixos.get(whole.split("."))
        if len(nexts) > 1 or not common:
            rest = [n.removeprefix(common) for n in nexts if n != common]
            more = f" … {len(rest) - SHOWN} more" if len(rest) > SHOWN else ""
            said = f"{whole}…  " + "  ".join(rest[:SHOWN]) + more
            if option is not None:
                said += f"\n{whole}: {option_line(option)}"
            self._said(said)
        elif option is not None:
            self._said(f"{whole}: {option_line(option)}")
        else:
            self._said(f"{whole}…  ctrl+space again for the parts below it")

    def pending(self) -> list[Message]:
        self.end_pause()
        if not self.composed:
            return []
        text = self.area.text
        if text == self._shown:
            return []
        self._shown = text
        if text.strip():
            return [FieldEdited(("extraConfig",), text if text.endswith("\n") else text + "\n")]
        return [FieldEdited(("extraConfig",), remove=True)]

    def show_problems(self, problems: Sequence[Problem]) -> None:
        mine = [p for p in problems if p.path == "extraConfig"]
        first = block_start(self.profile()) if mine else None
        said = []
        for p in mine:
            if first is not None and p.place.line >= first:  # the profile's line: the box's
                said.append(f"line {p.place.line - first + 1} of this box: {p.message}")
            else:  # a quoted value, or a problem of the whole: the message says where
                said.append(p.message)
        self.query_one(".raw-error", Static).update("\n".join(said))

    def find(self, path: str) -> Widget | None:
        return self.area if path == "extraConfig" else None
