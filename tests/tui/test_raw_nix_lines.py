"""A problem in the Raw Nix tab names the line of its text box, not the profile's line
(the box shows extraConfig alone, numbered from 1)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TextArea

from homelab.tui.plain import Static
from tests.tui.pilot import choose_host, open_tab, run, running, settle

DEMO = "hosts/nixos-demo/profile.yaml"


def test_a_nix_error_points_at_the_line_of_the_box(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "nix")
            area = app.main.query_one("#raw-nix", TextArea)
            area.focus()
            area.move_cursor((1, 0))  # below line 1, services.fwupd.enable = true;
            await pilot.press(*"boot.tmp.cleanOnBoot = true;", "enter")
            await pilot.press(*"services.openssh.enable = ;", "enter")  # line 3 of the box
            await pilot.pause(0.6)  # the typing pause
            await settle(pilot)
            said = str(app.main.query_one(".raw-error", Static).render())
            assert said.startswith("line 3 of this box: extraConfig is not valid Nix"), said
            problems = app.session.checks["nixos-demo"].problems
            assert any(p.place.line == 56 and p.path == "extraConfig" for p in problems)

    run(scenario)
    assert "services.openssh.enable = ;" not in (lab / DEMO).read_text()
