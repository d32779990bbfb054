"""What the editor says about an option of the index: its type in words, the first line
of its description, the value a new entry starts with, and the options that match words
typed into the option search."""

from __future__ import annotations

import re
from typing import Any

from homelab.optionindex import model as m
from homelab.optionindex.model import Option, OptionIndex, OptionSet, OptionType
from homelab.optionindex.search import search as ranked
from homelab.profile.options import NotAnOptionPath, parse_key


def search(options: OptionSet, words: str, limit: int = 50) -> list[Option]:
    """The options that match words, best first (the CLI's ranking: exact path, prefix,
    words in the path, words in the description)."""
    return [hit.option for hit in ranked(options, words, limit)]


def first_line(text: str, width: int = 200) -> str:
    """The description's first sentence or line, on one line."""
    line = " ".join(text.strip().split("\n\n", 1)[0].split())
    return line if len(line) <= width else line[: width - 1] + "…"


def type_text(t: OptionType) -> str:
    """The type in words: 'true or false', 'one of: a, b', 'whole number 0 to 65535'."""
    if t.kind == m.BOOL:
        return "true or false"
    if t.kind == m.ENUM:
        return "one of: " + ", ".join(_member(v) for v in t.values)
    if t.kind == m.INT:
        if t.low is not None and t.high is not None:
            return f"whole number {t.low} to {t.high}"
        if t.low is not None:
            return f"whole number, at least {t.low}"
        return "whole number"
    if t.kind in (m.FLOAT, m.NUMBER):
        return "number"
    if t.kind == m.STR:
        return f"text matching {t.pattern}" if t.pattern else "text"
    if t.kind == m.PATH:
        return "path"
    if t.kind == m.LIST:
        return "list of " + (type_text(t.of[0]) if t.of else "anything")
    if t.kind == m.ATTRS:
        return "map of " + (type_text(t.of[0]) if t.of else "anything")
    if t.kind == m.SUBMODULE:
        return "submodule (its options below it)"
    if t.kind == m.NULL_OR:
        return "null or " + (type_text(t.of[0]) if t.of else "anything")
    if t.kind == m.EITHER:
        return " or ".join(type_text(o) for o in t.of)
    if t.kind == m.ANYTHING:
        return "anything"
    return t.description or t.name or "not checked"


def _member(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def plain_type(t: OptionType) -> OptionType:
    """The type a value is typed as: nullOr's inner one (null is left out)."""
    while t.kind == m.NULL_OR and t.of:
        t = t.of[0]
    return t


def _default(option: Option) -> Any:
    """The default as a plain value when it is one (true, 22, "x"), else None."""
    text = (option.default or "").strip()
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r'"[^"\\$]*"', text):
        return text[1:-1]
    return None


def start_value(option: Option) -> Any:
    """What a new entry for the option starts as: its default when it fits the type, else
    true for a switch, the first member of a choice, the low end of a range, empty."""
    t = plain_type(option.type)
    default = _default(option)
    if t.kind == m.BOOL:
        return default if isinstance(default, bool) else True
    if t.kind == m.ENUM:
        return default if default in t.values and default is not None else t.values[0]
    if t.kind in (m.INT, m.NUMBER, m.FLOAT):
        if isinstance(default, int) and not isinstance(default, bool):
            return default
        return t.low if t.low is not None else 0
    if t.kind == m.LIST:
        return []
    if t.kind in (m.ATTRS, m.SUBMODULE):
        return {}
    return default if isinstance(default, str) else ""


def out_of_range(t: OptionType, value: Any) -> str:
    """Why a number (or an item of a list of numbers) is outside the option's range ('' when
    it is inside, or no number)."""
    t = plain_type(t)
    if t.kind == m.LIST and t.of and isinstance(value, list):
        return next((said for v in value if (said := out_of_range(t.of[0], v))), "")
    if t.kind != m.INT or isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if isinstance(value, float):
        return f"{value} is not a whole number"
    if (t.low is not None and value < t.low) or (t.high is not None and value > t.high):
        return f"{value} is outside {type_text(t).removeprefix('whole number ')}"
    return ""


def sub_options(options: OptionSet, option: Option) -> list[Option]:
    """A submodule's direct options (one part below its path), for its nested form."""
    depth = len(option.path) + 1
    return [o for o in options.below(option.path) if len(o.path) == depth]


def lookup(index: OptionIndex | None, name: str) -> Option | None:
    """The index's option of a NixOS option's name as homelab writes it (a user's
    `home-manager.users.NAME.…` in the home-manager options), None when not in it."""
    if index is None:
        return None
    try:
        path = parse_key(name)
    except NotAnOptionPath:
        return None
    if path[:2] == ("home-manager", "users") and len(path) > 3:
        found = index.home.find(path[3:])
    else:
        found = index.nixos.find(path)
    return found.option if found is not None and not found.rest else None


def option_line(option: Option) -> str:
    """One line about an option: its type, then its description's first line."""
    return f"{type_text(option.type)}: {first_line(option.description) or 'no description'}"
