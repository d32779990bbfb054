"""A list of plain items (groups, packages, SSH keys, ports): add, edit, remove."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from homelab.tui.compact import compact
from homelab.tui.schema import MISSING, item_kind, read_number, shown
from homelab.tui.widgets.fields.base import Field


class ItemList(OptionList):
    """The items of a list field: delete removes one, enter edits it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete,backspace", "remove", "Remove item"),
        Binding("enter", "edit", "Edit item", show=False),
    ]

    class Remove(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Edit(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def allow_focus(self) -> bool:
        # empty, it has no height: it would be a focus stop nobody sees
        return super().allow_focus() and self.option_count > 0

    def action_remove(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Remove(self.highlighted))

    def action_edit(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Edit(self.highlighted))


def names_kind(path: Sequence[str | int]) -> str | None:
    """The kind of name a list holds, when the lab knows them: users.NAME.groups."""
    if len(path) == 3 and path[0] == "users" and path[2] == "groups":
        return "groups"
    return None


class Names(Suggester):
    """Completes a name from those the lab knows here (→ or End takes it), asked each
    time: a service enabled since brings its groups. The names come from the nearest
    widget above the field with `names_to_offer(kind)`, best first."""

    def __init__(self, field: Widget, kind: str) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.field, self.kind = field, kind

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        for node in self.field.ancestors:
            offer = getattr(node, "names_to_offer", None)
            if callable(offer):
                names: list[str] = offer(self.kind)
                return next((n for n in names if n.startswith(value) and n != value), None)
        return None


class ListField(Field):
    """A list with an input to add or edit items. Items inherited from included fragments
    are shown dimmed and cannot be removed here."""

    DEFAULT_CSS = """
    ListField .list-box { height: auto; width: 1fr; }
    ListField ItemList { height: auto; max-height: 8; border: none; padding: 0; width: 1fr;
                         text-wrap: nowrap; text-overflow: ellipsis; }
    ListField ItemList:focus { border: none; background-tint: $foreground 5%; }
    ListField .list-add { margin: 0; }
    """

    _listed: tuple[list[str], list[str]] | None = None  # the items shown, as shown

    def compose_control(self) -> ComposeResult:
        with Vertical(classes="list-box"):
            self._listed = self._shown_items()
            yield ItemList(*self._options(self._listed), classes="field-items", markup=False)
            kind = names_kind(self.path)
            yield compact(
                Input(
                    placeholder=self._placeholder(),
                    classes="list-add",
                    suggester=Names(self, kind) if kind else None,
                )
            )
        self._editing: int | None = None

    @property
    def control(self) -> Widget:
        items = self.query_one(ItemList)
        return items if items.option_count else self.query_one(".list-add", Input)

    def _own_items(self) -> list[Any]:
        return list(self.own) if isinstance(self.own, list) else []

    def _inherited_items(self) -> list[Any]:
        own = self._own_items()
        if not isinstance(self.inherited, list):
            return []
        return [v for v in self.inherited if v not in own]

    def _integers(self) -> bool:
        return item_kind(self.spec.schema, self.spec.root) == "integer"

    def _placeholder(self) -> str:
        return f"add {'a number' if self._integers() else 'an item'} and press enter"

    def _shown_items(self) -> tuple[list[str], list[str]]:
        # as shown, not as values: 1 == True, yet they read differently
        return [shown(v) for v in self._own_items()], [shown(v) for v in self._inherited_items()]

    def _options(self, listed: tuple[list[str], list[str]]) -> list[Option]:
        own, inherited = listed
        options = [Option(Text(text), id=f"own-{i}") for i, text in enumerate(own)]
        for text in inherited:
            options.append(Option(Text(f"{text}  (inherited)", style="dim"), disabled=True))
        return options

    def show_value(self) -> None:
        items = self.query_one(ItemList)
        listed = self._shown_items()
        if listed == self._listed:
            return  # the same items (a host switch, mostly): remade, they cost a layout
        self._listed = listed
        highlighted = items.highlighted
        items.clear_options()
        items.add_options(self._options(listed))
        if highlighted is not None and items.option_count:
            items.highlighted = min(highlighted, items.option_count - 1)

    def _write(self, values: list[Any]) -> None:
        self.changed(values if values else MISSING)
        self.show_value()

    @on(Input.Submitted, ".list-add")
    def _add(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        value: Any = read_number(text, {"type": "integer"}) if self._integers() else text
        values = self._own_items()
        if self._editing is not None and self._editing < len(values):
            values[self._editing] = value
        else:
            values.append(value)
        self._editing = None
        event.input.value = ""
        self._write(values)

    @on(Input.Changed, ".list-add")
    def _typing(self, event: Input.Changed) -> None:
        event.stop()

    @on(ItemList.Remove)
    def _remove(self, event: ItemList.Remove) -> None:
        event.stop()
        values = self._own_items()
        if event.index < len(values):
            del values[event.index]
            self._write(values)

    @on(ItemList.Edit)
    def _edit(self, event: ItemList.Edit) -> None:
        event.stop()
        values = self._own_items()
        if event.index < len(values):
            self._editing = event.index
            add = self.query_one(".list-add", Input)
            add.value = shown(values[event.index])
            add.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
