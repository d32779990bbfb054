"""The new-host wizard, driven by keys: it asks what NixOS needs to build the machine (how
it boots and its root file system), says a wrong answer beside its field, and shows the
`homelab adopt` command for a machine that already runs NixOS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from homelab.lab import Lab
from homelab.tui.screens.commit import CommitDialog
from homelab.tui.screens.newhost import NewHostDialog
from tests.tui.conftest import git
from tests.tui.pilot import run, running, screen_text, settle

HOSTS = ["homeserver", "nixos-demo", "pi"]


async def keys(pilot: Pilot[Any], *pressed: str) -> None:
    """Press keys one by one, letting each take effect (a person waits to see it)."""
    for key in pressed:
        await pilot.press(key)
        await settle(pilot, rounds=1)


async def write(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*text)
    await settle(pilot, rounds=1)


async def open_wizard(app: Any, pilot: Pilot[Any], name: str) -> NewHostDialog:
    await keys(pilot, "ctrl+n")
    assert isinstance(app.screen, NewHostDialog)
    assert app.screen.focused is app.screen.query_one("#new-name")
    await write(pilot, name)
    return app.screen


def test_by_keys_a_bios_machine_gets_its_grub_disk_and_root_file_system(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            dialog = await open_wizard(app, pilot, "oldbox")
            assert "GRUB installs to" not in screen_text(app)  # UEFI: no disk to ask for
            # Tab past System to "Boots with", open it and take "BIOS (legacy), GRUB"
            await keys(pilot, "tab", "tab", "enter", "down", "down", "enter")
            assert "BIOS (legacy), GRUB on a disk" in screen_text(app)
            assert "GRUB installs to" in screen_text(app)
            await keys(pilot, "tab")
            await write(pilot, "/dev/sda")
            # past "Root file system: on a device I name here" to its device; type is ext4
            await keys(pilot, "tab", "tab")
            assert dialog.focused is dialog.query_one("#new-root-device")
            await write(pilot, "/dev/disk/by-label/nixos")
            await keys(pilot, "enter")
            assert app.main.folder == "oldbox"
            await keys(pilot, "ctrl+s")
            assert isinstance(app.screen, CommitDialog)
            await pilot.click("#commit")
            await settle(pilot)

    run(scenario)
    profile = (lab / "hosts/oldbox/profile.yaml").read_text()
    assert "  boot:\n    loader: grub\n    device: /dev/sda\n" in profile
    assert "    /:\n      device: /dev/disk/by-label/nixos\n      fsType: ext4\n" in profile
    boot = (lab / "hosts/oldbox/boot.nix").read_text()
    assert 'boot.loader.grub.device = "/dev/sda";' in boot
    assert 'device = "/dev/disk/by-label/nixos";' in boot
    state = Lab(lab).load()
    assert state.hosts["oldbox"].valid, state.hosts["oldbox"].problems
    assert git(lab, "log", "--format=%s", "-1").strip() == "oldbox: new host"


def test_a_wrong_device_is_said_beside_it_and_nothing_is_added(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            dialog = await open_wizard(app, pilot, "nas")
            await keys(pilot, "tab", "tab", "tab", "tab")  # to the root device
            await write(pilot, "sda1")
            await keys(pilot, "tab", "backspace", "backspace", "backspace", "backspace")
            await keys(pilot, "enter")
            assert app.screen is dialog
            assert "say the root file system's type" in screen_text(app)
            assert dialog.focused is dialog.query_one("#new-root-type")
            await write(pilot, "ext4")
            await keys(pilot, "enter")
            assert app.screen is dialog
            text = screen_text(app)
            assert "'sda1' is not a device" in text
            assert "/dev/disk/by-label/nixos" in text  # what a device looks like
            assert dialog.focused is dialog.query_one("#new-root-device")
            await keys(pilot, "escape")
            assert app.session.folders() == HOSTS

    run(scenario)
    assert not (lab / "hosts/nas").exists()


def test_a_running_machine_is_pointed_to_homelab_adopt_with_its_name(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            dialog = await open_wizard(app, pilot, "web")
            # "Root file system": the third choice, adopt the running machine
            await keys(pilot, "tab", "tab", "tab", "enter", "down", "down", "enter")
            text = screen_text(app)
            assert "it runs NixOS now: adopt it" in text
            assert "device" not in text.split("Root file system")[1].split("Address")[0]
            await keys(pilot, "tab")
            assert dialog.focused is dialog.query_one("#new-address")
            await write(pilot, "192.168.1.50")
            hint = str(dialog.query_one("#new-hint").render())
            assert f"homelab --lab {lab} adopt web root@192.168.1.50" in hint
            assert "hardware-configuration.nix over SSH" in hint
            shown = screen_text(app)  # the command wraps where the lab's path is long
            assert "adopt web" in shown and "root@192.168.1.50" in shown
            await keys(pilot, "enter")
            assert app.screen is dialog  # adopt makes the host: the wizard does not
            assert "run the command above" in screen_text(app)
            await keys(pilot, "escape")
            assert app.session.folders() == HOSTS

    run(scenario)
    assert not (lab / "hosts/web").exists()


def test_a_machine_with_its_hardware_configuration_imports_it(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await open_wizard(app, pilot, "nas")
            await keys(pilot, "tab", "tab", "tab", "enter", "down", "enter")
            hint = str(app.screen.query_one("#new-hint").render())
            assert "Copy the machine's /etc/nixos/hardware-configuration.nix to hosts/nas/" in hint
            assert "Copy the machine's" in screen_text(app)
            await keys(pilot, "tab")
            await write(pilot, "192.168.1.40")
            await keys(pilot, "enter")
            assert app.main.folder == "nas"
            profile = app.session.text("nas")
            assert "configuration: hardware-configuration.nix" in profile
            assert "fileSystems" not in profile  # they are in the machine's file
            toasts = [n.message for n in app._notifications]
            assert any("copy its hardware-configuration.nix to hosts/nas/" in m for m in toasts)

    run(scenario)
