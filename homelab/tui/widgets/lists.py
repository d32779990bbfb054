"""The lists a person moves along (hosts, the catalogue, users, containers): the
highlighted row carries a marker in the gutter (▶ when the list has focus, ▷ when focus
is elsewhere), so that it shows without colour; j/k/g/G move; typing a name jumps to it;
`/` narrows the list to the rows that contain what is typed.

The filter lives in the list itself: every option it was given is kept, the shown ones
are those that match, and a row asked for by id that the filter hides brings the whole
list back, so that choosing a host from elsewhere always shows it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import ClassVar, Self

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.strip import Strip
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from homelab.tui.plain import plain, subtitle_of
from homelab.tui.widgets.hints import say_where

FOCUSED = "▶ "
BLURRED = "▷ "
GUTTER = " " * len(FOCUSED)
TYPE_AHEAD_FOR = 1.0  # seconds: keys typed within this time make one name


def _plain(option: Option) -> str:
    prompt = option.prompt
    return prompt.plain if isinstance(prompt, Text) else str(prompt)


class MarkedList(OptionList):
    """An option list whose options have ids (the names typed to jump to them)."""

    # taken in the key handler (see _on_key); as bindings too, so that help lists them
    OWN_KEYS: ClassVar[dict[str, tuple[str, str]]] = {
        "j": ("cursor_down", "Down"),
        "k": ("cursor_up", "Up"),
        "g": ("first", "First"),
        "G": ("last", "Last"),
        "slash": ("filter", "Filter"),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(key, action, title, show=False) for key, (action, title) in OWN_KEYS.items()
    ]

    noun: str = "entry"  # what a row is, in hints ("no host starts with …")
    filterable: ClassVar[bool] = True

    def __init__(self, *options: Option, id: str | None = None, classes: str | None = None):
        self._every: list[Option] = []  # every option given, the filter's hidden ones too
        self.query_text = ""  # the filter: rows whose text contains it are shown
        self.typing_filter = False  # keys go to the filter (after `/`, until enter/escape)
        self._typed = ""  # type-ahead: the name typed so far
        self._typed_at = 0.0
        self._subtitle = ""  # the border's own subtitle, shown again without a filter
        super().__init__(*options, id=id, classes=classes, markup=False)

    # ---- the marker ------------------------------------------------------------------

    def _get_left_gutter_width(self) -> int:
        return len(GUTTER)

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        # a style always (the line's own): Textual's filters (NO_COLOR) expect one
        style = next(iter(line)).style if line.cell_length else None
        style = style or self.get_visual_style("option-list--option").rich_style
        marker = GUTTER
        try:
            index, offset = self._lines[self.scroll_offset.y + y]
        except IndexError:
            index = offset = -1
        if offset == 0 and index == self.highlighted:
            marker = FOCUSED if self.has_focus else BLURRED
        return Strip([Segment(marker, style), *line])

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh()  # the marker changes

    def _on_blur(self, event: events.Blur) -> None:
        self.typing_filter = False
        self._show_filter()
        self.refresh()

    # ---- the filter: every option is kept, the matching ones shown --------------------

    def add_options(self, new_options: Iterable[object]) -> Self:
        new = [o if isinstance(o, Option) else Option(o) for o in new_options if o is not None]  # type: ignore[arg-type]
        self._every.extend(new)
        return super().add_options([o for o in new if self._matches(o)])

    def clear_options(self) -> Self:
        self._every.clear()
        return super().clear_options()

    def replace_option_prompt(self, option_id: str, prompt: object) -> Self:
        if option_id in self._id_to_option:
            return super().replace_option_prompt(option_id, prompt)  # type: ignore[arg-type]
        for option in self._every:
            if option.id == option_id:
                option._set_prompt(prompt)  # type: ignore[arg-type]
                return self
        raise OptionDoesNotExist(f"There is no option with an ID of {option_id!r}")

    def get_option_index(self, option_id: str) -> int:
        if option_id not in self._id_to_option and any(o.id == option_id for o in self._every):
            self.set_filter("")  # asked for a row the filter hides: show them all
        return super().get_option_index(option_id)

    def _matches(self, option: Option) -> bool:
        return not self.query_text or self.query_text.lower() in _plain(option).lower()

    def set_filter(self, text: str) -> None:
        """Show the rows whose text contains text (all of them when empty)."""
        if text == self.query_text:
            self._show_filter()
            return
        was = self.highlighted_option
        every = list(self._every)
        self.query_text = text
        super().clear_options()
        self._every = every
        shown = [o for o in every if self._matches(o)]
        super().add_options(shown)
        if shown:
            self.highlighted = shown.index(was) if was in shown else 0
        self._show_filter()

    def _show_filter(self) -> None:
        if not self.filterable:
            return
        if not self.query_text and not self.typing_filter:
            self.border_subtitle = plain(self._subtitle)
            return
        shown = f"{self.option_count}/{len(self._every)}"
        cursor = "▏" if self.typing_filter else ""
        self.border_subtitle = plain(f"/{self.query_text}{cursor} {shown}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.filterable or action != "filter"  # help lists `/` where it filters

    def action_filter(self) -> None:
        if not self.filterable:
            say_where(self, "This list has no filter: typing a name jumps to it")
            return
        if not self.typing_filter and not self.query_text:
            self._subtitle = subtitle_of(self)
        self.typing_filter = True
        self._show_filter()

    def _filter_key(self, event: events.Key) -> bool:
        """A key while the filter is typed: True when the filter took it."""
        if event.key == "enter":
            self.typing_filter = False  # keep the filter, move in what it shows
            self._show_filter()
        elif event.key == "escape":
            self.typing_filter = False
            self.set_filter("")
        elif event.key == "backspace":
            self.set_filter(self.query_text[:-1])
        elif event.key == "ctrl+u":
            self.set_filter("")
        elif event.is_printable and event.character:
            self.set_filter(self.query_text + event.character)
        else:
            return False  # arrows and the like move in the filtered list
        return True

    # ---- keys: type-ahead, and a hint for keys the list cannot take -----------------

    async def _on_key(self, event: events.Key) -> None:
        # runs before Widget's own key handler (and before bindings, checked as the key
        # bubbles to the app): a key taken here is stopped and goes no further
        if self.typing_filter:
            if self._filter_key(event):
                event.stop()
                event.prevent_default()
        elif event.key == "escape" and self.query_text:
            event.stop()
            event.prevent_default()
            self.set_filter("")
        elif event.key in self.OWN_KEYS:
            # here, not only as bindings: a binding runs once the key has bubbled up to
            # the app, after the keys typed right behind it have reached this list
            event.stop()
            event.prevent_default()
            getattr(self, f"action_{self.OWN_KEYS[event.key][0]}")()
        elif (
            event.is_printable and event.character and event.key not in self.screen.active_bindings
        ):
            event.stop()
            event.prevent_default()
            if event.character.isspace():
                say_where(
                    self,
                    f"Focus is on a list: enter opens the highlighted {self.noun}, tab moves on",
                )
            else:
                self.type_ahead(event.character)

    def type_ahead(self, character: str) -> None:
        """Jump to the first row whose name starts with what was typed in the last second."""
        now = time.monotonic()
        typed = self._typed + character if now - self._typed_at < TYPE_AHEAD_FOR else character
        self._typed_at = now
        for attempt in dict.fromkeys((typed, character)):
            for index, option in enumerate(self.options):
                if (option.id or "").lower().startswith(attempt.lower()):
                    self._typed = attempt
                    self.highlighted = index
                    return
        self._typed = ""
        how = "/ filters, " if self.filterable else ""
        say_where(self, f"No {self.noun} starts with “{typed}” ({how}j/k move)")
