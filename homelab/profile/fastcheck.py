"""A quick yes/no JSON Schema check, compiled once into plain Python functions.

jsonschema finds every error with its path, but it walks the schema anew for each value
and costs most of the time of `homelab validate`. Nearly every profile is valid, so this
check goes first and jsonschema runs only on what it refuses: the errors are still
jsonschema's, so nothing a person sees changes.

It knows the Draft 2020-12 keywords that profiles and the catalogue use, with the same
meaning as homelab's jsonschema validator (1.0 is an integer, true is not 1, formats are
checked only with a format checker, a pattern's `$` ends the value: see patterns.py). A
schema with any other keyword, or a $ref that is not "#/$defs/NAME", compiles to None:
then the caller always asks jsonschema.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

from homelab.patterns import compiled

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "properties",
        "additionalProperties",
        "required",
        "propertyNames",
        "items",
        "minItems",
        "maxItems",
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
    }
)


class _Unsupported(Exception):
    pass


def _all(checks: list[Check]) -> Check:
    """Every check passes (written out: this runs for every value of every profile)."""
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)

    def every(v: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a loop is faster than all() over a generator
            if not check(v):
                return False
        return True

    return every


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


_PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "boolean": bool,
    "null": type(None),
    "array": list,
    "object": dict,
}
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema has it: true is not 1, 1.0 is 1."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list | tuple) and isinstance(two, list | tuple):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and equal(v, two[k]) for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return False  # `one is two` above already said yes for two equal booleans
    return bool(one == two)


def _bound(keyword: str, bound: Any) -> Check:
    """minimum and its kin: they say nothing about what is not a number."""
    if keyword == "minimum":
        return lambda v: not _is_number(v) or not v < bound
    if keyword == "maximum":
        return lambda v: not _is_number(v) or not v > bound
    if keyword == "exclusiveMinimum":
        return lambda v: not _is_number(v) or not v <= bound
    return lambda v: not _is_number(v) or not v >= bound


class _Compiler:
    def __init__(self, root: Mapping[str, Any], conforms: Callable[[Any, str], bool] | None):
        self.root = root
        self.conforms = conforms
        self.refs: dict[str, Check] = {}

    def ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            raise _Unsupported(ref)
        name = ref.removeprefix("#/$defs/")
        if "/" in name or "~" in name or name not in (self.root.get("$defs") or {}):
            raise _Unsupported(ref)
        if name not in self.refs:
            target: list[Check] = []
            # compiled on first use, so that a definition may refer to itself
            self.refs[name] = lambda v: target[0](v)
            target.append(self.compile(self.root["$defs"][name]))
        return self.refs[name]

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, Mapping):
            raise _Unsupported(schema)
        unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
        if any(not k.startswith("x-") for k in unknown):
            raise _Unsupported(unknown)
        checks = [c for c in (self._scalar(schema), self._object(schema), self._array(schema)) if c]
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        checks.extend(self._logic(schema))
        return _all(checks)

    def _scalar(self, s: Mapping[str, Any]) -> Check | None:
        parts: list[Check] = []
        if "type" in s:
            names = [s["type"]] if isinstance(s["type"], str) else list(s["type"])
            if any(n not in _TYPES for n in names):
                raise _Unsupported(names)
            if "integer" in names or "number" in names:
                tests = [_TYPES[n] for n in names]
                parts.append(lambda v: any(t(v) for t in tests))
            else:
                # no number types, so no int among these for a bool to pass as
                kinds = tuple(_PYTHON_TYPES[n] for n in names)
                parts.append(lambda v: isinstance(v, kinds))
        if "enum" in s:
            options = list(s["enum"])
            parts.append(lambda v: any(equal(v, o) for o in options))
        if "const" in s:
            const = s["const"]
            parts.append(lambda v: equal(v, const))
        if "pattern" in s:
            search = compiled(s["pattern"]).search
            parts.append(lambda v: not isinstance(v, str) or search(v) is not None)
        if "format" in s and self.conforms is not None:
            conforms, fmt = self.conforms, s["format"]
            parts.append(lambda v: conforms(v, fmt))
        if "minLength" in s:
            low = s["minLength"]
            parts.append(lambda v: not isinstance(v, str) or len(v) >= low)
        if "maxLength" in s:
            high = s["maxLength"]
            parts.append(lambda v: not isinstance(v, str) or len(v) <= high)
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if key in s:
                parts.append(_bound(key, s[key]))
        return _all(parts) if parts else None

    def _object(self, s: Mapping[str, Any]) -> Check | None:
        keys = ("properties", "additionalProperties", "required", "propertyNames")
        if not any(k in s for k in keys):
            return None
        props = {k: self.compile(v) for k, v in (s.get("properties") or {}).items()}
        extra = s.get("additionalProperties", True)
        extra_check = None if extra is True or extra is False else self.compile(extra)
        closed = extra is False
        required = list(s.get("required") or [])
        names = self.compile(s["propertyNames"]) if "propertyNames" in s else None

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for key in required:
                if key not in v:
                    return False
            for key, value in v.items():
                sub = props.get(key)
                if sub is not None:
                    if not sub(value):
                        return False
                elif closed or (extra_check is not None and not extra_check(value)):
                    return False
                if names is not None and not names(key):
                    return False
            return True

        return check

    def _array(self, s: Mapping[str, Any]) -> Check | None:
        if not any(k in s for k in ("items", "minItems", "maxItems")):
            return None
        item = self.compile(s["items"]) if "items" in s else None
        low, high = s.get("minItems"), s.get("maxItems")

        def check(v: Any) -> bool:
            if not isinstance(v, list):
                return True
            if low is not None and len(v) < low:
                return False
            if high is not None and len(v) > high:
                return False
            if item is not None:
                for x in v:
                    if not item(x):
                        return False
            return True

        return check

    def _logic(self, s: Mapping[str, Any]) -> list[Check]:
        out: list[Check] = []
        if "allOf" in s:
            all_of = [self.compile(x) for x in s["allOf"]]
            out.append(lambda v: all(c(v) for c in all_of))
        if "anyOf" in s:
            any_of = [self.compile(x) for x in s["anyOf"]]
            out.append(lambda v: any(c(v) for c in any_of))
        if "oneOf" in s:
            one_of = [self.compile(x) for x in s["oneOf"]]
            out.append(lambda v: sum(1 for c in one_of if c(v)) == 1)
        if "not" in s:
            negated = self.compile(s["not"])
            out.append(lambda v: not negated(v))
        return out


def compile_schema(
    schema: Mapping[str, Any] | bool,
    conforms: Callable[[Any, str], bool] | None = None,
) -> Check | None:
    """A function saying whether a value is valid, or None when the schema uses keywords
    this module does not know. `conforms(value, format)` checks formats (jsonschema's
    FormatChecker.conforms); without it formats are not checked, as in jsonschema."""
    root: Mapping[str, Any] = schema if isinstance(schema, Mapping) else {}
    try:
        return _Compiler(root, conforms).compile(schema)
    except (_Unsupported, re.error, TypeError):
        return None
