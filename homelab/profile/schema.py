"""The profile's JSON Schema: the schema itself, compiled once, and its errors said in
homelab's words (the schema's own description and hint where it has them, did-you-mean for
a misspelt key), each at the place of the value in the YAML."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs

from homelab.errors import Place, Problem, format_path
from homelab.profile.options import key_text
from homelab.yamlfile import Document, Path_


@cache
def profile_schema() -> dict[str, Any]:
    text = resources.files("homelab.profile").joinpath("schema/profile.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def profile_validator() -> jsonschema_rs.Validator:
    """The profile schema compiled once (offline: it has no $ref outside itself)."""
    return jsonschema_rs.Draft202012Validator(profile_schema(), offline=True)


def schema_errors(validator: jsonschema_rs.Validator, value: Any) -> list[Any]:
    """Every error of the value, each with its path. The yes/no goes first: it stops at
    the first error, and nearly every profile has none."""
    if validator.is_valid(value):
        return []
    return list(validator.iter_errors(value))


def refused(schema: Any) -> bool:
    """A key the schema names only to refuse it (its description starts "Not allowed")."""
    return isinstance(schema, Mapping) and str(schema.get("description", "")).startswith(
        "Not allowed"
    )


def shown(value: Any, limit: int = 80) -> str:
    """A value for a one-line message: a line break or tab shows as \\n or \\t."""
    text = str(value)[:limit]
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def as_map(value: Any) -> dict[str, Any]:
    """The value when it is a map, else an empty one (the schema said what is wrong)."""
    return value if isinstance(value, dict) else {}


def _spaces_hint(value: Any) -> str:
    """A hint for a value that is right but for a line break or space at an end."""
    if not isinstance(value, str) or value == value.strip():
        return ""
    if value.endswith("\n"):
        return "remove the line break at the end (a YAML `|` block keeps it, `|-` does not)"
    return "remove the spaces around the value"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    if value is None:
        return "nothing (null)"
    return type(value).__name__


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a map",
    "null": "nothing",
}


def _schema_at(root: Any, schema_path: list[str | int]) -> Mapping[str, Any]:
    """The schema holding the keyword that failed (a $ref's target has its own path)."""
    schema = root
    for step in schema_path[:-1]:
        try:
            schema = schema[step]
        except (KeyError, IndexError, TypeError):
            return {}
    return schema if isinstance(schema, Mapping) else {}


def _value_at(value: Any, path: Path_) -> Any:
    """The value the schema was shown at a path, as Python has it (jsonschema-rs gives back
    .inf and .nan as null, which JSON has no other word for)."""
    for step in path:
        value = value[step]
    return value


def _way_out(path: Path_, key: str, value: Any) -> str:
    """Where the setting goes when it is a NixOS or home-manager option with no field:
    the first value under the key, as an `options:` entry."""
    names = [key]
    while isinstance(value, dict) and len(value) >= 1:
        first = next(iter(value))
        names.append(str(first))
        value = value[first]
    leaf = value if isinstance(value, bool | int | float) else "…"
    leaf = str(leaf).lower() if isinstance(leaf, bool) else leaf
    if len(path) == 0:
        where, prefix = "options:", ""
    elif path == ("networking",):
        where, prefix = "options:", "networking."
    elif len(path) == 2 and path[0] == "users":
        where, prefix = "options:", f"users.users.{path[1]}."
    elif len(path) == 3 and path[0] == "users" and path[2] == "home":
        where, prefix = f"users.{path[1]}.home.options:", ""
    else:
        return ""
    kind = "home-manager" if where != "options:" else "NixOS"
    return f"; a {kind} option goes under {where} e.g. {prefix}{key_text(names)}: {leaf}"


def schema_problems(
    err: jsonschema_rs.ValidationError,
    doc: Document,
    checked: Any,
    root: Mapping[str, Any],
    prefix: Path_ = (),
) -> Iterator[Problem]:
    """One JSON Schema error in words a person can act on. `checked` is the value the
    schema `root` was shown, found in the document at `prefix`."""
    rel = tuple(err.instance_path)
    path = (*prefix, *rel)
    top = Place(doc.file)
    place = doc.marks.value(path, top)
    schema = _schema_at(root, err.schema_path)
    hint = str(schema.get("x-hint", ""))
    kind = err.kind
    value = _value_at(checked, rel)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        # keys that exist only to be refused (plaintext passwords) are no one's suggestion
        known = [k for k, v in (schema.get("properties") or {}).items() if not refused(v)]
        here = value if isinstance(value, dict) else {}
        for key in kind.unexpected:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            yield Problem(
                doc.marks.key((*path, key), place),
                f"unknown key '{key}'",
                path=format_path((*path, key)),
                hint=f"did you mean '{close[0]}'?"
                if close
                else "known keys here: "
                + ", ".join(sorted(known))
                + _way_out(path, key, here.get(key)),
            )
        return
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        yield Problem(place, f"missing key '{kind.property}'", path=format_path(path), hint=hint)
        return
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        # a bad key is an error of the map: point at the key itself
        name = str(kind.error.instance)
        yield Problem(
            doc.marks.key((*path, name), place),
            f"'{shown(name)}' is not a valid name here",
            path=format_path((*path, name)),
            hint=_spaces_hint(name)
            or hint
            or "names are lower-case letters, digits, '-' and '_', starting with a letter",
        )
        return
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        expected: Any = schema.get("type", kind.types)
        names = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_TYPE_WORDS.get(n, n) for n in names)
        message = f"expected {words}, got {_kind(value)}"
        if not isinstance(value, dict | list) and value is not None:  # null says itself
            message += f" ({json.dumps(value, ensure_ascii=False)})"
        if "string" in names and isinstance(value, int | float | bool):
            hint = hint or "YAML read this as a number or true/false: put it in quotes"
        yield Problem(place, message, path=format_path(path), hint=hint)
        return
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        choices: Any = schema.get("enum", kind.options)
        options = [str(o) for o in choices]
        close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        yield Problem(
            place,
            f"'{shown(value)}' is not one of: {', '.join(options)}",
            path=format_path(path),
            hint=f"did you mean '{close[0]}'?" if close else hint,
        )
        return
    if isinstance(
        kind, jsonschema_rs.ValidationErrorKind.Minimum | jsonschema_rs.ValidationErrorKind.Maximum
    ):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and hi is not None:
            rng = f"from {lo} to {hi}"
        else:
            rng = f"at least {lo}" if lo is not None else f"at most {hi}"
        yield Problem(place, f"{value} is out of range: {rng}", path=format_path(path), hint=hint)
        return
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern):
        yield Problem(
            place,
            f"'{shown(value)}' is not valid here: {schema.get('description') or 'wrong form'}",
            path=format_path(path),
            hint=_spaces_hint(value) or hint,
        )
        return
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Format):
        yield Problem(
            place,
            f"'{shown(value)}' is not a {kind.format}"
            + (
                ": a secret is an absolute path to a file on the machine, outside /nix/store"
                if kind.format == "secret-path"
                else ""
            ),
            path=format_path(path),
            hint=hint or "e.g. /var/lib/secrets/tailscale-authkey",
        )
        return
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AnyOf):
        # the one choice that takes this kind of value says what is wrong inside it (a
        # {secret: ...} with a misspelt key), not "valid under none of the schemas"
        fits = [
            branch
            for branch in kind.context
            if branch
            and not any(
                isinstance(e.kind, jsonschema_rs.ValidationErrorKind.Type)
                and tuple(e.instance_path) == rel
                for e in branch
            )
        ]
        if len(fits) == 1:
            for sub in fits[0]:
                yield from schema_problems(sub, doc, checked, root, prefix)
            return
    yield Problem(place, _said(err, value), path=format_path(path), hint=hint)


def _said(err: jsonschema_rs.ValidationError, value: Any) -> str:
    """The library's own words, but for the lengths, said as homelab has always said them."""
    kind = err.kind
    if isinstance(
        kind,
        jsonschema_rs.ValidationErrorKind.MinLength | jsonschema_rs.ValidationErrorKind.MinItems,
    ):
        return f"{value!r} " + ("should be non-empty" if kind.limit == 1 else "is too short")
    if isinstance(
        kind,
        jsonschema_rs.ValidationErrorKind.MaxLength | jsonschema_rs.ValidationErrorKind.MaxItems,
    ):
        return f"{value!r} " + ("is expected to be empty" if kind.limit == 0 else "is too long")
    return err.message
