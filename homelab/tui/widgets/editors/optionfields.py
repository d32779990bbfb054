"""The controls that fit an option's type, made and read in one place: the value of an
`options:` entry, each option of a submodule's nested form and each item of a list are
typed with them. A switch for true or false (its value in words beside it: a switch
without colour shows nothing), a select for a choice, a one-line input for the rest (a
whole number's range is checked when its text is read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.containers import Horizontal
from textual.widgets import Input, Select, Switch

from homelab.optionindex import model as m
from homelab.optionindex.model import OptionType
from homelab.tui.optionhelp import out_of_range, plain_type, type_text
from homelab.tui.optionvalues import flow, value_text
from homelab.tui.plain import Static
from homelab.yamlfile import load_plain

# the item types a list editor types one by one; lists of others keep the YAML box
SIMPLE_ITEMS = frozenset({m.STR, m.PATH, m.INT, m.ENUM, m.BOOL})


def control_kind(t: OptionType) -> str:
    """Which control a value of the type is typed into: bool, enum, number or text."""
    t = plain_type(t)
    if t.kind == m.BOOL:
        return "bool"
    if t.kind == m.ENUM:
        return "enum"
    if t.kind in (m.INT, m.FLOAT, m.NUMBER):
        return "number"
    return "text"


def simple_item(t: OptionType) -> OptionType | None:
    """A list's item type when the list editor can type it (text, number, choice, switch)."""
    t = plain_type(t)
    if t.kind != m.LIST or not t.of:
        return None
    item = plain_type(t.of[0])
    return item if item.kind in SIMPLE_ITEMS else None


def switch_note(on: bool, unset: bool = False) -> str:
    if unset:  # a switch shows false; the option's own default holds until it is set
        return "not set  (space: true)"
    return f"{'true' if on else 'false'}  (space switches it)"


def switch_field(
    on: bool,
    *,
    id: str | None = None,
    name: str | None = None,
    note_id: str | None = None,
    unset: bool = False,
    classes: str = "options-bool",
) -> Horizontal:
    """A switch and its value in words."""
    return Horizontal(
        Switch(on, id=id, name=name),
        Static(switch_note(on, unset), id=note_id, classes="bool-note"),
        classes=classes,
    )


def choice_field(
    values: Sequence[Any],
    chosen: Any = None,
    *,
    id: str | None = None,
    name: str | None = None,
    blank: bool = True,
    prompt: str = "Select",
) -> Select[Any]:
    """A select of the members of a choice, the chosen one selected."""
    choices = [(Text(value_text(v)), v) for v in values]
    if chosen in values:
        return Select[Any](
            choices, value=chosen, id=id, name=name, compact=True, allow_blank=blank, prompt=prompt
        )
    return Select[Any](choices, id=id, name=name, compact=True, allow_blank=True, prompt=prompt)


def text_field(
    t: OptionType | None,
    text: str = "",
    *,
    id: str | None = None,
    name: str | None = None,
    placeholder: str = "",
) -> Input:
    """A one-line input; a whole number's takes digits only."""
    whole = t is not None and plain_type(t).kind == m.INT
    return Input(
        text,
        placeholder=placeholder or (type_text(t) if t is not None else ""),
        id=id,
        name=name,
        type="integer" if whole else "text",
        valid_empty=True,  # empty: not set
        compact=True,
    )


def field_for(t: OptionType, value: Any, *, id: str, name: str) -> Horizontal | Select[Any] | Input:
    """The control of a value of the type, showing value (None: not set)."""
    kind = control_kind(t)
    if kind == "bool":
        return switch_field(value is True, id=id, name=name, unset=value is None)
    if kind == "enum":
        return choice_field(plain_type(t).values, value, id=id, name=name)
    return text_field(t, field_text(value), id=id, name=name)


def field_text(value: Any) -> str:
    """A value's text in an input: text as it is, others as YAML, none empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else flow(value)


def read_text(t: OptionType | None, text: str) -> Any:
    """An input's text as the type reads it: text for a text or a choice of words (`no`
    stays the word, not YAML's false), YAML for the others."""
    plain = plain_type(t) if t is not None else None
    if plain is not None and (
        plain.kind in (m.STR, m.PATH)
        or (plain.kind == m.ENUM and all(isinstance(v, str) for v in plain.values))
    ):
        return text
    try:
        return load_plain(text)
    except Exception:
        return text


def read_checked(t: OptionType, text: str) -> tuple[Any, str]:
    """An input's text as a value of the type, or why it is not one ('' when it is)."""
    value = read_text(t, text)
    plain = plain_type(t)
    if plain.kind == m.INT and (isinstance(value, bool) or not isinstance(value, int)):
        return value, f"{text} is not a whole number"
    if plain.kind == m.BOOL and not isinstance(value, bool):
        return value, f"{text} is not true or false"
    if plain.kind == m.ENUM and value not in plain.values:
        return value, f"{text} is not one of: " + ", ".join(value_text(v) for v in plain.values)
    return value, out_of_range(plain, value)
