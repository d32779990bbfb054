"""The values of an `options:` entry as the Options tab shows and reads them: which type
a value is, its text in the form's value box, and the value that text means.

A tagged value is held as the loader reads it, the one-key map {"!pkg": "htop"}; lists
and maps are typed as YAML flow (`[a, b]`, `{k: v}`), tags inside them included.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from homelab.profile.options import tag_of
from homelab.yamlfile import load_plain

# (type, what the type chooser says)
KINDS: list[tuple[str, str]] = [
    ("text", "text"),
    ("number", "number"),
    ("bool", "true/false"),
    ("list", "list"),
    ("map", "map"),
    ("pkg", "package (!pkg)"),
    ("nix", "Nix expression (!nix)"),
    ("force", "forced (!force)"),
    ("default", "default (!default)"),
]
LABELS = dict(KINDS)
# the same, as short as the list's type column
SHORT = {"pkg": "package", "nix": "Nix", "force": "forced", "default": "default"}
TAG_KINDS = {"!pkg": "pkg", "!nix": "nix", "!force": "force", "!default": "default"}
KIND_TAGS = {kind: tag for tag, kind in TAG_KINDS.items()}
# typed into a text box (several lines, YAML flow); the others into one line
BOXED = frozenset({"list", "map", "nix", "force", "default"})


def kind_of(value: Any) -> str:
    tag = tag_of(value)
    if tag is not None:
        return TAG_KINDS[tag]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "text"


def flow(value: Any) -> str:
    """A value as YAML on one line: `[!pkg htop, git]`, `{a: 1}`, `"yes"`."""
    tag = tag_of(value)
    if tag is not None:
        return f"{tag} {flow(value[tag])}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(str(k))}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, str):
        return value if _plain(value) else json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _plain(text: str) -> bool:
    """Written without quotes, it reads back as the same text, in a flow list or map too."""
    if not text or text != text.strip() or any(c in text for c in ",[]{}#&*!|>'\"%@`:?\n\t"):
        return False
    try:
        return bool(load_plain(f"[{text}]") == [text])
    except yaml.YAMLError:
        return False


def shown(value: Any, width: int = 32) -> str:
    """The value shortened to one line of at most width characters."""
    kind = kind_of(value)
    if kind == "text" and isinstance(value, str):
        text = value
    elif kind in ("pkg", "nix") and isinstance(value[KIND_TAGS[kind]], str):
        text = f"{KIND_TAGS[kind]} {value[KIND_TAGS[kind]]}"  # as written, not quoted
    else:
        text = flow(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def value_text(value: Any) -> str:
    """The text of the form's value input for this value (its tag is the type)."""
    kind = kind_of(value)
    inner = value[KIND_TAGS[kind]] if kind in KIND_TAGS else value
    if kind in ("pkg", "nix") and isinstance(inner, str):
        return inner
    if kind in ("text",) and isinstance(inner, str):
        return inner
    if kind == "text" and inner is None:
        return ""
    return flow(inner)


def read_value(kind: str, text: str) -> tuple[Any, str]:
    """The value that text means for the type, or (None, what is wrong with it)."""
    if kind == "text":
        return text, ""
    if kind == "bool":
        return text.strip() == "true", ""
    if kind == "number":
        for number in (int, float):
            try:
                return number(text.strip()), ""
            except ValueError:
                pass
        return None, f"'{text.strip()}' is not a number"
    if kind in ("pkg", "nix"):
        if not text.strip():
            example = "htop" if kind == "pkg" else "pkgs.linuxPackages_latest"
            return None, f"{LABELS[kind]}: type it, e.g. {example}"
        return {KIND_TAGS[kind]: text.strip() if kind == "pkg" else text}, ""
    try:
        value = load_plain(text) if text.strip() else None
    except yaml.YAMLError as err:
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        return None, f"not YAML: {what}"
    if kind == "list":
        if value is None:
            return [], ""
        return (value, "") if isinstance(value, list) else (None, "a list is written [a, b]")
    if kind == "map":
        if value is None:
            return {}, ""
        if isinstance(value, dict) and tag_of(value) is None:
            return value, ""
        return None, "a map is written {name: value, other: value}"
    if value is None and not text.strip():
        return None, f"{LABELS[kind]}: type the value, e.g. true or {{a: 1}}"
    if tag_of(value) is not None:
        return None, "a value takes one tag: remove the one in the box"
    return {KIND_TAGS[kind]: value}, ""


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (True is not 1, "1" is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
