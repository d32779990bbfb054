"""Anything without a better form (swap, environment, program settings), as YAML text,
read within the same limits as a profile once typing pauses."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import TextArea

from homelab.tui.messages import FieldEdited
from homelab.tui.schema import MISSING, FieldSpec, Path
from homelab.tui.widgets.fields.base import Field, same
from homelab.tui.widgets.textbox import TextBox
from homelab.tui.widgets.typing import TypingPause
from homelab.yamlfile import load_plain


def as_yaml(value: Any) -> str:
    """A value as the YAML text a person would write."""
    if value is MISSING:
        return ""
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return text.removesuffix("...\n")


def yaml_error(err: yaml.YAMLError) -> str:
    """A YAML error in one line, with its line number."""
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    return f"YAML: {where}{getattr(err, 'problem', None) or err}"


class YamlField(Field, TypingPause):  # Field first: Textual takes CSS from the first base
    """A value of any shape as YAML text; its edit is posted when typing pauses."""

    DEFAULT_CSS = """
    YamlField TextArea { height: auto; min-height: 3; max-height: 14; width: 1fr; }
    """

    def __init__(self, spec: FieldSpec, base: Path, own: Any = MISSING, inherited: Any = MISSING):
        super().__init__(spec, base, own, inherited)
        self._last_read: tuple[str, Any] | None = None  # a text, and the value it reads as

    def compose_control(self) -> ComposeResult:
        yield TextBox(as_yaml(self.own), classes="field-yaml", show_line_numbers=False)

    @property
    def control(self) -> TextArea:
        return self.query_one(TextArea)

    def show_value(self) -> None:
        area = self.control
        try:
            current = self._read(area.text)
        except yaml.YAMLError:
            current = None
        if current != self.own or (self.own is MISSING and area.text.strip()):
            area.load_text(as_yaml(self.own))

    def _read(self, text: str) -> Any:
        """The value the text reads as (MISSING when blank); the last text read is not
        read again: every field's text is asked for at each host switch and save, typed
        in or not, and the profile's YAML reader takes milliseconds even for a line."""
        if self._last_read is None or self._last_read[0] != text:
            self._last_read = (text, load_plain(text) if text.strip() else MISSING)
        value = self._last_read[1]
        return value if value is MISSING else copy.deepcopy(value)  # its own: none shares it

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.wait_for_pause()

    def pending(self) -> list[Message]:
        """The edit the text holds, if any (a typing pause, or a save, asks for it)."""
        self.end_pause()
        areas = self.query(TextArea)
        if not areas:
            return []  # mounted but not yet composed (a held key outruns the screen)
        text = areas.first().text
        try:
            value = self._read(text)
        except yaml.YAMLError as err:
            self.say(yaml_error(err))
            return []
        self.say("")
        if same(value, self.own) or (value is MISSING and self.own is MISSING):
            return []
        self.own = value
        if value is MISSING:
            return [FieldEdited(self.path, remove=True)]
        return [FieldEdited(self.path, value)]
