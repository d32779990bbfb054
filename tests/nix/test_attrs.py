"""Which options a piece of Nix sets, whatever its spelling: plaintext passwords found at
their line and column, and the groups and users raw Nix creates."""

from __future__ import annotations

import pytest

from homelab.nix.attrs import created_names, option_bindings, plaintext_passwords


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ('users.users.alice.password = "x";', "bindings", [(1, 19, "users.users.alice.password")]),
        (
            'users.users.alice = {\n  password = "x";\n};',
            "bindings",
            [(2, 3, "users.users.alice.password")],
        ),
        (
            'users.users = { alice.initialPassword = "y"; };',
            "bindings",
            [(1, 23, "users.users.alice.initialPassword")],
        ),
        (
            'users = { extraUsers."a.b".password = "x"; };',
            "bindings",
            [(1, 28, 'users.extraUsers."a.b".password')],
        ),
        (
            'users = lib.mkIf true { users.bob.password = lib.mkForce "x"; };',
            "bindings",
            [(1, 35, "users.users.bob.password")],
        ),
        (
            '{ config, ... }:\nlet p = "x"; in\n'
            "{ users.users.a = lib.mkMerge [ { password = p; } ]; }",
            "module",
            [(3, 35, "users.users.a.password")],
        ),
        (
            '{ config, ... }: { options = { }; config.users.users.a.initialPassword = "x"; }',
            "module",
            [(1, 56, "users.users.a.initialPassword")],
        ),
    ],
)
def test_plaintext_passwords_are_found_in_every_spelling(
    text: str, kind: str, found: list[tuple[int, int, str]]
) -> None:
    assert plaintext_passwords(text, kind) == found


@pytest.mark.parametrize(
    "text",
    [
        'users.users.alice.hashedPassword = "$y$j9T$abc";',
        "users.users.alice.password = null;",
        '# users.users.alice.password = "x";',
        'services.foo.password = "x";',  # not a user's password
        'users.users.${name}.password = "x";',  # a computed name: not seen
    ],
)
def test_no_plaintext_password(text: str) -> None:
    assert plaintext_passwords(text) == []


def test_groups_and_users_raw_nix_creates() -> None:
    text = (
        "users.groups.media.gid = 2000;\n"
        'users.groups = { "backup-ops" = { }; };\n'
        'users = lib.mkIf true { users.jelly = { isSystemUser = true; group = "media"; }; };\n'
    )
    assert created_names(text) == ({"media", "backup-ops"}, {"jelly"})


def test_a_binding_names_its_path_and_value() -> None:
    (first, second) = option_bindings("a.b = 1;\nc = { d = true; };")[::2]
    assert (first.path, first.value, second.path) == (("a", "b"), "1", ("c", "d"))


@pytest.mark.parametrize(
    ("text", "at", "found"),
    [
        (
            '{ password = "x"; }',
            ("users", "users", "alice"),
            [(1, 3, "users.users.alice.password")],
        ),
        (
            '{ alice.initialPassword = "x"; }',
            ("users", "users"),
            [(1, 9, "users.users.alice.initialPassword")],
        ),
        ('"x"', ("users", "users", "alice", "password"), [(1, 1, "users.users.alice.password")]),
        ("null", ("users", "users", "alice", "password"), []),
        ('{ hashedPassword = "$y$x"; }', ("users", "users", "alice"), []),
        (
            'lib.mkForce { password = "x"; }',
            ("users", "users", "a"),
            [(1, 15, "users.users.a.password")],
        ),
    ],
)
def test_a_nix_value_at_an_option_path(
    text: str, at: tuple[str, ...], found: list[tuple[int, int, str]]
) -> None:
    assert plaintext_passwords(text, "value", at) == found
