"""The items of a list option (a list of text, numbers, choices, or true and false) one a
row, as the Options tab types them: the highlighted one marked ▶ (seen without colour),
`a` adds one, delete removes one, enter types one again. A typed item is read by the item
type and refused when it is not of it (a number outside its range); the items of a list
of choices are chosen from a select. Each change posts Changed; what to say under the
value, Said."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, OptionList, Select
from textual.widgets.option_list import Option

from homelab.optionindex import model as m
from homelab.optionindex.model import OptionType
from homelab.tui.optionhelp import type_text
from homelab.tui.optionvalues import flow, value_text
from homelab.tui.widgets.editors.optionfields import (
    choice_field,
    field_text,
    read_checked,
    text_field,
)
from homelab.tui.widgets.fields.list import ItemList
from homelab.tui.widgets.lists import MarkedList

CHOOSE_KEYS = "enter chooses it · a: add · delete: remove"


class OptionItems(ItemList, MarkedList):
    """The items, one a row: delete removes one, enter types it again, a adds one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("a", "add", "Add item")]
    noun = "item"
    filterable = False

    class Add(Message):
        pass

    def action_add(self) -> None:
        self.post_message(self.Add())


class ItemsEditor(Vertical):
    """A list option's items and the input (or the select) that adds one."""

    DEFAULT_CSS = """
    ItemsEditor { height: auto; }
    ItemsEditor OptionItems { height: auto; max-height: 8; border: none; padding: 0;
                              text-wrap: nowrap; text-overflow: ellipsis; }
    ItemsEditor OptionItems:focus { border: none; background-tint: $foreground 5%; }
    """

    class Changed(Message):
        """The items changed (items holds them)."""

    class Said(Message):
        """What is wrong with the item typed ('' when nothing)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.item: OptionType | None = None  # the item type
        self.items: list[Any] = []
        self._editing: int | None = None  # the item being typed again (enter on it)
        self._members_shown: tuple[Any, ...] | None = None  # the chooser's

    def compose(self) -> ComposeResult:
        yield OptionItems(id="option-items")
        yield text_field(None, id="option-item-new")
        yield choice_field((), id="option-item-choose", prompt=f"add an item: {CHOOSE_KEYS}")

    def show(self, item: OptionType | None, value: Any) -> None:
        """The items of value (a list), typed as item."""
        self.item = item
        self.items = list(value) if isinstance(value, list) else []
        self._editing = None
        self._show_items()

    def _show_items(self) -> None:
        rows = self.query_one(OptionItems)
        at = rows.highlighted
        rows.clear_options()
        rows.add_options([Option(Text(flow(v))) for v in self.items])
        if self.items:
            rows.highlighted = min(at or 0, len(self.items) - 1)
        item = self.item
        new = self.query_one("#option-item-new", Input)
        kind = type_text(item) if item is not None else "an item"
        new.placeholder = f"add an item ({kind}), then enter · a: add · delete: remove"
        new.type = "integer" if item is not None and item.kind == m.INT else "text"
        chooser = self.query_one("#option-item-choose", Select)
        members = self._members()
        new.display = members is None
        chooser.display = members is not None
        if members is not None and members != self._members_shown:
            self._members_shown = members  # set again, the select would lose its focus
            with self.prevent(Select.Changed):
                chooser.set_options([(Text(value_text(v)), v) for v in members])

    def _members(self) -> tuple[Any, ...] | None:
        """The items a list of choices (or of true and false) may hold: they are chosen,
        not typed; None for typed items."""
        item = self.item
        if item is None or item.kind not in (m.ENUM, m.BOOL):
            return None
        return tuple(item.values) if item.kind == m.ENUM else (True, False)

    def adder(self) -> Widget:
        """Where an item is added: the choices of a list of choices, else the input."""
        if self._members() is not None:
            return self.query_one("#option-item-choose", Select)
        return self.query_one("#option-item-new", Input)

    def focus_target(self) -> Widget:
        """The items, or the adder while there are none."""
        return self.query_one(OptionItems) if self.items else self.adder()

    def _add(self, value: Any) -> None:
        """An item added at the end, or the one typed again (enter on it) replaced."""
        if self._editing is not None and self._editing < len(self.items):
            self.items[self._editing] = value
        else:
            self.items.append(value)
        self._editing = None
        self._show_items()
        self.post_message(self.Changed())

    @on(Input.Changed, "#option-item-new")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value.strip()
        wrong = read_checked(self.item, text)[1] if self.item is not None and text else ""
        self.post_message(self.Said(wrong))

    @on(Input.Submitted, "#option-item-new")
    def _entered(self, event: Input.Submitted) -> None:
        """An item added (or typed again): one that is not of the item type is refused,
        its text kept to be mended."""
        event.stop()
        text = event.value.strip()
        if self.item is None or not text:
            return
        value, wrong = read_checked(self.item, text)
        if wrong:
            self.post_message(self.Said(f"not added: {wrong}"))
            return
        event.input.value = ""
        self._add(value)

    @on(Select.Changed, "#option-item-choose")
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        chooser = event.select
        if chooser.is_blank():
            return
        value = chooser.value
        with self.prevent(Select.Changed):
            chooser.clear()
        self._add(value)
        self.call_after_refresh(chooser.focus)  # the next one chosen the same way

    @on(OptionItems.Add)
    def _to_add(self, event: OptionItems.Add) -> None:
        event.stop()
        self._editing = None
        self.adder().focus()

    @on(ItemList.Remove)
    def _removed(self, event: ItemList.Remove) -> None:
        event.stop()
        if event.index < len(self.items):
            del self.items[event.index]
            self._show_items()
            self.post_message(self.Changed())
        if not self.items:
            self.adder().focus()

    @on(ItemList.Edit)
    def _edit(self, event: ItemList.Edit) -> None:
        event.stop()
        if event.index < len(self.items):
            self._editing = event.index
            adder = self.adder()
            if isinstance(adder, Input):
                adder.value = field_text(self.items[event.index])
            adder.focus()

    @on(OptionList.OptionSelected, "#option-items")
    @on(OptionList.OptionHighlighted, "#option-items")
    def _moved(self, event: Message) -> None:
        event.stop()  # not the entries' list of the Options tab: the entry stays
