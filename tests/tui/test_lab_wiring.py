"""The lab's wiring in the editor: the box under the host list says the roles a host plays
and what it gets from the others; the values the wiring sets say so beside them ("set by the
lab: dns" under the nameservers, a line at the top of the prometheus form). Driven by keys
only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from homelab.lab import Lab
from homelab.labconfig import lab_yaml_text
from homelab.tui.app import HomelabApp
from homelab.tui.plain import Static
from homelab.tui.widgets.fields.list import ListField
from homelab.tui.widgets.hostnames import HostWiring
from tests.tui.conftest import commit_all
from tests.tui.pilot import run, running, screen_text, settle

HOMESERVER = "hosts/homeserver/profile.yaml"
NAMESERVERS = ("networking", "nameservers")


@pytest.fixture
def wired(lab: Path) -> Path:
    """The demo lab with the pi as its DNS server and a Prometheus on the homeserver, which
    names no nameservers of its own (the lab's DNS gives them)."""
    (lab / "lab.yaml").write_text(
        lab_yaml_text() + "wiring: {dns: {host: pi, fallback: [9.9.9.9]}, monitoring: {}}\n"
    )
    profile = lab / HOMESERVER
    text = profile.read_text()
    assert "  nameservers: [192.168.1.2]\n" in text
    text = text.replace("  nameservers: [192.168.1.2]\n", "")
    profile.write_text(text.replace("  jellyfin: {}\n", "  jellyfin: {}\n  prometheus: {}\n"))
    the_lab = Lab(lab)
    state = the_lab.load()
    assert state.wiring is not None and set(state.wiring.roles) == {"dns", "monitoring"}
    the_lab.build(state, sorted(f for f, h in state.hosts.items() if h.valid), force=True)
    commit_all(lab, "the lab's DNS and monitoring")
    return lab


async def keys(pilot: Pilot[Any], *pressed: str) -> None:
    await pilot.press(*pressed)
    await settle(pilot)


async def loaded(app: HomelabApp, pilot: Pilot[Any]) -> None:
    """Wait for the whole lab's load, which plans the wiring."""
    for _ in range(100):
        if app.main.loaded:
            break
        await pilot.pause(0.05)
    await settle(pilot)


def wiring_box(app: HomelabApp) -> str:
    box = app.main.query_one(HostWiring)
    return str(box.content) if box.display else ""


def lab_note(app: HomelabApp) -> str:
    """The note under the nameservers field, as shown ("" when none is)."""
    field = next(w for w in app.main.query(ListField) if w.path == NAMESERVERS)
    notes = [c for c in field.query(".field-lab") if isinstance(c, Static) and c.display]
    return str(notes[0].content) if notes else ""


def in_nameservers(app: HomelabApp) -> bool:
    focused = app.focused
    return focused is not None and any(
        isinstance(w, ListField) and w.path == NAMESERVERS for w in focused.ancestors
    )


def test_the_host_box_says_what_each_host_plays_and_gets(wired: Path) -> None:
    async def scenario() -> None:
        async with running(wired) as (app, pilot):
            await loaded(app, pilot)
            assert app.main.folder == "homeserver"
            assert wiring_box(app) == "plays: monitoring\nfrom the lab: nameserver pi"
            assert "plays: monitoring" in screen_text(app)
            await keys(pilot, "alt+down", "alt+down")  # nixos-demo, then pi
            assert app.main.folder == "pi"
            # pi names its own nameservers: the lab's DNS is its own, and it is scraped
            assert wiring_box(app) == "plays: dns\nfrom the lab: scraped by homeserver"
            assert "plays: dns" in screen_text(app)

    run(scenario)


def test_the_nameservers_say_the_lab_sets_them_until_the_host_names_its_own(
    wired: Path,
) -> None:
    async def scenario() -> None:
        async with running(wired) as (app, pilot):
            await loaded(app, pilot)
            await keys(pilot, "2")  # the Network tab
            assert lab_note(app) == "set by the lab: dns (192.168.1.2, 9.9.9.9)"
            assert "set by the lab: dns (192.168.1.2, 9.9.9.9)" in screen_text(app)
            await keys(pilot, "tab")  # from the tab bar into the form
            for _ in range(30):
                if in_nameservers(app):
                    break
                await keys(pilot, "tab")
            assert in_nameservers(app), app.focused
            await keys(pilot, *"1.1.1.1", "enter")
            assert lab_note(app) == "not used: the lab's dns (192.168.1.2, 9.9.9.9)"
            assert "not used: the lab's dns" in screen_text(app)
            await keys(pilot, "shift+tab", "down", "delete")  # removed: the lab's again
            assert lab_note(app) == "set by the lab: dns (192.168.1.2, 9.9.9.9)"

    run(scenario)


def test_the_prometheus_form_says_the_lab_sets_its_scrapes(wired: Path) -> None:
    async def scenario() -> None:
        async with running(wired) as (app, pilot):
            await loaded(app, pilot)
            await keys(pilot, "5")
            await keys(pilot, "tab", "tab")  # the tab bar, then the catalogue
            await keys(pilot, "slash", *"prometheus", "enter")
            line = app.main.query_one(".service-lab", Static)
            # every host of the lab: homeserver, nixos-demo and pi
            assert str(line.content) == "set by the lab: monitoring — scrapes 3 hosts"
            assert "set by the lab: monitoring" in screen_text(app)
            await keys(pilot, "down")  # the node exporter, which the lab runs everywhere
            assert str(line.content) == (
                "set by the lab: monitoring — runs here though not enabled, scraped by this host"
            )
            await keys(pilot, "alt+down", "alt+down")  # pi: its form, its exporter
            assert app.main.folder == "pi"
            assert "scraped by homeserver" in str(line.content)

    run(scenario)


def test_a_lab_without_wiring_says_nothing_of_it(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await loaded(app, pilot)
            assert wiring_box(app) == ""
            await keys(pilot, "2")
            assert lab_note(app) == ""
            assert "set by the lab" not in screen_text(app)

    run(scenario)
