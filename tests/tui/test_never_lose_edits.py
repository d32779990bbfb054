"""Saving never loses anything: changes on disk are noticed, quitting with edits asks."""

from __future__ import annotations

from pathlib import Path

from homelab.tui.screens.commit import CommitDialog
from homelab.tui.screens.dialogs import Confirm
from homelab.tui.widgets import fields as f
from tests.tui.pilot import choose_host, field, run, running, settle, type_into

DEMO = "hosts/nixos-demo/profile.yaml"


async def edit_timezone(app, pilot, zone: str) -> None:  # type: ignore[no-untyped-def]
    await choose_host(pilot, "nixos-demo")
    await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, zone)


def someone_else_edits(lab: Path) -> str:
    path = lab / DEMO
    text = path.read_text().replace("packages: [git, vim]", "packages: [git, vim, htop]")
    path.write_text(text)
    return text


def test_a_change_on_disk_is_noticed_and_theirs_can_be_reloaded(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            theirs = someone_else_edits(lab)
            app.main.check_disk()  # what the app does every two seconds
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert "changed on disk" in app.screen.text
            await pilot.click("#answer-reload")
            await settle(pilot)
            assert app.session.text("nixos-demo") == theirs
            assert app.session.dirty() == []
            # the form shows their file now
            assert field(app, ("host", "timezone"), f.TextField).control.value == (
                "America/Los_Angeles"
            )

    run(scenario)


def test_keep_mine_then_save_writes_mine(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            someone_else_edits(lab)
            app.main.check_disk()
            await settle(pilot)
            await pilot.click("#answer-keep")
            await settle(pilot)
            app.main.check_disk()  # asked once: not again for the same change
            await settle(pilot)
            assert not isinstance(app.screen, Confirm)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            await pilot.click("#not-now")
            await settle(pilot)

    run(scenario)
    text = (lab / DEMO).read_text()
    assert "timezone: Europe/Paris" in text
    assert "packages: [git, vim]\n" in text


def test_saving_over_a_changed_file_asks_first(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            theirs = someone_else_edits(lab)
            await pilot.press("ctrl+s")  # before the periodic check noticed it
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert "changed by someone else" in app.screen.text
            await pilot.click("#answer-cancel")
            await settle(pilot)
            assert (lab / DEMO).read_text() == theirs
            assert app.session.dirty() == ["nixos-demo"]

    run(scenario)


def test_a_change_on_disk_without_edits_here_is_reloaded(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            theirs = someone_else_edits(lab)
            app.main.check_disk()
            await settle(pilot)
            assert not isinstance(app.screen, Confirm)
            assert app.session.text("nixos-demo") == theirs
            packages = field(app, ("packages",), f.ListField)
            assert packages.own == ["git", "vim", "htop"]

    run(scenario)


def test_quitting_with_unsaved_edits_asks(lab: Path) -> None:
    before = (lab / DEMO).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            await pilot.press("ctrl+q")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert "nixos-demo" in app.screen.text
            await pilot.click("#answer-cancel")
            await settle(pilot)
            assert app.is_running and app.session.dirty() == ["nixos-demo"]
            await pilot.press("ctrl+q")
            await settle(pilot)
            await pilot.click("#answer-discard")
            await settle(pilot)
            assert not app.is_running

    run(scenario)
    assert (lab / DEMO).read_text() == before


def test_quit_and_save_all_writes_every_edited_profile(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await edit_timezone(app, pilot, "Europe/Paris")
            await choose_host(pilot, "homeserver")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            await pilot.press("ctrl+q")
            await settle(pilot)
            await pilot.click("#answer-save")
            await settle(pilot)
            assert not app.is_running

    run(scenario)
    assert "  timezone: Europe/Paris\n" in (lab / DEMO).read_text()
    assert "  timezone: UTC\n" in (lab / "hosts/homeserver/profile.yaml").read_text()
    assert 'time.timeZone = "UTC";' in (lab / "hosts/homeserver/configuration.nix").read_text()


def test_quitting_without_edits_does_not_ask(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("ctrl+q")
            await settle(pilot)
            assert not app.is_running

    run(scenario)
