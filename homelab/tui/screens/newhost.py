"""The new host wizard: a name, the system, how it boots, its root file system and an
address; or, for a machine that already runs NixOS, the `homelab adopt` command to run."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Select

from homelab.errors import InvalidInput
from homelab.lab import Lab, NewProfile
from homelab.profile.validate import HOSTNAME
from homelab.tui.plain import Label, Static
from homelab.tui.screens.dialogs import DIALOG_CSS, Dialog

# how the machine boots: (what the wizard says, hardware.boot.loader, UEFI)
BOOTS = {
    "uefi": ("UEFI, systemd-boot (most PCs since 2012)", "systemd-boot", True),
    "uefi-grub": ("UEFI, GRUB", "grub", True),
    "bios": ("BIOS (legacy), GRUB on a disk", "grub", False),
    "board": ("a board: extlinux (Raspberry Pi...)", "extlinux", False),
}
# where the root file system is said
TYPED, HARDWARE, ADOPT = "typed", "hardware", "adopt"
HARDWARE_FILE = "hardware-configuration.nix"
# the wizard's field of a profile path that new profiles check
FIELDS = {
    "host.name": "#new-name",
    "hardware.boot.device": "#new-grub-disk",
    'hardware.fileSystems."/".device': "#new-root-device",
    'hardware.fileSystems."/".fsType': "#new-root-type",
    "deploy.address": "#new-address",
}


@dataclass(frozen=True)
class NewHost:
    """What the wizard was told."""

    name: str
    system: str
    boot: str  # a key of BOOTS
    address: str
    grub_disk: str = ""  # BIOS: the disk GRUB installs to
    root_device: str = ""
    root_fs_type: str = ""
    hardware_file: bool = False  # the root file system is in its hardware-configuration.nix

    def profile(self, *, includes: Sequence[str], release: str | None = None) -> NewProfile:
        """What the new profile starts as (Lab.new_profile makes its text); `release`:
        the lab's (Lab.release), its stateVersion."""
        _, loader, uefi = BOOTS[self.boot]
        typed = not self.hardware_file
        start = NewProfile(
            self.name,
            system=self.system,
            loader=loader,
            efi=uefi if loader == "grub" else None,
            boot_device=(self.grub_disk or None) if loader == "grub" and not uefi else None,
            root_device=(self.root_device or None) if typed else None,
            root_fs_type=(self.root_fs_type or None) if typed else None,
            hardware_configuration=HARDWARE_FILE if self.hardware_file else None,
            address=self.address or None,
            includes=list(includes),
        )
        return start if release is None else replace(start, release=release)


def adopt_command(name: str, address: str, lab: Path | None = None) -> str:
    """The command that adopts the running machine, as a person types it."""
    words = ["homelab"]
    if lab is not None and lab.resolve() != Path.cwd().resolve():
        words += ["--lab", str(lab)]
    words += ["adopt", name or "NAME", f"root@{address}" if address else "root@ADDRESS"]
    return shlex.join(words)


class NewHostDialog(Dialog):
    """A new host: its name, system, how it boots, its root file system and address."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="NewHostDialog")
        + """
    NewHostDialog .row { height: auto; }
    NewHostDialog .row > Label { width: 22; padding: 1 1 0 0; }
    NewHostDialog .row > Input, NewHostDialog .row > Select { width: 1fr; }
    NewHostDialog .row > #new-root-type { width: 14; }
    NewHostDialog .row > .type-label { width: auto; padding: 1 1 0 1; }
    NewHostDialog #new-hint { color: $text-muted; height: auto; padding: 1 0 0 0; }
    NewHostDialog .error { color: $text-error; height: auto; }
    """
    )

    def __init__(self, existing: Sequence[str], lab: Path | None = None) -> None:
        super().__init__()
        self.existing = set(existing)
        self.lab = lab

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Add a host", classes="dialog-title")
            with Horizontal(classes="row"):
                yield Label("Name")
                yield Input(id="new-name", placeholder="lower-case letters, digits, '-': nas")
            with Horizontal(classes="row", id="row-system"):
                yield Label("System")
                yield Select(
                    [
                        ("x86_64-linux (PC, server)", "x86_64-linux"),
                        ("aarch64-linux (Raspberry Pi, ARM)", "aarch64-linux"),
                    ],
                    value="x86_64-linux",
                    allow_blank=False,
                    id="new-system",
                )
            with Horizontal(classes="row", id="row-boot"):
                yield Label("Boots with")
                yield Select(
                    [(text, key) for key, (text, _, _) in BOOTS.items()],
                    value="uefi",
                    allow_blank=False,
                    id="new-boot",
                )
            with Horizontal(classes="row", id="row-grub-disk"):
                yield Label("GRUB installs to")
                yield Input(id="new-grub-disk", placeholder="the whole disk, e.g. /dev/sda")
            with Horizontal(classes="row"):
                yield Label("Root file system")
                yield Select(
                    [
                        ("on a device I name here", TYPED),
                        (f"in its {HARDWARE_FILE} (I copy it)", HARDWARE),
                        ("it runs NixOS now: adopt it", ADOPT),
                    ],
                    value=TYPED,
                    allow_blank=False,
                    id="new-root-from",
                )
            with Horizontal(classes="row", id="row-root"):
                yield Label("  device")
                yield Input(id="new-root-device", placeholder="e.g. /dev/disk/by-label/nixos")
                yield Label("type", classes="type-label")
                yield Input("ext4", id="new-root-type")
            with Horizontal(classes="row"):
                yield Label("Address (optional)")
                yield Input(id="new-address", placeholder="to deploy over SSH: 192.168.1.30")
            yield Static("", id="new-hint")
            yield Static("", classes="error", id="new-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Add", id="add", variant="primary")

    def on_mount(self) -> None:
        self._show_rows()

    def _value(self, selector: str) -> str:
        return str(self.query_one(selector, Select).value)

    def _text(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _show_rows(self) -> None:
        """Only the questions that the answers so far leave open, and what comes next."""
        root_from = self._value("#new-root-from")
        self.query_one("#row-grub-disk").display = (
            self._value("#new-boot") == "bios" and root_from != ADOPT
        )
        self.query_one("#row-root").display = root_from == TYPED
        for row in ("#row-system", "#row-boot"):  # adopt reads them from the machine
            self.query_one(row).display = root_from != ADOPT
        self.query_one("#add", Button).disabled = root_from == ADOPT
        name = self._text("#new-name")
        folder = f"hosts/{name or 'NAME'}/"
        if root_from == ADOPT:
            hint = (
                "A machine that runs NixOS is adopted from a shell: homelab reads its "
                f"system, release and {HARDWARE_FILE} over SSH, pins its host key and "
                f"makes {folder}. Quit the editor and run:\n\n    "
                + adopt_command(name, self._text("#new-address"), self.lab)
            )
        elif root_from == HARDWARE:
            hint = (
                f"Copy the machine's /etc/nixos/{HARDWARE_FILE} to {folder}: the profile "
                "imports it (the root file system and the kernel modules are in it). "
                "The host saves once the file is there."
            )
        else:
            hint = (
                "NixOS builds no machine without its root file system: the device as "
                "the installer named it (lsblk -f shows labels and types)."
            )
        self.query_one("#new-hint", Static).update(hint)

    @on(Select.Changed, "#new-system")
    def _system(self, event: Select.Changed) -> None:
        if event.value == "aarch64-linux":
            self.query_one("#new-boot", Select).value = "board"
        self._show_rows()

    @on(Select.Changed)
    @on(Input.Changed, "#new-name, #new-address")
    def _changed(self) -> None:
        self._show_rows()

    @on(Input.Submitted)
    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        root_from = self._value("#new-root-from")
        if root_from == ADOPT:
            self._refuse("adopt makes the host itself: run the command above", None)
            return
        name = self._text("#new-name")
        if not HOSTNAME.fullmatch(name):
            self._refuse(
                "the name must be lower-case letters, digits and '-', "
                "not starting or ending with '-'",
                "#new-name",
            )
            return
        if name in self.existing or name == "common":
            self._refuse(f"there is already a host named {name}", "#new-name")
            return
        boot = self._value("#new-boot")
        grub_disk = self._text("#new-grub-disk")
        if boot == "bios" and not grub_disk:
            self._refuse("GRUB on BIOS installs to a disk: say which (e.g. /dev/sda)",
                         "#new-grub-disk")  # fmt: skip
            return
        device, fs_type = self._text("#new-root-device"), self._text("#new-root-type")
        if root_from == TYPED and not device:
            self._refuse(
                "say the root file system's device (e.g. /dev/disk/by-label/nixos), "
                f"or that it is in its {HARDWARE_FILE}",
                "#new-root-device",
            )
            return
        if root_from == TYPED and not fs_type:
            self._refuse("say the root file system's type (e.g. ext4)", "#new-root-type")
            return
        new = NewHost(
            name,
            self._value("#new-system"),
            boot,
            self._text("#new-address"),
            grub_disk=grub_disk,
            root_device=device,
            root_fs_type=fs_type,
            hardware_file=root_from == HARDWARE,
        )
        try:
            Lab.new_profile(new.profile(includes=()))  # said here, where it can be mended
        except InvalidInput as err:
            first = err.problems[0]
            said = f"{first.message} ({first.hint})" if first.hint else first.message
            self._refuse(said, FIELDS.get(first.path))
            return
        self.dismiss(new)

    def _refuse(self, message: str, focus: str | None) -> None:
        self.query_one("#new-error", Static).update(message)
        if focus is not None:
            widget: Widget = self.query_one(focus)
            widget.focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
