"""Text boxes for YAML and Nix: tab indents, as in any code editor, and escape leaves the
box; the border says so while the box has focus, so that tab is never a silent trap.

Also what "typing" means for the keys that switch tabs: a printable key (`]`, `3`) goes
into a text input, never to a binding.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widget import Widget
from textual.widgets import Input, OptionList, Select, TextArea

HINT = "tab indents · esc leaves the box"


class BoxKeys:
    """For a TextArea subclass (first among its bases): tab indents, escape goes on to the
    screen, whose escape leaves the field."""

    def _box_init(self) -> None:
        area = self._area
        area.tab_behavior = "indent"
        area.indent_type = "spaces"

    @property
    def _area(self) -> TextArea:
        assert isinstance(self, TextArea)
        return self

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            # not TextArea's own escape (focus the next widget): the key bubbles on
            event.prevent_default()

    def _on_focus(self, event: events.Focus) -> None:
        self._area.border_subtitle = HINT

    def _on_blur(self, event: events.Blur) -> None:
        self._area.border_subtitle = ""


class TextBox(BoxKeys, TextArea):
    """A plain text box (YAML)."""

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(text, **kwargs)
        self._box_init()


def typing(widget: Widget | None) -> bool:
    """Printable keys go into this widget as text (an input, an editable text area, a
    list's filter or an open drop-down's search)."""
    if isinstance(widget, Input):
        return True
    if isinstance(widget, OptionList) and isinstance(widget.parent, Select):
        return True  # an open drop-down searches as you type
    if isinstance(widget, TextArea):
        return not widget.read_only
    return bool(getattr(widget, "typing_filter", False))
