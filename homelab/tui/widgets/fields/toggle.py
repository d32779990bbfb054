"""A yes/no value as a switch, with a note saying where its value comes from."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Switch

from homelab.tui.plain import Label
from homelab.tui.schema import MISSING, shown
from homelab.tui.widgets.fields.base import Field


class BoolField(Field):
    """A switch; showing an inherited or default value writes nothing."""

    key_hint = "space switches it"

    def compose_control(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Switch(self._value(), classes="field-switch")
            yield Label(self._note(), classes="field-note")

    @property
    def control(self) -> Switch:
        return self.query_one(Switch)

    def _value(self) -> bool:
        for candidate in (self.own, self.inherited, self.spec.default):
            if isinstance(candidate, bool):
                return candidate
        return False

    def _note(self) -> str:
        if self.own is not MISSING:
            return "" if isinstance(self.own, bool) else f"(was {shown(self.own)})"
        if self.inherited is not MISSING:
            return "(inherited)"
        return "(default)" if isinstance(self.spec.default, bool) else "(not set)"

    def show_value(self) -> None:
        self.control.value = self._value()
        self.query_one(".field-note", Label).update(self._note())

    @on(Switch.Changed)
    def _switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        if self.own is MISSING and event.value == self._value():
            return  # showing the inherited or default value, not a change
        self.changed(event.value)
        self.query_one(".field-note", Label).update(self._note())
