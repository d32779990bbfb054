"""Textual's compact style (no borders), given to a widget before it mounts.

`Input(compact=True)` (Select's and Button's alike) sets a reactive that toggles a CSS
class, and a class that changes restyles the widget at once, mounted or not: a pass of
the whole stylesheet for each input of a form, 0.2-0.4 ms each, which mounting it does
again. The System form has some 25 of them on the way to the first host's editor.
"""

from __future__ import annotations

from typing import TypeVar

from textual.widgets import Button, Input, Select

W = TypeVar("W", Input, Select[object], Button)

COMPACT = "-textual-compact"  # the class Textual's compact reactive toggles (Textual 8.2)


def compact(widget: W) -> W:
    """The widget, compact, with its class set without restyling it (it is not mounted)."""
    widget.set_reactive(type(widget).compact, True)
    widget.add_class(COMPACT, update=False)
    return widget
