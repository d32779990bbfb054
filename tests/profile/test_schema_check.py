"""A schema's quick yes/no and its explained errors agree, and say what JSON Schema says.

homelab asks jsonschema-rs first whether a value is valid (it stops at the first error)
and only on a "no" for every error, which validate.py puts in words. The two must agree:
a "no" with no problem to show would pass a bad profile, and a problem under a "yes" would
never be shown. Python's jsonschema, the reference implementation, is a third voice on
values whose patterns every regex dialect reads alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homelab.catalog import FORMATS, settings_validator
from homelab.lab import Lab
from homelab.profile.schema import profile_schema, profile_validator, schema_errors
from tests.conftest import REPO
from tests.schemas import catalogue_schemas, explained

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
    2**64,
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


REFERENCE_FORMATS = jsonschema.FormatChecker()
REFERENCE_FORMATS.checks("secret-path")(FORMATS["secret-path"])


def agree(schema: dict[str, Any], value: Any, formats: bool = False) -> None:
    validator = settings_validator(schema) if formats else profile_validator()
    quick = validator.is_valid(value)
    problems = explained(validator, schema, value)
    assert quick is (not problems), (value, problems)
    # what validate asks: nothing on a yes, every error on a no
    assert len(schema_errors(validator, value)) == len(list(validator.iter_errors(value)))
    reference = jsonschema.Draft202012Validator(
        schema, format_checker=REFERENCE_FORMATS if formats else None
    )
    assert quick is reference.is_valid(value), value


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_profile_schema_agrees_with_its_explanations_and_the_reference(
    data: st.DataObject,
) -> None:
    schema = profile_schema()
    agree(schema, data.draw(near(schema, schema)))


@pytest.mark.parametrize("name,schema", catalogue_schemas(), ids=lambda x: str(x)[:30])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_each_service_settings_schema_agrees_with_its_explanations_and_the_reference(
    name: str, schema: dict[str, Any], data: st.DataObject
) -> None:
    agree(schema, data.draw(near(schema, schema)), formats=True)


def test_the_demo_and_fixture_profiles_agree() -> None:
    schema = profile_schema()
    for root in (REPO, Path(__file__).parents[1] / "labs" / "basic"):
        for host in Lab(root).load().hosts.values():
            assert host.document is not None
            agree(schema, host.document.data)


@pytest.mark.parametrize(
    "schema,value,valid",
    [
        ({"type": "integer"}, 1.0, True),
        ({"type": "integer"}, True, False),
        ({"type": "integer"}, 2**70, True),
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
        ({"minimum": 1}, True, True),
        ({"minimum": 1}, 0, False),
        ({"maximum": 65535}, 2**64, False),
        ({"exclusiveMaximum": 5}, 5, False),
        ({"maxLength": 2}, "abc", False),
        ({"minLength": 1}, "", False),
        ({"minItems": 1}, [], False),
        ({"properties": {"a": {"type": "string"}}}, {"a": 1}, False),
        ({"properties": {"a": {"type": "string"}}}, [1], True),
        ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}, False),
        ({"additionalProperties": {"type": "integer"}}, {"b": "x"}, False),
        ({"required": ["a"]}, {}, False),
        ({"required": ["a"]}, "not a map", True),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"Bad": 1}, False),
        ({"items": {"type": "integer"}}, [1, "x"], False),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 3, True),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 3, False),
        ({"not": {"type": "string"}}, "x", False),
        ({"format": "secret-path"}, "relative", False),
        ({"format": "secret-path"}, "/nix/store/abc-key", False),
        ({"format": "secret-path"}, "/var/lib/secrets/key", True),
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
    validator = settings_validator(schema)
    assert validator.is_valid(value) is valid
    assert (explained(validator, schema, value) == []) is valid
    reference = jsonschema.Draft202012Validator(schema, format_checker=REFERENCE_FORMATS)
    assert reference.is_valid(value) is valid


def test_every_error_is_explained_in_the_words_homelab_has_always_used() -> None:
    value = {
        "host": {"stateVersion": 24.05, "nam": "x"},
        "users": {"Bad Name": {}, "ann": {"shell": "fishy", "uid": -5}},
        "packages": ["a b", ""],
    }
    problems = explained(profile_validator(), profile_schema(), value)
    package = "is not valid here: A nixpkgs attribute, e.g. git or python3Packages.requests"
    package_hint = (
        "use the nixpkgs attribute name, e.g. python3Packages.requests "
        "(search.nixos.org lists them)"
    )
    assert sorted((p.path, p.message, p.hint) for p in problems) == [
        ("host.nam", "unknown key 'nam'", "did you mean 'name'?"),
        (
            "host.stateVersion",
            "expected text, got a number (24.05)",
            'a release such as "24.05" or "23.11", in quotes',
        ),
        ("packages[0]", f"'a b' {package}", package_hint),
        ("packages[1]", f"'' {package}", package_hint),
        (
            'users."Bad Name"',
            "'Bad Name' is not a valid name here",
            "a user name is lower-case letters, digits, '-' and '_', starting with a letter "
            "or '_', at most 32 characters",
        ),
        (
            "users.ann.shell",
            "'fishy' is not one of: bash, zsh, fish, nushell",
            "did you mean 'fish'?",
        ),
        ("users.ann.uid", "-5 is out of range: from 0 to 4294967294", ""),
    ]


def test_a_value_nix_cannot_hold_is_shown_as_it_was_written() -> None:
    # jsonschema-rs gives .inf back as null: the words say what the person wrote
    schema = {"type": "object", "properties": {"port": {"type": "integer"}}}
    validator = settings_validator(schema)
    [problem] = explained(validator, schema, {"port": float("inf")})
    assert problem.message == "expected a whole number, got a number (Infinity)"
