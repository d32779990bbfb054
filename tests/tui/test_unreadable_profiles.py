"""A profile that is not UTF-8 text, or cannot be read at all, is a broken host in the
editor: it says where and why, and the person fixes it there; nothing is written unasked."""

from __future__ import annotations

import os
from pathlib import Path

from homelab.tui.screens.commit import CommitDialog
from homelab.tui.screens.dialogs import Refused
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors import YamlEditor
from homelab.tui.widgets.hostlist import HostList
from homelab.tui.widgets.problems import ProblemsPanel
from tests.tui.pilot import choose_host, field, focus, open_tab, run, running, settle, type_into

PI = "hosts/pi/profile.yaml"


def save_in_latin1(lab: Path) -> bytes:
    """pi's profile with a comment in Latin-1, as an old editor would save it."""
    text = (lab / PI).read_text().replace("# A Raspberry Pi 4", "# Café's Raspberry Pi 4")
    data = text.encode("latin-1")
    (lab / PI).write_bytes(data)
    return data


def test_a_profile_that_is_not_utf8_is_a_broken_host_fixed_in_the_yaml_tab(lab: Path) -> None:
    before = save_in_latin1(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "pi")
            assert app.is_running
            assert app.main.query_one(HostList).row("pi").invalid
            panel = app.main.query_one(ProblemsPanel)
            assert [str(p.place) for p in panel.problems] == [f"{PI}:2:6"]
            assert "not UTF-8" in panel.problems[0].message
            # the problem leads to the YAML tab, at the character to retype
            await pilot.press("f6", "home", "enter")
            await settle(pilot)
            yaml_tab = app.main.query_one(YamlEditor)
            assert app.main.host_editor.active_tab == "yaml"
            assert yaml_tab.area.cursor_location == (1, 5)
            assert "# Caf\ufffd's Raspberry Pi 4" in yaml_tab.area.text
            assert (lab / PI).read_bytes() == before  # nothing written by opening it
            await pilot.press("delete", "e")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            await pilot.click("#not-now")
            await settle(pilot)
            assert not app.main.query_one(HostList).row("pi").invalid

    run(scenario)
    second = (lab / PI).read_text(encoding="utf-8").splitlines()[1]
    assert second.startswith("# Cafe's Raspberry Pi 4 answering DNS")


def test_a_character_that_was_not_utf8_is_not_saved_as_a_question_mark(lab: Path) -> None:
    before = save_in_latin1(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "pi")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, Refused)
            assert any(str(p.place) == f"{PI}:2:6" for p in app.screen.problems)
            assert app.session.dirty() == ["pi"]

    run(scenario)
    assert (lab / PI).read_bytes() == before


def test_a_profile_that_cannot_be_read_is_a_broken_host_and_is_not_saved_over(lab: Path) -> None:
    os.unlink(lab / PI)
    os.mkfifo(lab / PI)  # would block any reader for ever

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "pi")
            assert app.is_running
            assert app.main.query_one(HostList).row("pi").invalid
            problems = app.main.query_one(ProblemsPanel).problems
            assert any("FIFO" in p.message for p in problems)
            await open_tab(pilot, "yaml")
            await focus(pilot, app.main.query_one(YamlEditor).area)
            await pilot.press(*"host: {}")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, Refused)
            assert "cannot be read" in app.screen.problems[0].message

    run(scenario)
    assert (lab / PI).is_fifo()
