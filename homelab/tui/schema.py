"""Reading JSON Schemas for forms: which widget fits a value, its label, default and hint.

Pure: the profile schema and every catalogue entry's settings schema go through here, so
a new catalogue entry gets a form with no new code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homelab.profile import secretrefs

Path = tuple[str | int, ...]

MISSING: Any = object()

SCALARS = {"string", "integer", "number", "boolean"}


def resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """The schema with a local $ref followed (its own description kept)."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = dict(root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}))
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        return {**target, **extra}
    return dict(schema)


def types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    return [k for k in kind or [] if isinstance(k, str)]


def takes_secret(schema: Mapping[str, Any]) -> bool:
    """A secret's file: a catalogue setting of `format: secret-path`, or a profile value
    that is a path or `{secret: NAME}` (users.NAME.hashedPasswordFile)."""
    if secretrefs.takes_secret(schema):
        return True
    return any(
        isinstance(s, Mapping) and s.get("$ref") == "#/$defs/secretRef"
        for s in schema.get("anyOf") or ()
    )


def kind_of(schema: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    """choice, bool, number, text, list, group, map, secret or yaml (anything else, as
    YAML text)."""
    if takes_secret(schema):
        return "secret"
    if "enum" in schema:
        return "choice"
    wanted = [t for t in types(schema) if t != "null"]
    if wanted == ["boolean"]:
        return "bool"
    if wanted in (["integer"], ["number"]):
        return "number"
    if wanted == ["string"]:
        return "text"
    if wanted == ["array"]:
        items = resolve(schema.get("items") or {}, root)
        item_types = [t for t in types(items) if t != "null"]
        if (len(item_types) == 1 and item_types[0] in SCALARS) or "enum" in items:
            return "list"
        return "yaml"
    if wanted == ["object"]:
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and extra and "properties" in resolve(extra, root):
            return "map"
        if schema.get("properties") and not isinstance(extra, Mapping):
            return "group"
        return "yaml"
    return "yaml"


def item_kind(schema: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    """For a list: integer or text (how typed items are read)."""
    items = resolve(schema.get("items") or {}, root)
    return "integer" if "integer" in types(items) else "text"


_LABELS = {
    "networkmanager": "NetworkManager",
    "tcp": "TCP ports",
    "udp": "UDP ports",
    "gc": "Garbage collection",
    "params": "Kernel parameters",
    "initrdModules": "Initrd modules",
    "cmd": "Command",
    "hostKey": "Host key (pinned)",
}


def label(name: str) -> str:
    """stateVersion -> State version; efiMountPoint -> EFI mount point."""
    if name in _LABELS:
        return _LABELS[name]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split()
    out = []
    for word in words:
        lower = word.lower()
        out.append(
            word.upper() if lower in ("efi", "ssh", "uid", "cpu", "tls", "url", "dns") else lower
        )
    text = " ".join(out)
    return text[:1].upper() + text[1:]


def shown(value: Any) -> str:
    """A value as one line of text for an input or a placeholder."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def dig(data: Any, path: Path) -> Any:
    for part in path:
        in_map = isinstance(data, Mapping) and isinstance(part, str) and part in data
        in_list = (
            isinstance(data, list) and isinstance(part, int) and -len(data) <= part < len(data)
        )
        if in_map or in_list:
            data = data[part]
        else:
            return MISSING
    return data


def read_number(text: str, schema: Mapping[str, Any]) -> Any:
    """What a number input holds: a number when it reads as one, else the text as typed
    (so validation can say what is wrong, and the person's input is never dropped)."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    if "number" in types(schema):
        try:
            return float(text)
        except ValueError:
            pass
    return text


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form: where its value lives and how to edit it."""

    rel: Path  # below the form's base path
    name: str
    kind: str
    schema: Mapping[str, Any]
    root: Mapping[str, Any]

    @property
    def label(self) -> str:
        return label(self.name)

    @property
    def description(self) -> str:
        return str(self.schema.get("description") or "")

    @property
    def default(self) -> Any:
        return self.schema.get("default", MISSING)

    @property
    def options(self) -> list[Any]:
        return list(self.schema.get("enum") or [])

    @property
    def nullable(self) -> bool:
        return "null" in types(self.schema)


def fields(
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    rel: Path = (),
    skip: frozenset[str] = frozenset(),
) -> list[FieldSpec | tuple[str, list[Any]]]:
    """The fields of an object schema, in schema order; nested objects become
    (title, fields) groups."""
    out: list[FieldSpec | tuple[str, list[Any]]] = []
    schema = resolve(schema, root)
    for name, sub in (schema.get("properties") or {}).items():
        if name in skip:
            continue
        sub = resolve(sub, root)
        if "Not allowed" in str(sub.get("description", "")):
            continue  # keys that exist only to be refused (plaintext passwords)
        kind = kind_of(sub, root)
        if kind == "group":
            out.append((label(name), fields(sub, root, (*rel, name))))
        else:
            out.append(FieldSpec((*rel, name), name, kind, sub, root))
    return out
