"""A short hint for a key that landed where it does nothing: where focus is, how to move.

A key a person presses is never dropped without a word; the same hint is not repeated
while its toast is still up, so that holding a key does not stack toasts.
"""

from __future__ import annotations

import time

from textual.widget import Widget

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
