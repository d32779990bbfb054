"""A short hint for a key that landed where it does nothing: where focus is, how to move.

Fields and lists say it for the keys their controls let through; the main screen, for a
key that reached it with nothing to take it (the tab bar, the preview, the problems).

A key a person presses is never dropped without a word; the same hint is not repeated
while its toast is still up, so that holding a key does not stack toasts.
"""

from __future__ import annotations

import time
from typing import Any

from textual import events
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Tabs

from homelab.tui.plain import title_of

SHOWN_FOR = 3.0  # seconds a hint stays up

_last: dict[int, tuple[str, float]] = {}  # app -> the last hint and when it was shown


def say_where(widget: Widget, text: str) -> None:
    app = widget.app
    now = time.monotonic()
    last = _last.get(id(app))
    if last is not None and last[0] == text and now - last[1] < SHOWN_FOR:
        return
    _last[id(app)] = (text, now)
    app.notify(text, title="Keys", timeout=SHOWN_FOR)


def where(widget: Widget) -> tuple[str, str]:
    """The focused part of the screen, named as its border or tab bar names it, and the
    keys it has."""
    for node in widget.ancestors_with_self:
        if isinstance(node, Tabs):
            return "the tab bar", "left/right pick a tab, "
        title = title_of(node)
        if title:
            return title.split(":")[0], ""
    return type(widget).__name__, ""


def unused_key(screen: Screen[Any], event: events.Key) -> None:
    """A printable key reached the screen and no widget or binding takes it: say so."""
    if not event.is_printable or event.key in screen.active_bindings:
        return
    event.stop()
    if screen.focused is None:
        say_where(screen, "Nothing has focus: tab moves into the screen, ? shows the keys")
        return
    name, keys = where(screen.focused)
    say_where(screen, f"Focus is on {name}, which takes no typing: {keys}tab moves on")
