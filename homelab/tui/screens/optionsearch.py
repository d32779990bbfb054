"""The option search (ctrl+o): words typed, the options of the index that match, best
first, with their type and the first line of their description; enter picks the
highlighted one (up and down move it while typing), escape goes back without one."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option as Row

from homelab.optionindex.model import Option, OptionSet
from homelab.tui.optionhelp import first_line, search, type_text
from homelab.tui.plain import Static
from homelab.tui.screens.dialogs import DIALOG_CSS, Dialog

SHOWN = 40  # rows at most: more words narrow them
ROW = 100  # characters in a row of the list (the dialog is 110 wide)


class OptionSearch(Dialog):
    """Dismissed with the chosen Option, or None."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="OptionSearch")
        + """
    OptionSearch > Vertical { width: 110; }
    OptionSearch OptionList { height: 14; border: round $primary 40%; }
    OptionSearch .search-about { height: 3; color: $text-muted; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", "Next", show=False, priority=True),
        Binding("up", "move(-1)", "Previous", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
    ]

    def __init__(self, options: OptionSet, about: str, where: str, words: str = "") -> None:
        super().__init__()
        self.options = options
        self.about = about  # NixOS, home-manager
        self.where = where  # the section it goes into, in words
        self.words = words
        self.found: list[Option] = []
        self.width = 0  # of the path column
        self.marked: int | None = None  # the row drawn with ›

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Find a {self.about} option ({len(self.options)} in the index); "
                f"enter adds it to {self.where}",
                classes="dialog-title",
            )
            yield Input(
                self.words,
                placeholder="words of its path or description, e.g. ssh port",
                id="search-words",
            )
            rows = OptionList(id="search-found")
            rows.can_focus = False  # the keys stay in the words; up and down move it
            yield rows
            yield Static("", classes="search-about")
            yield Static(
                "type words · up/down: choose · enter: add it · escape: back",
                classes="search-keys",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._show(self.words)

    @property
    def rows(self) -> OptionList:
        return self.query_one("#search-found", OptionList)

    @on(Input.Changed, "#search-words")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._show(event.value)

    def _show(self, words: str) -> None:
        self.found = search(self.options, words, SHOWN)
        rows = self.rows
        rows.clear_options()
        self.width = min(max((len(o.name) for o in self.found), default=0), 60)
        self.marked = 0 if self.found else None
        rows.add_options([Row(self._line(i)) for i in range(len(self.found))])
        if self.found:
            rows.highlighted = 0
        self._about()

    def _line(self, index: int) -> Text:
        """A row: › on the highlighted one (seen without colour), path, type."""
        option, width = self.found[index], self.width
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("› " if index == self.marked else "  ")
        name = option.name if len(option.name) <= width else option.name[: width - 1] + "…"
        line.append(f"{name:<{width}}  ")
        kind = type_text(option.type)
        room = max(ROW - width - 4, 12)  # a row never wraps: the type is cut
        line.append(kind if len(kind) <= room else kind[: room - 1] + "…", style="dim")
        return line

    def _mark(self) -> None:
        rows, old, new = self.rows, self.marked, self.rows.highlighted
        if old == new or not self.found:
            return
        self.marked = new
        for index in (old, new):
            if index is not None and index < len(self.found):
                rows.replace_option_prompt_at_index(index, self._line(index))

    def _about(self) -> None:
        said = self.query_one(".search-about", Static)
        index = self.rows.highlighted
        if index is None or not self.found:
            words = self.query_one(Input).value.strip()
            said.update("no option has these words" if words else "")
            return
        option = self.found[index]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(option.name, style="bold")
        text.append(f"  {type_text(option.type)}\n")
        text.append(first_line(option.description) or "no description")
        if option.default is not None:
            text.append(f"\ndefault {first_line(option.default, 80)}")
        said.update(text)

    @on(OptionList.OptionHighlighted)
    def _moved(self) -> None:
        self._mark()
        self._about()

    def action_move(self, step: int) -> None:
        if not self.found:
            return
        index = self.rows.highlighted or 0
        self.rows.highlighted = max(0, min(len(self.found) - 1, index + step))

    @on(Input.Submitted, "#search-words")
    def _chosen(self, event: Input.Submitted) -> None:
        event.stop()
        index = self.rows.highlighted
        if index is not None and self.found:
            self.dismiss(self.found[index])
