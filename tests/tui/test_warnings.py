"""Warnings in the editor: shown beside the field and in the problems panel, said to be
warnings in words, never blocking a save; names the lab knows complete as they are typed."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from homelab.errors import Place, Problem
from homelab.tui.screens.commit import CommitDialog
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.problems import title
from tests.tui.pilot import (
    choose_host,
    field,
    open_tab,
    run,
    running,
    screen_text,
    settle,
    type_into,
)

DEMO = "hosts/nixos-demo/profile.yaml"


def test_an_unknown_group_is_a_warning_that_does_not_stop_a_save(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "users")
            groups = field(app, ("users", "demouser", "groups"), f.ListField)
            await type_into(pilot, groups.query_one(".list-add", Input), "nosuchgroup")
            await pilot.press("enter")
            await settle(pilot)
            shown = screen_text(app)
            assert "Problems: none, 1 warning" in shown
            assert "warning: users.demouser.groups[3]:" in shown  # the panel, in words
            assert "warning: [3]: unknown group" in shown  # under the field
            assert groups.has_class("-warning")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)  # saved, not refused

    run(scenario)
    assert "nosuchgroup" in (lab / DEMO).read_text()


def test_a_group_completes_as_it_is_typed(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "users")
            groups = field(app, ("users", "demouser", "groups"), f.ListField)
            add = groups.query_one(".list-add", Input)
            await type_into(pilot, add, "libv")
            assert "libvirtd" in screen_text(app)  # offered, dimmed after the cursor
            await pilot.press("right")  # takes the offer
            assert add.value == "libvirtd"
            await pilot.press("enter")
            await settle(pilot)
            assert "Problems: none" in screen_text(app)
            assert app.session.data("nixos-demo")["users"]["demouser"]["groups"][-1] == "libvirtd"

    run(scenario)


def test_a_home_manager_program_completes_as_it_is_typed(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "home")
            add = app.main.query_one(".program-add", Input)
            await type_into(pilot, add, "zox")
            await pilot.press("right")
            assert add.value == "zoxide"
            await pilot.press("enter")
            await settle(pilot)
            programs = app.session.data("nixos-demo")["users"]["demouser"]["home"]["programs"]
            assert programs["zoxide"] == {"enable": True}

    run(scenario)


def test_the_panel_title_counts_errors_and_warnings_apart() -> None:
    error = Problem(Place(DEMO, 1, 1), "bad")
    warning = Problem(Place(DEMO, 2, 1), "odd", warning=True)
    assert title([]) == "Problems: none"
    assert title([warning]) == "Problems: none, 1 warning"
    assert title([error, warning, warning]) == "Problems (1) and 2 warnings"
    assert title([error, error]) == "Problems (2)"
