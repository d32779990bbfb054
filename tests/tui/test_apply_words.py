"""The apply screen's words, read on the screen's text (no colour): which hosts are picked,
the highlighted row, and the question before an apply naming how many hosts and which."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._header import HeaderTitle

from homelab.tui.app import HomelabApp
from homelab.tui.screens.dialogs import Confirm
from tests.tui.pilot import open_apply, run, running, settle


def screen_text(app: HomelabApp) -> str:
    """What the terminal shows, characters only."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def test_picked_hosts_and_the_highlighted_row_read_without_colour(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            first = app.main.folder or ""
            await open_apply(app, pilot)
            text = screen_text(app)
            assert "▐X▌" not in text
            assert f"› [x] {first}" in text  # the host being edited, picked, highlighted
            others = [f for f in app.main.session.folders() if f != first]
            assert all(f"  [ ] {f}" in text for f in others)
            assert "[ ] Ask for the sudo password" in text

            while (app.screen.query_one("#apply-hosts").highlighted or 0) < 1:
                await pilot.press("down")
            await pilot.press("space")  # pick the next one
            await settle(pilot)
            text = screen_text(app)
            second = app.main.session.folders()[1]
            assert f"› [x] {second}" in text
            assert f"  [x] {app.main.session.folders()[0]}" in text

    run(scenario)


def test_the_question_before_an_apply_says_how_many_hosts_and_which(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await open_apply(app, pilot)
            valid = [f for f, h in app.main.session.state.hosts.items() if h.valid]  # type: ignore[union-attr]
            hosts = screen.query_one("#apply-hosts")
            hosts.deselect_all()  # type: ignore[attr-defined]
            for folder in valid:
                hosts.select(folder)  # type: ignore[attr-defined]
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            text = screen_text(app)
            names = ", ".join(screen.chosen())
            assert f"Apply to {len(valid)} hosts?" in text
            assert f"Apply (switch) to {len(valid)} hosts: {names}?" in text
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen

    run(scenario)


def test_the_review_follows_the_picked_hosts_and_says_never_deployed(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            first = app.main.folder or ""
            await open_apply(app, pilot)
            await pilot.press("f5")
            await settle(pilot)
            assert f"{first}: never deployed: everything is new" in screen_text(app)
            assert "no changes since HEAD" not in screen_text(app)
            other = next(f for f in app.main.session.folders() if f != first)
            hosts = app.screen.query_one("#apply-hosts")
            while app.main.session.folders()[hosts.highlighted or 0] != other:  # type: ignore[attr-defined]
                await pilot.press("down" if other > first else "up")
            await pilot.press("space")
            await settle(pilot)
            assert f"{other}: never deployed: everything is new" in screen_text(app)

    run(scenario)


def test_the_title_bar_says_apply_and_gives_the_labs_name_back_on_leaving(lab: Path) -> None:
    def title(app: HomelabApp) -> str:
        return str(app.screen.query_one(HeaderTitle).render())

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            assert lab.name in title(app)
            await open_apply(app, pilot)
            assert "apply" in title(app)
            assert lab.name not in title(app)
            await pilot.press("escape")
            await settle(pilot)
            assert "apply" not in title(app)
            assert lab.name in title(app)

    run(scenario)
