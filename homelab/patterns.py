"""JSON Schema patterns as homelab reads them: `$` is the end of the value.

The schemas are written for editors, whose regexes (ECMA-262, as JSON Schema says) read
`^[a-z]+$` as the whole value. Python's `$` also matches before a final newline, so with
re.search "foo\\n" would pass such a pattern and its newline would go into the Nix. Every
check homelab makes with a schema pattern (the quick check and jsonschema's, which explains
the errors) compiles it here, with each `$` anchor turned into `\\Z`: the two can never
disagree, and the schema handed to editors keeps its `^...$`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import jsonschema
from jsonschema.validators import extend


def ends_at_end(pattern: str) -> str:
    """The pattern with every `$` anchor (not escaped, not in a [set]) written as `\\Z`."""
    out: list[str] = []
    i, in_set = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_set:
            in_set = char != "]"
        elif char == "[":
            # a ] right after [ or [^ is a member of the set, not its end
            start = i + 1 + (pattern[i + 1 : i + 2] == "^")
            start += pattern[start : start + 1] == "]"
            out.append(pattern[i:start])
            i, in_set = start, True
            continue
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return "".join(out)


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """The pattern ready to search with (re.error when it is not a regex)."""
    return re.compile(ends_at_end(pattern))


def matches(pattern: str, value: str) -> bool:
    return compiled(pattern).search(value) is not None


_Draft = jsonschema.Draft202012Validator
_pattern_properties = _Draft.VALIDATORS["patternProperties"]
_additional_properties = _Draft.VALIDATORS["additionalProperties"]


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not matches(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _strict(patterns: Mapping[str, Any]) -> dict[str, Any]:
    return {ends_at_end(p): sub for p, sub in patterns.items()}


def _pattern_props(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[Any]:
    yield from _pattern_properties(validator, _strict(patterns), instance, schema)


def _additional(validator: Any, extra: Any, instance: Any, schema: Any) -> Iterator[Any]:
    # which keys are "additional" depends on patternProperties: read with the same `$`
    if isinstance(schema, Mapping) and isinstance(schema.get("patternProperties"), Mapping):
        schema = {**schema, "patternProperties": _strict(schema["patternProperties"])}
    yield from _additional_properties(validator, extra, instance, schema)


Validator: Any = extend(  # type: ignore[no-untyped-call]
    _Draft,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_props,
        "additionalProperties": _additional,
    },
)
"""Draft 2020-12 with homelab's patterns: what explains errors to a person."""
