"""Round-trip edits of tagged values under options: (`!pkg`, `!nix`, `!force`, `!default`).

In data a tagged value is the one-key map {"!pkg": "htop"}; in the text it is written back
as the tag the person would write, never as a map whose key is the tag's name.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homelab.profile.edit import EditError, delete_value, rename_key, set_value
from homelab.profile.options import tags_allowed
from homelab.yamlfile import load_plain, load_text

PROFILE = """\
host:
  name: box   # the one in the cupboard
# any NixOS option
options:
  services.fwupd.enable: true
  environment.systemPackages: [!pkg htop]   # tools
  boot.kernelPackages: !nix "pkgs.linuxPackages_latest"
  services.tlp.settings: !force
    CPU_SCALING_GOVERNOR_ON_AC: performance
"""


def changed_lines(before: str, after: str) -> list[str]:
    old = before.splitlines()
    return [line for line in after.splitlines() if line not in old]


def test_a_new_package_is_written_with_its_tag() -> None:
    text = set_value(PROFILE, ("options", "programs.git.package"), {"!pkg": "gitFull"})
    assert changed_lines(PROFILE, text) == ["  programs.git.package: !pkg gitFull"]
    assert text.startswith(PROFILE)  # everything else byte for byte
    assert load_plain(text)["options"]["programs.git.package"] == {"!pkg": "gitFull"}


def test_a_list_of_packages_stays_on_its_line_with_its_comment() -> None:
    value = [{"!pkg": "htop"}, {"!pkg": "python3Packages.requests"}]
    text = set_value(PROFILE, ("options", "environment.systemPackages"), value)
    assert changed_lines(PROFILE, text) == [
        "  environment.systemPackages: [!pkg htop, !pkg python3Packages.requests]   # tools"
    ]


def test_a_nix_expression_keeps_the_quotes_the_person_wrote() -> None:
    value = {"!nix": "pkgs.linuxPackages_6_6"}
    text = set_value(PROFILE, ("options", "boot.kernelPackages"), value)
    assert changed_lines(PROFILE, text) == ['  boot.kernelPackages: !nix "pkgs.linuxPackages_6_6"']


def test_a_nix_expression_of_several_lines_is_a_block() -> None:
    value = {"!nix": "pkgs.writeShellScript \"hi\" ''\n  echo hi\n''\n"}
    text = set_value(PROFILE, ("options", "boot.kernelPackages"), value)
    assert "  boot.kernelPackages: !nix |\n    pkgs.writeShellScript" in text
    assert load_plain(text)["options"]["boot.kernelPackages"] == value
    assert "services.tlp.settings: !force\n" in text  # the rest as written


def test_force_and_default_around_maps_and_scalars() -> None:
    text = set_value(PROFILE, ("options", "services.fwupd.enable"), {"!force": True})
    assert changed_lines(PROFILE, text) == ["  services.fwupd.enable: !force true"]
    text = set_value(PROFILE, ("options", "time.timeZone"), {"!default": "yes"})
    assert changed_lines(PROFILE, text) == ['  time.timeZone: !default "yes"']  # text, not true
    value = {"!force": {"CPU_SCALING_GOVERNOR_ON_AC": "powersave"}}
    text = set_value(PROFILE, ("options", "services.tlp.settings"), value)
    assert changed_lines(PROFILE, text) == ["    CPU_SCALING_GOVERNOR_ON_AC: powersave"]
    text = set_value(PROFILE, ("options", "networking.firewall"), {"!force": {"enable": False}})
    assert changed_lines(PROFILE, text) == ["  networking.firewall: !force {enable: false}"]
    assert load_plain(text)["options"]["networking.firewall"] == {"!force": {"enable": False}}


def test_a_tagged_value_becomes_plain_and_back() -> None:
    text = set_value(PROFILE, ("options", "boot.kernelPackages"), "linux")
    assert changed_lines(PROFILE, text) == ['  boot.kernelPackages: "linux"']  # its quotes
    text = set_value(PROFILE, ("options", "services.tlp.settings"), {"a": 1})
    assert load_plain(text)["options"]["services.tlp.settings"] == {"a": 1}
    assert "!force" not in text
    back = set_value(text, ("options", "services.tlp.settings"), {"!force": {"a": 1}})
    assert load_plain(back)["options"]["services.tlp.settings"] == {"!force": {"a": 1}}


def test_a_tagged_value_is_removed_with_its_lines() -> None:
    text = delete_value(PROFILE, ("options", "services.tlp.settings"))
    assert text == PROFILE.replace(
        "  services.tlp.settings: !force\n    CPU_SCALING_GOVERNOR_ON_AC: performance\n", ""
    )
    text = delete_value(PROFILE, ("options", "boot.kernelPackages"))
    assert "boot.kernelPackages" not in text and "# tools" in text


def test_a_tag_is_never_written_as_a_key() -> None:
    for value in ({"!pkg": "htop"}, {"!force": {"!pkg": "htop"}}, [{"!nix": "a\nb"}]):
        try:
            text = set_value(PROFILE, ("options", "x"), value)
        except EditError:
            continue
        assert '"!' not in text and "'!" not in text


def test_one_tag_per_value() -> None:
    with pytest.raises(EditError, match="one tag"):
        set_value(PROFILE, ("options", "x"), {"!force": {"!pkg": "htop"}})


def test_a_renamed_key_keeps_its_tagged_value_and_comment_where_they_stand() -> None:
    text = rename_key(PROFILE, ("options", "environment.systemPackages"), "programs.x.packages")
    assert changed_lines(PROFILE, text) == ["  programs.x.packages: [!pkg htop]   # tools"]
    text = rename_key(PROFILE, ("options", "services.tlp.settings"), 'a."b.c"')
    assert changed_lines(PROFILE, text) == ['  a."b.c": !force']
    assert load_plain(text)["options"]['a."b.c"'] == {
        "!force": {"CPU_SCALING_GOVERNOR_ON_AC": "performance"}
    }


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
plain_scalars = st.one_of(
    st.booleans(),
    st.integers(-1000, 70000),
    texts,
    st.sampled_from(["yes", "no", "null", "~", "1.0", "a: b", "!pkg", "#x", "a\nb\n"]),
)
flat = st.one_of(
    plain_scalars,
    st.lists(plain_scalars, max_size=3),
    st.dictionaries(st.sampled_from(["a", "b c", "yes"]), plain_scalars, max_size=2),
)
tagged = st.one_of(
    st.builds(lambda v: {"!pkg": v}, st.sampled_from(["htop", "python3Packages.requests"])),
    st.builds(lambda v: {"!nix": v}, st.one_of(texts, st.just("pkgs.a\n  // { b = 1; }\n"))),
    st.builds(lambda v: {"!force": v}, flat),
    st.builds(lambda v: {"!default": v}, flat),
)
option_values = st.one_of(tagged, st.lists(tagged, max_size=3), flat)


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(["services.fwupd.enable", "boot.kernelPackages", "x.y"]),
    value=option_values,
)
def test_any_tagged_value_reads_back_and_keeps_the_rest(key: str, value: object) -> None:
    text = set_value(PROFILE, ("options", key), value)
    data = load_plain(text)
    assert same(data["options"][key], value), text
    # read as a profile is read: a key named like a tag would be refused there
    doc, problems = load_text("profile.yaml", text, tags_allowed)
    assert not problems and doc is not None, (text, problems)
    assert same(doc.data["options"][key], value)
    for line in PROFILE.splitlines():
        if key not in line and not line.startswith("    "):
            assert line in text.splitlines()


def same(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize(
    "value",
    [[{"!force": ["?0"]}], [":0"], {"!default": [":a", "?b"]}, [{"!nix": "?0"}], [{"!pkg": ":a"}]],
)
def test_a_text_starting_with_a_question_mark_or_colon_stays_text_in_a_list(value: object) -> None:
    # `[?0]` reads back as [{0: None}]: the edit must quote it, not refuse it
    text = set_value(PROFILE, ("options", "x.y"), value)
    assert same(load_plain(text)["options"]["x.y"], value), text


@pytest.mark.parametrize("value", [[{"!nix": "?0"}], [{"!pkg": ":a"}], {"!nix": "?x"}])
def test_a_tagged_text_starting_with_a_question_mark_or_colon_replaces_a_value(
    value: object,
) -> None:
    # found by the property above: `[!nix ?0]` does not read back, `[!nix "?0"]` does
    text = set_value(PROFILE, ("options", "services.fwupd.enable"), value)
    assert same(load_plain(text)["options"]["services.fwupd.enable"], value), text
    assert 'boot.kernelPackages: !nix "pkgs.linuxPackages_latest"' in text
