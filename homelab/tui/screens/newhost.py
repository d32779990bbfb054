"""The new host wizard: a name, the system, the boot loader and an address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from homelab.lab import NewProfile
from homelab.profile.validate import HOSTNAME
from homelab.tui.screens.dialogs import DIALOG_CSS, Dialog


@dataclass(frozen=True)
class NewHost:
    """What the wizard was told."""

    name: str
    system: str
    loader: str
    address: str

    def profile(self, *, includes: Sequence[str]) -> NewProfile:
        """What the new profile starts as (Lab.new_profile makes its text)."""
        return NewProfile(
            self.name,
            system=self.system,
            loader=self.loader,
            address=self.address or None,
            includes=list(includes),
        )


class NewHostDialog(Dialog):
    """A new host: its name, system, boot loader and address."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="NewHostDialog")
        + """
    NewHostDialog Label { padding: 1 0 0 0; }
    NewHostDialog .error { color: $text-error; height: auto; }
    """
    )

    def __init__(self, existing: Sequence[str]) -> None:
        super().__init__()
        self.existing = set(existing)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Add a host", classes="dialog-title")
            yield Label("Name (lower-case letters, digits and '-')")
            yield Input(id="new-name", placeholder="e.g. nas")
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
            yield Label("Boot loader")
            yield Select(
                [
                    ("systemd-boot (UEFI)", "systemd-boot"),
                    ("grub", "grub"),
                    ("extlinux (boards)", "extlinux"),
                ],
                value="systemd-boot",
                allow_blank=False,
                id="new-loader",
            )
            yield Label("Address (to deploy over SSH; may stay empty)")
            yield Input(id="new-address", placeholder="e.g. 192.168.1.30 or nas.lan")
            yield Static("", classes="error", id="new-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Add", id="add", variant="primary")

    @on(Select.Changed, "#new-system")
    def _system(self, event: Select.Changed) -> None:
        if event.value == "aarch64-linux":
            self.query_one("#new-loader", Select).value = "extlinux"

    @on(Input.Submitted)
    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        name = self.query_one("#new-name", Input).value.strip()
        error = self.query_one("#new-error", Static)
        if not HOSTNAME.fullmatch(name):
            error.update(
                "the name must be lower-case letters, digits and '-', "
                "not starting or ending with '-'"
            )
            self.query_one("#new-name", Input).focus()
            return
        if name in self.existing or name == "common":
            error.update(f"there is already a host named {name}")
            return
        self.dismiss(
            NewHost(
                name,
                str(self.query_one("#new-system", Select).value),
                str(self.query_one("#new-loader", Select).value),
                self.query_one("#new-address", Input).value.strip(),
            )
        )

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
