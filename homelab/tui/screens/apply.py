"""Applying from the editor: choose hosts (or a tag) and a mode, review what goes out,
confirm, then watch each host's output live in its own pane, with its state and time.

The apply itself is homelab.deploy.apply's orchestrator, run in a worker thread; its
events arrive here as messages, so the screen stays responsive, and cancel sets the
orchestrator's cancel flag (each host stops at a safe point).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, Log, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from homelab.editing.session import Session
from homelab.errors import InvalidInput, Problem
from homelab.lab import Lab
from homelab.tui.screens.dialogs import Confirm, Refused
from homelab.tui.widgets.preview import diff_text

MODES = ("switch", "boot", "test", "dry-activate", "build")
STATE_STYLES = {
    "waiting": "dim",
    "done": "bold green",
    "failed": "bold red",
    "cancelled": "yellow",
}


class ApplyEvent(Message):
    """One event of the orchestrator (from its threads)."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class ApplyFinished(Message):
    def __init__(self, results: Sequence[Any], lines: Sequence[str]) -> None:
        super().__init__()
        self.results, self.lines = results, lines


class ApplyRefused(Message):
    def __init__(self, title: str, problems: Sequence[Problem]) -> None:
        super().__init__()
        self.title, self.problems = title, problems


class HostPane(Vertical):
    """One host's live output, with its state and elapsed time in the border."""

    DEFAULT_CSS = """
    HostPane { height: 12; border: round $primary 40%; }
    HostPane.-done { border: round $success; }
    HostPane.-failed { border: round $error; }
    HostPane.-cancelled { border: round $warning; }
    HostPane > Log { height: 1fr; }
    """

    def __init__(self, host: str) -> None:
        super().__init__(id=f"pane-{host}")
        self.host = host
        self.state = "waiting"
        self.started: float | None = None
        self.elapsed = 0.0

    def compose(self) -> ComposeResult:
        yield Log(max_lines=2000, auto_scroll=True)

    def on_mount(self) -> None:
        self.show_title()

    def event(self, event: Any) -> None:
        if self.started is None and event.state != "waiting":
            self.started = time.monotonic() - event.elapsed
        self.elapsed = event.elapsed
        if event.state != self.state:
            self.remove_class(f"-{self.state}")
            self.state = event.state
            self.add_class(f"-{self.state}")
        if event.line is not None:
            self.query_one(Log).write_line(event.line)
        self.show_title()

    def show_title(self) -> None:
        elapsed = self.elapsed
        if self.started is not None and self.state not in ("done", "failed", "cancelled"):
            elapsed = time.monotonic() - self.started
        clock = f"{elapsed:.1f}s" if self.started is not None else ""
        self.border_title = f"{self.host} · {self.state}"
        self.border_subtitle = clock


class ApplyScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f5", "review", "Review changes"),
        Binding("ctrl+r", "apply", "Apply", priority=True),
        Binding("ctrl+x", "cancel_apply", "Cancel apply", priority=True),
    ]
    DEFAULT_CSS = """
    ApplyScreen #apply-body { height: 1fr; }
    ApplyScreen #apply-side { width: 36; height: 1fr; }
    ApplyScreen #apply-hosts { height: 1fr; border: round $primary 50%; }
    ApplyScreen #apply-side Label { padding: 1 0 0 1; color: $text-muted; }
    ApplyScreen #apply-side Select { width: 1fr; }
    ApplyScreen #apply-side Horizontal { height: auto; }
    ApplyScreen #apply-side Button { width: 1fr; }
    ApplyScreen #apply-main { width: 1fr; height: 1fr; }
    ApplyScreen #apply-review { height: 1fr; border: round $secondary 50%; }
    ApplyScreen #apply-panes { height: 1fr; display: none; }
    ApplyScreen.-running #apply-review { display: none; }
    ApplyScreen.-running #apply-panes { display: block; }
    ApplyScreen #apply-summary-box { height: auto; max-height: 16; display: none;
                                     border: round $success 60%; padding: 0 1; }
    ApplyScreen #apply-summary-box.-shown { display: block; }
    ApplyScreen #apply-summary-box.-failed { border: round $error; }
    """

    def __init__(self, session: Session[Lab], folder: str | None, *, review: bool = False) -> None:
        super().__init__()
        self.session = session
        self.folder = folder
        self.cancel = threading.Event()
        self.running = False
        self.review_first = review
        self.reviewed: tuple[tuple[str, ...], str] | None = None

    def compose(self) -> ComposeResult:
        folders = self.session.folders()
        tags: set[str] = set()
        state = self.session.state
        if state is not None:
            for host in state.hosts.values():
                tags.update(host.tags)
        yield Header()
        with Horizontal(id="apply-body"):
            with Vertical(id="apply-side"):
                hosts = SelectionList[str](
                    *[Selection(self._host_label(f), f, f == self.folder) for f in folders],
                    id="apply-hosts",
                )
                hosts.border_title = "Hosts to apply"
                yield hosts
                yield Label("Or every host with a tag")
                yield Select(
                    [(f"@{t}", t) for t in sorted(tags)],
                    prompt="(a tag)",
                    id="apply-tag",
                    compact=True,
                )
                yield Label("Mode")
                yield Select(
                    [(m, m) for m in MODES],
                    value="switch",
                    allow_blank=False,
                    id="apply-mode",
                    compact=True,
                )
                with Horizontal():
                    yield Button("Review (f5)", id="apply-review-button", compact=True)
                    yield Button("Apply (^r)", id="apply-go", variant="warning", compact=True)
                yield Button(
                    "Cancel (^x)", id="apply-cancel", variant="error", compact=True, disabled=True
                )
            with Vertical(id="apply-main"):
                with VerticalScroll(id="apply-review") as review:
                    review.border_title = "What goes out"
                    yield Static(
                        "Choose hosts and a mode, then review (f5): what each host gets since "
                        "its last deploy. Apply (ctrl+r) asks before it starts.",
                        id="apply-changes",
                    )
                yield VerticalScroll(id="apply-panes")
                with VerticalScroll(id="apply-summary-box") as box:
                    box.border_title = "Summary"
                    yield Static("", id="apply-summary")
        yield Footer()

    def _host_label(self, folder: str) -> str:
        state = self.session.state
        host = state.hosts.get(folder) if state else None
        tags = ",".join(host.tags) if host else ""
        return f"{folder}  [{tags}]" if tags else folder

    def on_mount(self) -> None:
        self.app.sub_title = "apply"
        self.query_one("#apply-hosts", SelectionList).focus()
        if self.review_first:
            self.call_after_refresh(self.action_review)

    # ---- choosing ----------------------------------------------------------------------

    def chosen(self) -> list[str]:
        return list(self.query_one("#apply-hosts", SelectionList).selected)

    def mode(self) -> str:
        return str(self.query_one("#apply-mode", Select).value)

    @on(Select.Changed, "#apply-tag")
    def _tag(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str) or self.session.state is None:
            return
        hosts = self.query_one("#apply-hosts", SelectionList)
        hosts.deselect_all()
        for folder, host in self.session.state.hosts.items():
            if event.value in host.tags:
                hosts.select(folder)

    @on(Button.Pressed, "#apply-review-button")
    def _review_pressed(self) -> None:
        self.action_review()

    @on(Button.Pressed, "#apply-go")
    def _go_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#apply-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel_apply()

    # ---- reviewing ---------------------------------------------------------------------

    def action_review(self) -> None:
        chosen = self.chosen()
        if not chosen:
            self.query_one("#apply-changes", Static).update("No host chosen.")
            return
        self.query_one("#apply-changes", Static).update("comparing with what each host runs…")
        self.review(tuple(chosen))

    @work(thread=True, exclusive=True, group="review")
    def review(self, chosen: tuple[str, ...]) -> None:
        try:
            diffs = self.session.lab.diff(None, list(chosen))
        except InvalidInput as err:
            text = Text("Cannot compare:\n", style="bold red")
            for p in err.problems:
                text.append(f"{p}\n", style="red")
            self.app.call_from_thread(self._show_review, text, None)
            return
        text = Text()
        for d in diffs:
            since = "its last deploy" if d.base_kind == "deployed" else d.base_kind
            base = f" ({d.base[:7]})" if d.base else ""
            if not d.changed:
                text.append(f"{d.host}: nothing changed since {since}{base}\n\n", style="dim")
                continue
            text.append(f"{d.host}: changes since {since}{base}\n", style="bold")
            for line in d.changes or ("generated files changed",):
                text.append(f"  • {line}\n")
            text.append_text(diff_text(list(d.nix)))
            text.append("\n")
        self.app.call_from_thread(self._show_review, text, chosen)

    def _show_review(self, text: Text, chosen: tuple[str, ...] | None) -> None:
        self.query_one("#apply-changes", Static).update(text)
        self.reviewed = (chosen, self.mode()) if chosen else None

    # ---- applying ----------------------------------------------------------------------

    @work(exclusive=True, group="confirm")
    async def action_apply(self) -> None:
        if self.running:
            return
        chosen = self.chosen()
        if not chosen:
            self.notify("choose at least one host", severity="warning")
            return
        unsaved = [f for f in chosen if f in self.session.dirty()]
        if unsaved:
            self.notify(f"save first: unsaved edits in {', '.join(unsaved)}", severity="warning")
            return
        mode = self.mode()
        names = ", ".join(chosen) if len(chosen) <= 6 else f"{len(chosen)} hosts"
        answer = await self.app.push_screen_wait(
            Confirm(
                "Apply?",
                f"Apply ({mode}) to {names}? Each host builds and activates its configuration "
                "over SSH; the ones that fail stay as they are.",
                [("Cancel", "cancel", "default"), (f"Apply ({mode})", "apply", "warning")],
            )
        )
        if answer != "apply":
            return
        await self.start(chosen, mode)

    async def start(self, chosen: list[str], mode: str) -> None:
        self.running = True
        self.cancel.clear()
        self.add_class("-running")
        self.query_one("#apply-summary-box").set_class(False, "-shown")
        panes = self.query_one("#apply-panes", VerticalScroll)
        await panes.remove_children()
        await panes.mount_all([HostPane(folder) for folder in chosen])
        self.query_one("#apply-cancel", Button).disabled = False
        self.query_one("#apply-go", Button).disabled = True
        self.ticker = self.set_interval(0.5, self._tick)
        self.run_apply(chosen, mode)

    @work(thread=True, exclusive=True, group="apply")
    def run_apply(self, chosen: list[str], mode: str) -> None:
        """The apply workflow the CLI runs too (homelab.deploy.workflow): commit what goes
        out, send it, record it; here without asking (the dialog did)."""
        from homelab.deploy.lablock import only_apply
        from homelab.deploy.models import ApplyOptions, Mode
        from homelab.deploy.workflow import prepare, send
        from homelab.errors import LabFailure, Place

        lab = self.session.lab
        notes: list[str] = []
        try:
            with only_apply(lab.root, "an apply from the editor"):
                ready = prepare(lab, chosen)
                options = ApplyOptions(mode=Mode(mode))
                outcome = send(ready, options, self._emit, self.cancel, notes.append)
        except InvalidInput as err:
            self.post_message(ApplyRefused("Not applied", err.problems))
            return
        except LabFailure as err:
            problem = Problem(Place(str(lab.root)), str(err))
            self.post_message(ApplyRefused("Not applied", [problem]))
            return
        lines = lab.apply_report(outcome.results).lines() + (["", *notes] if notes else [])
        self.post_message(ApplyFinished(outcome.results, lines))

    def _emit(self, event: Any) -> None:
        self.post_message(ApplyEvent(event))

    def on_apply_event(self, message: ApplyEvent) -> None:
        event = message.event
        folder = self._folder_of(event.host)
        try:
            pane = self.query_one(f"#pane-{folder}", HostPane)
        except Exception:
            return
        pane.event(event)

    def _folder_of(self, name: str) -> str:
        state = self.session.state
        if state is not None:
            for folder, host in state.hosts.items():
                if host.profile is not None and host.profile.name == name:
                    return folder
        return name

    def _tick(self) -> None:
        for pane in self.query(HostPane):
            pane.show_title()

    def on_apply_finished(self, message: ApplyFinished) -> None:
        self.running = False
        self.ticker.stop()
        self._tick()
        failed = [r for r in message.results if not r.ok]
        self.query_one("#apply-summary", Static).update("\n".join(message.lines))
        box = self.query_one("#apply-summary-box")
        box.set_class(True, "-shown")
        box.set_class(bool(failed), "-failed")
        self.query_one("#apply-cancel", Button).disabled = True
        self.query_one("#apply-go", Button).disabled = False
        if failed:
            self.notify(f"{len(failed)} of {len(message.results)} host(s) failed", severity="error")
        else:
            self.notify(f"applied to {len(message.results)} host(s)")

    @work(exclusive=True, group="confirm")
    async def on_apply_refused(self, message: ApplyRefused) -> None:
        self.running = False
        self.remove_class("-running")
        self.query_one("#apply-cancel", Button).disabled = True
        self.query_one("#apply-go", Button).disabled = False
        if hasattr(self, "ticker"):
            self.ticker.stop()
        await self.app.push_screen_wait(Refused(message.title, message.problems))

    def action_cancel_apply(self) -> None:
        if self.running and not self.cancel.is_set():
            self.cancel.set()
            self.notify("cancelling: each host stops at a safe point")

    def action_back(self) -> None:
        if self.running:
            self.notify("an apply is running: cancel it (ctrl+x) or wait", severity="warning")
            return
        self.app.pop_screen()
