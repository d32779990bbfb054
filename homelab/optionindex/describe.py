"""An option in words, as `homelab options show` and the editor's help print it: its type,
default, example, description, where it is declared, and what became of it when renamed
or removed. Pure: lines of text, no printing."""

from __future__ import annotations

import re

from homelab.optionindex.model import (
    ANYTHING,
    ATTRS,
    BOOL,
    EITHER,
    ENUM,
    FLOAT,
    INT,
    LIST,
    NULL_OR,
    NUMBER,
    PATH,
    STR,
    SUBMODULE,
    UNCHECKED,
    Option,
    OptionType,
)

# the manual's Markdown roles: {option}`a.b`, {file}`~/.config`, {command}`ls` ...
_ROLE = re.compile(r"\{[a-z]+\}(`[^`]*`)")


def plain(text: str) -> str:
    """A description without the manual's roles: {option}`a.b` is `a.b`."""
    return _ROLE.sub(r"\1", text)


_KIND_WORDS = {
    BOOL: "boolean",
    INT: "signed integer",
    FLOAT: "floating point number",
    NUMBER: "integer or floating point number",
    STR: "string",
    PATH: "absolute path",
    SUBMODULE: "submodule",
    ANYTHING: "anything",
    UNCHECKED: "a value homelab does not check",
}


def type_words(t: OptionType) -> str:
    """The type as lib says it ("16 bit unsigned integer; between 0 and 65535 (both
    inclusive)"), else put together from the structure."""
    if t.description:
        return t.description
    if t.kind == ENUM:
        return "one of " + ", ".join(_value(v) for v in t.values)
    if t.kind == INT and (t.low is not None or t.high is not None):
        low = "" if t.low is None else str(t.low)
        high = "" if t.high is None else str(t.high)
        return f"integer between {low or '…'} and {high or '…'}"
    if t.kind == STR and t.pattern is not None:
        return f"string matching the pattern {t.pattern}"
    inner = type_words(t.of[0]) if t.of else ""
    if t.kind == LIST:
        return f"list of ({inner})" if inner else "list"
    if t.kind == ATTRS:
        return f"attribute set of ({inner})" if inner else "attribute set"
    if t.kind == NULL_OR:
        return f"null or ({inner})"
    if t.kind == EITHER:
        return " or ".join(f"({type_words(o)})" for o in t.of)
    return _KIND_WORDS.get(t.kind, t.name or t.kind)


def _value(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v + '"'
    return str(v)


def option_lines(option: Option, source: str = "") -> list[str]:
    """The option's page: its path (and source, e.g. "home-manager"), then one fact a line,
    then its description."""
    head = option.name + (f"  ({source})" if source else "")
    lines = [head]
    if option.removed is not None:
        lines.append("removed" + (f": {option.removed}" if option.removed else ""))
    if option.renamed_to is not None:
        lines.append("renamed: set " + ".".join(option.renamed_to) + " instead")
    lines.append("type: " + type_words(option.type))
    if option.read_only:
        lines.append("read-only: set by the modules, not by you")
    if option.default is not None:
        lines.extend(_fact("default", option.default))
    if option.example is not None:
        lines.extend(_fact("example", option.example))
    for file in option.declared_in:
        lines.append(f"declared in: {file}")
    if option.description:
        lines.append("")
        lines.extend(plain(option.description).rstrip().splitlines())
    return lines


def _fact(label: str, text: str) -> list[str]:
    """label: text, a text of many lines indented below its label."""
    rows = text.rstrip().splitlines() or [""]
    if len(rows) == 1:
        return [f"{label}: {rows[0]}"]
    return [f"{label}:", *("  " + r for r in rows)]


def summary(option: Option, width: int = 72) -> str:
    """The description's first sentence on one line, cut to width."""
    text = " ".join(plain(option.description).split())
    if option.removed is not None:
        text = "(removed) " + text
    elif option.renamed_to is not None:
        text = "(renamed to " + ".".join(option.renamed_to) + ") " + text
    end = text.find(". ")
    if end != -1:
        text = text[: end + 1]
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
