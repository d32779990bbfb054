"""The editor applies through the same workflow as the command line: what goes out is
committed first, and the deploy record names the commit that was sent."""

from __future__ import annotations

from pathlib import Path

import git

from homelab.history.records import deployed
from homelab.tui.screens.apply import HostPane
from homelab.tui.screens.dialogs import Confirm
from tests.deploy.labs import make_lab
from tests.deploy.tidy import assert_record_holds_what_runs, assert_tidy
from tests.sshd.rig import Rig
from tests.tui.pilot import open_apply, run, running, settle


def test_the_editors_record_names_the_commit_that_was_sent(
    rig: Rig, tmp_path: Path, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])  # committed, never built
    before = git.Repo(lab).head.commit.hexsha

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await open_apply(app, pilot, every=True)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.click("#answer-apply")
            await settle(pilot)
            [pane] = list(screen.query(HostPane))
            assert pane.state == "done"
            summary = str(screen.query_one("#apply-summary").render())
            assert "committed " in summary  # what goes out, committed first

    run(scenario)
    head = git.Repo(lab).head.commit
    assert head.hexsha != before
    assert "hosts/web/configuration.nix" in head.stats.files
    assert deployed(lab)["web"].commit == head.hexsha
    assert machine.generation() == 2
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)
