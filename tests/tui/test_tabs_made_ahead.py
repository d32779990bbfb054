"""In a terminal, the tabs' editors are made ahead while no key comes, so that a tab's
first visit only shows it; what they show is still the host's data when visited."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.tui.widgets import hosteditor
from homelab.tui.widgets.hosteditor import TABS
from tests.tui.pilot import choose_host, run, running, screen_text, settle


@pytest.fixture
def ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hosteditor, "AHEAD_HEADLESS", True)  # as in a terminal


@pytest.mark.usefixtures("ahead")
def test_tabs_are_made_in_a_pause_and_show_the_host_they_are_visited_on(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            editors = app.main.host_editor.editors
            await pilot.pause(hosteditor.AHEAD_QUIET + len(TABS) * 0.3)
            assert set(editors) == {tab for tab, _, _ in TABS}
            assert app.main.host_editor.active_tab == "system"  # made hidden, not shown
            await choose_host(pilot, "nixos-demo")
            await pilot.press("alt+4")  # Home, made ahead for the first host
            await settle(pilot)
            assert app.main.host_editor.active_tab == "home"
            assert "Home of user demouser" in screen_text(app)

    run(scenario)


@pytest.mark.usefixtures("ahead")
def test_no_tab_is_made_while_keys_come(lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hosteditor, "AHEAD_QUIET", 1000.0)  # none while it opens

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            editors = app.main.host_editor.editors
            assert set(editors) == {"system"}
            monkeypatch.setattr(hosteditor, "AHEAD_QUIET", 3.0)
            for _ in range(10):  # a key every 0.2 s: never a pause long enough
                await pilot.press("shift")
                await pilot.pause(0.2)
                assert set(editors) == {"system"}
            await pilot.pause(3.0 + len(TABS) * 0.3)
            assert set(editors) == {tab for tab, _, _ in TABS}

    run(scenario)
