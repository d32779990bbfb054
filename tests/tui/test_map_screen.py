"""The map screen (f10): the lab's hosts with their services, ports and names, and the links
between machines, as `homelab map` draws them; Escape goes back; the palette opens it too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from homelab.tui.app import HomelabApp
from homelab.tui.screens.main import MainScreen
from homelab.tui.screens.map import MapScreen
from tests.test_labmap import edit, wired_lab
from tests.tui.conftest import commit_all, git
from tests.tui.pilot import run, running, screen_text, settle


@pytest.fixture
def lab(tmp_path: Path, git_env: None) -> Path:
    """The map's three-host lab (proxy and wiring), in a git repository."""
    root = wired_lab(tmp_path / "wired").root
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "the wired lab")
    return root


async def open_map(pilot: Pilot[Any]) -> MapScreen:
    await pilot.press("f10")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MapScreen)
    return screen


def test_f10_shows_every_host_and_link_and_escape_goes_back(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await open_map(pilot)
            shown = screen_text(app)
            assert "gateway  192.168.1.2  (proxy, dns, mqtt)" in shown
            assert "nas  192.168.1.30  (backups, monitoring)" in shown
            assert "https://grafana.home.example.org" in shown
            for line in (
                "gateway → nas: https grafana.home.example.org",
                "ha → gateway: dns",
                "nas → ha: scrape",
                "ha → nas: backup",
                "ha → gateway: mqtt",
            ):
                assert line in shown, line
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)

    run(scenario)


def test_the_map_is_drawn_from_the_files_as_they_are_when_it_opens(lab: Path) -> None:
    """DNS moved to nas on disk after the editor loaded: the map says so, not the old load."""

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            edit(lab / "hosts/gateway/profile.yaml", "  blocky: {}\n", "")
            edit(
                lab / "hosts/nas/profile.yaml",
                "  prometheus: {}\n",
                "  prometheus: {}\n  blocky: {}\n",
            )
            await open_map(pilot)
            shown = screen_text(app)
            assert "ha → nas: dns" in shown
            assert "ha → gateway: dns" not in shown

    run(scenario)


def test_the_palette_opens_the_map(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("ctrl+p")
            await pilot.pause()
            for key in "Map":
                await pilot.press(key)
            await pilot.pause(0.5)  # the palette searches as you type
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, MapScreen)

    run(scenario)


def test_snapshot(lab: Path, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await open_map(pilot)

    assert snap_compare(HomelabApp(lab), terminal_size=(140, 42), run_before=ready)
