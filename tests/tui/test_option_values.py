"""The Options form's value box: every value shows as text that reads back as itself,
for the type it shows, and what does not read says why."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.tui.optionvalues import kind_of, read_value, same, shown, value_text

VALUES: list[tuple[Any, str]] = [
    ("restic backup /srv", "text"),
    ("yes", "text"),
    ("", "text"),
    (8080, "number"),
    (0.5, "number"),
    (False, "bool"),
    (["d /srv/media 0755 media media -", "yes", "a, b", "x: y"], "list"),
    ([{"!pkg": "htop"}, {"!pkg": "python3Packages.requests"}], "list"),
    ({"script": "restic backup /srv", "startAt": "daily", "n": 3, "on": True}, "map"),
    ({"CPU_SCALING_GOVERNOR_ON_AC": "performance", "nested": {"a": [1, "2"]}}, "map"),
    ({"!pkg": "gitFull"}, "pkg"),
    ({"!nix": "pkgs.linuxPackages_latest"}, "nix"),
    ({"!nix": 'pkgs.writeShellScript "hi" ' + "''\n  echo hi\n''\n"}, "nix"),
    ({"!force": True}, "force"),
    ({"!default": {"enable": False, "ports": [22]}}, "default"),
    ({"!force": "yes"}, "force"),
]


@pytest.mark.parametrize(("value", "kind"), VALUES)
def test_a_value_shown_in_the_form_reads_back_as_itself(value: Any, kind: str) -> None:
    assert kind_of(value) == kind
    back, wrong = read_value(kind, value_text(value))
    assert wrong == ""
    assert same(back, value), (value_text(value), back)


def test_the_list_shows_tags_and_cuts_long_values() -> None:
    assert shown([{"!pkg": "htop"}, "git"]) == "[!pkg htop, git]"
    assert shown({"!nix": "a\n  b"}) == "!nix a b"  # one line
    assert shown("x" * 50, 10) == "x" * 9 + "…"


@pytest.mark.parametrize(
    ("kind", "text", "said"),
    [
        ("number", "eight", "'eight' is not a number"),
        ("list", "[a, b", "not YAML"),
        ("list", "{a: 1}", "a list is written [a, b]"),
        ("map", "[a]", "a map is written"),
        ("pkg", " ", "package (!pkg): type it, e.g. htop"),
        ("force", "!pkg htop", "a value takes one tag"),
    ],
)
def test_what_does_not_read_says_why(kind: str, text: str, said: str) -> None:
    value, wrong = read_value(kind, text)
    assert value is None
    assert said in wrong
