"""A new host's profile: the one place that decides what a new profile looks like.

The editor's new-host wizard, `homelab adopt` and `homelab init`'s example all make their
first profile here, from typed inputs. Every value is checked against the profile's rules
first (a hostile one is refused, said with what is wrong, never written), then written
through the round-trip YAML editor (homelab.profile.edit), which quotes each value as YAML
needs it: no value is ever pasted into the text.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from homelab.catalog import RELEASE, Catalog
from homelab.errors import InvalidInput, Place, Problem
from homelab.profile import edit
from homelab.profile.schema import profile_schema
from homelab.profile.validate import HOSTNAME, validate
from homelab.yamlfile import Path_, load_text

COMMON = "common"  # hosts/common holds the fragments that hosts share: no host is named so
STATE_NOTE = "host.stateVersion is the NixOS release it was first installed with: keep it."
UEFI_LOADERS = ("systemd-boot", "grub")  # set up for UEFI (efi: true) unless said otherwise
ROOT = "/"
# NixOS builds no machine without a root file system (fileSystems."/") and a boot loader
# it can install (GRUB on BIOS needs the disk: boot.loader.grub.device)
DEVICE_HINT = "a device under /dev, e.g. /dev/disk/by-label/nixos or /dev/disk/by-uuid/..."
FS_TYPE = re.compile(r"[a-z][a-z0-9]*(\.[a-z0-9_-]+)?")  # ext4, btrfs, zfs, fuse.sshfs
POOLED = ("zfs", "bcachefs")  # a root on these names a dataset (rpool/root), not a device


@dataclass(frozen=True)
class NewProfile:
    """What a new host's profile says; everything left out stays out of the text."""

    name: str  # the host's name and its folder under hosts/
    system: str = "x86_64-linux"  # host.system
    # host.stateVersion: homelab's release unless the machine or the lab's lab.yaml
    # (`release:`, read by Lab.release) says otherwise
    release: str = RELEASE
    loader: str | None = None  # hardware.boot.loader
    efi: bool | None = None  # hardware.boot.efi (None: UEFI for systemd-boot and GRUB)
    boot_device: str | None = None  # hardware.boot.device: the disk GRUB installs to (BIOS)
    root_device: str | None = None  # hardware.fileSystems."/".device
    root_fs_type: str | None = None  # hardware.fileSystems."/".fsType
    hardware_configuration: str | None = None  # a file that comes with the new host
    address: str | None = None  # deploy.address
    port: int | None = None  # deploy.port
    user: str | None = None  # deploy.user
    sudo: bool = False  # deploy.sudo: the rebuild runs through sudo (not root)
    host_key: str | None = None  # deploy.hostKey: the machine's SSH host key, pinned
    includes: Sequence[str] = ()  # fragments merged under the profile
    notes: Sequence[str] = ()  # comment lines on top (default: "<name>: a new host.")

    @property
    def uefi(self) -> bool:
        return self.efi if self.efi is not None else self.loader in UEFI_LOADERS

    def values(self) -> list[tuple[Path_, object]]:
        """(profile path, value) of everything this profile says, in the order written."""
        out: list[tuple[Path_, object]] = []
        if self.includes:
            out.append((("include",), list(self.includes)))
        out += [(("host", "system"), self.system), (("host", "stateVersion"), self.release)]
        if self.hardware_configuration is not None:
            out.append((("hardware", "configuration"), self.hardware_configuration))
        if self.loader is not None:
            out.append((("hardware", "boot", "loader"), self.loader))
            if self.uefi:
                out.append((("hardware", "boot", "efi"), True))
        if self.boot_device is not None:
            out.append((("hardware", "boot", "device"), self.boot_device))
        if self.root_device is not None or self.root_fs_type is not None:
            root = {"device": self.root_device, "fsType": self.root_fs_type}
            root = {key: value for key, value in root.items() if value is not None}
            out.append((("hardware", "fileSystems", ROOT), root))
        deploy: list[tuple[str, object]] = [
            ("address", self.address),
            ("port", self.port),
            ("user", self.user),
            ("sudo", self.sudo or None),
            ("hostKey", self.host_key),
        ]
        out += [(("deploy", key), value) for key, value in deploy if value is not None]
        return out


def new_profile(start: NewProfile) -> str:
    """The text of a new host's profile. Raises InvalidInput, with every reason, when a
    value would not make a valid profile (the name first: it names the file)."""
    name_problem = _name_problem(start.name)
    if name_problem is not None:
        raise InvalidInput([name_problem])
    rel = f"hosts/{start.name}/profile.yaml"
    machine = _machine_problems(start, Place(rel))
    if machine:
        raise InvalidInput(machine)
    notes = start.notes or (f"{start.name}: a new host.",)
    text = "".join(f"# {_one_line(note)}\n" for note in (*notes, STATE_NOTE))
    for path, value in start.values():
        text = edit.set_value(text, path, value)
    doc, problems = load_text(rel, text)
    if doc is not None:
        # the only file a new profile may name is one that comes with it
        conf = start.hardware_configuration
        beside = {_inside(f"hosts/{start.name}/{conf}")} if conf is not None else set()
        problems += validate(
            doc, start.name, Catalog({}), lambda path: _inside(path) in beside, _inside
        )
    if problems:
        raise InvalidInput(problems)
    return text


def _name_problem(name: str) -> Problem | None:
    if HOSTNAME.fullmatch(name) and name != COMMON:
        return None
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name[:80])
    hint = profile_schema()["properties"]["host"]["properties"]["name"]["x-hint"]
    if name == COMMON:
        hint = "hosts/common holds the fragments hosts share: choose another name"
    return Problem(Place("hosts/"), f"'{shown}' cannot name a new host", hint=hint)


def _machine_problems(start: NewProfile, place: Place) -> list[Problem]:
    """What would keep NixOS from building the machine as said: the root file system
    (a device and its type, said together) and the boot loader's target."""
    problems: list[Problem] = []
    root = 'hardware.fileSystems."/"'
    device, fs_type = start.root_device, start.root_fs_type
    if device is not None or fs_type is not None:
        if not fs_type:
            problems.append(
                Problem(
                    place,
                    "the root file system needs its type",
                    root + ".fsType",
                    hint="e.g. ext4, btrfs or xfs; the installer's lsblk -f shows it",
                )
            )
        elif not FS_TYPE.fullmatch(fs_type):
            problems.append(
                Problem(
                    place,
                    f"'{_shown(fs_type)}' is not a file system type",
                    root + ".fsType",
                    hint="e.g. ext4, btrfs, xfs, vfat or zfs",
                )
            )
        if not device:
            problems.append(
                Problem(
                    place,
                    "the root file system needs its device",
                    root + ".device",
                    hint=DEVICE_HINT,
                )
            )
        elif fs_type in POOLED:
            if not _DATASET.fullmatch(device):
                problems.append(
                    Problem(
                        place,
                        f"'{_shown(device)}' is not a {fs_type} dataset",
                        root + ".device",
                        hint="e.g. rpool/root",
                    )
                )
        elif not _DEVICE.fullmatch(device):
            problems.append(
                Problem(
                    place, f"'{_shown(device)}' is not a device", root + ".device", hint=DEVICE_HINT
                )
            )
    boot = "hardware.boot.device"
    if start.boot_device is not None:
        if start.loader != "grub":
            problems.append(
                Problem(
                    place,
                    "only GRUB is installed to a disk",
                    boot,
                    hint="systemd-boot and extlinux need no boot device",
                )
            )
        elif start.uefi:
            problems.append(
                Problem(
                    place,
                    "GRUB on UEFI installs to no disk",
                    boot,
                    hint="leave the device out, or say the machine boots with BIOS",
                )
            )
        elif not _DEVICE.fullmatch(start.boot_device):
            problems.append(
                Problem(
                    place,
                    f"'{_shown(start.boot_device)}' is not a disk",
                    boot,
                    hint="the whole disk GRUB installs to, e.g. /dev/sda",
                )
            )
    elif start.loader == "grub" and not start.uefi:
        problems.append(
            Problem(
                place,
                "GRUB on BIOS needs the disk it installs to",
                boot,
                hint="e.g. /dev/sda (the whole disk, not a partition)",
            )
        )
    if start.loader == "systemd-boot" and not start.uefi:
        problems.append(
            Problem(
                place,
                "systemd-boot starts only UEFI machines",
                "hardware.boot.loader",
                hint="choose GRUB for a machine that boots with BIOS",
            )
        )
    return problems


# a device under /dev, named by path: no spaces, nothing a shell or Nix string reads
_DEVICE = re.compile(r"/dev/[A-Za-z0-9._:+@=/-]+")
_DATASET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*(/[A-Za-z0-9._:-]+)+")


def _shown(value: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value[:80])


def _inside(rel: str) -> str | None:
    """A lab-relative path as written, or None when it leads out of the lab."""
    path = posixpath.normpath(rel)
    return None if path.startswith(("../", "/")) or path == ".." else path


def _one_line(note: str) -> str:
    """A note as one comment line: a line break (or any other character that is not
    printable) becomes a space, so that no note can write a YAML line of its own."""
    return "".join(c if c.isprintable() else " " for c in note).rstrip()
