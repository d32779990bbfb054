"""The Textual app: `homelab` with no command, or `homelab tui`.

The app never loses an edit: unsaved edits are kept as drafts on disk while it runs and
offered back at the next start; quitting asks; an error it did not expect closes it with
a report, a non-zero exit code and the drafts kept.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from homelab.gcpause import paused
from homelab.tui.collector import EVERY, Collector

with paused():  # start-up: what these imports make lives on; a pass over it frees nothing
    from rich.text import Text
    from textual import events, work
    from textual.app import App, SystemCommand
    from textual.binding import Binding, BindingType
    from textual.css.query import NoMatches
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.widget import MountError
    from textual.widgets import Input

    from homelab.lab import Lab
    from homelab.optionindex.model import OptionIndex
    from homelab.tui.screens.dialogs import Confirm

if TYPE_CHECKING:
    from homelab.editing.drafts import Kept


class HomelabApp(App[None]):
    """Edit, preview, commit, review history and apply, without leaving the terminal."""

    CSS_PATH = "homelab.tcss"
    TITLE = "homelab"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        # F1 works everywhere; ? only where it is not typed (an input, a text box)
        Binding("f1", "help", "Help", priority=True),
        Binding("question_mark", "help", "Help", show=False),
    ]

    def __init__(
        self,
        root: Path,
        *,
        screen: str = "main",
        host: str | None = None,
        option_index: OptionIndex | None = None,
    ) -> None:
        super().__init__()
        self.session = Lab(Path(root)).open_session()
        self._option_index = option_index  # given (tests), else the lab's, read when asked
        self.first_screen = screen
        self.first_host = host
        self.crashed = False
        self.quitting = False  # the person quit, nothing left unsaved: the widgets go
        self.crash_report: Path | None = None  # where the report of an unexpected error went
        # time.monotonic() of the last key (the start counts as one): work that can wait
        # for a pause in the keys, waits
        self.last_key = time.monotonic()
        self.collector = Collector()  # garbage collection, out of the way of keys

    def option_index(self) -> OptionIndex | None:
        """The option index of the lab's pinned nixpkgs and home-manager, None when none
        has been made (`homelab options update`)."""
        if self._option_index is None:
            self._option_index = self.session.option_index()  # one read, the checks' too
        return self._option_index

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.last_key = time.monotonic()
        await super().on_event(event)

    def on_mount(self) -> None:
        self.collector.pause()  # until the first host is shown (MainScreen); its imports too
        from homelab.tui.screens.main import MainScreen

        self.set_interval(EVERY, lambda: self.collector.collect_if_quiet(lambda: self.last_key))
        self.main = MainScreen(self.session)
        self.push_screen(self.main)
        self.offer_drafts()

    def on_unmount(self) -> None:
        self.collector.stop()

    # ---- drafts an earlier editor left (it crashed or was killed) ------------------------

    @work(exclusive=True, group="dialog")
    async def offer_drafts(self) -> None:
        kept = self.session.kept.found()
        stale = [k for k in kept if k.text == self.session.disk_text(k.folder)]
        self.session.kept.discard(stale)  # saved since, elsewhere: nothing to give back
        kept = [k for k in kept if k not in stale]
        if not kept:
            return
        answer = await self.push_screen_wait(
            Confirm(
                "Unsaved edits from last time",
                "The editor closed without saving them (it crashed or was killed):\n"
                + "\n".join(_kept_line(k) for k in kept)
                + "\n\nRestore them as unsaved edits (nothing is written until you save), "
                "or discard them?",
                [("Discard", "discard", "error"), ("Restore", "restore", "primary")],
            )
        )
        if answer == "discard":
            self.session.kept.discard(kept)
            self.notify("discarded the unsaved edits of " + ", ".join(k.folder for k in kept))
        else:  # escape too: restoring loses nothing, and writes nothing
            self.main.restore(kept)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        # never markup (widgets' notify comes here too): messages carry names and values
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_help(self) -> None:
        from homelab.tui.screens.help import toggle_help

        toggle_help(self)

    # ---- quitting never loses an edit ----------------------------------------------------

    async def action_quit(self) -> None:
        held = [str(getattr(s, "unsaved", "")) for s in self.screen_stack]
        held = [said for said in held if said]
        if held:  # a screen's own unsaved changes (the Lab screen's lab.yaml): not quit
            self.notify(f"{held[0]}: save (ctrl+s) or leave that screen (Escape) first")
            return
        if not self.session.dirty():
            self.main.write_drafts()  # removes those saved since the last write
            self.leave()
            return
        self.ask_quit()

    def leave(self) -> None:
        """Quit, every edit saved, thrown away or kept as a draft."""
        self.quitting = True
        self.exit()

    @work(exclusive=True, group="quit")
    async def ask_quit(self) -> None:
        dirty = self.session.dirty()
        names = ", ".join(dirty)
        answer = await self.push_screen_wait(
            Confirm(
                "Unsaved edits",
                f"Unsaved edits in: {names}.\nSave them, throw them away, or go back?\n"
                "Save all writes the profiles and their Nix without committing them: "
                "git sees them as uncommitted changes until you commit (ctrl+s, then Commit).",
                [
                    ("Go back", "cancel", "default"),
                    ("Discard and quit", "discard", "error"),
                    ("Save all, no commit", "save", "primary"),
                ],
            )
        )
        if answer == "discard":
            self.session.kept.sync({})  # thrown away: their drafts too
            self.leave()
        elif answer == "save":
            for folder in dirty:
                if not await self.main.save(folder, commit=False):
                    return  # refused: the reasons are on screen; nothing is lost
            self.main.write_drafts()
            self.leave()

    # ---- an error nobody expected --------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Keep the unsaved edits as drafts, save a report, say where, exit with code 1.
        Textual's own handler prints the traceback with its frames' locals, where a password
        or a secret may be: the message replaces it. After a quit, see below."""
        if self.quitting and isinstance(error, (MountError, NoMatches)):
            # a widget still being mounted (the editor had just opened, or a tab was being
            # made ahead) looked for a part of itself the quit had taken down: Textual's own
            # Select does. Nothing of the person's is lost; the quit goes on, no report
            return
        from homelab.tui import crash  # deferred: start-up (it reads package versions)

        first = not self.crashed
        self.crashed = True
        if first:
            kept = self._keep_drafts_after_crash()
            try:
                self.crash_report = self._save_report(error)
            except Exception:
                self.crash_report = None
            note = crash.message(error, self.crash_report, kept)
        super()._handle_exception(error)  # return code 1, and pilot tests see the error
        if first:
            self._exit_renderables[:] = [Text(note)]
        else:
            self._exit_renderables[1:] = []

    def _keep_drafts_after_crash(self) -> str:
        main = getattr(self, "main", None)
        with contextlib.suppress(Exception):
            if main is not None:
                main.flush_editors()  # edits still waiting for a typing pause
        try:
            self.session.keep_drafts()
        except Exception as err:
            return f"Your unsaved edits could not be kept as drafts: {err}."
        if not self.session.dirty():
            return "There were no unsaved edits."
        return (
            "Your unsaved edits are kept as drafts ("
            + ", ".join(self.session.dirty())
            + "): open the editor on this lab again to get them back."
        )

    def _save_report(self, error: Exception) -> Path:
        from homelab.localstate import local_folder
        from homelab.tui import crash

        when = time.time()
        text = crash.report(error, self._sensitive(), os.environ, when)
        try:
            folder: Path | None = local_folder(self.session.lab.root, "reports")
        except OSError:
            folder = None
        return crash.save(folder, text, when)

    def _sensitive(self) -> list[str]:
        """What no report may show: what was typed into password fields (and the sudo
        password an apply holds), and the contents of the lab's secret files."""
        values: list[str] = []
        with contextlib.suppress(Exception):
            for screen in self.screen_stack:
                values += [i.value for i in screen.query(Input) if i.password and i.value]
                values += getattr(screen, "sensitive", list)()  # a password an apply holds
        state = self.session.state
        for host in state.hosts.values() if state is not None else ():
            for secret in host.profile.secrets if host.profile is not None else ():
                if secret.source is not None:
                    values += _secret_text(self.session.lab.root, secret.source)
        return values

    # ---- the command palette: every action ---------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Help", "The keys of this screen, grouped by what they do (f1 or ?)", self.action_help
        )
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
        yield SystemCommand(
            "Lab",
            "Edit lab.yaml: release, inputs and whether flake.lock pins them, overlays (f5)",
            main.action_lab,
        )
        yield from _secrets_commands(screen, main.action_secrets)
        yield SystemCommand(
            "Map",
            "The lab drawn: hosts, services, names and the links between machines (f10)",
            main.action_map,
        )
        yield SystemCommand(
            "Find an option",
            "Search the option index; add the option chosen to options: (ctrl+o)",
            main.action_option_search,
        )
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

        for number, (tab, title, _) in enumerate(TABS, 1):
            yield SystemCommand(
                f"Tab: {title}",
                f"Show the {title} tab ({number} outside a text input; ] [ or ctrl+pgdn/pgup "
                "go along the tabs)",
                lambda tab=tab: main.action_tab(tab, focus=True),
            )
        for folder in self.session.folders():
            yield SystemCommand(
                f"Host: {folder}",
                f"Edit hosts/{folder}",
                lambda folder=folder: _go_to(main, folder),
                discover=False,
            )


def _secrets_commands(
    screen: Screen[object], open_it: Callable[[], object]
) -> Iterable[SystemCommand]:
    """The Secrets screen, or its actions while it is shown."""
    from homelab.tui.screens.secrets import SecretsScreen

    if not isinstance(screen, SecretsScreen):
        yield SystemCommand(
            "Secrets",
            "The encrypted secrets: who uses each, who can open it; set, show, rekey (f9)",
            open_it,
        )
        return
    yield SystemCommand(
        "Secret: set value",
        "Type a new value, masked; it is encrypted and committed (s)",
        screen.action_set_value,
    )
    yield SystemCommand(
        "Secret: new", "A new secret: its name and value (n)", screen.action_new_secret
    )
    yield SystemCommand(
        "Secret: show value",
        "Decrypt with your key and show it, after asking (v)",
        screen.action_show_value,
    )
    yield SystemCommand(
        "Secret: rekey", "Encrypt it anew to who should open it now (r)", screen.action_rekey
    )
    yield SystemCommand(
        "Secret: rekey all stale",
        "Every stale secret, encrypted anew (shift+r)",
        screen.action_rekey_stale,
    )


def _kept_line(kept: Kept) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(kept.written))
    what = "a new host, never saved" if kept.base is None else f"edited {when}"
    return f"  hosts/{kept.folder}  ({what})"


def _secret_text(root: Path, source: str) -> list[str]:
    from homelab.source import read_file

    try:
        data = read_file(root, os.path.normpath(source))
    except Exception:
        return []
    return [] if data is None else [data.decode("utf-8", errors="replace")]


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
) -> int:
    """Open the app; with screenshot, render one screen headless to an SVG and stop.
    Returns the exit code: 1 after an error the editor did not expect."""
    app = HomelabApp(root, screen=screen, host=host)
    if screenshot is None:
        app.run()
        return app.return_code or 0

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
    return app.return_code or 0
