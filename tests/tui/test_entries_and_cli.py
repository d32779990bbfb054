"""Users and containers: rename and remove keep the rest of the profile as written. And
the command line that opens the TUI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from textual.widgets import Input

from homelab.tui.screens.dialogs import Confirm
from homelab.tui.widgets import fields as f
from tests.conftest import RunCli
from tests.tui.pilot import choose_host, field, focus, open_tab, run, running, settle, type_into

DEMO = "hosts/nixos-demo/profile.yaml"
SERVER = "hosts/homeserver/profile.yaml"


def test_rename_a_user_keeps_its_place_and_settings(lab: Path) -> None:
    before = (lab / DEMO).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "users")
            await focus(pilot, app.main.query_one(".entries-list"))
            await pilot.press("r")
            await type_into(pilot, app.main.query_one(".entries-input", Input), "dee")
            await pilot.press("enter")
            await settle(pilot)
            assert field(app, ("users", "dee", "groups"), f.ListField).own == [
                "networkmanager",
                "wheel",
                "docker",
            ]
            app.main.flush_editors()
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.click("#not-now")
            await settle(pilot)

    run(scenario)
    after = (lab / DEMO).read_text()
    assert after == before.replace("  demouser:\n", "  dee:\n", 1)


def test_remove_a_container_asks_then_removes_only_it(lab: Path) -> None:
    before = (lab / SERVER).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "homeserver")
            await open_tab(pilot, "containers")
            entries = app.main.query_one(".entries-list")
            await focus(pilot, entries)
            entries.highlighted = entries.get_option_index("whoami")  # type: ignore[attr-defined]
            await settle(pilot)
            await pilot.press("delete")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.click("#answer-remove")
            await settle(pilot)
            assert "whoami" not in app.session.data("homeserver")["containers"]
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.click("#not-now")
            await settle(pilot)

    run(scenario)
    after = (lab / SERVER).read_text()
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert removed[0] == "  whoami:"
    assert all("whoami" in line or line.startswith("    ") for line in removed)
    assert "uptime-kuma:" in after
    assert "whoami" not in (lab / "hosts/homeserver/containers.nix").read_text()


def test_a_new_container_without_an_image_is_a_problem_at_its_field(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "homeserver")
            await open_tab(pilot, "containers")
            await focus(pilot, app.main.query_one(".entries-list"))
            await pilot.press("a")
            await pilot.press(*"cache", "enter")
            await settle(pilot)
            image = field(app, ("containers", "cache", "image"), f.TextField)
            panel = app.main.query_one("#problems")
            assert any(p.path.startswith("containers.cache") for p in panel.problems)  # type: ignore[attr-defined]
            await type_into(pilot, image.control, "redis:7")
            assert not any(
                p.path.startswith("containers.cache")
                for p in panel.problems  # type: ignore[attr-defined]
            )

    run(scenario)


def test_tui_screenshot_writes_an_svg_of_the_main_screen(
    lab: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    shot = tmp_path / "main.svg"
    code, _, err = run_cli("--lab", str(lab), "tui", "--screenshot", str(shot), "--size", "120x36")
    assert code == 0, err
    svg = shot.read_text()
    assert svg.startswith("<svg")
    assert "homeserver" in svg and "nixos-demo" in svg


def test_tui_refuses_a_bad_size(lab: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("--lab", str(lab), "tui", "--screenshot", "x.svg", "--size", "big")
    assert code == 2
    assert "--size big: expected WIDTHxHEIGHT" in err


def test_no_command_off_a_terminal_prints_the_help(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "homelab"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0
    assert "usage: homelab" in done.stdout


def test_the_command_palette_offers_every_action_and_host(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            titles = {c.title for c in app.get_system_commands(app.screen)}
            for action in (
                "Save", "Toggle diff", "History", "Apply", "Problems", "New host",
                "Remove host", "Toggle preview", "Tab: Services", "Host: pi",
            ):  # fmt: skip
                assert action in titles, action
            command = next(c for c in app.get_system_commands(app.screen) if c.title == "Host: pi")
            command.callback()
            await settle(pilot)
            assert app.main.folder == "pi"

    run(scenario)
