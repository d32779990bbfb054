# ruff: noqa: E501
"""Validation with an option index: the host's `options:`, extraConfig and the catalogue
entries a host uses are checked against it at their lines; without one, validation is as
before and says once that options went unchecked. (A small hand-made index; the real
home-manager one is in test_option_checks_home_manager.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab import catalogcheck
from homelab.errors import Problem
from homelab.lab import Lab
from homelab.optionindex import model as m
from tests.conftest import RunCli

BOOL = m.OptionType(m.BOOL)
ALPHA = "hosts/alpha/profile.yaml"


def small_index(**types: m.OptionType) -> m.OptionIndex:
    """An index of these NixOS options (by dotted name); home-manager's empty."""
    nixos = {tuple(k.split(".")): m.Option(tuple(k.split(".")), t) for k, t in types.items()}
    return m.OptionIndex("test", "test", m.OptionSet(nixos), m.OptionSet({}))


INDEX = small_index(
    **{
        "services.fwupd.enable": BOOL,
        "services.jellyfin.enable": BOOL,
        "services.jellyfin.openFirewall": BOOL,
        "services.jellyfin.group": m.OptionType(m.STR),
        "virtualisation.docker.enable": BOOL,
        "networking.firewall.allowedTCPPorts": m.OptionType(
            m.LIST, of=(m.OptionType(m.INT, low=0, high=65535),)
        ),
    }
)


def add_to_alpha(lab: Path, text: str) -> int:
    """Append text to alpha's profile; the line it starts on."""
    profile = lab / ALPHA
    before = profile.read_text(encoding="utf-8")
    profile.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 1


def mine(problems: list[Problem], file: str = ALPHA) -> list[tuple[int, int, str, str]]:
    return [
        (p.place.line, p.place.column, p.message, p.hint) for p in problems if p.place.file == file
    ]


def test_options_of_the_host_are_checked_at_their_line(basic_lab: Path) -> None:
    line = add_to_alpha(
        basic_lab,
        "options:\n"
        "  services.fwupd.enable: yes please\n"
        "  services.fwupd.enabel: true\n"
        "  networking.firewall.allowedTCPPorts: [22, 99999]\n",
    )
    state = Lab(basic_lab).load(index=INDEX)
    assert mine(state.all_problems()) == [
        (line + 1, 26, "services.fwupd.enable takes true or false, not the text 'yes please'", ""),
        (line + 2, 3, "services.fwupd.enabel is not an option", "did you mean services.fwupd.enable?"),
        (line + 3, 45,
         "networking.firewall.allowedTCPPorts[1] takes a whole number from 0 to 65535, not 99999, "
         "which is out of range", ""),
    ]  # fmt: skip
    assert not state.hosts["alpha"].valid and state.hosts["beta"].valid


def test_extra_config_options_must_exist(basic_lab: Path) -> None:
    line = add_to_alpha(
        basic_lab,
        "extraConfig: |\n"
        "  services.fwupd.enable = true;\n"
        "  services.fwupd.enabel = lib.mkForce true;\n"
        "  imports = [ ];\n",
    )
    problems = Lab(basic_lab).load(index=INDEX).all_problems()
    assert mine(problems) == [
        (line + 2, 18, "extraConfig: services.fwupd.enabel is not an option",
         "did you mean services.fwupd.enable?"),
    ]  # fmt: skip


def test_catalogue_entries_a_host_uses_are_checked(basic_lab: Path) -> None:
    # jellyfin's entry sets services.jellyfin.user, which this index does not have
    state = Lab(basic_lab).load(index=INDEX)
    found = [p for p in state.all_problems() if p.place.file == "services/jellyfin.yaml"]
    assert [p.message for p in found] == ["services.jellyfin.user is not an option"]
    text = (basic_lab / "services/jellyfin.yaml").read_text(encoding="utf-8").splitlines()
    assert text[found[0].place.line - 1].strip().startswith("services.jellyfin.user:")
    # an entry no host uses is catalogue check's business, not validation's
    assert not [p for p in state.all_problems() if p.place.file == "services/nextcloud.yaml"]


def test_a_renamed_option_is_a_warning_and_never_blocks(basic_lab: Path) -> None:
    renamed = m.Option(
        ("services", "fwupd", "on"),
        m.OptionType(m.ANYTHING),
        renamed_to=("services", "fwupd", "enable"),
    )
    index = m.OptionIndex(
        "t", "t", m.OptionSet({**INDEX.nixos.options, renamed.path: renamed}), INDEX.home
    )
    line = add_to_alpha(basic_lab, "options:\n  services.fwupd.on: true\n")
    state = Lab(basic_lab).load(index=index)
    assert mine(state.all_problems()) == []
    assert mine(state.all_warnings()) == [
        (line + 1, 3, "services.fwupd.on was renamed to services.fwupd.enable",
         "write services.fwupd.enable"),
    ]  # fmt: skip


def test_without_an_index_validation_says_once_that_options_went_unchecked(
    basic_lab: Path, run_cli: RunCli
) -> None:
    add_to_alpha(basic_lab, "options:\n  services.fwupd.enable: true\n  services.nope: 1\n")
    beta = basic_lab / "hosts/beta/profile.yaml"
    beta.write_text(beta.read_text() + "extraConfig: |\n  services.x.enable = true;\n")
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 0 and out == "2 hosts valid: alpha, beta\n"
    assert err == (
        "note: 3 option settings not checked against the options of the lab's nixpkgs and "
        "home-manager: this lab has no option index yet; make one with "
        "`homelab options update`\n"
    )


def test_a_lab_without_options_gets_no_note(basic_lab: Path, run_cli: RunCli) -> None:
    assert run_cli("--lab", str(basic_lab), "validate") == (0, "2 hosts valid: alpha, beta\n", "")


@pytest.mark.parametrize("index", [None, INDEX])
def test_the_index_is_passed_to_the_editor_s_single_host_load(
    basic_lab: Path, index: m.OptionIndex | None
) -> None:
    add_to_alpha(basic_lab, "options:\n  services.fwupd.enable: 3\n")
    lab = Lab(basic_lab)
    host = lab.load_host("alpha", lab.load().catalog, index=index)
    assert host.valid is (index is None)


def test_the_editing_session_checks_options_live_against_the_index_it_reads_once(
    basic_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []

    def read(self: Lab) -> m.OptionIndex:
        reads.append(1)
        return INDEX

    monkeypatch.setattr(Lab, "option_index", read)
    session = Lab(basic_lab).open_session()
    text = (basic_lab / ALPHA).read_text(encoding="utf-8")
    session.replace_text("alpha", text + "options:\n  services.fwupd.enabel: true\n")
    check = session.check("alpha")
    assert [p.hint for p in check.problems if p.place.file == ALPHA] == [
        "did you mean services.fwupd.enable?"
    ]
    session.replace_text("alpha", text + "options:\n  services.fwupd.enable: true\n")
    assert session.check("alpha").host.valid
    session.load_all()
    assert reads == [1]


def test_validate_says_how_many_values_the_index_checked(
    basic_lab: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = Lab(basic_lab)
    entries = {  # every option the catalogue's entries set, any value
        name: m.OptionType(m.ANYTHING)
        for service in lab.load().catalog.services.values()
        for name, _, _ in catalogcheck._settings(service)
    }
    entries.update({".".join(o.path): o.type for o in INDEX.nixos})
    entries["services.fwupd.package"] = m.OptionType(m.UNCHECKED, "package")
    index = small_index(**entries)
    add_to_alpha(
        basic_lab,
        "options:\n"
        "  services.fwupd.enable: true\n"
        "  services.fwupd.package: !pkg fwupd\n"
        "  networking.firewall.allowedTCPPorts: [22, 80]\n",
    )
    monkeypatch.setattr(Lab, "option_index", lambda self: index)
    code, out, err = run_cli("--lab", str(basic_lab), "validate", "alpha")
    assert (code, err) == (0, "")
    state = lab.load(index=index)
    done = state.option_values
    assert done is not None
    # alpha's values: 2 checked, the package's not; with those the entries set (a value
    # that depends on a setting without a default cannot be known)
    assert done.checked > 2 and done.unchecked >= 1
    assert out.splitlines()[1] == (
        f"the lab's options against the option index: {done.checked} values checked, "
        f"{done.unchecked} not (!nix values, raw Nix, types homelab cannot check)"
    )
    without = lab.load(index=small_index(**{**entries, "services.fwupd.package": BOOL}))
    assert without.option_values is not None
    assert without.option_values.unchecked == done.unchecked - 1
