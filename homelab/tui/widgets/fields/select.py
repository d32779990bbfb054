"""One of the schema's choices (an enum) in a drop-down."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Select

from homelab.tui.compact import compact
from homelab.tui.schema import MISSING, shown
from homelab.tui.widgets.fields.base import Field, inherited_hint


class ChoiceField(Field):
    """A drop-down of the allowed values; blank means 'not set here'."""

    key_hint = "enter opens its choices, then type to find one"

    def compose_control(self) -> ComposeResult:
        options = [(Text(shown(o)), o) for o in self.spec.options]  # text, `[` too
        value = self.own if self.own in self.spec.options else Select.NULL
        yield compact(Select(options, value=value, prompt=self._prompt(), classes="field-select"))

    @property
    def control(self) -> Select[Any]:
        return self.query_one(Select)

    def _prompt(self) -> str:
        return inherited_hint(self.inherited, self.spec.default) or "(not set)"

    def show_value(self) -> None:
        select = self.control
        select.prompt = self._prompt()
        select.value = self.own if self.own in self.spec.options else Select.NULL

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = MISSING if event.value is Select.NULL else event.value
        if value is MISSING and self.own is not MISSING and self.own not in self.spec.options:
            return  # an invalid value in the text is shown as blank: keep it until changed
        self.changed(value)
