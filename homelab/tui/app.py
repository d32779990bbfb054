"""The Textual app: `homelab` with no command, or `homelab tui`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from homelab.lab import Lab
from homelab.tui.screens.dialogs import Confirm
from homelab.tui.session import Session


class HomelabApp(App[None]):
    """Edit, preview, commit, review history and apply, without leaving the terminal."""

    CSS_PATH = "homelab.tcss"
    TITLE = "homelab"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, root: Path, *, screen: str = "main", host: str | None = None) -> None:
        super().__init__()
        self.session = Session(Lab(Path(root)))
        self.first_screen = screen
        self.first_host = host

    def on_mount(self) -> None:
        from homelab.tui.screens.main import MainScreen

        self.main = MainScreen(self.session)
        self.push_screen(self.main)

    # ---- quitting never loses an edit ----------------------------------------------------

    async def action_quit(self) -> None:
        if not self.session.dirty():
            self.exit()
            return
        self.ask_quit()

    @work(exclusive=True, group="quit")
    async def ask_quit(self) -> None:
        dirty = self.session.dirty()
        names = ", ".join(dirty)
        answer = await self.push_screen_wait(
            Confirm(
                "Unsaved edits",
                f"Unsaved edits in: {names}.\nSave them, throw them away, or go back?",
                [
                    ("Go back", "cancel", "default"),
                    ("Discard and quit", "discard", "error"),
                    ("Save all", "save", "primary"),
                ],
            )
        )
        if answer == "discard":
            self.exit()
        elif answer == "save":
            for folder in dirty:
                if not await self.main.save(folder, commit=False):
                    return  # refused: the reasons are on screen; nothing is lost
            self.exit()

    # ---- the command palette: every action ---------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = getattr(self, "main", None)
        if main is None:
            return
        yield SystemCommand(
            "Save", "Write the profile, rebuild its Nix, offer to commit (ctrl+s)", main.action_save
        )
        yield SystemCommand(
            "Toggle diff",
            "Show the Nix, or its diff against the last commit (f2)",
            main.action_toggle_diff,
        )
        yield SystemCommand(
            "History", "The host's commits, with what is deployed where (f3)", main.action_history
        )
        yield SystemCommand("Apply", "Deploy hosts over SSH (f4)", main.action_apply)
        yield SystemCommand("Problems", "Focus the problems panel (f6)", main.action_problems)
        yield SystemCommand(
            "Toggle preview", "Hide or show the Nix preview (f7)", main.action_toggle_preview
        )
        yield SystemCommand(
            "New host", "Add a host with a small wizard (ctrl+n)", main.action_new_host
        )
        yield SystemCommand(
            "Remove host", "Delete the selected host's profile and its Nix", main.action_remove_host
        )
        from homelab.tui.screens.main import TABS

        for tab, title, _ in TABS:
            yield SystemCommand(
                f"Tab: {title}", f"Show the {title} tab", lambda tab=tab: main.action_tab(tab)
            )
        for folder in self.session.folders():
            yield SystemCommand(
                f"Host: {folder}",
                f"Edit hosts/{folder}",
                lambda folder=folder: _go_to(main, folder),
                discover=False,
            )


def _go_to(main: object, folder: str) -> None:
    from homelab.tui.screens.main import MainScreen
    from homelab.tui.widgets.hostlist import HostList

    assert isinstance(main, MainScreen)
    hosts = main.query_one(HostList)
    hosts.highlighted = hosts.get_option_index(folder)


def run(
    root: Path,
    *,
    screenshot: Path | None = None,
    screen: str = "main",
    size: tuple[int, int] = (140, 42),
    host: str | None = None,
) -> None:
    """Open the app; with screenshot, render one screen headless to an SVG and stop."""
    app = HomelabApp(root, screen=screen, host=host)
    if screenshot is None:
        app.run()
        return

    async def shoot(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename=screenshot.name, path=str(screenshot.parent or "."))
        app.exit()

    app.run(headless=True, size=size, auto_pilot=shoot)
