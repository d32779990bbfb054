"""One host's live output during an apply, with its state and elapsed time in the border;
when the host did not end well, why, and what to do next."""

from __future__ import annotations

import textwrap
import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log

from homelab.lab import ApplyState, Event, HostResult
from homelab.tui.plain import plain

TAIL = "last lines from the machine:"  # the output the pane has shown already


def state_class(state: str) -> str:
    """The CSS class of a state ("rolling back" -> "-rolling-back": a class has no spaces)."""
    return "-" + state.replace(" ", "-")


class HostPane(Vertical):
    """The output of one host folder's apply, line by line, as its events arrive."""

    DEFAULT_CSS = """
    HostPane { height: 12; border: round $primary 40%; }
    HostPane.-done { border: round $success; }
    HostPane.-failed { border: round $error; }
    HostPane.-cancelled, HostPane.-interrupted { border: round $warning; }
    HostPane > Log { height: 1fr; }
    """

    def __init__(self, host: str) -> None:
        super().__init__(id=f"pane-{host}")
        self.host = host
        self.state: str = ApplyState.WAITING
        self.started: float | None = None
        self.elapsed = 0.0

    def compose(self) -> ComposeResult:
        yield Log(max_lines=2000, auto_scroll=True)

    def on_mount(self) -> None:
        self.show_title()

    def event(self, event: Event) -> None:
        if self.started is None and event.state != ApplyState.WAITING:
            self.started = time.monotonic() - event.elapsed
        self.elapsed = event.elapsed
        if event.state != self.state:
            self.remove_class(state_class(self.state))
            self.state = event.state
            self.add_class(state_class(self.state))
        if event.line is not None:
            self.query_one(Log).write_line(event.line)
        self.show_title()

    def show_title(self) -> None:
        elapsed = self.elapsed
        if self.started is not None and not ApplyState(self.state).final:
            elapsed = time.monotonic() - self.started
        clock = f"{elapsed:.1f}s" if self.started is not None else ""
        self.border_title = plain(f"{self.host} · {self.state}")
        self.border_subtitle = plain(clock)

    def ended(self, result: HostResult) -> None:
        """Say why the host did not end well (a failure to connect has no output of its
        own: the pane would stay empty), and the next step."""
        if result.ok:
            return
        log = self.query_one(Log)
        log.write_line(f"── {result.state}: {result.summary}")
        for line in result.details:
            if line == TAIL:
                break
            log.write_line(f"   {line}")
        width = max(40, log.scrollable_content_region.width - 1)  # a Log does not wrap
        for line in textwrap.wrap(f"next: {next_step(result)}", width, subsequent_indent=" " * 6):
            log.write_line(line)


def next_step(result: HostResult) -> str:
    """What a person can do about a host that did not end well, in the editor's keys."""
    again = "then apply again (ctrl+r)"
    if result.state == ApplyState.CANCELLED:
        return f"nothing more was done on it; {again} when you are ready"
    if result.state == ApplyState.INTERRUPTED:
        return "its rebuild goes on on the machine: `homelab status --live` asks how it ended"
    if result.unknown_key:
        return "check the fingerprint in the question that follows; trust it if it is the machine's"
    if result.before is None:  # never got as far as asking the machine what it runs
        return (
            "the machine was not reached or not ready: check that it is on and lets you in "
            f"over SSH (its profile's deploy address, port and user), {again}"
        )
    if result.rolled_back:
        return (
            f"the machine was switched back; read the output above, fix the profile, save, {again}"
        )
    return f"the machine runs what it ran; read the output above, fix the profile, save, {again}"
