"""One release for the lab: lab.yaml's. A catalogue entry written for another release is a
warning beside the service that uses it; new hosts and adopted machines start from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homelab.catalog import RELEASE
from homelab.deploy.adopt import parse_address, starting_profile
from homelab.lab import Lab
from homelab.labconfig import DEFAULT_RELEASE
from homelab.profile.new import NewProfile
from homelab.yamlfile import load_plain
from tests.conftest import RunCli
from tests.hosts import PROFILE, with_host

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq0hDDXqHTdFHIPgGY9O7iZvZ2sJdPDrJ4Rhx4FKdgZ"
HOST = (
    "host: {stateVersion: '24.05'}\n"
    "hardware: {fileSystems: {/: {device: /dev/sda1, fsType: ext4}}}\n"
    "services:\n"
    "  jellyfin: {}\n"
    "  tailscale: {}\n"
)


def release_warnings(lab: Path) -> list[tuple[str, str, str, str]]:
    """(place, path, message, hint) of gamma's warnings about releases (gamma is valid)."""
    host = with_host(lab, HOST).hosts["gamma"]
    assert host.valid, host.problems
    return [
        (str(w.place), w.path, w.message, w.hint)
        for w in host.warnings
        if "is written for" in w.message
    ]


def follow(lab: Path, release: str) -> None:
    (lab / "lab.yaml").write_text(f'release: "{release}"\n')


def test_homelab_follows_one_release_everywhere() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert DEFAULT_RELEASE == RELEASE
    skeleton = (repo / "homelab" / "skeleton" / "flake.nix").read_text()
    assert f"nixos-{RELEASE}" in skeleton and f"release-{RELEASE}" in skeleton
    for entry in sorted((repo / "services").glob("*.yaml")):
        assert load_plain(entry.read_text())["nixpkgs"] == RELEASE, entry.name


def test_an_entry_written_for_another_release_than_the_labs_is_warned_of_at_its_service(
    basic_lab: Path,
) -> None:
    follow(basic_lab, "26.11")
    found = release_warnings(basic_lab)
    assert [path for _, path, _, _ in found] == ["services.jellyfin", "services.tailscale"]
    place, _, message, hint = found[0]
    assert place == f"{PROFILE}:4:3"  # the service's own line under services:
    assert message == (
        f"its catalogue entry services/jellyfin.yaml is written for NixOS {RELEASE}, "
        "and the lab follows 26.11 (lab.yaml)"
    )
    assert "nixos-26.11" in hint and 'nixpkgs: "26.11"' in hint
    assert f'release: "{RELEASE}" in lab.yaml' in hint
    # a warning: the host stays valid and builds
    assert Lab(basic_lab).load().all_problems() == []


def test_entries_written_for_the_labs_release_are_not_warned_of(basic_lab: Path) -> None:
    follow(basic_lab, RELEASE)
    assert release_warnings(basic_lab) == []
    # one entry checked for 26.11 and said so: only the other is warned of
    follow(basic_lab, "26.11")
    entry = basic_lab / "services" / "tailscale.yaml"
    entry.write_text(entry.read_text().replace(f'nixpkgs: "{RELEASE}"', 'nixpkgs: "26.11"'))
    assert [path for _, path, _, _ in release_warnings(basic_lab)] == ["services.jellyfin"]


def test_a_lab_without_lab_yaml_gets_no_release_warning(basic_lab: Path) -> None:
    """Its hand-kept flake.nix may follow any release: homelab cannot tell which."""
    assert not (basic_lab / "lab.yaml").exists()
    assert release_warnings(basic_lab) == []


@pytest.mark.parametrize("release", ["26.5", "26.05.1", "latest"])
def test_a_malformed_release_is_lab_yamls_error_and_warns_of_no_entry(
    basic_lab: Path, release: str
) -> None:
    follow(basic_lab, release)
    state = with_host(basic_lab, HOST)
    said = [p for p in state.all_problems() if p.place.file == "lab.yaml"]
    assert said and "release" in said[0].path
    assert not any("is written for" in w.message for w in state.all_warnings())
    assert Lab(basic_lab).release() == RELEASE  # the lab's cannot be read: homelab's


def test_a_release_that_is_a_number_is_lab_yamls_error(basic_lab: Path) -> None:
    (basic_lab / "lab.yaml").write_text("release: 26.11\n")  # YAML reads 26.11 as a number
    state = with_host(basic_lab, HOST)
    assert any(p.place.file == "lab.yaml" for p in state.all_problems())
    assert not any("is written for" in w.message for w in state.all_warnings())


def test_validate_shows_the_release_warning_and_passes(basic_lab: Path, run_cli: RunCli) -> None:
    follow(basic_lab, "26.11")
    with_host(basic_lab, HOST)
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 0, out + err
    said = out + err
    assert f"{PROFILE}:4:3: services.jellyfin: its catalogue entry" in said
    # openssh comes from a fragment every host includes: said once, at the fragment
    assert said.count("services/openssh.yaml is written for") == 1, said


def test_a_new_hosts_state_version_is_lab_yamls_release(basic_lab: Path) -> None:
    follow(basic_lab, "26.11")
    lab = Lab(basic_lab)
    assert lab.release() == "26.11"
    text = Lab.new_profile(NewProfile("fresh", release=lab.release()))
    assert load_plain(text)["host"]["stateVersion"] == "26.11"


def test_adopt_takes_the_labs_release_when_the_machine_does_not_say(
    basic_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    follow(basic_lab, "26.11")
    told: dict[str, Any] = {}

    def read_machine(name: str, where: Any, ssh: Any, trust: Any, release: str) -> str:
        told["release"] = release
        return starting_profile(name, where, "root", {}, KEY, release)

    monkeypatch.setattr("homelab.deploy.adopt.read_machine", read_machine)
    text = Lab(basic_lab).read_machine("box", "root@box.lan", None, lambda err: False)  # type: ignore[arg-type]
    assert told == {"release": "26.11"}
    assert load_plain(str(text))["host"]["stateVersion"] == "26.11"
    # the machine's own release wins over the lab's
    said = {"stateversion": "24.11"}
    mine = starting_profile("box", parse_address("root@box.lan"), "root", said, KEY, "26.11")
    assert load_plain(mine)["host"]["stateVersion"] == "24.11"
