"""The editor's own writes are never news to it: no "changed on disk" after a save, an
undo in History or a host key pinned by an apply (its screens write profiles while the
main screen keeps looking at the disk)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from homelab.tui.app import HomelabApp
from homelab.tui.screens.commit import CommitDialog
from homelab.tui.screens.dialogs import Confirm
from homelab.tui.screens.history import HistoryScreen
from homelab.tui.widgets import fields as f
from tests.tui.pilot import choose_host, field, run, running, settle, type_into

DEMO = "hosts/nixos-demo/profile.yaml"


def toasts(app: HomelabApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_no_changed_on_disk_toast_for_the_editors_own_writes(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            timezone = field(app, ("host", "timezone"), f.TextField)
            await type_into(pilot, timezone.control, "Europe/Paris")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            app.main.check_disk()  # the timer, while the commit is asked
            await pilot.press("enter")  # commit
            await settle(pilot)
            app.main.check_disk()
            await settle(pilot)
            assert not [t for t in toasts(app) if "changed on disk" in t]

            await pilot.press("f3")  # History: go back to the first commit
            await settle(pilot)
            assert isinstance(app.screen, HistoryScreen)
            commits = app.screen.query_one("#commits", OptionList)
            commits.focus()
            await pilot.press("end")
            await settle(pilot)
            await pilot.press("b")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.press("enter")
            await settle(pilot)
            assert "America/Los_Angeles" in (lab / DEMO).read_text()  # written by History
            app.main.check_disk()  # the timer runs on while History is open
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            app.main.check_disk()
            await settle(pilot)
            assert not [t for t in toasts(app) if "changed on disk" in t], toasts(app)
            assert "America/Los_Angeles" in app.session.text("nixos-demo")

    run(scenario)
