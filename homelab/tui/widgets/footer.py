"""Textual's footer, made with less work: opening the editor remade it three times, on
the way to the first host's editor.

- Textual's Footer makes its keys again after the next refresh each time the screen says
  its bindings changed (at every change of focus and of some widgets' state), one making
  after another when that is said twice before a frame. Here one making takes every
  change said before it (Footer.bindings_changed of Textual 8.2, not asked again while
  one is due).
- A key starts compact and is made not compact when it mounts (it follows the footer's
  compact): two changes of its classes, each restyling it, for each key each time. Here
  each key that follows the footer starts as the footer is.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    _due = False  # a remaking is asked for, not done yet

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._due:
            return
        if self.is_attached and screen is self.screen:
            self._due = True
            self.call_after_refresh(self._remake)

    async def _remake(self) -> None:
        self._due = False
        await self.recompose()

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            # the command palette's key is not bound to the footer's compact: Textual
            # leaves it compact
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget
