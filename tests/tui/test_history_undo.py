"""Safer destructive actions, by keys: Remove host starts on Cancel, the quit dialog says
that Save all does not commit, and History undoes one commit or goes back to a state
(never a no-op), with `/` to filter its commits and j/k/g/G to move in them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button

from homelab.lab import Lab
from homelab.tui.plain import Static
from homelab.tui.screens.dialogs import Confirm
from homelab.tui.screens.history import CommitList, HistoryScreen
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


def commit_edit(root: Path, old: str, new: str) -> str:
    """Edit the demo host's profile, build and commit it as the editor would; the commit."""
    path = root / DEMO
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    the_lab = Lab(root)
    the_lab.build(the_lab.load(), ["nixos-demo"])
    done = the_lab.commit(["nixos-demo"])
    assert done is not None
    return done.sha


async def open_history(pilot: Pilot[Any]) -> HistoryScreen:
    await choose_host(pilot, "nixos-demo")
    await pilot.press("f3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


def seen(screen: HistoryScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def test_undo_one_commit_by_keys_keeps_the_later_ones(lab: Path) -> None:
    commit_edit(lab, "  timezone: America/Los_Angeles", "  timezone: UTC")
    commit_edit(lab, "packages: [git, vim]", "packages: [git, vim, htop]")
    later = (lab / DEMO).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            history = await open_history(pilot)
            commits = history.query_one("#commits", CommitList)
            assert commits.highlighted == 0
            # the newest commit: going back to it would change nothing, so it is not offered
            assert history.query_one("#go-back", Button).disabled
            assert (
                "Go back to this state (b): not offered: hosts/nixos-demo is already as it was"
                in (seen(history, "#revert-why"))
            )
            await pilot.press("j")  # the timezone commit
            await settle(pilot)
            assert "host.timezone America/Los_Angeles -> UTC" in seen(history, "#commit-summary")
            assert not history.query_one("#undo", Button).disabled
            assert (
                "Undo this commit (u) would change: host.timezone UTC -> America/Los_Angeles"
                in seen(history, "#revert-why")
            )
            await pilot.press("u")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert "host.timezone UTC -> America/Los_Angeles" in app.screen.text
            await pilot.press("enter")  # "Undo this commit" has focus
            await settle(pilot)
            assert app.screen is history
            assert history.entries[0].subject == (
                "Undo on nixos-demo: host.timezone UTC -> America/Los_Angeles"
            )
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is app.main
            zone = field(app, ("host", "timezone"), f.TextField)
            assert zone.control.value == "America/Los_Angeles"

    run(scenario)
    assert (lab / DEMO).read_text() == later.replace(
        "timezone: UTC", "timezone: America/Los_Angeles"
    )
    assert "packages: [git, vim, htop]" in (lab / DEMO).read_text()
    body = git(lab, "log", "-1", "--format=%B")
    assert "Undoes " in body and '"nixos-demo: host.timezone America/Los_Angeles -> UTC"' in body


def test_go_back_to_a_state_by_keys(lab: Path) -> None:
    original = (lab / DEMO).read_text()
    commit_edit(lab, "  timezone: America/Los_Angeles", "  timezone: UTC")
    commit_edit(lab, "packages: [git, vim]", "packages: [git, vim, htop]")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            history = await open_history(pilot)
            await pilot.press("G")  # the oldest: the demo lab as it came
            await settle(pilot)
            assert history.entries[-1].subject == "the demo lab"
            assert history.query_one("#commits", CommitList).highlighted == 2
            assert "Undo this commit (u): not offered" in seen(history, "#revert-why")
            await pilot.press("u")  # not offered: said, nothing asked
            await settle(pilot)
            assert app.screen is history
            await pilot.press("b")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert app.screen.title_text == "Go back to this state?"
            assert "host.timezone UTC -> America/Los_Angeles" in app.screen.text
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is history
            assert history.entries[0].subject.startswith("Back to ")
            await pilot.press("g")
            await settle(pilot)
            # now the newest commit is that state: going back again is not offered
            assert history.query_one("#go-back", Button).disabled

    run(scenario)
    assert (lab / DEMO).read_text() == original
    subject = git(lab, "log", "-1", "--format=%s").strip()
    assert "host.timezone UTC -> America/Los_Angeles" in subject
    assert "packages - htop" in git(lab, "log", "-1", "--format=%B")


def test_undo_refused_when_a_later_commit_changed_the_same_line(lab: Path) -> None:
    commit_edit(lab, "  timezone: America/Los_Angeles", "  timezone: UTC")
    commit_edit(lab, "  timezone: UTC", "  timezone: Europe/Paris")
    before = (lab / DEMO).read_text()
    head = git(lab, "rev-parse", "HEAD")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            history = await open_history(pilot)
            await pilot.press("j")
            await settle(pilot)
            assert history.query_one("#undo", Button).disabled
            why = seen(history, "#revert-why")
            assert "later commits changed the same lines" in why
            assert "Europe/Paris" in why  # the later commit, by its subject
            await pilot.press("u")
            await settle(pilot)
            assert app.screen is history  # nothing asked, nothing done

    run(scenario)
    assert (lab / DEMO).read_text() == before
    assert git(lab, "rev-parse", "HEAD") == head
    assert "<<<<<<<" not in before


def test_slash_filters_the_commits_enter_keeps_escape_clears(lab: Path) -> None:
    commit_edit(lab, "  timezone: America/Los_Angeles", "  timezone: UTC")
    commit_edit(lab, "packages: [git, vim]", "packages: [git, vim, htop]")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            history = await open_history(pilot)
            commits = history.query_one("#commits", CommitList)
            assert commits.option_count == 3
            await pilot.press("slash", *"timezone")
            await settle(pilot)
            assert commits.option_count == 1
            await pilot.press("enter")  # keeps the filter, back to moving in the list
            await settle(pilot)
            assert commits.option_count == 1
            shown = commits.get_option_at_index(0).id
            assert shown is not None
            assert "host.timezone" in seen(history, "#commit-summary")
            await pilot.press("escape")  # clears the filter (the screen stays)
            await settle(pilot)
            assert app.screen is history
            assert commits.option_count == 3
            await pilot.press("slash", *"ada lovelace")  # by author
            await settle(pilot)
            assert commits.option_count == 3
            await pilot.press("escape")
            await settle(pilot)
            first = history.entries[-1].commit
            await pilot.press("slash", *first[:7])  # by hash
            await settle(pilot)
            assert commits.option_count == 1
            assert commits.get_option_at_index(0).id == first
            await pilot.press("enter", "escape")
            await settle(pilot)
            assert commits.option_count == 3
            await pilot.press("escape")  # no filter left: leaves the screen
            await settle(pilot)
            assert app.screen is app.main

    run(scenario)


def test_undo_and_going_back_wait_for_unsaved_edits(lab: Path) -> None:
    commit_edit(lab, "packages: [git, vim]", "packages: [git, vim, htop]")
    head = git(lab, "rev-parse", "HEAD")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            history = await open_history(pilot)
            await pilot.press("j")  # the demo lab: going back to it is offered
            await settle(pilot)
            assert not history.query_one("#go-back", Button).disabled
            for key in ("b", "k", "u"):
                await pilot.press(key)
                await settle(pilot)
                assert app.screen is history  # nothing asked: the unsaved edits come first
            assert app.session.dirty() == ["nixos-demo"]

    run(scenario)
    assert git(lab, "rev-parse", "HEAD") == head
    assert "packages: [git, vim, htop]" in (lab / DEMO).read_text()
