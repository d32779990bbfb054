"""Unsaved edits are kept as drafts on disk while the editor runs, and offered back when it
starts after a crash or a kill: restored as unsaved edits, never written by themselves."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from homelab.tui.app import HomelabApp
from homelab.tui.screens.commit import CommitDialog
from homelab.tui.screens.dialogs import Confirm
from homelab.tui.screens.main import DRAFTS_EVERY, MainScreen
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.hostlist import HostList
from tests.terminal import CTRL_N, ENTER, Terminal
from tests.tui.conftest import git
from tests.tui.pilot import choose_host, field, run, running, settle, type_into

DEMO = "hosts/nixos-demo/profile.yaml"
DRAFT = ".homelab/drafts/nixos-demo.json"


class Boom(Exception):
    """An error nobody expected."""


def crash_on_f2(monkeypatch: pytest.MonkeyPatch) -> None:
    def toggle_diff(self: MainScreen) -> None:
        raise Boom("a bug")

    monkeypatch.setattr(MainScreen, "action_toggle_diff", toggle_diff)


async def edit_timezone(app: HomelabApp, pilot, zone: str) -> None:  # type: ignore[no-untyped-def]
    await choose_host(pilot, "nixos-demo")
    await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, zone)


async def drafts_written(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause(DRAFTS_EVERY + 0.2)
    await settle(pilot)


def edit_then_crash(lab: Path, zone: str = "Europe/Paris") -> None:
    """An editor that crashes with an unsaved edit (the draft is what is left of it)."""

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, zone)
            await pilot.press("f2")
            await settle(pilot)

    with pytest.raises(Boom):
        run(scenario)


def test_unsaved_edits_are_a_private_draft_that_git_ignores(lab: Path) -> None:
    before = (lab / DEMO).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            await drafts_written(pilot)
            kept = json.loads((lab / DRAFT).read_text())
            assert kept["base"] == before
            assert "timezone: Europe/Paris" in kept["text"]
            assert stat.S_IMODE((lab / DRAFT).stat().st_mode) == 0o600
            assert stat.S_IMODE((lab / ".homelab/drafts").stat().st_mode) == 0o700
            assert git(lab, "status", "--porcelain") == ""  # the profile is untouched

    run(scenario)


def test_saving_removes_the_draft(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            await drafts_written(pilot)
            assert (lab / DRAFT).exists()
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            await pilot.click("#not-now")
            await drafts_written(pilot)
            assert not (lab / DRAFT).exists()

    run(scenario)


def test_discarding_at_quit_removes_the_drafts(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            await drafts_written(pilot)
            await pilot.press("ctrl+q")
            await settle(pilot)
            await pilot.click("#answer-discard")
            await settle(pilot)
            assert not app.is_running

    run(scenario)
    assert not (lab / DRAFT).exists()


def test_edits_lost_in_a_crash_are_offered_back_and_restored_as_unsaved_edits(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_on_f2(monkeypatch)
    before = (lab / DEMO).read_text()
    edit_then_crash(lab)
    assert (lab / DEMO).read_text() == before

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            assert isinstance(app.screen, Confirm)
            assert "Unsaved edits from last time" in app.screen.title_text
            assert "hosts/nixos-demo" in app.screen.text
            await pilot.click("#answer-restore")
            await settle(pilot)
            assert app.session.dirty() == ["nixos-demo"]
            assert app.main.query_one(HostList).row("nixos-demo").unsaved
            await choose_host(pilot, "nixos-demo")
            assert field(app, ("host", "timezone"), f.TextField).control.value == "Europe/Paris"
            assert (lab / DEMO).read_text() == before  # restored, not written
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.click("#not-now")
            await settle(pilot)

    run(scenario)
    assert "  timezone: Europe/Paris\n" in (lab / DEMO).read_text()


def test_discarded_drafts_are_gone_and_not_offered_again(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_on_f2(monkeypatch)
    before = (lab / DEMO).read_text()
    edit_then_crash(lab)

    async def scenario(answer: str | None) -> None:
        async with running(lab) as (app, pilot):
            if answer is None:
                assert not isinstance(app.screen, Confirm)
                return
            await pilot.click(f"#answer-{answer}")
            await settle(pilot)
            assert app.session.dirty() == []

    run(lambda: scenario("discard"))
    assert not (lab / DRAFT).exists()
    run(lambda: scenario(None))
    assert (lab / DEMO).read_text() == before


def test_a_profile_changed_on_disk_since_the_crash_is_asked_about_before_anything(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_on_f2(monkeypatch)
    edit_then_crash(lab)
    theirs = (lab / DEMO).read_text().replace("packages: [git, vim]", "packages: [git, htop]")
    (lab / DEMO).write_text(theirs)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.click("#answer-restore")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert "changed on disk" in app.screen.text
            await pilot.click("#answer-keep")
            await settle(pilot)
            assert (lab / DEMO).read_text() == theirs
            assert "timezone: Europe/Paris" in app.session.text("nixos-demo")

    run(scenario)


def test_drafts_of_an_editor_still_running_are_not_offered(lab: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (lab / ".homelab/drafts").mkdir(parents=True)
        text = (lab / DEMO).read_text()
        draft = {"format": 1, "folder": "nixos-demo", "base": text, "text": text + "# mine\n"}
        draft |= {"not_utf8": False, "time": time.time(), "pid": other.pid, "started": None}
        (lab / DRAFT).write_text(json.dumps(draft))

        async def scenario() -> None:
            async with running(lab) as (app, pilot):
                assert not isinstance(app.screen, Confirm)
                assert app.session.dirty() == []
                await pilot.press("ctrl+q")
                await settle(pilot)

        run(scenario)
        assert (lab / DRAFT).exists()  # the other editor's, left alone
    finally:
        other.kill()
        other.wait()


def test_a_new_host_typed_into_a_killed_editor_comes_back(lab: Path) -> None:
    """A real `homelab tui` on a terminal, killed with SIGKILL: nothing can run at its end."""
    with Terminal.editor(lab) as term:
        term.wait_for(b"Hosts")
        term.type(CTRL_N)
        term.wait_for(b"Add a host")
        term.type(b"nas")
        for _ in range(4):  # past its system and boot loader to its root file system
            term.wait_until_quiet()  # each key once the last took effect, as a person
            term.type(b"\t")
        term.wait_until_quiet()
        term.type(b"/dev/sda2")
        term.type(ENTER)
        term.wait_until((lab / ".homelab/drafts/nas.json").exists, 30, "the draft")
        term.kill()
    assert not (lab / "hosts/nas").exists()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            assert isinstance(app.screen, Confirm)
            assert "hosts/nas  (a new host, never saved)" in app.screen.text
            await pilot.click("#answer-restore")
            await settle(pilot)
            assert "nas" in app.main.query_one(HostList).rows
            assert app.session.dirty() == ["nas"]
            assert "system: x86_64-linux" in app.session.text("nas")

    run(scenario)
    assert not (lab / "hosts/nas").exists()
    assert git(lab, "status", "--porcelain") == ""


def test_when_drafts_cannot_be_written_the_person_is_told_once(lab: Path) -> None:
    (lab / ".homelab/drafts").write_text("a file where the drafts' folder goes\n")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            await drafts_written(pilot)
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            await drafts_written(pilot)
            said = [n.message for n in app._notifications if "cannot be kept" in n.message]
            assert len(said) == 1
            assert "save when you can" in said[0]
            assert app.session.dirty() == ["nixos-demo"]  # the edit itself is fine

    run(scenario)
