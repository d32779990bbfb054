"""Warnings: what homelab cannot be sure is wrong (an unknown group, no root file system).
They come with a place and a hint like errors, and never make a profile invalid."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from homelab.profile.advice import groups_in_nix, groups_to_offer, root_in_nix
from tests.hosts import PROFILE, with_host

ROOT = "hardware: {fileSystems: {/: {device: /dev/sda1, fsType: ext4}}}\n"
HOST = "host: {stateVersion: '24.05'}\n"


def warnings_of(lab: Path, text: str) -> list[tuple[str, str, str, str]]:
    """(place, path, message, hint) of every warning of a new host gamma, which must be valid."""
    host = with_host(lab, text).hosts["gamma"]
    assert host.valid, host.problems
    assert all(w.warning for w in host.warnings)
    return [(str(w.place), w.path, w.message, w.hint) for w in host.warnings]


# ---- groups -------------------------------------------------------------------------


def test_an_unknown_group_is_a_warning_with_a_did_you_mean(basic_lab: Path) -> None:
    found = warnings_of(
        basic_lab, HOST + ROOT + "users:\n  ada: {groups: [wheel, netwrkmanager, nosuchgroup]}\n"
    )
    assert len(found) == 2
    place, path, message, hint = found[0]
    assert place == f"{PROFILE}:4:25"
    assert path == "users.ada.groups[1]"
    assert message.startswith("unknown group 'netwrkmanager'")
    assert hint.startswith("did you mean 'networkmanager'?")
    assert found[1][1] == "users.ada.groups[2]"


def test_groups_nixos_services_and_raw_nix_make_are_known(basic_lab: Path) -> None:
    text = (
        HOST
        + ROOT
        + "services: {docker: {}}\n"
        + "users:\n  ada: {groups: [wheel, audio, libvirtd, camera, docker, media, lab-admins]}\n"
        + "extraConfig: |\n"
        + "  users.groups.media = { gid = 990; };\n"
        + '  users.groups = { "lab-admins" = { }; };\n'
    )
    assert warnings_of(basic_lab, text) == []


def test_a_group_only_a_comment_makes_is_still_unknown(basic_lab: Path) -> None:
    text = (
        HOST
        + ROOT
        + "users:\n  ada: {groups: [media]}\n"
        + "extraConfig: |\n  # users.groups.media = { };\n"
    )
    assert [w[1] for w in warnings_of(basic_lab, text)] == ["users.ada.groups[0]"]


def test_a_service_group_without_its_service_stays_an_error(basic_lab: Path) -> None:
    host = with_host(basic_lab, HOST + ROOT + "users:\n  ada: {groups: [docker]}\n").hosts["gamma"]
    assert not host.valid
    assert any("exists only with docker" in p.message for p in host.problems)
    assert host.warnings == ()


@pytest.mark.parametrize(
    ("nix", "groups"),
    [
        ("users.groups.media = {};", {"media"}),
        ('users.groups."my-group".gid = 5;', {"my-group"}),
        ("users.groups = { a = {}; b.gid = 3; c = { members = [ x ]; }; };", {"a", "b", "c"}),
        ("users.groups = lib.mkIf true { d = { }; };", {"d"}),
        ('users.groups."${name}" = {};', set()),  # computed: not seen
        ("/* users.groups.e = {}; */", set()),
        ('users.users.ada.group = "f";', set()),
    ],
)
def test_groups_raw_nix_makes(nix: str, groups: set[str]) -> None:
    assert groups_in_nix(nix) == groups


# ---- a root file system ---------------------------------------------------------------


def test_no_root_file_system_is_a_warning(basic_lab: Path) -> None:
    found = warnings_of(basic_lab, HOST + "hardware: {boot: {loader: systemd-boot}}\n")
    [(place, path, message, hint)] = found
    assert place == f"{PROFILE}:2:11"
    assert path == "hardware.fileSystems"
    assert message.startswith("no root file system")
    assert "homelab adopt" in hint and "`/`" in hint


def test_a_root_file_system_from_the_profile_raw_nix_or_hardware_configuration(
    basic_lab: Path,
) -> None:
    assert warnings_of(basic_lab, HOST + ROOT) == []
    raw = HOST + 'extraConfig: |\n  fileSystems."/" = { device = "/dev/vda1"; };\n'
    assert warnings_of(basic_lab, raw) == []
    folder = basic_lab / "hosts" / "gamma"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hardware-configuration.nix").write_text(
        '{ ... }: {\n  fileSystems."/" =\n'
        '    { device = "/dev/disk/by-uuid/x"; fsType = "ext4"; };\n}\n'
    )
    used = HOST + "hardware: {configuration: hardware-configuration.nix}\n"
    assert warnings_of(basic_lab, used) == []


def test_a_hardware_configuration_that_is_not_used_is_named_in_the_hint(basic_lab: Path) -> None:
    folder = basic_lab / "hosts" / "gamma"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hardware-configuration.nix").write_text('{ fileSystems."/" = { }; }\n')
    [(_, _, _, hint)] = warnings_of(basic_lab, HOST)
    assert "hosts/gamma/hardware-configuration.nix is there but not used" in hint


@pytest.mark.parametrize(
    ("nix", "root"),
    [
        ('fileSystems."/" = { device = "x"; };', True),
        ('fileSystems = { "/" = { device = "x"; }; };', True),
        ('fileSystems."/".device = "x";', True),
        ("disko.devices.disk.main = { };", True),
        ('fileSystems."/home" = { device = "x"; };', False),
        ('# fileSystems."/" = { device = "x"; };', False),
        ("", False),
    ],
)
def test_a_root_file_system_in_raw_nix(nix: str, root: bool) -> None:
    assert root_in_nix(nix) is root


def test_a_hardware_configuration_that_is_not_text_gives_no_root(basic_lab: Path) -> None:
    folder = basic_lab / "hosts" / "gamma"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hardware-configuration.nix").write_bytes(b'\xff\xfe fileSystems."/" = {};')
    host = with_host(basic_lab, HOST + "hardware: {configuration: hardware-configuration.nix}\n")
    gamma = host.hosts["gamma"]
    assert gamma.valid
    assert [w.path for w in gamma.warnings] == ["hardware.fileSystems"]


# ---- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["folder", "fifo", "link out of the lab", "dangling link"])
def test_a_hardware_configuration_that_cannot_be_read_is_no_root(
    basic_lab: Path, tmp_path: Path, kind: str
) -> None:
    folder = basic_lab / "hosts" / "gamma"
    folder.mkdir(parents=True, exist_ok=True)
    hardware = folder / "hardware-configuration.nix"
    outside = tmp_path / "outside.nix"
    outside.write_text('{ fileSystems."/" = { }; }\n')
    if kind == "folder":
        hardware.mkdir()
    elif kind == "fifo":
        os.mkfifo(hardware)
    elif kind == "link out of the lab":
        hardware.symlink_to(outside)
    else:
        hardware.symlink_to(tmp_path / "nothing.nix")
    [(_, path, _, hint)] = warnings_of(basic_lab, HOST)
    assert path == "hardware.fileSystems"
    assert "is there but not used" not in hint


@pytest.mark.parametrize(
    "nix",
    [
        "/*" * 300_000,
        "users.groups = " * 40_000,
        "fileSystems = {" * 40_000,
        "users.groups = {" + "{" * 600_000,
        "users.groups = {}" * 35_000,
        "users.groups = { " + "a = 1; " * 80_000 + "};",
    ],
    ids=["comments", "no-braces", "fs-braces", "open-braces", "many-sets", "many-names"],
)
def test_a_large_raw_nix_is_read_in_linear_time(nix: str) -> None:
    started = time.monotonic()
    groups_in_nix(nix)
    root_in_nix(nix)
    assert time.monotonic() - started < 5


def test_a_large_extra_config_checks_quickly(basic_lab: Path) -> None:
    body = "".join(f"  users.groups.g{i} = {{ }};\n" for i in range(5_000))
    text = HOST + ROOT + "users:\n  ada: {groups: [g4999, g5000]}\nextraConfig: |\n" + body
    started = time.monotonic()
    found = warnings_of(basic_lab, text)
    assert time.monotonic() - started < 20
    assert [w[1] for w in found] == ["users.ada.groups[1]"]


# ---- groups that options:, extraConfig and groups: create ------------------------------

GROUPS_MADE = {
    "groups:": "groups: {media: {gid: 2000}}\n",
    "options:": "options:\n  users.groups.media.gid: 2000\n",
    "options: nested": "options:\n  users: {groups: {media: {}}}\n",
    "extraConfig": "extraConfig: |\n  users = { groups = { media = { }; }; };\n",
    "extraConfig module": "extraConfig: |\n  { lib, ... }: {\n"
    "    users.groups = lib.mkIf true { media.gid = 2000; };\n  }\n",
}


@pytest.mark.parametrize("made", GROUPS_MADE.values(), ids=list(GROUPS_MADE))
def test_a_group_the_host_creates_is_no_unknown_group(basic_lab: Path, made: str) -> None:
    users = "users:\n  ada: {groups: [media], group: media}\n"
    assert len(warnings_of(basic_lab, HOST + ROOT + users)) == 2
    assert warnings_of(basic_lab, HOST + ROOT + users + made) == []
    state = with_host(basic_lab, HOST + ROOT + users + made)
    lab_host = state.hosts["gamma"]
    assert lab_host.profile is not None
    offered = groups_to_offer(
        lab_host.profile, state.catalog, [lab_host.profile.extra_config or ""]
    )
    assert offered[0] == "media"  # the host's own groups first


def test_a_user_raw_nix_creates_is_not_a_group(basic_lab: Path) -> None:
    users = "users:\n  ada: {groups: [media]}\n"
    made = 'extraConfig: |\n  users.users.media = { isSystemUser = true; group = "x"; };\n'
    found = warnings_of(basic_lab, HOST + ROOT + users + made)
    assert [(path, message) for _, path, message, _ in found] == [
        ("users.ada.groups[0]", "unknown group 'media'")
    ]
    assert "declare it under groups: (`media: {}`)" in found[0][3]


def test_module_files_the_host_imports_are_read_like_its_raw_nix(basic_lab: Path) -> None:
    folder = basic_lab / "hosts" / "gamma"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "disks.nix").write_text(
        '{ ... }: {\n  fileSystems."/" = { device = "/dev/vda1"; };\n'
        "  users.groups.media = { };\n}\n"
    )
    profile = HOST + "modules: [./disks.nix]\nusers:\n  ada: {groups: [media]}\n"
    assert warnings_of(basic_lab, profile) == []
