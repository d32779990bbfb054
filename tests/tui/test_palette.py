"""The command palette does what its commands say."""

from __future__ import annotations

from pathlib import Path

from tests.tui.pilot import focus, open_tab, run, running, settle


def test_a_tab_chosen_in_the_palette_stays_shown(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await open_tab(pilot, "services")
            await focus(pilot, app.main.query_one(".service-list"))
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"Tab: Home")
            await pilot.pause(0.5)  # the palette searches as you type
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert app.main.host_editor.active_tab == "home"

    run(scenario)
