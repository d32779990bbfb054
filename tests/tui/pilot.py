"""Driving the app in tests: open it on a lab, wait for its workers, find its fields."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import SelectionList

from homelab.tui.app import HomelabApp
from homelab.tui.screens.apply import ApplyScreen
from homelab.tui.screens.main import MainScreen
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.hostlist import HostList

SIZE = (160, 48)
W = TypeVar("W", bound=Widget)


@asynccontextmanager
async def running(
    root: Path, size: tuple[int, int] = SIZE, *, notifications: bool = False
) -> AsyncIterator[tuple[HomelabApp, Pilot[None]]]:
    """The app on root; notifications: draw toasts on the screen (Textual's tests hide them)."""
    app = HomelabApp(root)
    async with app.run_test(size=size, notifications=notifications) as pilot:
        await settle(pilot)
        yield app, pilot


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())  # type: ignore[arg-type]


# workers that wait for a person's answer in a dialog: never waited for
ASKING = {"dialog", "quit", "confirm", "disk", "revert"}


async def settle(pilot: Pilot[Any], rounds: int = 2) -> None:
    """Let workers (but those waiting for a dialog), timers and messages run out."""
    for _ in range(rounds):
        for worker in list(pilot.app.workers):
            if worker.is_running and worker.group not in ASKING:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(worker.wait(), 60)
        await pilot.pause(0.05)
    await pilot.pause()


async def open_apply(app: HomelabApp, pilot: Pilot[None], *, every: bool = False) -> ApplyScreen:
    """The apply screen (F4); every: with every host picked."""
    await pilot.press("f4")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ApplyScreen)
    if every:
        screen.query_one("#apply-hosts", SelectionList).select_all()
    return screen


def main(app: HomelabApp) -> MainScreen:
    return app.main


async def choose_host(pilot: Pilot[Any], folder: str) -> None:
    hosts = pilot.app.main.query_one(HostList)
    hosts.highlighted = hosts.get_option_index(folder)
    await settle(pilot)


async def open_tab(pilot: Pilot[Any], tab: str) -> None:
    pilot.app.main.action_tab(tab)
    await settle(pilot)


def field(app: HomelabApp, path: tuple[str | int, ...], kind: type[W] = f.Field) -> W:  # type: ignore[assignment]
    """The visible field editing the value at path."""
    for candidate in app.main.query(kind):
        if isinstance(candidate, f.Field) and candidate.path == path and candidate.is_mounted:
            return candidate
    raise AssertionError(f"no field for {path} on screen")


async def type_into(pilot: Pilot[Any], widget: Widget, text: str, *, clear: bool = True) -> None:
    """Focus the widget (an Input) and type, as a person would."""
    widget.focus()
    await pilot.pause()
    if clear:
        await pilot.press("end", "ctrl+u")
    await pilot.press(*text)
    await settle(pilot)


async def type_in_yaml_before(pilot: Pilot[Any], line: str, text: str) -> None:
    """In the shown host's YAML tab, type text and Enter at the start of the line that
    reads `line`, as a person would."""
    from textual.widgets import TextArea

    await open_tab(pilot, "yaml")
    area = pilot.app.main.query_one("#yaml-text", TextArea)
    area.focus()
    await settle(pilot)
    area.cursor_location = (area.text.split("\n").index(line), 0)
    await settle(pilot)
    await pilot.press(*text, "enter")
    await settle(pilot)


def screen_text(app: Any) -> str:
    """The screen as a terminal without colour shows it: its characters only.

    The compositor's strips are what is drawn; their text drops every colour and style,
    so a marker found here is seen without colour (reverse video, bold and colour are
    not, and are not relied on).
    """
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def focus(pilot: Pilot[Any], widget: Widget) -> None:
    widget.focus()
    await pilot.pause()
