"""A tall form scrolls to the field that has focus, so Tab never leads out of sight."""

from __future__ import annotations

from pathlib import Path

from homelab.tui.widgets.editors.form import FormEditor
from tests.tui.pilot import choose_host, run, running, screen_text, settle


def test_tab_to_a_field_below_the_fold_brings_it_into_view(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, size=(100, 30)) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            form = app.screen.query(FormEditor).first()
            assert form.max_scroll_y > 0  # taller than the screen: it must scroll
            assert "Swap" not in screen_text(app).split("Problems")[0]
            for _ in range(40):  # Tab down through the System tab, as a person would
                await pilot.press("tab")
                if "NixOS: swapDevices" in screen_text(app):
                    break
            await settle(pilot)
            assert form.scroll_y > 0
            focused = app.focused
            assert focused is not None
            assert form.region.contains_region(focused.region), (form.region, focused.region)

    run(scenario)
