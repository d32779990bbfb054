"""The editor's YAML fields read what a person types or pastes through homelab's YAML
loader: an alias bomb in a field is a message under it, in a blink, and the profile keeps
its text (the field used to hand billions of repeated values to the edit)."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import Input, TextArea

from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors import HomeEditor
from tests.tui.pilot import choose_host, field, open_tab, run, running, settle, type_into

BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{name}: &{name} [" + ", ".join([f"*{before}"] * 9) + "]"
        for before, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)
D_LINE = 4  # &d: where the repeated values run over the limit


def test_an_alias_bomb_in_a_yaml_field_is_a_message_under_it(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            before = app.session.text("nixos-demo")
            swap = field(app, ("hardware", "swap"), f.YamlField)
            swap.control.load_text(BOMB)
            started = time.monotonic()
            assert swap.pending() == []
            assert time.monotonic() - started < 2.0
            await settle(pilot)
            shown = str(swap.query_one(".field-error").render())
            assert f"line {D_LINE}: aliases repeat too much" in shown
            assert app.session.text("nixos-demo") == before

    run(scenario)


def test_an_alias_bomb_in_a_programs_settings_is_a_message_under_them(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "home")
            await type_into(pilot, app.main.query_one(".program-add", Input), "git")
            await pilot.press("enter")
            await settle(pilot)
            before = app.session.text("nixos-demo")
            area = app.main.query_one(".program-yaml", TextArea)
            area.load_text(BOMB)
            started = time.monotonic()
            app.main.query_one(HomeEditor).pending()
            assert time.monotonic() - started < 2.0
            await settle(pilot)
            shown = str(app.main.query_one(".program-error").render())
            assert f"line {D_LINE}: aliases repeat too much" in shown
            assert app.session.text("nixos-demo") == before

    run(scenario)
