"""The editor's first check reads only the catalogue entries its host names; the rest, with
its problems, is read beside the UI right after (else it comes with the lab's background
load). A person sees the same check as with
the whole catalogue, the catalogue's problems all the same, and no host is ever told a
service is unknown because its entry was not read yet."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from homelab.editing.session import Check
from homelab.lab import Lab
from homelab.source import DiskSource
from homelab.tui import firstlook
from homelab.tui.app import HomelabApp
from homelab.tui.screens.main import MainScreen
from homelab.tui.widgets.preview import Preview
from homelab.tui.widgets.problems import ProblemsPanel
from tests.tui.pilot import SIZE, choose_host, run

BROKEN = "services/zz-broken.yaml"


def said(check: Check) -> tuple[list[str], list[str], dict[str, str] | None]:
    def lines(problems: Any) -> list[str]:
        return [f"{p.place}: {p.message} ({p.hint}) [{p.path}]" for p in problems]

    return lines(check.problems), lines(check.warnings), check.generated


@pytest.mark.parametrize("folder", ["homeserver", "nixos-demo", "pi"])
def test_the_first_check_is_the_check_with_the_whole_catalogue(lab: Path, folder: str) -> None:
    """Valid hosts (their Nix too) and the invalid one (pi has problems) alike."""
    whole = Lab(lab).open_session().check(folder)
    session = Lab(lab).open_session()
    entries = firstlook.first_look(session, folder)
    assert entries is not None
    assert session.catalog is not None
    assert len(session.catalog.services) < len(list((lab / "services").glob("*.yaml")))
    assert said(session.check(folder)) == said(whole)


def test_the_entries_named_are_the_host_s_services_through_its_includes(lab: Path) -> None:
    session = Lab(lab).open_session()
    disk = DiskSource(lab)
    entries = firstlook.named_entries(disk, "homeserver", session.text("homeserver"))
    assert entries is not None
    used = {"home-assistant", "wikijs", "jellyfin", "syncthing", "docker", "caddy"}
    assert {f"{name}.yaml" for name in used} <= entries
    assert "openssh.yaml" in entries  # from ../common/base.yaml
    assert "pihole.yaml" not in entries  # another host's


def test_a_text_that_does_not_parse_or_includes_in_a_cycle(lab: Path) -> None:
    disk = DiskSource(lab)
    assert firstlook.named_entries(disk, "pi", "host: [unclosed\n") is None
    (lab / "hosts" / "common" / "loop.yaml").write_text("include: [loop.yaml]\n")
    text = "include: [../common/loop.yaml]\nservices: {pihole: {}}\n"
    assert firstlook.named_entries(disk, "pi", text) == frozenset({"pihole.yaml"})


def test_a_service_without_an_entry_gets_the_whole_catalogue(lab: Path) -> None:
    """Its problem's hint names the entries near the name: all of them are read."""
    profile = lab / "hosts" / "pi" / "profile.yaml"
    profile.write_text(profile.read_text().replace("  pihole:", "  pihol:"))
    disk = DiskSource(lab)
    session = Lab(lab).open_session()
    assert firstlook.named_entries(disk, "pi", session.text("pi")) is None
    assert firstlook.first_look(session, "pi") is None
    whole = said(session.check("pi"))
    assert any("pihol" in line for line in whole[0])
    assert whole == said(Lab(lab).open_session().check("pi"))


@pytest.fixture
def no_early_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rest of the catalogue not read beside the UI (as when a key comes first): only
    the entries each host names, until the lab's load brings the rest."""
    monkeypatch.setattr(MainScreen, "_read_catalogue", lambda self: None)


async def until(pilot: Pilot[Any], check: Callable[[], bool], limit: float = 60.0) -> None:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < limit, "gave up waiting"
        await pilot.pause(0.02)


def panel_lines(app: HomelabApp) -> list[str]:
    return [f"{p.place}: {p.message}" for p in app.main.query_one(ProblemsPanel).problems]


def broken_entry(lab: Path) -> list[str]:
    """A catalogue entry no host uses, made invalid; the problems the whole lab has with it."""
    (lab / BROKEN).write_text("description: 3\n")
    whole = [f"{p.place}: {p.message}" for p in Lab(lab).load().problems]
    expected = [line for line in whole if BROKEN in line]
    assert expected
    return expected


def test_a_broken_entry_no_host_uses_is_shown_soon_after_opening(
    lab: Path, held: asyncio.Event
) -> None:
    """Read beside the UI once the first host is shown, long before the lab's load."""
    expected = broken_entry(lab)

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: any(BROKEN in line for line in panel_lines(app)))
            assert not app.main.loaded  # the lab's load is held
            assert [line for line in panel_lines(app) if BROKEN in line] == expected
            held.set()
            await choose_host(pilot, "pi")  # every host's panel says it
            await pilot.pause(0.1)
            assert [line for line in panel_lines(app) if BROKEN in line] == expected

    run(scenario)


def test_a_broken_entry_no_host_uses_is_shown_once_the_lab_has_loaded(
    lab: Path, held: asyncio.Event, no_early_read: None
) -> None:
    expected = broken_entry(lab)

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.main.query_one(Preview).folder == "homeserver")
            assert not any(BROKEN in line for line in panel_lines(app))  # not read yet
            held.set()
            await until(pilot, lambda: any(BROKEN in line for line in panel_lines(app)))
            assert [line for line in panel_lines(app) if BROKEN in line] == expected
            await choose_host(pilot, "pi")  # every host's panel says it
            await pilot.pause(0.1)
            assert [line for line in panel_lines(app) if BROKEN in line] == expected

    run(scenario)


def test_a_broken_entry_the_host_uses_is_shown_by_the_first_check(
    lab: Path, held: asyncio.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    caddy = lab / "services" / "caddy.yaml"
    caddy.write_text(caddy.read_text() + "nonsense: true\n")

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.main.query_one(Preview).folder == "homeserver")
            await pilot.pause(0.05)
            assert any("services/caddy.yaml" in line for line in panel_lines(app))

    run(scenario)


def test_a_host_switched_to_before_the_rest_is_checked_with_every_entry(
    lab: Path, held: asyncio.Event, no_early_read: None
) -> None:
    """nixos-demo uses tailscale, flatpak and pihole, which homeserver does not name."""
    expected = said(Lab(lab).open_session().check("nixos-demo"))

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            preview = app.main.query_one(Preview)
            await until(pilot, lambda: preview.folder == "homeserver")
            app.main.query_one("#hosts").focus()
            await pilot.press("down")
            await until(pilot, lambda: preview.folder == "nixos-demo")
            assert said(app.session.checks["nixos-demo"]) == expected
            assert not any("unknown" in line for line in panel_lines(app))
            assert not app.main.loaded
            catalog = app.session.catalog
            assert catalog is not None and "flatpak" in catalog.services
            assert "audiobookshelf" not in catalog.services  # named by no host shown

    run(scenario)


def test_the_services_tab_offers_every_entry_before_the_rest_is_read(
    lab: Path, held: asyncio.Event, no_early_read: None
) -> None:
    every = sorted(p.stem for p in (lab / "services").glob("*.yaml"))

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.main.query_one(Preview).folder == "homeserver")
            app.main.action_tab("services")
            await until(pilot, lambda: "services" in app.main.host_editor.editors)
            editor = app.main.host_editor.editors["services"]
            assert editor.catalog.names() == every  # type: ignore[attr-defined]

    run(scenario)
