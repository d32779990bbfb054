"""Paths through the editor that once crashed it and lost every unsaved edit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual import events
from textual.app import ComposeResult

from homelab.tui.app import HomelabApp
from homelab.tui.screens.main import TABS
from homelab.tui.screens.newhost import NewHostDialog
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors import HomeEditor, ServicesEditor
from homelab.tui.widgets.editors.form import FormEditor
from homelab.tui.widgets.hostlist import HostList
from tests.tui.pilot import choose_host, field, focus, open_tab, run, running, settle, type_into


def hold(app: HomelabApp, key: str, repeats: int) -> None:
    """A held key: the terminal sends its repeats faster than the screen redraws."""
    for _ in range(repeats):
        app.post_message(events.Key(key, None))


def test_holding_down_in_the_services_catalogue_keeps_the_editor_and_its_edits(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            await open_tab(pilot, "services")
            services = app.main.query_one(ServicesEditor).query_one(".service-list")
            await focus(pilot, services)
            hold(app, "down", len(app.session.catalog.names()) + 2)  # type: ignore[union-attr]
            await settle(pilot)
            assert app.is_running
            assert app.session.dirty() == ["nixos-demo"]
            assert "timezone: UTC" in app.session.text("nixos-demo")

    run(scenario)


def test_a_new_host_without_users_opens_on_the_home_tab(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            await open_tab(pilot, "home")
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert isinstance(app.screen, NewHostDialog)
            await type_into(pilot, app.screen.query_one("#new-name"), "nas")
            await type_into(pilot, app.screen.query_one("#new-root-device"), "/dev/sda2")
            await pilot.click("#add")
            await settle(pilot)
            assert app.is_running
            assert app.main.folder == "nas"
            home = app.main.query_one(HomeEditor)
            assert home.query_one(".home-empty").display  # "No users on this host"
            await choose_host(pilot, "nixos-demo")  # and back to a host with users
            assert home.user == "demouser"
            assert app.session.dirty() == ["nas", "nixos-demo"]

    run(scenario)


@pytest.mark.parametrize("tab", ["nix", "yaml"])
def test_moving_through_hosts_right_after_opening_a_text_tab_keeps_the_editor(
    lab: Path, tab: str
) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await focus(pilot, app.main.query_one(HostList))
            number = [name for name, _, _ in TABS].index(tab) + 1
            hold(app, f"alt+{number}", 1)
            hold(app, "down", 2)  # homeserver -> nixos-demo -> pi
            await settle(pilot)
            assert app.is_running
            assert app.main.host_editor.active_tab == tab
            assert app.main.folder == "pi"

    run(scenario)


@pytest.mark.parametrize("when", ["as the host list is drawn", "as the first host's form is made"])
def test_quitting_while_the_editor_opens_quits_without_an_error_report(
    lab: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # a ctrl+q from the terminal while the first host's form was still being mounted took
    # the form down under it: the editor ended on an error report (exit code 1)
    def quit_key(app: HomelabApp) -> None:
        app.post_message(events.Key("ctrl+q", None))

    if when == "as the first host's form is made":
        made = FormEditor.compose

        def compose(self: FormEditor) -> ComposeResult:
            quit_key(self.app)  # type: ignore[arg-type]
            yield from made(self)

        monkeypatch.setattr(FormEditor, "compose", compose)

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=(160, 48)):
            hosts = app.main.query_one(HostList)
            while not (hosts.option_count and hosts.size.height):
                await asyncio.sleep(0)
            if when == "as the host list is drawn":
                quit_key(app)
            for _ in range(100):  # not pilot.pause: it waits on widgets the quit took down
                if not app.is_running:
                    break
                await asyncio.sleep(0.05)
            assert not app.is_running
        assert app.return_code == 0
        assert app.crash_report is None
        assert not (lab / ".homelab/reports").exists()

    run(scenario)
