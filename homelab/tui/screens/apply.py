"""Applying from the editor: choose hosts (or a tag) and a mode, review what goes out,
confirm, then watch each host's output live in its own pane, with its state and time.

The apply is the one the command line runs (Lab.prepare_apply, Lab.send: the workflow in
homelab.deploy.workflow), in a worker thread: refused before anything is committed when it
cannot go on, then what goes out is committed, sent, and every host recorded with that
commit. Its events arrive here as messages, so the screen stays responsive; cancel stops
each host at a safe point. Like the command line, it asks for the sudo password (before
the commit) when told to, and a machine whose host key is unknown shows its fingerprint:
trusted, exactly that key is accepted on a second apply to it, and pinned in its profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Header,
    Select,
    SelectionList,
)
from textual.widgets.selection_list import Selection

from homelab.editing.session import Session
from homelab.errors import InvalidInput, LabFailure, Place, Problem
from homelab.lab import ApplyOptions, Event, HostResult, Lab, Mode, SshSettings, Stop
from homelab.tui.plain import Label, Static, plain
from homelab.tui.screens.asks import SudoPassword, TrustHostKey
from homelab.tui.screens.dialogs import Confirm, Refused
from homelab.tui.widgets.hostpane import HostPane
from homelab.tui.widgets.picklist import PickList, TickBox
from homelab.tui.widgets.preview import diff_text

__all__ = ["ApplyScreen", "HostPane"]


@dataclass(frozen=True)
class Applied:
    """What one apply did: every host's result, and the summary to show."""

    results: tuple[HostResult, ...]
    lines: tuple[str, ...]
    stopped: bool = False


@dataclass(frozen=True)
class Asked:
    """What the person chose for one apply (the password is never shown or kept after it)."""

    hosts: tuple[str, ...]  # host folders
    mode: Mode
    sudo_password: str | None = field(default=None, repr=False)
    accepted: dict[str, str] = field(default_factory=dict)  # host name -> key checked
    force: bool = False  # rebuild machines that already run what would be sent


def count(hosts: list[str]) -> str:
    return f"{len(hosts)} host" + ("" if len(hosts) == 1 else "s")


def which_hosts(hosts: list[str], most: int = 12) -> str:
    """ "3 hosts: a, b, c": how many, and which (the first dozen, then how many more)."""
    shown = ", ".join(hosts[:most])
    more = f" and {len(hosts) - most} more" if len(hosts) > most else ""
    return f"{count(hosts)}: {shown}{more}"


class ApplyEvent(Message):
    """One event of the apply (from its threads)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


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
    ApplyScreen #apply-side TickBox { width: 1fr; margin: 1 0 0 0; }
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
        self.cancel = Stop()
        self.running = False
        self.review_first = review
        self.reviewed: tuple[tuple[str, ...], str] | None = None
        self.asked: Asked | None = None  # the apply under way (crash reports mask its password)

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
                hosts = PickList(
                    *[Selection(plain(self._host_label(f)), f, f == self.folder) for f in folders],
                    id="apply-hosts",
                )
                hosts.border_title = "Hosts to apply"
                yield hosts
                yield Label("Or every host with a tag")
                yield Select(
                    [(Text(f"@{t}"), t) for t in sorted(tags)],  # a tag is text, `[` too
                    prompt="(a tag)",
                    id="apply-tag",
                    compact=True,
                )
                yield Label("Mode")
                yield Select(
                    [(m.value, m.value) for m in Mode],
                    value=Mode.SWITCH.value,
                    allow_blank=False,
                    id="apply-mode",
                    compact=True,
                )
                yield TickBox("Ask for the sudo password", id="apply-sudo", compact=True)
                yield TickBox("Rebuild up-to-date hosts", id="apply-force", compact=True)
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
        tags = " ".join(f"@{t}" for t in host.tags) if host else ""
        return f"{folder}  {tags}" if tags else folder  # "@tag": as the tag choice names it

    def on_mount(self) -> None:
        self.sub_title = "apply"  # the screen's own: gone with it
        hosts = self.query_one("#apply-hosts", SelectionList)
        if self.folder in self.session.folders():  # the host being edited: picked, and here
            hosts.highlighted = self.session.folders().index(self.folder)
        hosts.focus()
        if self.review_first:
            self.call_after_refresh(self.action_review)

    # ---- choosing ----------------------------------------------------------------------

    def chosen(self) -> list[str]:
        return list(self.query_one("#apply-hosts", SelectionList).selected)

    def mode(self) -> Mode:
        return Mode(str(self.query_one("#apply-mode", Select).value))

    @on(Select.Changed, "#apply-tag")
    def _tag(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str) or self.session.state is None:
            return
        hosts = self.query_one("#apply-hosts", SelectionList)
        hosts.deselect_all()
        for folder, host in self.session.state.hosts.items():
            if event.value in host.tags:
                hosts.select(folder)

    @on(SelectionList.SelectedChanged, "#apply-hosts")
    def _picked(self) -> None:
        if self.reviewed is not None and not self.running:  # a review shown follows the picks
            self.action_review()

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
        built_on = self.session.state.built_on() if self.session.state is not None else {}
        for d in diffs:
            if d.host in built_on:
                text.append(f"{d.host}: built on {built_on[d.host]}\n", style="italic")
            since = "its last deploy" if d.base_kind == "deployed" else d.base_kind
            base = f" ({d.base[:7]})" if d.base else ""
            if d.never_deployed:
                text.append(f"{d.host}: never deployed: everything is new\n", style="bold")
                if not d.changed:
                    text.append("\n")
                    continue
                text.append(f"its edits since HEAD{base}:\n")
            elif not d.changed:
                text.append(f"{d.host}: nothing changed since {since}{base}\n\n", style="dim")
                continue
            else:
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

    def action_apply(self) -> None:
        if self.running:
            self.notify("an apply is running: cancel it (ctrl+x) or wait", severity="warning")
            return
        self.ask_and_apply()

    @work(exclusive=True, group="confirm")
    async def ask_and_apply(self) -> None:
        """Ask (apply? the sudo password?), apply, then offer each unknown host key: the
        hosts whose key the person trusts are applied to again, accepting that key."""
        chosen = self.chosen()
        if not chosen:
            self.notify("choose at least one host", severity="warning")
            return
        unsaved = [f for f in chosen if f in self.session.dirty()]
        if unsaved:
            self.notify(f"save first: unsaved edits in {', '.join(unsaved)}", severity="warning")
            return
        mode = self.mode()
        names = which_hosts(chosen)
        answer = await self.app.push_screen_wait(
            Confirm(
                f"Apply to {count(chosen)}?",
                f"Apply ({mode}) to {names}? Each host builds and activates its configuration "
                "over SSH; the ones that fail stay as they are.",
                [("Cancel", "cancel", "default"), (f"Apply ({mode})", "apply", "warning")],
            )
        )
        if answer != "apply":
            return
        password = None
        if self.query_one("#apply-sudo", TickBox).value:
            password = await self.app.push_screen_wait(SudoPassword(names))
            if password is None:
                self.notify("nothing applied: no sudo password given", severity="warning")
                return
        force = self.query_one("#apply-force", TickBox).value
        asked: Asked | None = Asked(tuple(chosen), mode, password, force=force)
        while asked is not None:
            applied = await self.start(asked)
            asked = await self.trust_keys(asked, applied) if applied else None
        self.asked = None  # kept after an error: the crash report masks the password

    async def start(self, asked: Asked) -> Applied | None:
        """Apply and show it; None when it was refused before anything was sent."""
        self.running = True
        self.asked = asked
        self.cancel.clear()
        self.cancel.leave_running = False
        self.add_class("-running")
        self.query_one("#apply-summary-box").set_class(False, "-shown")
        panes = self.query_one("#apply-panes", VerticalScroll)
        await panes.remove_children()
        await panes.mount_all([HostPane(folder) for folder in asked.hosts])
        self.query_one("#apply-cancel", Button).disabled = False
        self.query_one("#apply-go", Button).disabled = True
        ticker = self.set_interval(0.5, self._tick)
        worker = self.run_apply(asked)
        try:
            await worker.wait()
        finally:
            ticker.stop()
            self._tick()
            self.running = False
            self.query_one("#apply-cancel", Button).disabled = True
            self.query_one("#apply-go", Button).disabled = False
        done = worker.result
        if isinstance(done, Applied):
            ended = {r.folder: r for r in done.results}
            for pane in self.query(HostPane):
                if pane.host in ended:
                    pane.ended(ended[pane.host])
            self._show_summary(done)
            return done
        self.remove_class("-running")
        await self.app.push_screen_wait(Refused("Not applied", done or []))
        return None

    @work(thread=True, exclusive=True, group="apply")
    def run_apply(self, asked: Asked) -> Applied | list[Problem]:
        """The apply workflow the CLI runs too: refusals before any commit, then commit
        what goes out, send it, pin an accepted key, record; here without asking (the
        dialogs did)."""
        lab = self.session.lab
        notes: list[str] = []
        try:
            with lab.only_apply("an apply from the editor"):
                ssh = SshSettings.from_home(accept_keys=asked.accepted)
                # the machines are connected to while the lab is built and committed
                ready = lab.prepare_apply(list(asked.hosts), ssh=ssh)
                options = ApplyOptions(
                    mode=asked.mode,
                    ssh=ssh,
                    sudo_password=asked.sudo_password,
                    force=asked.force,
                )
                outcome = lab.send(ready, options, self._emit, self.cancel, notes.append)
        except InvalidInput as err:
            return list(err.problems)
        except LabFailure as err:
            return [Problem(Place(str(lab.root)), str(err))]
        lines = lab.apply_report(outcome.results).lines() + (["", *notes] if notes else [])
        return Applied(outcome.results, tuple(lines), outcome.stopped)

    async def trust_keys(self, asked: Asked, applied: Applied) -> Asked | None:
        """Each machine that presented an unknown key: its fingerprint, and the question.
        The next apply goes to the trusted ones only, accepting exactly the keys shown."""
        if applied.stopped:
            return None
        trusted: dict[str, str] = {}
        folders: list[str] = []
        for result in applied.results:
            if not result.unknown_key:
                continue
            answer = await self.app.push_screen_wait(
                TrustHostKey(result.host, result.folder, result.unknown_key)
            )
            if answer == "trust":
                trusted[result.host] = result.unknown_key
                folders.append(result.folder)
        if not trusted:
            return None
        return Asked(tuple(folders), asked.mode, asked.sudo_password, trusted, asked.force)

    def _emit(self, event: Event) -> None:
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

    def _show_summary(self, applied: Applied) -> None:
        failed = [r for r in applied.results if not r.ok]
        self.query_one("#apply-summary", Static).update("\n".join(applied.lines))
        box = self.query_one("#apply-summary-box")
        box.set_class(True, "-shown")
        box.set_class(bool(failed), "-failed")
        if failed:
            self.notify(f"{len(failed)} of {len(applied.results)} host(s) failed", severity="error")
        else:
            self.notify(f"applied to {len(applied.results)} host(s)")

    def sensitive(self) -> list[str]:
        """What a crash report must not show while this screen holds it."""
        asked = self.asked
        return [asked.sudo_password] if asked is not None and asked.sudo_password else []

    def action_cancel_apply(self) -> None:
        if self.running and not self.cancel.is_set():
            self.cancel.set()
            self.notify("cancelling: each host stops at a safe point")

    def action_back(self) -> None:
        if self.running:
            self.notify("an apply is running: cancel it (ctrl+x) or wait", severity="warning")
            return
        self.app.pop_screen()
