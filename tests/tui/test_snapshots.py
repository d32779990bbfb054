"""Snapshots of the screens at a fixed terminal size (pytest-textual-snapshot).

After a deliberate change of the UI, look at the new pictures and accept them with
`pytest tests/tui/test_snapshots.py --snapshot-update`. The lab, git identity and dates
are fixed (see conftest), so commit ids and dates on screen are always the same; the
generated Nix and the catalogue shown come from this repository, so changing either is
a change of these pictures too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from homelab.tui.app import HomelabApp
from tests.tui.pilot import choose_host, open_tab, settle

SIZE = (140, 42)


def test_main_screen(lab: Path, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=SIZE, run_before=ready)


def test_services_tab(lab: Path, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await choose_host(pilot, "nixos-demo")
        await open_tab(pilot, "services")
        services = pilot.app.screen.query_one(".service-list")
        services.focus()
        services.highlighted = services.get_option_index("home-assistant")  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=SIZE, run_before=ready)


def test_history_screen(lab: Path, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await choose_host(pilot, "nixos-demo")
        await pilot.press("f3")
        await settle(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=SIZE, run_before=ready)


def test_apply_screen(lab: Path, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await choose_host(pilot, "nixos-demo")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=SIZE, run_before=ready)


def test_help_screen(lab: Path, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=SIZE, run_before=ready)


def test_focused_field_help(lab: Path, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("tab", "tab", "tab")  # the tab bar, the host's name, its system
        await settle(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=SIZE, run_before=ready)


def test_diff_view(lab: Path, snap_compare: Any) -> None:
    """What changed since the last commit: the profile's YAML above the Nix it makes."""
    profile = lab / "hosts/nixos-demo/profile.yaml"
    profile.write_text(
        profile.read_text().replace(
            "  demouser:\n", "  alice: {groups: [wheel, audio]}\n  demouser:\n", 1
        )
    )

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await choose_host(pilot, "nixos-demo")
        await pilot.press("f2")
        await settle(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=SIZE, run_before=ready)


def test_options_tab(lab: Path, snap_compare: Any) -> None:
    profile = lab / "hosts" / "nixos-demo" / "profile.yaml"
    text = profile.read_text().replace("extraConfig: |\n  services.fwupd.enable = true;\n", "")
    profile.write_text(
        text + "options:\n"
        "  services.fwupd.enable: true\n"
        "  environment.systemPackages: [!pkg htop, !pkg python3Packages.requests]\n"
        '  boot.kernelPackages: !nix "pkgs.linuxPackages_latest"\n'
        '  fileSystems."/srv/media".device: /dev/disk/by-label/media\n'
    )

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await choose_host(pilot, "nixos-demo")
        await pilot.press("7", "tab", "tab", "down", "enter")  # the packages, into the form
        await settle(pilot)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False  # the same picture every time: a focused cursor shown
        await settle(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=SIZE, run_before=ready)
