"""The typed fields of a submodule option's map in the Options tab: a row per direct
option below it, its name and a field of its type (optionfields.py: a switch, a choice,
a number checked against its range, text). A widget of its own so that the Options
editor keeps only the glue: typing in a field posts Typed (written when typing pauses),
a choice, a switch or enter posts Changed (written at once)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, Switch

from homelab.optionindex import model as m
from homelab.optionindex.model import Option, OptionSet
from homelab.tui.optionhelp import plain_type, sub_options
from homelab.tui.plain import Static
from homelab.tui.widgets.editors.optionfields import (
    field_for,
    field_text,
    read_checked,
    switch_note,
)

FIELDS = "Input, Select, Switch"


def nested_options(options: OptionSet | None, option: Option | None) -> list[Option]:
    """A submodule option's direct options (none for an option of another type)."""
    if option is None or options is None or plain_type(option.type).kind != m.SUBMODULE:
        return []
    return sub_options(options, option)


class SubmoduleFields(Vertical):
    """A field per direct option of a submodule, for the map of one entry."""

    DEFAULT_CSS = """
    SubmoduleFields { height: auto; }
    SubmoduleFields .sub-row { height: 1; }
    SubmoduleFields .sub-name { width: 24; color: $text-muted; }
    SubmoduleFields .sub-row .options-bool { width: 1fr; }
    """

    class Typed(Message):
        """A field's text changed: what it says may change, the map is written on a pause."""

    class Changed(Message):
        """A field was chosen, switched or entered: the map is written now."""

        def __init__(self, say: bool) -> None:
            super().__init__()
            self.say = say  # what is wrong with the value to be said again

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.options: list[Option] = []  # the submodule's direct options
        self._shown: tuple[object, ...] = ()  # the entry and options of the fields
        self._set: set[str] = set()  # its switches switched: a switch left alone sets nothing

    def show(self, entry: object, options: list[Option], value: Any) -> None:
        """A field per option, typed by its type as the entry's own value is, showing value
        (a map); the same fields again only show their values."""
        self.options = options
        values = value if isinstance(value, dict) else {}
        shown = (entry, *(sub.path for sub in options))
        if shown == self._shown and self.children:  # the same fields: their values
            for sub in options:
                self._show_one(sub.path[-1], values.get(sub.path[-1]))
            return
        self._shown = shown
        self._set = set()
        self.remove_children()
        rows = [
            Horizontal(
                Static(sub.path[-1], classes="sub-name"),
                field_for(
                    sub.type, values.get(sub.path[-1]), id=f"option-sub-{i}", name=sub.path[-1]
                ),
                classes="sub-row",
            )
            for i, sub in enumerate(options)
        ]
        if rows:
            self.mount_all(rows)

    def _show_one(self, key: str, value: Any) -> None:
        """A field showing value again (the profile changed under it)."""
        for field in self.query(FIELDS):
            if field.name != key:
                continue
            if isinstance(field, Switch):
                field.value = value is True
                self._note(field, unset=value is None)
            elif isinstance(field, Select):
                if value is None:
                    field.clear()
                elif field.value != value:
                    field.value = value
            elif isinstance(field, Input) and field.value != field_text(value):
                field.value = field_text(value)

    def _note(self, switch: Switch, unset: bool = False) -> None:
        note = switch.parent.query_one(".bool-note", Static) if switch.parent else None
        if note is not None:
            note.update(switch_note(switch.value, unset))

    def _fields(self) -> list[tuple[Option, Widget]]:
        """The options and their fields."""
        by_key = {o.path[-1]: o for o in self.options}
        return [(by_key[w.name], w) for w in self.query(FIELDS) if w.name in by_key]

    def first(self) -> Widget | None:
        """The first field, None before they are mounted."""
        fields = self.query(FIELDS)
        return fields.first() if fields else None

    def mounted(self) -> bool:
        return bool(self.query(".sub-row"))

    def read(self, value: Any) -> tuple[dict[str, Any], str]:
        """The map: value's (the entry's own) with the fields over it, keeping the keys
        there is no field for; and what is wrong with a field's value ('' when nothing)."""
        out = dict(value) if isinstance(value, dict) else {}
        wrongs = []
        for sub, field in self._fields():
            key = sub.path[-1]
            if isinstance(field, Switch):
                if key in out or key in self._set:  # a switch left alone sets nothing
                    out[key] = field.value
            elif isinstance(field, Select):
                if field.is_blank():
                    out.pop(key, None)
                else:
                    out[key] = field.value
            elif isinstance(field, Input):
                text = field.value.strip()
                if not text:
                    out.pop(key, None)
                    continue
                out[key], wrong = read_checked(sub.type, text)
                if wrong:
                    wrongs.append(f"{key}: {wrong}")
        return out, "\n".join(wrongs)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Typed())

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Changed(say=False))

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(say=True))

    @on(Switch.Changed)
    def _switched(self, event: Switch.Changed) -> None:
        event.stop()
        if event.switch.name:
            self._set.add(event.switch.name)
        self._note(event.switch)
        self.post_message(self.Changed(say=False))
