"""A schema pattern means one thing everywhere: ECMA-262, as editors and JSON Schema read it.

`^...$` is the whole value, so a value ending in a line break never passes a pattern that
does not allow one (it would go into the Nix). The quick yes/no, the explained errors and
`matches` all read a pattern alike, also where Python's `re` would read it otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homelab.catalog import settings_validator
from homelab.patterns import matches
from homelab.profile.schema import profile_schema
from tests.schemas import catalogue_schemas, explained


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


def readings(pattern: str, value: str) -> tuple[bool, bool, bool]:
    """What the quick yes/no, the explained errors and `matches` say of the value."""
    schema = {"type": "string", "pattern": pattern}
    validator = settings_validator(schema)
    return (
        validator.is_valid(value),
        explained(validator, schema, value) == [],
        matches(pattern, value),
    )


def test_the_profile_schema_has_the_patterns_people_write_in() -> None:
    # host and user names, container names, tags, secret modes, ports, packages...
    assert len(PATTERNS) >= 12


# the good values are drawn in ASCII, where Python's `re` (the oracle here) reads these
# patterns as ECMA-262 does; where they part, see the test after this one
_ASCII = st.characters(codec="ascii")


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_check_agrees_on_values_ending_in_a_line_break(
    pattern: str, data: st.DataObject
) -> None:
    good = data.draw(st.from_regex(pattern, fullmatch=True, alphabet=_ASCII), label="good")
    anchored = pattern.startswith("^") and pattern.endswith("$")
    for value in (good, good + "\n", good + "\n\n", "\n" + good):
        # ^...$ is the whole value, as an editor reads it; ^/ only says how it starts
        meant = (re.fullmatch if anchored else re.search)(pattern, value) is not None
        assert readings(pattern, value) == (meant, meant, meant), repr(value)


@pytest.mark.parametrize(
    "pattern,value,valid",
    [
        ("^[a-z]+$", "foo", True),
        ("^[a-z]+$", "foo\n", False),
        ("^[a-z]+\n?$", "foo\n", True),
        ("^a[$]$", "a$", True),
        ("^a\\$$", "a$\n", False),
        ("^(a|b$)", "b\n", False),
        ("a$|^b$", "a\n", False),
    ],
)
def test_a_dollar_is_the_end_of_the_value(pattern: str, value: str, valid: bool) -> None:
    assert readings(pattern, value) == (valid, valid, valid)


@pytest.mark.parametrize(
    "pattern,value,valid",
    [
        ("^[a-z]+$", "foo\n", False),  # Python's `$` also stands before a final line break
        ("^\\d+$", "\u0661\u0662", False),  # Arabic-Indic digits: `\d` is 0-9
        ("^\\w+$", "\u00e9", False),  # `\w` is [A-Za-z0-9_]
        ("^.$", "\r", False),  # `.` is no line terminator
        ("^.$", "\u2028", False),
        ("^[^\\s]$", "\x1c", True),  # an information separator is no space
        ("^\\s$", "\ufeff", True),  # a byte order mark is one
    ],
)
def test_a_pattern_means_what_ecma_262_says_where_python_reads_it_otherwise(
    pattern: str, value: str, valid: bool
) -> None:
    assert readings(pattern, value) == (valid, valid, valid)
    assert (re.search(pattern, value) is not None) is not valid, "Python reads it alike"


def test_pattern_properties_match_the_whole_key_too() -> None:
    schema = {"patternProperties": {"^[a-z]+$": {"type": "integer"}}, "additionalProperties": False}
    validator = settings_validator(schema)
    assert validator.is_valid({"web": 1})
    assert not validator.is_valid({"web\n": 1})
    assert not validator.is_valid({"web": "x"})
    problems = explained(validator, schema, {"web\n": 1})
    assert [(p.path, p.message) for p in problems] == [('"web\\n"', "unknown key 'web\n'")]
