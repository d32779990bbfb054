"""`secret: NAME` in a profile: where it may stand, and what it becomes.

A setting whose catalogue schema says `format: secret-path` takes either a path on the
machine or `{secret: NAME}` (with `owner`, `group`, `mode` when the service needs them):
the lab's encrypted secret encrypted/NAME.age, which the machine decrypts itself. The
settings schema is checked with the path the secret will have (so a setting that must be
a path still is), and the profile model carries a SecretUse in its place.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from homelab.errors import Place, Problem, format_path
from homelab.profile.model import SecretUse
from homelab.yamlfile import Marks, Path_

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
NAME_HINT = "a secret's name is letters, digits, '.', '_' and '-' (it names encrypted/NAME.age)"
KEYS = frozenset({"secret", "owner", "group", "mode"})
MODE = re.compile(r"0[0-7]{3}")
SECRETS_DIR = "/run/agenix"  # agenix's age.secretsDir default


def is_ref(value: Any) -> bool:
    """Is this `{secret: NAME, ...}`?"""
    return isinstance(value, Mapping) and "secret" in value and set(value) <= KEYS


def _ref_at(value: Any, schema: Any) -> bool:
    """A `{secret: ...}` here: exactly one, or a map naming a secret where the setting takes
    one (its misspelt key is then said as such, not as "expected text, got a map")."""
    if is_ref(value):
        return True
    if not isinstance(value, Mapping) or not takes_secret(schema):
        return False
    return "secret" in value or set(value) <= KEYS  # {owner: x} alone: its name is missing


def takes_secret(schema: Any) -> bool:
    """Does this part of a settings schema take a secret's path?"""
    if not isinstance(schema, Mapping):
        return False
    if schema.get("format") == "secret-path":
        return True
    return any(takes_secret(s) for k in ("anyOf", "oneOf") for s in schema.get(k) or ())


def _children(value: Any, schema: Any) -> Iterator[tuple[str | int, Any, Any]]:
    schema = schema if isinstance(schema, Mapping) else {}
    if isinstance(value, Mapping):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            yield key, sub, props.get(key, extra if isinstance(extra, Mapping) else {})
    elif isinstance(value, list):
        items = schema.get("items")
        for i, sub in enumerate(value):
            yield i, sub, items if isinstance(items, Mapping) else {}


def refs(
    value: Any, schema: Any, at: Path_ = ()
) -> Iterator[tuple[Path_, Mapping[str, Any], bool]]:
    """Every `{secret: ...}` in a settings value: (path, the reference, may it stand there)."""
    if _ref_at(value, schema):
        yield at, value, takes_secret(schema)
        return
    for key, sub, sub_schema in _children(value, schema):
        yield from refs(sub, sub_schema, (*at, key))


def _replace(value: Any, schema: Any, at: Path_, make: Any) -> Any:
    if _ref_at(value, schema) and takes_secret(schema):
        return make(value, at)
    if isinstance(value, Mapping):
        return {k: _replace(sub, s, (*at, k), make) for k, sub, s in _children(value, schema)}
    if isinstance(value, list):
        return [_replace(sub, s, (*at, k), make) for k, sub, s in _children(value, schema)]
    return value


def placeholders(settings: Any, schema: Any) -> Any:
    """The settings with each secret replaced by the path agenix will give it: what the
    schema checks."""
    return _replace(settings, schema, (), lambda ref, at: f"{SECRETS_DIR}/{ref.get('secret')}")


def uses(settings: Any, schema: Any, at: Path_) -> Any:
    """The settings with each secret replaced by its SecretUse (`at`: the settings' path)."""
    return _replace(settings, schema, at, use)


def use(ref: Mapping[str, Any], at: Path_) -> SecretUse:
    return SecretUse(
        str(ref.get("secret")), at, ref.get("owner"), ref.get("group"), ref.get("mode")
    )


def ref_problems(
    ref: Mapping[str, Any], at: Path_, place: Place, marks: Marks | None = None
) -> list[Problem]:
    """What is wrong inside one `{secret: ...}` (at `place`; with the document's `marks`,
    each at the key or value it is about)."""
    out: list[Problem] = []

    def key_at(key: Any) -> Place:
        return marks.key((*at, key), place) if marks is not None else place

    def value_at(key: Any) -> Place:
        return marks.value((*at, key), place) if marks is not None else place

    name = ref.get("secret")
    path = format_path(at)
    for key in sorted(set(ref) - KEYS, key=str):
        close = difflib.get_close_matches(str(key), sorted(KEYS - set(ref)), n=1, cutoff=0.6)
        out.append(
            Problem(
                key_at(key),
                f"unknown key '{key}' in a secret",
                path=format_path((*at, key)),
                hint=f"did you mean '{close[0]}'?"
                if close
                else "a secret takes: secret, owner, group, mode",
            )
        )
    if "secret" not in ref:
        out.append(
            Problem(place, "a secret needs its name: {secret: NAME}", path=path, hint=NAME_HINT)
        )
    elif not isinstance(name, str) or not NAME.fullmatch(name):
        said = f"'{name}'" if isinstance(name, str) else json.dumps(name)
        out.append(
            Problem(value_at("secret"), f"{said} is not a secret's name", path=path, hint=NAME_HINT)
        )
    for key in ("owner", "group"):
        if key in ref and (not isinstance(ref[key], str) or not ref[key]):
            out.append(Problem(value_at(key), f"{key} must be a user or group name", path=path))
    mode = ref.get("mode")
    if "mode" in ref and (not isinstance(mode, str) or not MODE.fullmatch(mode)):
        out.append(
            Problem(
                value_at("mode"),
                f"mode {mode!r} is not a file mode",
                path=path,
                hint='four octal digits in quotes, e.g. "0400"',
            )
        )
    return out


FOLDER = "encrypted"  # the lab's encrypted secrets: encrypted/NAME.age, committed


def file_of(name: str) -> str:
    """The lab-relative file of an encrypted secret."""
    return f"{FOLDER}/{name}.age"


def names_in_data(data: Any) -> set[str]:
    """The secrets a profile's data names, read without a schema (a profile with mistakes
    has no model): every `{secret: NAME}` and every `secrets:` entry without a source."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if is_ref(value) and isinstance(value.get("secret"), str):
            found.add(value["secret"])
        elif isinstance(value, Mapping):
            for sub in value.values():
                walk(sub)
        elif isinstance(value, list):
            for sub in value:
                walk(sub)

    walk(data)
    entries = data.get("secrets") if isinstance(data, Mapping) else None
    if isinstance(entries, Mapping):
        found.update(
            str(n) for n, e in entries.items() if isinstance(e, Mapping) and "source" not in e
        )
    return found
