"""YAML text -> data with the place of every key and value (homelab/yamlfile.py)."""

from __future__ import annotations

import string
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from homelab.errors import Place
from homelab.yamlfile import Document, load_text

F = "hosts/x/profile.yaml"


def load(text: str) -> Document:
    doc, problems = load_text(F, text)
    assert doc is not None and problems == [], problems
    return doc


def problem_of(text: str) -> tuple[int, int, str, str]:
    """(line, column, message, hint) of the one problem this text has."""
    _, problems = load_text(F, text)
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.place.file == F
    return p.place.line, p.place.column, p.message, p.hint


PROFILE = """\
# a comment
host:
  stateVersion: "24.05"
  name: web
users:
  alice:
    groups: [wheel, docker]
    sshKeys:
      - ssh-ed25519 AAAA alice
services: {openssh: {port: 2222}}
extraConfig: |
  services.fwupd.enable = true;
    # indented more
"""


def test_values_have_their_line_and_column() -> None:
    doc = load(PROFILE)
    at = doc.marks.values
    assert at[("host", "stateVersion")] == Place(F, 3, 17)
    assert at[("host", "name")] == Place(F, 4, 9)
    assert at[("users", "alice", "groups", 0)] == Place(F, 7, 14)
    assert at[("users", "alice", "groups", 1)] == Place(F, 7, 21)
    assert at[("users", "alice", "sshKeys", 0)] == Place(F, 9, 9)
    assert at[("services", "openssh", "port")] == Place(F, 10, 28)
    # a block map starts at its first key; a flow map at its brace
    assert at[("host",)] == Place(F, 3, 3)
    assert at[("services",)] == Place(F, 10, 11)
    assert at[()] == Place(F, 2, 1)


def test_keys_have_their_line_and_column() -> None:
    doc = load(PROFILE)
    keys = doc.marks.keys
    assert keys[("host",)] == Place(F, 2, 1)
    assert keys[("host", "name")] == Place(F, 4, 3)
    assert keys[("users", "alice")] == Place(F, 6, 3)
    assert keys[("users", "alice", "sshKeys")] == Place(F, 8, 5)
    assert keys[("services", "openssh", "port")] == Place(F, 10, 22)


def test_data_is_plain_python() -> None:
    doc = load(PROFILE)
    assert doc.file == F
    assert doc.data["host"] == {"stateVersion": "24.05", "name": "web"}
    assert doc.data["services"] == {"openssh": {"port": 2222}}
    assert doc.data["extraConfig"] == "services.fwupd.enable = true;\n  # indented more\n"


def test_a_block_scalar_remembers_its_first_line_and_indentation() -> None:
    doc = load(PROFILE)
    assert doc.marks.blocks[("extraConfig",)] == (12, 2)
    assert ("host", "name") not in doc.marks.blocks


def test_plain_scalars_are_told_from_quoted_ones() -> None:
    doc = load("a: 23.11\nb: '23.11'\nc: web\nd: \"web\"\ne: yes\n")
    assert doc.data == {"a": 23.11, "b": "23.11", "c": "web", "d": "web", "e": True}
    assert {p for p in doc.marks.plain if p} == {("a",), ("c",), ("e",)}


def test_nearest_known_place_stands_in_for_a_missing_path() -> None:
    doc = load(PROFILE)
    fallback = Place(F)
    assert doc.marks.value(("users", "alice", "groups", 9), fallback) == Place(F, 7, 13)
    assert doc.marks.value(("nope", "deeper"), fallback) == Place(F, 2, 1)
    # a key's place, else its value's
    assert doc.marks.key(("host", "name"), fallback) == Place(F, 4, 3)
    assert doc.marks.key(("users", "alice", "groups", 0), fallback) == Place(F, 7, 14)


def test_an_empty_file_is_an_empty_map() -> None:
    assert load("").data == {}
    assert load("# nothing yet\n\n").data == {}


def test_a_duplicate_key_is_refused_with_both_lines() -> None:
    line, col, message, hint = problem_of(
        "users:\n  bob: {}\n  carol: {}\n  bob:\n    admin: true\n"
    )
    assert (line, col) == (4, 3)
    assert message == "duplicate key 'bob' (first given on line 2)"
    assert "only the last one" in hint


def test_a_duplicate_key_keeps_the_first_value_and_its_place() -> None:
    doc, problems = load_text(
        F, "packages: [git]\nhost: {stateVersion: '24.05'}\npackages: [vim]\n"
    )
    assert doc is not None and len(problems) == 1
    assert doc.data["packages"] == ["git"]
    assert doc.marks.values[("packages", 0)] == Place(F, 1, 12)


def test_a_number_key_and_the_same_key_quoted_are_one_name() -> None:
    line, _, message, _ = problem_of("ports:\n  80: web\n  '80': other\n")
    assert line == 3
    assert message.startswith("duplicate key '80'")


def test_keys_are_always_text() -> None:
    doc = load("fileSystems:\n  1: a\n  true: b\n")
    assert doc.data == {"fileSystems": {"1": "a", "true": "b"}}


def test_a_merge_key_is_refused() -> None:
    text = "base: &b {admin: true}\nusers:\n  bob:\n    <<: *b\n    description: Bob\n"
    line, col, message, hint = problem_of(text)
    assert (line, col) == (4, 5)
    assert "merge keys (<<) are not supported" in message
    assert "include" in hint


def test_anchors_and_aliases_are_read() -> None:
    doc = load("a: &key ssh-ed25519 AAAA x\nb: [*key]\n")
    assert doc.data == {"a": "ssh-ed25519 AAAA x", "b": ["ssh-ed25519 AAAA x"]}


def test_a_key_that_is_a_list_is_refused() -> None:
    line, col, message, _ = problem_of("? [a, b]\n: c\n")
    assert (line, col, message) == (1, 3, "a key must be plain text")


def test_a_tab_is_named_as_the_mistake() -> None:
    line, col, message, hint = problem_of("host:\n\tstateVersion: '24.05'\n")
    assert (line, col) == (2, 1)
    assert message == "YAML syntax: a tab is used for indentation"
    assert "spaces" in hint


def test_an_unclosed_quote_is_found_where_it_opens() -> None:
    text = "users:\n  bob:\n    description: 'Bob\n    admin: true\npackages: [git]\n"
    line, col, message, hint = problem_of(text)
    assert (line, col) == (3, 18)
    assert message == "YAML syntax: this quoted text is never closed"
    assert "closing quote" in hint


def test_a_second_document_is_refused_at_its_separator() -> None:
    line, col, message, hint = problem_of("packages: [git]\n---\npackages: [vim]\n")
    assert (line, col) == (2, 1)
    assert "second document" in message
    assert "---" in hint


def test_a_colon_in_a_plain_value_gets_a_quoting_hint() -> None:
    line, _, message, hint = problem_of("users:\n  bob:\n    description: Bob: the builder\n")
    assert line == 3
    assert message.startswith("YAML syntax:")
    assert "put in quotes" in hint


def test_a_backslash_in_double_quotes_gets_an_escape_hint() -> None:
    line, col, _, hint = problem_of('path: "C:\\data"\n')
    assert (line, col) == (1, 10)
    assert "backslash" in hint


def test_an_undefined_alias_is_a_syntax_error() -> None:
    line, col, message, _ = problem_of("a: *nope\n")
    assert (line, col) == (1, 4)
    assert "undefined alias" in message


def test_a_date_stays_the_text_that_was_written() -> None:
    assert load("dates: 2024-01-01\n").data == {"dates": "2024-01-01"}


def test_tags_are_refused_without_crashing() -> None:
    for text in ("a: !!python/object:os.system x\n", "a: !!binary aGVsbG8=\n", "a: !secret pw\n"):
        line, col, message, hint = problem_of(text)
        assert (line, col) == (1, 4)
        assert "is not used in profiles" in message
        assert "quotes" in hint
    line, col, message, _ = problem_of("a: !!int twelve\n")
    assert (line, col) == (1, 4)
    assert message.startswith("cannot read this value")


# ---- any map of plain values loads as YAML itself reads it, each key at its line ----

_names = st.text(string.ascii_lowercase + "-_", min_size=1, max_size=8).filter(
    lambda s: s[0].isalpha() and s not in ("y", "n", "yes", "no", "on", "off", "true", "false")
)
_scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(string.ascii_letters + string.digits + " .:-/#'\"", max_size=12),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=3),
    max_leaves=12,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_names, _values, min_size=1, max_size=4), st.booleans())
def test_any_document_loads_like_yaml_with_every_key_placed(
    data: dict[str, Any], flow: bool
) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, sort_keys=False, width=1000)
    doc = load(text)
    assert doc.data == yaml.safe_load(text)
    lines = text.splitlines()
    for path in _paths(doc.data):
        assert path in doc.marks.values
        if path and isinstance(path[-1], str):
            place = doc.marks.keys[path]
            # the key's name is written at its place (maybe quoted)
            assert lines[place.line - 1][place.column - 1 :].lstrip("'\"").startswith(path[-1])
