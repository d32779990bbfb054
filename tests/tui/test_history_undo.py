"""Safer destructive actions, by keys: Remove host starts on Cancel, the quit dialog says
that Save all does not commit, and History undoes one commit or goes back to a state
(never a no-op), with `/` to filter its commits and j/k/g/G to move in them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button

from homelab.tui.screens.dialogs import Confirm
from homelab.tui.widgets import fields as f
from tests.tui.conftest import git
from tests.tui.pilot import choose_host, field, run, running, settle, type_into

DEMO = "hosts/nixos-demo/profile.yaml"


async def palette(pilot: Pilot[Any], command: str) -> None:
    await pilot.press("ctrl+p")
    await settle(pilot)
    await pilot.press(*command)
    await pilot.pause(0.5)  # the palette searches as you type
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def test_remove_host_starts_on_cancel_so_enter_keeps_the_host(lab: Path) -> None:
    before = (lab / DEMO).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await palette(pilot, "Remove host")
            assert isinstance(app.screen, Confirm)
            assert app.screen.focused is not None and app.screen.focused.id == "answer-cancel"
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is app.main
            assert "nixos-demo" in app.session.folders()

    run(scenario)
    assert (lab / DEMO).read_text() == before


def test_save_all_on_quit_says_it_does_not_commit_and_does_not(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            await pilot.press("ctrl+q")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert "without committing" in app.screen.text
            labels = [str(b.label) for b in app.screen.query(Button)]
            assert "Save all, no commit" in labels
            await pilot.click("#answer-save")
            await settle(pilot)
            assert not app.is_running

    run(scenario)
    assert "  timezone: UTC\n" in (lab / DEMO).read_text()
    assert git(lab, "log", "--format=%s").strip() == "the demo lab"
    assert DEMO in git(lab, "status", "--porcelain")
