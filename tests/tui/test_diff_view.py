"""The diff view, driven by keys: what changed since the last commit in the profile (YAML)
above what changed in the Nix; f8 (or z in the preview) widens the preview to the whole
width and back; `/` searches the preview, n / N go to the next and previous match, Escape
ends the search."""

from __future__ import annotations

from pathlib import Path

from homelab.tui.widgets.preview import Preview
from tests.tui.pilot import (
    choose_host,
    run,
    running,
    screen_text,
    settle,
    type_in_yaml_before,
)

DEMO = "hosts/nixos-demo/profile.yaml"
ALICE = "  alice: {groups: [wheel, audio]}"


def _add_alice(lab: Path) -> None:
    """A saved change that is not committed yet."""
    path = lab / DEMO
    path.write_text(path.read_text().replace("  demouser:\n", ALICE + "\n  demouser:\n", 1))


def _subtitle(preview: Preview) -> str:
    return str(preview.border_subtitle)


def test_the_diff_shows_the_profile_change_typed_above_the_nix_it_makes(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_in_yaml_before(pilot, "  demouser:", ALICE)
            await pilot.press("f2")
            await settle(pilot)
            text = screen_text(app)
            profile = text.index("━━ Profile · hosts/nixos-demo/profile.yaml")
            typed = text.index("+" + ALICE)
            nix = text.index("━━ Nix")
            assert profile < typed < nix
            assert "+++ b/hosts/nixos-demo/home.nix" not in text  # alice has no home
            # the Nix of one more user is only lines more: the neighbour stays as it was
            await pilot.press("f8")
            await settle(pilot)
            text = screen_text(app)
            assert "+  users.users.alice = {" in text
            nix_part = text[text.index("━━ Nix") :]
            removed = [
                line.strip("│ ")
                for line in nix_part.splitlines()
                if line.strip("│ ").startswith("-") and not line.strip("│ ").startswith("---")
            ]
            assert len(removed) == 1 and "homelab-hash:" in removed[0]

    run(scenario)


def test_f8_widens_the_preview_to_the_whole_width_and_back(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            assert "f8 Wide preview" in screen_text(app)
            preview = app.main.query_one(Preview)
            narrow = preview.size.width
            assert "─ Hosts ─" in screen_text(app)
            await pilot.press("f8")
            await settle(pilot)
            assert "─ Hosts ─" not in screen_text(app)
            assert preview.size.width > 2 * narrow
            assert "wide (f8: back)" in _subtitle(preview)
            # the preview has the focus: z, its own key, narrows it again
            await pilot.press("z")
            await settle(pilot)
            assert "─ Hosts ─" in screen_text(app)
            assert preview.size.width == narrow
            await pilot.press("z")  # and widens it
            await settle(pilot)
            assert "─ Hosts ─" not in screen_text(app)
            await pilot.press("f8")
            await settle(pilot)
            assert "─ Hosts ─" in screen_text(app)
            assert preview.size.width == narrow

    run(scenario)


def test_slash_searches_the_nix_and_the_diff(lab: Path) -> None:
    _add_alice(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            preview = app.main.query_one(Preview)
            await pilot.press("f8")  # the wide preview, focused
            await settle(pilot)
            await pilot.press("slash", *"extragroups")
            await settle(pilot)
            assert "search: Enter keeps it" not in screen_text(app)  # the box holds the text
            assert "extragroups" in screen_text(app)
            assert "/extragroups: 1 of 2" in _subtitle(preview)
            assert preview.area.selected_text == "extraGroups"  # highlighted in the Nix
            first = preview.area.selection
            await pilot.press("enter", "n")
            await settle(pilot)
            assert "/extragroups: 2 of 2" in _subtitle(preview)
            assert preview.area.selected_text == "extraGroups"
            assert preview.area.selection != first
            await pilot.press("n")  # round to the first
            await settle(pilot)
            assert "1 of 2" in _subtitle(preview) and preview.area.selection == first
            await pilot.press("N")
            await settle(pilot)
            assert "2 of 2" in _subtitle(preview)
            # the same search in the diff: found in the YAML and in the Nix
            await pilot.press("f2")
            await settle(pilot)
            assert "/extragroups: 1 of 1" in _subtitle(preview)
            await pilot.press("escape")
            await settle(pilot)
            assert "extragroups" not in _subtitle(preview)
            assert "what changed since the last commit" in _subtitle(preview)
            await pilot.press("slash", *"alice", "enter")
            await settle(pilot)
            assert "/alice: 1 of 3" in _subtitle(preview)
            await pilot.press("N")
            await settle(pilot)
            assert "/alice: 3 of 3" in _subtitle(preview)
            assert "+  users.users.alice = {" in screen_text(app)  # brought into view
            await pilot.press("escape")
            await settle(pilot)
            assert "alice:" not in _subtitle(preview)
            # Escape with no search going on is the screen's again: the wide preview stays
            assert app.main.query_one(Preview).wide

    run(scenario)


def test_f7_on_the_wide_preview_brings_the_editor_back(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await pilot.press("f8", "f7")
            await settle(pilot)
            text = screen_text(app)
            assert "─ Hosts ─" in text and "Nix · hosts/nixos-demo" not in text

    run(scenario)
