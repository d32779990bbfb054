"""The index on disk: the model as gzipped JSON, one file per pinned (nixpkgs,
home-manager) pair. Reading checks the format number, so an index made by another
version of homelab is remade rather than misread."""

from __future__ import annotations

import gzip
import json
from typing import Any

from homelab.optionindex.model import Option, OptionIndex, OptionSet, OptionType

FORMAT = 1


class IndexUnreadable(ValueError):
    """The file is not an index of this format: make it again (`homelab options update`)."""


def _type_data(t: OptionType) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": t.kind}
    if t.name:
        out["name"] = t.name
    if t.description:
        out["description"] = t.description
    if t.values:
        out["values"] = list(t.values)
    if t.low is not None:
        out["low"] = t.low
    if t.high is not None:
        out["high"] = t.high
    if t.pattern is not None:
        out["pattern"] = t.pattern
    if t.of:
        out["of"] = [_type_data(o) for o in t.of]
    if t.freeform:
        out["freeform"] = True
    return out


def _type(data: dict[str, Any]) -> OptionType:
    return OptionType(
        data["kind"],
        data.get("name", ""),
        data.get("description", ""),
        tuple(data.get("values", ())),
        data.get("low"),
        data.get("high"),
        data.get("pattern"),
        tuple(_type(o) for o in data.get("of", ())),
        bool(data.get("freeform", False)),
    )


def _option_data(o: Option) -> dict[str, Any]:
    out: dict[str, Any] = {"path": list(o.path), "type": _type_data(o.type)}
    if o.description:
        out["description"] = o.description
    if o.default is not None:
        out["default"] = o.default
    if o.example is not None:
        out["example"] = o.example
    if o.declared_in:
        out["declaredIn"] = list(o.declared_in)
    if o.renamed_to is not None:
        out["renamedTo"] = list(o.renamed_to)
    if o.removed is not None:
        out["removed"] = o.removed
    if o.read_only:
        out["readOnly"] = True
    return out


def _option(data: dict[str, Any]) -> Option:
    renamed = data.get("renamedTo")
    return Option(
        tuple(data["path"]),
        _type(data["type"]),
        data.get("description", ""),
        data.get("default"),
        data.get("example"),
        tuple(data.get("declaredIn", ())),
        tuple(renamed) if renamed is not None else None,
        data.get("removed"),
        bool(data.get("readOnly", False)),
    )


def index_data(index: OptionIndex) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "nixpkgs": index.nixpkgs,
        "homeManager": index.home_manager,
        "madeWith": index.made_with,
        "nixos": [_option_data(o) for o in index.nixos],
        "home": [_option_data(o) for o in index.home],
    }


def from_data(data: Any) -> OptionIndex:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndexUnreadable("not an option index of this version")
    try:
        return OptionIndex(
            str(data["nixpkgs"]),
            str(data["homeManager"]),
            OptionSet({o.path: o for o in map(_option, data["nixos"])}),
            OptionSet({o.path: o for o in map(_option, data["home"])}),
            str(data.get("madeWith", "")),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise IndexUnreadable(f"a damaged option index ({e})") from e


def dumps(index: OptionIndex) -> bytes:
    text = json.dumps(index_data(index), separators=(",", ":"), sort_keys=True)
    return gzip.compress(text.encode(), mtime=0)  # mtime 0: the same index, the same bytes


def loads(blob: bytes) -> OptionIndex:
    try:
        return from_data(json.loads(gzip.decompress(blob)))
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise IndexUnreadable(f"not a readable option index ({e})") from e
