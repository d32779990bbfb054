"""Text a person typed, or a lab holds, shows as it is: `[/]` or `[bold]` in a filter, a
user's description, a commit's subject or a notification is text, neither a style nor a
crash."""

from __future__ import annotations

from pathlib import Path

from homelab.tui.screens.dialogs import Confirm
from homelab.tui.screens.history import HistoryScreen
from homelab.tui.widgets.hostlist import HostList
from tests.tui.conftest import commit_all, git
from tests.tui.pilot import (
    choose_host,
    focus,
    open_tab,
    run,
    running,
    screen_text,
    settle,
    type_in_yaml_before,
)

DEMO = "hosts/nixos-demo/profile.yaml"
ODD = "a [/] b [bold]c"


def test_a_filter_with_brackets_shows_as_typed(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            hosts = app.main.query_one(HostList)
            await focus(pilot, hosts)
            await pilot.press("slash", *"[/]")
            await settle(pilot)
            assert hosts.query_text == "[/]"
            assert "/[/]▏ 0/" in screen_text(app)
            await pilot.press("escape", "slash", *"[bold]x")
            await settle(pilot)
            assert hosts.query_text == "[bold]x"
            assert "/[bold]x▏ 0/" in screen_text(app)

    run(scenario)


def test_a_description_with_brackets_shows_in_the_users_tab_and_the_commit(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_in_yaml_before(
                pilot, "  demouser:", f'  bob: {{description: "{ODD}", groups: [docker]}}'
            )
            await open_tab(pilot, "users")
            assert ODD in screen_text(app)
            await pilot.press("ctrl+s")
            await settle(pilot)
            text = screen_text(app)
            assert ODD in text
            assert "groups: [docker]" in text
            await pilot.press("ctrl+s")  # commit
            await settle(pilot)

    run(scenario)
    assert ODD in git(lab, "log", "-1", "--format=%B")


def test_a_commit_subject_with_brackets_shows_in_the_history(lab: Path) -> None:
    profile = lab / DEMO
    profile.write_text(profile.read_text().replace("America/Los_Angeles", "UTC"))
    commit_all(lab, "nixos-demo: UTC [/] for now [bold]x")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await pilot.press("f3")
            await settle(pilot)
            assert isinstance(app.screen, HistoryScreen)
            assert "nixos-demo: UTC [/] for now [bold]x" in screen_text(app)
            await pilot.press("u")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert '"nixos-demo: UTC [/] for now [bold]x"' in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)

    run(scenario)


def test_a_notification_with_brackets_shows_as_written(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, notifications=True) as (app, pilot):
            app.main.notify("a [/] b [bold]c")
            await settle(pilot)
            assert ODD in screen_text(app)

    run(scenario)
