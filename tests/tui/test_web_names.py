"""Names under the lab's domain in the editor: a service's name is a field of its own in
the Services tab (writing `web: {name: ...}`, emptied: no `web` at all), and the host's
names show under the host list, with the proxy's count. Driven by keys only."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from homelab.lab import Lab
from homelab.labconfig import lab_yaml_text
from homelab.tui.app import HomelabApp
from homelab.tui.plain import Label, Static
from homelab.tui.screens.commit import CommitDialog
from homelab.tui.widgets.fields.webname import WebNameField
from homelab.tui.widgets.hostnames import HostNames
from tests.tui.conftest import commit_all
from tests.tui.pilot import run, running, screen_text, settle

HOMESERVER = "hosts/homeserver/profile.yaml"
NAME_PATH = ("services", "wikijs", "web", "name")


@pytest.fixture
def named(lab: Path) -> Path:
    """The demo lab with a domain whose names the pi fronts, and a comment on wikijs."""
    (lab / "lab.yaml").write_text(
        lab_yaml_text()
        + "domain: {name: home.example.org, email: admin@example.org, challenge: http,"
        " public: true}\nproxy: {host: pi, server: caddy}\n"
    )
    profile = lab / HOMESERVER
    profile.write_text(profile.read_text().replace("  wikijs: {}\n", "  wikijs: {}   # the wiki\n"))
    the_lab = Lab(lab)
    state = the_lab.load()
    the_lab.build(state, sorted(f for f, h in state.hosts.items() if h.valid), force=True)
    commit_all(lab, "a domain")
    return lab


async def keys(pilot: Pilot[Any], *pressed: str) -> None:
    await pilot.press(*pressed)
    await settle(pilot)


async def wikijs_name(app: HomelabApp, pilot: Pilot[Any]) -> WebNameField:
    """From the host list: the Services tab, wikijs found by the list's filter, its form
    (once the whole lab, and so its domain, is loaded)."""
    for _ in range(100):
        if app.main.loaded:
            break
        await pilot.pause(0.05)
    await settle(pilot)
    await keys(pilot, "5")
    await keys(pilot, "tab", "tab")  # the tab bar, then the catalogue
    await keys(pilot, "slash", *"wikij", "enter")
    await keys(pilot, "enter")  # into the form; the name is its last field
    for _ in range(20):
        name = in_name_field(app)
        if name is not None:
            break
        await keys(pilot, "tab")
    assert name is not None, app.focused
    assert name.path == NAME_PATH
    return name


def in_name_field(app: HomelabApp) -> WebNameField | None:
    """The name field, when the focus is in it."""
    focused = app.focused
    if focused is None:
        return None
    return next((w for w in focused.ancestors if isinstance(w, WebNameField)), None)


def label_of(field: WebNameField) -> str:
    return str(field.query_one(".field-name", Label).content)


def note_of(field: WebNameField) -> str:
    return str(field.query_one(".web-note", Static).content)


def wikijs_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("  wikijs:"))


def test_a_name_typed_and_saved_is_web_name_with_comments_kept(named: Path) -> None:
    async def scenario() -> None:
        async with running(named) as (app, pilot):
            assert app.main.folder == "homeserver"
            name = await wikijs_name(app, pilot)
            assert label_of(name) == "Name under home.example.org"
            assert "Name under" in screen_text(app)
            await keys(pilot, *"wiki")
            assert note_of(name) == "https://wiki.home.example.org"
            await keys(pilot, "ctrl+s")
            assert isinstance(app.screen, CommitDialog)
            await keys(pilot, "ctrl+s")  # commit
            assert not app.session.dirty()
            assert name.own == "wiki"
            # the host's names, once the lab is loaded again after the save
            names = app.main.query_one(HostNames)
            assert "wiki.home.example.org" in str(names.content)
            assert "wiki.home.example.org" in screen_text(app)
            await keys(pilot, "alt+down", "alt+down")  # the next hosts: pi, the proxy
            assert app.main.folder == "pi"
            assert "proxy for 1 name" in screen_text(app)

    run(scenario)
    text = (named / HOMESERVER).read_text()
    assert "  wikijs: {web: {name: wiki}}   # the wiki\n" in text
    assert text.startswith("# yaml-language-server")
    assert "# An old desktop in the closet" in text
    # the save built what the name means on both hosts, and the commit holds it
    assert "--dport 3000 -j nixos-fw-accept" in (named / "hosts/homeserver/web.nix").read_text()
    proxy = (named / "hosts/pi/web.nix").read_text()
    assert 'virtualHosts."wiki.home.example.org"' in proxy
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=named, capture_output=True, text=True, check=True
    )
    assert "web.nix" not in status.stdout


def test_a_bad_name_shows_its_error_and_an_empty_one_removes_web(named: Path) -> None:
    async def scenario() -> None:
        async with running(named) as (app, pilot):
            name = await wikijs_name(app, pilot)
            await keys(pilot, *"Wiki_1")
            assert name.error is not None and name.has_class("-problem")
            assert str(name.error.content).startswith("'Wiki_1' is not valid here")
            assert "not valid" in screen_text(app)
            assert note_of(name) == ""  # no address for a bad name
            await keys(pilot, "ctrl+u")
            line = wikijs_line(app.session.text("homeserver"))
            assert line.split() == ["wikijs:", "{}", "#", "the", "wiki"]  # the comment stays
            assert not name.has_class("-problem")

    run(scenario)


def test_without_a_domain_the_field_says_so_and_still_takes_a_name(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            name = await wikijs_name(app, pilot)
            assert label_of(name) == "Name under the lab's domain"
            assert note_of(name).startswith("lab.yaml has no domain")
            assert "lab.yaml has no domain" in screen_text(app)
            await keys(pilot, *"wiki")
            assert "  wikijs: {web: {name: wiki}}\n" in app.session.text("homeserver")
            assert note_of(name).startswith("lab.yaml has no domain")  # still said
            assert not app.main.query_one(HostNames).has_class("-shown")

    run(scenario)
