"""A new host's profile is made in one place (homelab.profile.new) for the editor, adopt
and homelab init alike: the same inputs give the same text, the text is a valid profile
of the release the lab follows, and a hostile value is refused, never pasted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from homelab.deploy.adopt import parse_address, starting_profile
from homelab.errors import InvalidInput
from homelab.init import EXAMPLE, example_profile
from homelab.lab import Lab, NewProfile
from homelab.profile.new import RELEASE, new_profile
from homelab.yamlfile import load_plain
from tests.compiled import evaluate_host

REPO = Path(__file__).resolve().parents[2]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmD5m8nY3Zt1m0eQd7T1sQ4kq9m6fG7qJ3vQ2c0Gm3a"
HARDWARE = '{ ... }: { fileSystems."/".device = "/dev/sda1"; }\n'


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    """A lab as homelab init makes it, without its example: the shared fragment and the
    standard catalogue."""
    root = tmp_path / "lab"
    shutil.copytree(REPO / "homelab/skeleton/hosts", root / "hosts")
    shutil.copytree(REPO / "homelab/catalogue", root / "services")
    return Lab(root)


STARTS = {
    "the fewest words": NewProfile("box"),
    "the editor's wizard": NewProfile(
        "nas", loader="systemd-boot", address="192.168.1.40", includes=["../common/base.yaml"]
    ),
    "a board": NewProfile("pi", system="aarch64-linux", loader="extlinux", address="pi.lan"),
    "a UEFI machine with its root file system": NewProfile(
        "nas", loader="systemd-boot", root_device="/dev/disk/by-label/nixos", root_fs_type="ext4"
    ),
    "a BIOS machine with GRUB on its disk": NewProfile(
        "old",
        loader="grub",
        efi=False,
        boot_device="/dev/sda",
        root_device="/dev/sda1",
        root_fs_type="xfs",
    ),
    "a root on ZFS": NewProfile("zed", loader="grub", root_device="rpool/root", root_fs_type="zfs"),
    "an adopted machine": NewProfile(
        "web",
        release="24.11",
        hardware_configuration="hardware-configuration.nix",
        address="fd00::10",
        port=2222,
        user="admin",
        sudo=True,
        host_key=KEY,
        notes=["web: adopted from admin@[fd00::10]:2222", "(NixOS 24.11.1, hostname web)"],
    ),
}


@pytest.mark.parametrize("start", STARTS.values(), ids=list(STARTS))
def test_a_new_profile_is_a_valid_host_that_compiles(lab: Lab, start: NewProfile) -> None:
    texts = {f"hosts/{start.name}/profile.yaml": lab.new_profile(start)}
    if start.hardware_configuration:
        texts[f"hosts/{start.name}/{start.hardware_configuration}"] = HARDWARE
    state = lab.load(texts=texts)
    host = state.hosts[start.name]
    assert host.valid, host.problems
    assert f"hosts/{start.name}/configuration.nix" in lab.generated(state, [start.name])


def test_a_new_profile_says_what_was_asked_and_nothing_else() -> None:
    start = STARTS["an adopted machine"]
    data = load_plain(new_profile(start))
    assert data == {
        "host": {"system": "x86_64-linux", "stateVersion": "24.11"},
        "hardware": {"configuration": "hardware-configuration.nix"},
        "deploy": {"address": "fd00::10", "port": 2222, "user": "admin", "sudo": True,
                   "hostKey": KEY},
    }  # fmt: skip
    text = new_profile(start)
    assert text.startswith("# web: adopted from admin@[fd00::10]:2222\n")


def test_new_profiles_follow_the_release_the_lab_follows() -> None:
    assert load_plain(new_profile(NewProfile("box")))["host"]["stateVersion"] == RELEASE
    for flake in ("flake.nix", "homelab/skeleton/flake.nix"):
        text = (REPO / flake).read_text()
        assert json.dumps(f"github:NixOS/nixpkgs/nixos-{RELEASE}") in text
        assert json.dumps(f"github:nix-community/home-manager/release-{RELEASE}") in text


def test_the_editor_and_adopt_make_the_same_text_for_the_same_inputs() -> None:
    facts = {"system": "aarch64-linux", "hardware": "/etc/nixos/hardware-configuration.nix"}
    adopted = starting_profile("pi", parse_address("admin@pi.lan:2222"), "admin", facts, KEY)
    notes = adopted.splitlines()[:2]
    same = NewProfile(
        "pi",
        system="aarch64-linux",
        hardware_configuration="hardware-configuration.nix",
        address="pi.lan",
        port=2222,
        user="admin",
        sudo=True,
        host_key=KEY,
        notes=[n.removeprefix("# ") for n in notes],
    )
    assert adopted == Lab.new_profile(same) == new_profile(same)


def test_adopt_falls_back_to_the_labs_release_when_the_machine_does_not_say() -> None:
    text = starting_profile("box", parse_address("root@box.lan"), "root", {}, KEY)
    assert load_plain(text)["host"]["stateVersion"] == RELEASE


def test_the_example_of_a_new_lab_is_a_new_profile_with_a_first_user(lab: Lab) -> None:
    text = example_profile()
    assert new_profile(EXAMPLE) in text
    data = load_plain(text)
    assert data["host"]["stateVersion"] == RELEASE
    assert data["users"]["me"]["admin"] is True
    state = lab.load(texts={"hosts/example/profile.yaml": text})
    assert state.hosts["example"].valid, state.hosts["example"].problems


@pytest.mark.parametrize(
    "name",
    ["x\ny: 1", "../etc", "Big", "common", "", "-a", "a" * 64, "a b", "a\u2028host: {}", "ä"],
)
def test_a_name_that_cannot_name_a_host_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_profile(NewProfile(name))
    (problem,) = refused.value.problems
    assert "cannot name a new host" in problem.message
    assert "\n" not in problem.message  # said on one line, whatever the name holds
    assert problem.hint


@pytest.mark.parametrize(
    ("start", "path"),
    [
        (NewProfile("box", address="a; rm -rf /"), "deploy.address"),
        (NewProfile("box", address="$(reboot)"), "deploy.address"),
        (NewProfile("box", address="box\nuser: root"), "deploy.address"),
        (NewProfile("box", user="root\nsudo: true"), "deploy.user"),
        (NewProfile("box", host_key="ssh-ed25519 AAAA"), "deploy.hostKey"),
        (NewProfile("box", host_key=KEY + "\nsudo: true"), "deploy.hostKey"),
        (NewProfile("box", port=0), "deploy.port"),
        (NewProfile("box", release="99"), "host.stateVersion"),
        (NewProfile("box", system="windows"), "host.system"),
        (NewProfile("box", loader="lilo"), "hardware.boot.loader"),
        (NewProfile("box", hardware_configuration="../../etc/passwd"), "hardware.configuration"),
    ],
)
def test_a_hostile_value_is_refused_at_its_place(start: NewProfile, path: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_profile(start)
    assert [p.path for p in refused.value.problems] == [path]
    assert all(p.place.file == "hosts/box/profile.yaml" for p in refused.value.problems)


@pytest.mark.parametrize("brk", ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x0b"])
def test_a_note_stays_a_comment_whatever_it_holds(brk: str) -> None:
    text = new_profile(NewProfile("box", notes=[f"from the machine{brk}deploy: {{user: evil}}"]))
    assert load_plain(text) == {"host": {"system": "x86_64-linux", "stateVersion": RELEASE}}
    assert all(line.startswith("#") for line in text.splitlines() if "evil" in line)


def test_values_are_written_as_yaml_reads_them_back() -> None:
    tricky = ["a: b.yaml", "#x.yaml", "- y.yaml", "'q'.yaml", '"d".yaml', "yes", "null", "1e3"]
    text = new_profile(NewProfile("box", includes=tricky, address="fe80::1"))
    data = load_plain(text)
    assert data["include"] == tricky
    assert data["deploy"]["address"] == "fe80::1"
    assert data["host"]["stateVersion"] == RELEASE  # a string, never the number 26.05


def test_the_root_file_system_and_boot_loader_are_what_nixos_reads(lab: Lab) -> None:
    """The wizard's answers reach fileSystems."/" and boot.loader in the generated Nix,
    evaluated by the real nix-instantiate."""
    for start in (STARTS["a UEFI machine with its root file system"],
                  STARTS["a BIOS machine with GRUB on its disk"]):  # fmt: skip
        folder = lab.root / "hosts" / start.name
        folder.mkdir()
        (folder / "profile.yaml").write_text(new_profile(start))
    nas, old = evaluate_host(lab, "nas"), evaluate_host(lab, "old")
    assert nas["fileSystems"]["/"] == {"device": "/dev/disk/by-label/nixos", "fsType": "ext4"}
    assert nas["boot"]["loader"]["systemd-boot"] == {"enable": True}
    assert nas["boot"]["loader"]["efi"] == {"canTouchEfiVariables": True}
    assert old["fileSystems"]["/"] == {"device": "/dev/sda1", "fsType": "xfs"}
    assert old["boot"]["loader"]["grub"] == {"enable": True, "device": "/dev/sda"}
    assert "efi" not in old["boot"]["loader"]


@pytest.mark.parametrize(
    ("start", "path", "said"),
    [
        (NewProfile("box", root_device="/dev/sda1"), 'hardware.fileSystems."/".fsType',
         "the root file system needs its type"),
        (NewProfile("box", root_device="/dev/sda1", root_fs_type=""),
         'hardware.fileSystems."/".fsType', "the root file system needs its type"),
        (NewProfile("box", root_fs_type="ext4"), 'hardware.fileSystems."/".device',
         "the root file system needs its device"),
        (NewProfile("box", root_device="sda1", root_fs_type="ext4"),
         'hardware.fileSystems."/".device', "'sda1' is not a device"),
        (NewProfile("box", root_device="/dev/sda 1", root_fs_type="ext4"),
         'hardware.fileSystems."/".device', "'/dev/sda 1' is not a device"),
        (NewProfile("box", root_device='/dev/x"; boot.x = 1; "', root_fs_type="ext4"),
         'hardware.fileSystems."/".device', "is not a device"),
        (NewProfile("box", root_device="/dev/sda1", root_fs_type="ext 4"),
         'hardware.fileSystems."/".fsType', "'ext 4' is not a file system type"),
        (NewProfile("box", root_device="/dev/sda1", root_fs_type="zfs"),
         'hardware.fileSystems."/".device', "'/dev/sda1' is not a zfs dataset"),
        (NewProfile("box", loader="grub", efi=False), "hardware.boot.device",
         "GRUB on BIOS needs the disk it installs to"),
        (NewProfile("box", loader="grub", efi=False, boot_device="sda"), "hardware.boot.device",
         "'sda' is not a disk"),
        (NewProfile("box", loader="grub", boot_device="/dev/sda"), "hardware.boot.device",
         "GRUB on UEFI installs to no disk"),
        (NewProfile("box", loader="systemd-boot", boot_device="/dev/sda"),
         "hardware.boot.device", "only GRUB is installed to a disk"),
        (NewProfile("box", loader="systemd-boot", efi=False), "hardware.boot.loader",
         "systemd-boot starts only UEFI machines"),
    ],
)  # fmt: skip
def test_a_machine_nixos_could_not_build_is_refused_with_what_to_say(
    start: NewProfile, path: str, said: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_profile(start)
    (problem,) = refused.value.problems
    assert (problem.path, problem.place.file) == (path, "hosts/box/profile.yaml")
    assert said in problem.message
    assert problem.hint  # says what a good value looks like
