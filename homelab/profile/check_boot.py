"""The checks of `hardware.boot`: what the chosen boot loader needs, and the keys it would
not use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from homelab.errors import Place, Problem, format_path
from homelab.profile.schema import as_map as _map
from homelab.yamlfile import Document, Path_


def boot_problems(doc: Document, data: Mapping[str, Any]) -> list[Problem]:
    """GRUB without a disk to install to, and boot keys the loader would drop."""
    top = Place(doc.file)
    problems: list[Problem] = []

    def at(path: Path_) -> Place:
        return doc.marks.value(path, top)

    def key_at(path: Path_) -> Place:
        return doc.marks.key(path, top)

    hw = _map(data.get("hardware"))
    boot = _map(hw.get("boot"))
    if boot.get("loader") == "grub" and "device" not in boot and not boot.get("efi"):
        problems.append(
            Problem(
                at(("hardware", "boot")),
                "GRUB needs the disk to install to",
                path="hardware.boot",
                hint="add device: /dev/sda (BIOS), or efi: true for UEFI",
            )
        )
    for key, why, hint in _ignored_boot_keys(boot):
        problems.append(
            Problem(
                key_at(("hardware", "boot", key)),
                why,
                path=format_path(("hardware", "boot", key)),
                hint=hint,
            )
        )
    return problems


def _ignored_boot_keys(boot: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(key, why, hint) for each boot key the chosen loader would not use (see
    compile.boot_and_hardware): written, it would be silently dropped."""
    loader = boot.get("loader")
    if loader == "extlinux":
        # (efi: false says what extlinux is: only efi: true would be dropped)
        for key in ("efi", "efiMountPoint", "device"):
            if key in boot and boot[key] is not False:
                yield (
                    key,
                    f"extlinux does not use {key}: U-Boot boots from extlinux.conf, "
                    "without UEFI or a disk to install to",
                    f"remove {key}, or choose loader: systemd-boot (UEFI) or grub",
                )
    elif loader == "systemd-boot" and "device" in boot:
        yield (
            "device",
            "systemd-boot does not use device: it installs to the EFI system partition",
            "remove device (set efiMountPoint if that partition is not at /boot), "
            "or choose loader: grub to install to a disk",
        )
    elif loader == "grub" and "efiMountPoint" in boot and not boot.get("efi"):
        yield (
            "efiMountPoint",
            "GRUB uses efiMountPoint only for UEFI, and this GRUB installs for BIOS",
            "add efi: true for UEFI, or remove efiMountPoint",
        )
