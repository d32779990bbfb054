"""The quick yes/no schema check says yes exactly when jsonschema finds no error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homelab.catalog import FORMATS
from homelab.patterns import Validator, ends_at_end
from homelab.profile.fastcheck import compile_schema
from homelab.profile.validate import profile_schema

# values that sit on the edges JSON Schema cares about
EDGES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    1.5,
    22,
    65535,
    65536,
    "",
    "x",
    "a b",
    "/var/lib/secrets/key",
    "/nix/store/abc-key",
    "relative/key",
    "24.05",
    "23.11",
    "x86_64-linux",
    "grub",
    "192.168.1.2/24",
    "8080:80",
    "Bad_Name",
    [],
    {},
]
_edges = st.sampled_from(EDGES)


def near(schema: Any, root: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like the schema wants, often a little wrong."""
    if not isinstance(schema, dict) or depth > 6:
        return _edges
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        schema = {**root["$defs"][ref.removeprefix("#/$defs/")], **schema}
        del schema["$ref"]
    options: list[st.SearchStrategy[Any]] = [_edges]
    if "enum" in schema:
        options += [st.sampled_from(list(schema["enum"]))] * 3
    if "default" in schema:
        options.append(st.just(schema["default"]))
    types = schema.get("type", [])
    for kind in [types] if isinstance(types, str) else types:
        fitting = {
            "string": st.text("abc/._-: 0123", max_size=8),
            "integer": st.integers(schema.get("minimum", -5), schema.get("maximum", 70000)),
            "boolean": st.booleans(),
            "null": st.none(),
        }.get(kind)
        if fitting is not None and "enum" not in schema:
            options += [fitting] * 3
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    if props or isinstance(extra, dict) or schema.get("type") == "object":
        keys = [*props, "unknownKey", "Bad Name"]

        def value_for(key: str) -> st.SearchStrategy[Any]:
            sub = props.get(key, extra if isinstance(extra, dict) else {})
            return near(sub, root, depth + 1)

        options.append(
            st.lists(st.sampled_from(keys), max_size=6, unique=True).flatmap(
                lambda chosen: st.fixed_dictionaries({k: value_for(k) for k in chosen})
            )
        )
        options.append(
            st.lists(st.sampled_from([*props, *props, *props, "extra"]), max_size=6, unique=True)
            .filter(lambda chosen: "extra" not in chosen or isinstance(extra, dict))
            .flatmap(lambda chosen: st.fixed_dictionaries({k: value_for(k) for k in chosen}))
        )
    if "items" in schema or schema.get("type") == "array":
        options.append(st.lists(near(schema.get("items", {}), root, depth + 1), max_size=4))
    return st.one_of(options)


def catalogue_schemas() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted((REPO / "services").glob("*.yaml")):
        entry = yaml.safe_load(path.read_text())
        if isinstance(entry, dict) and isinstance(entry.get("settings"), dict):
            out.append((path.stem, entry["settings"]))
    return out


def agree(schema: dict[str, Any], value: Any, formats: Any = None) -> None:
    quick = compile_schema(schema, formats.conforms if formats else None)
    assert quick is not None, "this schema should compile"
    expected = Validator(schema, format_checker=formats).is_valid(value)
    assert quick(value) == expected, value


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_profile_schema_agrees_with_jsonschema(data: st.DataObject) -> None:
    schema = profile_schema()
    agree(schema, data.draw(near(schema, schema)))


@pytest.mark.parametrize("name,schema", catalogue_schemas(), ids=lambda x: str(x)[:30])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_each_service_settings_schema_agrees_with_jsonschema(
    name: str, schema: dict[str, Any], data: st.DataObject
) -> None:
    agree(schema, data.draw(near(schema, schema)), FORMATS)


def test_the_demo_and_fixture_profiles_agree() -> None:
    from homelab.lab import Lab

    schema = profile_schema()
    for root in (REPO, Path(__file__).parent / "labs" / "basic"):
        for host in Lab(root).load().hosts.values():
            assert host.document is not None
            agree(schema, host.document.data)


@pytest.mark.parametrize(
    "schema,value,valid",
    [
        ({"type": "integer"}, 1.0, True),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"type": ["string", "null"]}, None, True),
        ({"type": ["string", "null"]}, 0, False),
        ({"enum": [1, "a"]}, True, False),
        ({"enum": [True]}, 1, False),
        ({"enum": [1]}, 1.0, True),
        ({"enum": [[1, True]]}, [1, True], True),
        ({"enum": [[1, True]]}, [1, 1], False),
        ({"const": {"a": 1}}, {"a": 1}, True),
        ({"pattern": "b"}, "abc", True),
        ({"pattern": "^b"}, "abc", False),
        ({"pattern": "^b"}, 5, True),
        ({"pattern": "^[a-z]+$"}, "foo\n", False),
        ({"pattern": "^[a-z]+\n?$"}, "foo\n", True),
        ({"pattern": "^a[$]$"}, "a$", True),
        ({"pattern": "^a\\$$"}, "a$\n", False),
        ({"minimum": 1}, True, True),
        ({"minimum": 1}, 0, False),
        ({"exclusiveMaximum": 5}, 5, False),
        ({"maxLength": 2}, "abc", False),
        ({"minItems": 1}, [], False),
        ({"properties": {"a": {"type": "string"}}}, {"a": 1}, False),
        ({"properties": {"a": {"type": "string"}}}, [1], True),
        ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}, False),
        ({"additionalProperties": {"type": "integer"}}, {"b": "x"}, False),
        ({"required": ["a"]}, {}, False),
        ({"required": ["a"]}, "not a map", True),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"Bad": 1}, False),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"bad\n": 1}, False),
        ({"items": {"type": "integer"}}, [1, "x"], False),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 3, True),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 3, False),
        ({"not": {"type": "string"}}, "x", False),
        ({"format": "secret-path"}, "relative", False),
        ({"$defs": {"p": {"type": "integer"}}, "$ref": "#/$defs/p", "minimum": 5}, 3, False),
        (
            {
                "$defs": {
                    "tree": {"type": "object", "additionalProperties": {"$ref": "#/$defs/tree"}}
                },
                "$ref": "#/$defs/tree",
            },
            {"a": {"b": {"c": 1}}},
            False,
        ),
    ],
)
def test_keyword_meanings(schema: dict[str, Any], value: Any, valid: bool) -> None:
    quick = compile_schema(schema, FORMATS.conforms)
    assert quick is not None
    assert quick(value) is valid
    checker = FORMATS if "format" in schema else None
    assert Validator(schema, format_checker=checker).is_valid(value) is valid


def test_a_format_is_not_checked_without_a_checker() -> None:
    quick = compile_schema({"format": "secret-path"})
    assert quick is not None and quick("relative")


@pytest.mark.parametrize(
    "schema",
    [
        {"uniqueItems": True},
        {"patternProperties": {"^a": {}}},
        {"if": {"type": "string"}, "then": {"minLength": 1}},
        {"$ref": "https://example.org/schema.json"},
        {"$ref": "#/$defs/missing"},
        {"properties": {"a": {"multipleOf": 2}}},
        {"type": "float"},
        {"pattern": "("},
    ],
)
def test_what_it_does_not_know_falls_back_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_schema(schema) is None


def schema_patterns(schema: Any) -> Iterator[str]:
    """Every `pattern` in a schema, wherever it sits (propertyNames, $defs, items...)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from schema_patterns(value)
    elif isinstance(schema, list | tuple):
        for value in schema:
            yield from schema_patterns(value)


PATTERNS = sorted(
    set(schema_patterns(profile_schema())) | set(schema_patterns(catalogue_schemas()))
)


def test_the_profile_schema_has_the_patterns_people_write_in() -> None:
    # host and user names, container names, tags, secret modes, ports, packages...
    assert len(PATTERNS) >= 12


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_both_checks_agree_on_values_ending_in_a_line_break(
    pattern: str, data: st.DataObject
) -> None:
    schema = {"type": "string", "pattern": pattern}
    quick = compile_schema(schema)
    assert quick is not None
    explained = Validator(schema)
    good = data.draw(st.from_regex(pattern, fullmatch=True), label="good")
    anchored = pattern.startswith("^") and pattern.endswith("$")
    for value in (good, good + "\n", good + "\n\n", "\n" + good):
        # ^...$ is the whole value, as an editor reads it; ^/ only says how it starts
        meant = (re.fullmatch if anchored else re.search)(pattern, value) is not None
        assert quick(value) is meant, repr(value)
        assert explained.is_valid(value) is meant, repr(value)


@pytest.mark.parametrize(
    "pattern,meant",
    [
        ("^a$", r"^a\Z"),
        ("a$|^b$", r"a\Z|^b\Z"),
        ("^[$]$", r"^[$]\Z"),
        (r"^\$$", r"^\$\Z"),
        ("^[]$]$", r"^[]$]\Z"),
        ("^[^]$]$", r"^[^]$]\Z"),
        (r"^[\]$]$", r"^[\]$]\Z"),
        ("^(a|b$)", r"^(a|b\Z)"),
        ("no anchor", "no anchor"),
    ],
)
def test_a_dollar_anchor_means_the_end_of_the_value(pattern: str, meant: str) -> None:
    assert ends_at_end(pattern) == meant


def test_pattern_properties_match_the_whole_key_too() -> None:
    schema = {"patternProperties": {"^[a-z]+$": {"type": "integer"}}, "additionalProperties": False}
    assert Validator(schema).is_valid({"web": 1})
    assert not Validator(schema).is_valid({"web\n": 1})
    assert not Validator(schema).is_valid({"web": "x"})


def test_the_schema_for_editors_keeps_its_anchors() -> None:
    text = (REPO / "homelab" / "profile" / "schema" / "profile.schema.json").read_text()
    assert "\\Z" not in text
    assert profile_schema()["properties"]["host"]["properties"]["name"]["pattern"].endswith("$")
