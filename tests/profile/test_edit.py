"""Round-trip edits of profiles: the touched value changes, everything else stays as written."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from homelab.profile.edit import EditError, delete_value, get_value, rename_key, set_value

DEMO = Path(__file__).resolve().parents[2] / "hosts" / "nixos-demo" / "profile.yaml"

PROFILE = """\
# yaml-language-server: $schema=../.profile.schema.json
# The media box in the cupboard.
include: [../common/base.yaml]
host:
  system: x86_64-linux     # an old NUC
  stateVersion: "24.11"
  timezone:   Europe/Paris

# hardware comes from the machine
hardware:
  boot: {loader: grub, device: /dev/sda}
users:
  alice:
    groups:
      - wheel   # admin
      - video
    # alice's laptop key
    sshKeys: ['ssh-ed25519 AAAA alice@laptop']
  # bob only watches films
  bob:
    groups: [video]
services:
  jellyfin: {}
  # caddy fronts everything
  caddy: {domain: home.arpa}
deploy:
  address: 192.168.1.10
  extra: null
"""


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines between two texts."""
    removed, added = [], []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), n=0, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


def test_setting_a_value_changes_only_its_line() -> None:
    new = set_value(PROFILE, ("host", "timezone"), "Europe/Berlin")
    assert changed_lines(PROFILE, new) == (
        ["  timezone:   Europe/Paris"],
        ["  timezone:   Europe/Berlin"],
    )
    assert yaml.safe_load(new)["host"]["timezone"] == "Europe/Berlin"


def test_comments_and_odd_spacing_elsewhere_survive() -> None:
    new = set_value(PROFILE, ("deploy", "address"), "192.168.1.11")
    for line in PROFILE.splitlines():
        if "192.168.1.10" not in line:
            assert line in new.splitlines()
    assert "  extra: null" in new  # ruamel alone would write "extra:"
    assert "  system: x86_64-linux     # an old NUC" in new


def test_a_value_in_a_flow_map_keeps_the_flow_style() -> None:
    new = set_value(PROFILE, ("hardware", "boot", "loader"), "systemd-boot")
    assert changed_lines(PROFILE, new) == (
        ["  boot: {loader: grub, device: /dev/sda}"],
        ["  boot: {loader: systemd-boot, device: /dev/sda}"],
    )


def test_end_of_line_comment_stays_on_a_changed_line() -> None:
    new = set_value(PROFILE, ("host", "system"), "aarch64-linux")
    _, added = changed_lines(PROFILE, new)
    assert len(added) == 1 and added[0].startswith("  system: aarch64-linux")
    assert added[0].endswith("# an old NUC")


def test_quoting_style_of_a_replaced_string_is_kept() -> None:
    new = set_value(PROFILE, ("host", "stateVersion"), "25.05")
    assert '  stateVersion: "25.05"' in new.splitlines()


def test_a_string_that_would_read_back_as_something_else_is_quoted() -> None:
    new = set_value(PROFILE, ("users", "bob", "groups", 1), "yes")
    assert yaml.safe_load(new)["users"]["bob"]["groups"] == ["video", "yes"]
    new = set_value(PROFILE, ("host", "stateVersion"), "24.11")
    assert yaml.safe_load(new)["host"]["stateVersion"] == "24.11"
    new = set_value(PROFILE, ("deploy", "port"), "22")
    assert yaml.safe_load(new)["deploy"]["port"] == "22"


def test_missing_maps_are_created_on_the_way() -> None:
    new = set_value(PROFILE, ("deploy", "ssh", "hostKeys"), ["ssh-ed25519 AAAAB3 root@nuc"])
    assert yaml.safe_load(new)["deploy"]["ssh"] == {"hostKeys": ["ssh-ed25519 AAAAB3 root@nuc"]}
    removed, added = changed_lines(PROFILE, new)
    assert removed == []
    assert added == ["  ssh:", "    hostKeys: [ssh-ed25519 AAAAB3 root@nuc]"]
    # the new entry goes at the end of deploy, after extra
    assert new.index("extra: null") < new.index("ssh:")


def test_a_new_top_level_key_goes_at_the_end() -> None:
    new = set_value(PROFILE, ("nix", "allowUnfree"), True)
    assert changed_lines(PROFILE, new) == ([], ["nix:", "  allowUnfree: true"])


def test_a_new_service_in_a_block_map_and_in_a_flow_map() -> None:
    new = set_value(PROFILE, ("services", "grafana"), {})
    assert changed_lines(PROFILE, new) == ([], ["  grafana: {}"])
    new = set_value(PROFILE, ("services", "caddy", "email"), "me@example.org")
    assert changed_lines(PROFILE, new) == (
        ["  caddy: {domain: home.arpa}"],
        ["  caddy: {domain: home.arpa, email: me@example.org}"],
    )


def test_block_lists_keep_their_indentation_when_appended_to() -> None:
    new = set_value(PROFILE, ("users", "alice", "groups", 2), "audio")
    assert changed_lines(PROFILE, new) == ([], ["      - audio"])
    assert "      - wheel   # admin" in new


def test_a_user_with_a_nested_home_is_written_block_style() -> None:
    value = {"groups": ["wheel"], "home": {"programs": {"git": {"enable": True}}}}
    new = set_value(PROFILE, ("users", "carol"), value)
    assert yaml.safe_load(new)["users"]["carol"] == value
    _, added = changed_lines(PROFILE, new)
    assert added[0] == "  carol:"
    assert "          enable: true" in added


def test_multi_line_strings_become_literal_blocks() -> None:
    new = set_value(PROFILE, ("extraConfig",), "services.fwupd.enable = true;\nx = 1;\n")
    assert "extraConfig: |" in new
    assert yaml.safe_load(new)["extraConfig"] == "services.fwupd.enable = true;\nx = 1;\n"


def test_deleting_keeps_the_comments_around_the_entry() -> None:
    new = delete_value(PROFILE, ("users", "alice", "sshKeys"))
    assert changed_lines(PROFILE, new) == (
        ["    sshKeys: ['ssh-ed25519 AAAA alice@laptop']"],
        [],
    )
    assert "  # bob only watches films" in new


def test_deleting_an_entry_followed_by_a_comment_keeps_that_comment() -> None:
    new = delete_value(PROFILE, ("services", "jellyfin"))
    assert changed_lines(PROFILE, new) == (["  jellyfin: {}"], [])
    assert "  # caddy fronts everything" in new


def test_deleting_a_whole_map() -> None:
    new = delete_value(PROFILE, ("users", "bob"))
    removed, _ = changed_lines(PROFILE, new)
    assert removed == ["  bob:", "    groups: [video]"]
    assert "alice" in yaml.safe_load(new)["users"]


def test_deleting_a_list_item() -> None:
    new = delete_value(PROFILE, ("users", "alice", "groups", 0))
    assert yaml.safe_load(new)["users"]["alice"]["groups"] == ["video"]
    assert changed_lines(PROFILE, new)[1] == []


def test_renaming_keeps_place_value_and_comments() -> None:
    new = rename_key(PROFILE, ("users", "bob"), "robert")
    assert changed_lines(PROFILE, new) == (["  bob:"], ["  robert:"])
    assert list(yaml.safe_load(new)["users"]) == ["alice", "robert"]


def test_renaming_onto_an_existing_key_is_refused() -> None:
    with pytest.raises(EditError, match=r"users\.alice already exists"):
        rename_key(PROFILE, ("users", "bob"), "alice")


def test_the_demo_profile_keeps_its_comments_through_many_edits() -> None:
    text = DEMO.read_text()
    new = set_value(text, ("users", "demouser", "groups", 3), "audio")
    new = set_value(new, ("services", "grafana"), {})
    new = delete_value(new, ("services", "pihole"))
    new = rename_key(new, ("users", "demouser"), "dee")
    for line in text.splitlines():
        if line.lstrip().startswith("#") or "#" in line:
            assert line in new.splitlines()
    data = yaml.safe_load(new)
    assert data["users"]["dee"]["groups"][-1] == "audio"
    assert "pihole" not in data["services"] and "grafana" in data["services"]
    # the starship format strings keep their quotes and the odd '.../' stays plain
    assert "              truncation_symbol: .../" in new.splitlines()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: set_value("a: [1\n", ("a",), 1), "cannot be read"),
        (lambda: set_value("host: x86\n", ("host", "system"), "x"), "host is a single value"),
        (lambda: set_value("a: [1, 2]\n", ("a", "b"), 1), "a is a list"),
        (lambda: set_value("a: [1, 2]\n", ("a", "b", "c"), 1), "a is not a map"),
        (lambda: set_value("a: {b: 1}\n", ("a", 0), 1), "is a map"),
        (lambda: set_value("a: [1]\n", ("a", 5), 1), r"a\[5\] is past the end"),
        (lambda: set_value("a: 1\n", (), 1), "path is empty"),
        (lambda: delete_value("a: 1\n", ("b",)), "b does not exist"),
        (lambda: delete_value("a: {b: 1}\n", ("a", "c")), r"a\.c does not exist"),
        (lambda: rename_key("a: 1\n", ("b",), "c"), "b does not exist"),
        (lambda: rename_key("a: [1]\n", ("a", 0), "c"), "only a key of a map"),
        (lambda: set_value("a: 1\na: 2\n", ("a",), 3), "cannot be read"),
    ],
)
def test_bad_edits_are_refused_with_a_reason(call: object, message: str) -> None:
    with pytest.raises(EditError, match=message):
        call()  # type: ignore[operator]


def test_an_empty_document_gets_its_first_key() -> None:
    assert yaml.safe_load(set_value("", ("host", "system"), "x86_64-linux")) == {
        "host": {"system": "x86_64-linux"}
    }
    assert set_value("# only a comment\n", ("a",), 1).startswith("# only a comment\n")


def test_a_missing_final_newline_stays_missing() -> None:
    assert set_value("a: 1\nb: 2", ("a",), 3) == "a: 3\nb: 2"


def test_get_value() -> None:
    assert get_value(PROFILE, ("users", "alice", "groups", 1)) == "video"
    with pytest.raises(KeyError):
        get_value(PROFILE, ("users", "zed"))


scalars = st.one_of(
    st.booleans(),
    st.integers(-1000, 70000),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
    st.sampled_from(["yes", "no", "on", "null", "~", "1.0", "0x1F", "2024-01-01", "@x", "a: b"]),
)
keys = st.sampled_from(["host", "users", "services", "deploy", "new key", "x"])


@settings(max_examples=150, deadline=None)
@given(path=st.lists(keys, min_size=1, max_size=3), value=scalars)
def test_any_scalar_set_anywhere_reads_back_and_keeps_comments(
    path: list[str], value: object
) -> None:
    try:
        new = set_value(PROFILE, tuple(path), value)
    except EditError as err:
        # only refused when the path runs through a value that is not a map
        assert "single value" in str(err) or "not a map" in str(err)
        return
    data = yaml.safe_load(new)
    for part in path:
        data = data[part]
    assert data == value and type(data) is type(value)
    for comment, owner in COMMENTS.items():
        inside_replaced_value = tuple(path) == owner[: len(path)]
        if not inside_replaced_value:
            assert comment in new.splitlines()


# each comment of PROFILE and the entry it stands inside
COMMENTS: dict[str, tuple[str, ...]] = {
    "# yaml-language-server: $schema=../.profile.schema.json": (),
    "# The media box in the cupboard.": (),
    "  system: x86_64-linux     # an old NUC": ("host", "system"),
    "# hardware comes from the machine": (),
    "      - wheel   # admin": ("users", "alice", "groups"),
    "    # alice's laptop key": ("users", "alice"),
    "  # bob only watches films": ("users",),
    "  # caddy fronts everything": ("services",),
}


def test_a_key_added_to_an_empty_flow_map_stays_on_its_line() -> None:
    text = "services:\n  jellyfin: {}\n  caddy: {}\n"
    new = set_value(text, ("services", "jellyfin", "openFirewall"), True)
    assert new == "services:\n  jellyfin: {openFirewall: true}\n  caddy: {}\n"
    # a new empty service is written as people write it
    assert set_value(text, ("services", "grafana"), {}).endswith("  grafana: {}\n")


# ---- the quick path: a keystroke changes a few characters of one line -----------------


@pytest.mark.parametrize(
    ("text", "path", "value", "expected"),
    [
        # the value's own quoting survives
        ('a: "x"  # c\n', ("a",), "y", 'a: "y"  # c\n'),
        ("a: 'x'\n", ("a",), "it's", "a: 'it''s'\n"),
        ("a: x\n", ("a",), "yes", 'a: "yes"\n'),
        ("a: x\n", ("a",), "a: b", 'a: "a: b"\n'),
        ("a: x\n", ("a",), 8080, "a: 8080\n"),
        ("a: 22\n", ("a",), "22x", "a: 22x\n"),
        # inside a flow collection, commas need quotes
        ("a: {b: x, c: y}\n", ("a", "b"), "p,q", 'a: {b: "p,q", c: y}\n'),
        ("a: [x, y]\n", ("a", 1), "z", "a: [x, z]\n"),
        ("a: [x, y]\n", ("a",), ["x", "y", "w"], "a: [x, y, w]\n"),
        # non-ASCII before the value on its line
        ("é: x\n", ("é",), "ü", "é: ü\n"),
        # a new key goes after the map's last entry, at its indentation
        (
            "a:\n  b: 1\n  c: [x]  # c\n# after\nd: 2\n",
            ("a", "e"),
            True,
            "a:\n  b: 1\n  c: [x]  # c\n  e: true\n# after\nd: 2\n",
        ),
        ("a: {b: 1}\n", ("a", "c"), 2, "a: {b: 1, c: 2}\n"),
        ("a: {}\n", ("a", "c"), [1, 2], "a: {c: [1, 2]}\n"),
        ("a: 1", ("b",), 2, "a: 1\nb: 2"),
    ],
)
def test_quick_edits_touch_only_the_value(
    text: str, path: tuple[str | int, ...], value: object, expected: str
) -> None:
    assert set_value(text, path, value) == expected


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("a:\n  b: 1  # one\n  c: 2\n", ("a", "b"), "a:\n  c: 2\n"),
        ("a:\n  - x\n  - y\n# end\n", ("a", 0), "a:\n  - y\n# end\n"),
        # the last entry of a map leaves `{}`-less emptiness to the round trip
        ("a:\n  b: 1\nc: 2\n", ("a", "b"), "a: {}\nc: 2\n"),
    ],
)
def test_quick_deletes_remove_only_the_line(
    text: str, path: tuple[str | int, ...], expected: str
) -> None:
    assert delete_value(text, path) == expected


def _leaves(data: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _leaves(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _leaves(v, (*path, i))]
    return [path]


DEMO_TEXT = DEMO.read_text()
DEMO_LEAVES = [p for p in _leaves(yaml.safe_load(DEMO_TEXT)) if p != ("extraConfig",)]


@settings(max_examples=200, deadline=None)
@given(path=st.sampled_from(DEMO_LEAVES), value=scalars)
def test_any_leaf_of_the_demo_takes_any_scalar_on_its_own_line(
    path: tuple[str | int, ...], value: object
) -> None:
    new = set_value(DEMO_TEXT, path, value)
    data = yaml.safe_load(new)
    for part in path:
        data = data[part]
    assert data == value and type(data) is type(value)
    removed, added = changed_lines(DEMO_TEXT, new)
    old = yaml.safe_load(DEMO_TEXT)
    for part in path:
        old = old[part]
    if old == value and type(old) is type(value):
        assert new == DEMO_TEXT
    elif "\n" not in str(value):
        assert len(removed) == 1 and len(added) == 1, (removed, added)


@pytest.mark.parametrize("value", ["0?", "a:b", "x?y"])
def test_a_value_in_a_flow_list_reads_the_same_with_every_yaml_reader(value: str) -> None:
    new = set_value("include: [../common/base.yaml]\n", ("include", 0), value)
    # PyYAML's pure-Python reader ends a plain scalar in a flow list at ? and :
    assert yaml.load(new, Loader=yaml.SafeLoader) == {"include": [value]}
    assert yaml.load(new, Loader=yaml.CSafeLoader) == {"include": [value]}
