"""A text value in one line; empty means 'not set here'."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input

from homelab.tui.compact import compact
from homelab.tui.schema import MISSING, shown
from homelab.tui.widgets.fields.base import Field, inherited_hint


class TextField(Field):
    """Text in an input; what it inherits or defaults to is its placeholder."""

    def compose_control(self) -> ComposeResult:
        yield compact(Input(self._text(), placeholder=self._placeholder(), classes="field-input"))

    @property
    def control(self) -> Input:
        return self.query_one(Input)

    def _text(self) -> str:
        return "" if self.own is MISSING else shown(self.own)

    def _placeholder(self) -> str:
        return inherited_hint(self.inherited, self.spec.default)

    def show_value(self) -> None:
        control = self.control
        control.placeholder = self._placeholder()
        if self._read(control.value) != self.own or (self.own is MISSING and control.value):
            control.value = self._text()

    def _read(self, text: str) -> Any:
        return text if text.strip() else MISSING

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.changed(self._read(event.value))

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
