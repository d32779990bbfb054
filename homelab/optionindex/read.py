"""The JSON that index.nix prints, read into the model: lib's type names become the kinds
homelab checks (read at nixpkgs lib de42d442, lib/types.nix).

Pure: data in, an OptionIndex out. Anything the JSON does not say the way index.nix
writes it raises IndexUnreadable (the index is made again, never half-read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from homelab.optionindex import model as m
from homelab.optionindex.model import Option, OptionIndex, OptionSet, OptionType
from homelab.optionindex.store import IndexUnreadable

_BOOL = {"bool", "boolByOr"}
_INT = {"int", "intBetween", "unsignedInt", "positiveInt"}  # + unsignedIntN, signedIntN
_NUMBER = {"number", "numberBetween", "numberNonnegative", "numberPositive"}
_STR = {"str", "nonEmptyStr", "singleLineStr", "separatedString", "string", "shellPackage"}
_ANYTHING = {"anything", "raw", "unspecified"}
_ATTRS = {"attrsOf", "lazyAttrsOf"}
_SAME = {"unique", "uniq"}  # a list (or value) checked as its inner type

_BETWEEN = re.compile(r"between (-?\d+) and (-?\d+) \(both inclusive\)")
_ALIAS = re.compile(r"^Alias of \{option\}`(.+)`\.?\s*$", re.S)
_STORE = re.compile(r"^/nix/store/[^/]+/")


def option_type(data: Mapping[str, Any]) -> OptionType:
    """lib's facts of a type (name, description, values, pattern, nested) as a kind."""
    name = str(data.get("name") or "unspecified")
    description = str(data.get("description") or "")
    nested: Mapping[str, Any] = data.get("nested") or {}
    base = name.split(" ", 1)[0]  # "strMatching \"[a-z]+\"", "passwdEntry str"

    def inner(key: str) -> tuple[OptionType, ...]:
        sub = nested.get(key)
        return (option_type(sub),) if isinstance(sub, Mapping) else ()

    if base in _BOOL:
        return OptionType(m.BOOL, name, description)
    if base in _INT or re.fullmatch(r"(un)?signedInt\d+", base):
        low, high = _range(description)
        if low is None and base == "unsignedInt":
            low = 0
        if low is None and base == "positiveInt":
            low = 1
        return OptionType(m.INT, name, description, low=low, high=high)
    if base == "float":
        return OptionType(m.FLOAT, name, description)
    if base in _NUMBER:
        return OptionType(m.NUMBER, name, description)
    if base in _STR or base == "passwdEntry":
        return OptionType(m.STR, name, description)
    if base == "strMatching":
        pattern = data.get("pattern")
        return OptionType(m.STR, name, description, pattern=str(pattern) if pattern else None)
    if base == "path":
        return OptionType(m.PATH, name, description)
    if base == "enum":
        values = tuple(v for v in data.get("values") or () if _scalar(v))
        return OptionType(m.ENUM, name, description, values=values)
    if base == "listOf":
        return OptionType(m.LIST, name, description, of=inner("elemType"))
    if base in _ATTRS:
        return OptionType(m.ATTRS, name, description, of=inner("elemType"))
    if base == "attrs":
        return OptionType(m.ATTRS, name, description)
    if base == "submodule":
        return OptionType(m.SUBMODULE, name, description, freeform="freeformType" in nested)
    if base == "nullOr":
        return OptionType(m.NULL_OR, name, description, of=inner("elemType"))
    if base == "either":
        return OptionType(m.EITHER, name, description, of=_alternatives(nested))
    if base == "coercedTo":  # a value of either type is accepted (the first is converted)
        return OptionType(m.EITHER, name, description, of=inner("coercedType") + inner("finalType"))
    if base in _SAME and inner("elemType"):
        of = inner("elemType")[0]
        return OptionType(of.kind, name, description or of.description, of.values, of.low,
                          of.high, of.pattern, of.of, of.freeform)  # fmt: skip
    if base in _ANYTHING:
        return OptionType(m.ANYTHING, name, description)
    return OptionType(m.UNCHECKED, name, description)  # functionTo, package, custom checks


def _alternatives(nested: Mapping[str, Any]) -> tuple[OptionType, ...]:
    """either's left and right, with oneOf's nested eithers made one flat list."""
    out: list[OptionType] = []
    for key in ("left", "right"):
        sub = nested.get(key)
        if not isinstance(sub, Mapping):
            continue
        t = option_type(sub)
        out.extend(t.of if t.kind == m.EITHER and t.name == "either" else (t,))
    return tuple(out)


def _range(description: str) -> tuple[int | None, int | None]:
    found = _BETWEEN.search(description)
    return (int(found[1]), int(found[2])) if found else (None, None)


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def show_option_path(text: str) -> tuple[str, ...]:
    """lib.showOption's text back to parts: `a.b."c.d".<name>` -> (a, b, c.d, <name>)."""
    parts: list[str] = []
    for found in re.finditer(r'"((?:[^"\\]|\\.)*)"|([^.]+)', text):
        parts.append(re.sub(r"\\(.)", r"\1", found[1]) if found[1] is not None else found[2])
    return tuple(parts)


def relative(path: str, roots: Iterable[str]) -> str:
    """A declaring file relative to its source (the store path or a given root)."""
    for root in roots:
        root = root.rstrip("/") + "/"
        if path.startswith(root):
            return path[len(root) :]
    return _STORE.sub("", path)


def option_set(raw: Sequence[Any], roots: Iterable[str] = ()) -> OptionSet:
    """index.nix's list of options (its `nixos` or `home`) as an OptionSet."""
    roots = tuple(roots)
    options: dict[tuple[str, ...], Option] = {}
    aliases: dict[tuple[str, ...], tuple[str, ...]] = {}
    try:
        for data in raw:
            path = tuple(str(p) for p in data["loc"])
            if not path or path[0] == "_module":
                continue
            description = data.get("description") or ""
            alias = _ALIAS.match(description) if isinstance(description, str) else None
            if alias:
                aliases[path] = show_option_path(alias[1])
            removed = data.get("removed")
            options[path] = Option(
                path,
                option_type(data.get("type") or {}),
                str(description),
                _text(data.get("default")),
                _text(data.get("example")),
                tuple(relative(str(d), roots) for d in data.get("declarations") or ()),
                None,
                str(removed) if removed is not None else None,
                bool(data.get("readOnly")),
            )
    except (KeyError, TypeError, AttributeError) as e:
        raise IndexUnreadable(f"not the output of index.nix ({e})") from e
    starts = {p[:n] for p in options for n in range(1, len(p) + 1)} if aliases else set()
    for path, to in aliases.items():
        old = options[path]
        options[path] = Option(old.path, old.type, old.description, old.default, old.example,
                               old.declared_in, _resolve(path, to, starts), old.removed,
                               old.read_only)  # fmt: skip
    return OptionSet(options)


def _resolve(
    path: tuple[str, ...], to: tuple[str, ...], starts: set[tuple[str, ...]]
) -> tuple[str, ...]:
    """A rename inside a submodule names its new path relative to the submodule: the
    longest enclosing path under which the new one is declared (or starts) wins."""
    for n in range(len(path) - 1, 0, -1):
        if path[:n] + to in starts:
            return path[:n] + to
    return to


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_index(
    raw: Any,
    *,
    nixpkgs: str,
    home_manager: str,
    made_with: str = "",
    roots: Iterable[str] = (),
) -> OptionIndex:
    """index.nix's JSON (`{nixos: [...], home: [...]}`) as the index of a pinned pair."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("nixos"), list):
        raise IndexUnreadable("not the output of index.nix")
    roots = tuple(roots)
    return OptionIndex(
        nixpkgs,
        home_manager,
        option_set(raw["nixos"], roots),
        option_set(raw.get("home") or [], roots),
        made_with,
    )
