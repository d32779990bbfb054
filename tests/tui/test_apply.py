"""Applying from the TUI against the SSH test rig: every host's output in its own pane,
its state and time, the summary, and the deploy records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Log, SelectionList

from homelab.history.records import deployed
from homelab.tui.screens.apply import ApplyScreen, HostPane
from homelab.tui.screens.dialogs import Confirm
from tests.deploy.labs import make_lab, set_markers
from tests.sshd.rig import Rig
from tests.tui.conftest import commit_all, git
from tests.tui.pilot import run, running, settle


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    made = Rig(tmp_path / "rig")
    monkeypatch.setenv("HOME", str(made.home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    try:
        yield made
    finally:
        made.close()


@pytest.mark.sshd
def test_apply_streams_each_hosts_output_and_ends_with_the_summary(
    rig: Rig, tmp_path: Path, git_env: None
) -> None:
    machines = [rig.add("web"), rig.add("nas")]
    lab = make_lab(tmp_path / "lab", machines, commit=False)
    set_markers(lab, "nas", "fail-build")
    git(lab, "init", "-q", "-b", "main")
    commit_all(lab, "two machines")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("f4")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ApplyScreen)
            screen.query_one("#apply-hosts", SelectionList).select_all()
            await pilot.press("f5")  # review what goes out
            await settle(pilot)
            review = str(screen.query_one("#apply-changes").render())
            assert "web: changes since HEAD" in review
            assert "+++ b/hosts/web/configuration.nix" in review
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.click("#answer-apply")
            await settle(pilot)
            panes = {pane.host: pane for pane in screen.query(HostPane)}
            assert set(panes) == {"web", "nas"}
            assert panes["web"].state == "done"
            assert panes["nas"].state == "failed"
            web_log = "\n".join(panes["web"].query_one(Log).lines)
            nas_log = "\n".join(panes["nas"].query_one(Log).lines)
            assert "activating the configuration..." in web_log
            assert "builder for '/nix/store/0000-nixos-system.drv' failed" in nas_log
            assert panes["web"].border_title == "web · done"
            assert panes["web"].border_subtitle.endswith("s")  # its elapsed time
            summary = str(screen.query_one("#apply-summary").render())
            assert "web   ok" in summary
            assert "nas   FAILED" in summary
            assert not screen.running

    run(scenario)
    records = deployed(lab)
    assert records["web"].result == "ok"
    assert "nas" not in records  # a failed build leaves the machine as it was
    assert machines[0].generation() == 2 and machines[1].generation() == 1


@pytest.mark.sshd
def test_apply_can_be_cancelled_and_the_screen_stays_responsive(
    rig: Rig, tmp_path: Path, git_env: None
) -> None:
    machines = [rig.add("slow")]
    lab = make_lab(tmp_path / "lab", machines, commit=False)
    set_markers(lab, "slow", "hang")
    git(lab, "init", "-q", "-b", "main")
    commit_all(lab, "a slow machine")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("f4")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ApplyScreen)
            screen.query_one("#apply-hosts", SelectionList).select_all()
            await pilot.press("ctrl+r")
            await pilot.pause(0.2)
            await pilot.click("#answer-apply")
            pane = None
            for _ in range(200):  # the build hangs; the UI keeps answering meanwhile
                await pilot.pause(0.05)
                panes = list(screen.query(HostPane))
                if panes and panes[0].state == "building":
                    pane = panes[0]
                    break
            assert pane is not None, "the host never started building"
            await pilot.press("ctrl+x")
            await settle(pilot)
            assert pane.state in ("cancelled", "failed")
            assert not screen.running

    run(scenario)
    assert machines[0].generation() == 1
