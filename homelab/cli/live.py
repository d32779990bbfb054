"""The live view of an apply (a rollback) on the command line: on a terminal, one line per
host redrawn in place below the machines' output (rich's Live, with a spinner while a host
runs, lines cut to the terminal's width); anywhere else plain lines prefixed with the host's
name. Events come from the apply's worker threads."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

from homelab.cli.output import STYLES, printable

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from homelab.lab import Event

# the words the live view shows for the final states (the summary's, homelab.deploy.report)
FINAL_WORDS = {
    "done": "ok",
    "failed": "FAILED",
    "cancelled": "cancelled",
    "interrupted": "INTERRUPTED",
}


@dataclass
class _Host:
    state: str = "waiting"
    started: float | None = None
    elapsed: float = 0.0
    last: str = ""

    def clock(self, now: float) -> str:
        if self.started is None:
            return ""
        final = self.state in FINAL_WORDS
        return f"{self.elapsed if final else now - self.started:5.1f}s"


class Progress:
    """Shows apply events (they come from worker threads). Live: one line per host, redrawn
    in place below the machines' output (rich's Live); else plain lines prefixed with the
    host's name. A view with more hosts than the terminal has lines is plain too."""

    def __init__(
        self, hosts: Sequence[str], out: TextIO, *, live: bool, width: int | None = None
    ) -> None:
        self.out = out
        self.hosts = {h: _Host() for h in hosts}
        self.width = max((len(h) for h in hosts), default=4)
        self.live = live and len(hosts) + 2 < shutil.get_terminal_size((100, 40)).lines
        self.lock = threading.Lock()  # the hosts' states; never held while drawing
        self.view: Live | None = None
        self.console: Console | None = None
        if self.live:
            from rich.console import Console  # deferred: only a terminal needs rich
            from rich.live import Live

            self.console = Console(
                file=out, force_terminal=True, width=width, highlight=False, markup=False
            )
            self.view = Live(
                get_renderable=self._render,
                console=self.console,
                refresh_per_second=4,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.view.start()

    def event(self, event: Event) -> None:
        state = str(event.state)
        line = None if event.line is None else printable(event.line)
        with self.lock:
            host = self.hosts.setdefault(event.host, _Host())
            if host.started is None and state != "waiting":
                host.started = time.monotonic() - event.elapsed
            host.elapsed = event.elapsed
            changed = state != host.state
            host.state = state
            if line is not None:
                host.last = line
        name = event.host.ljust(self.width)
        if self.view is not None:
            if line is not None:
                self._above(f"{name} | {line}")
            else:
                self.view.refresh()
        elif line is not None:
            self._write(f"{name} | {line}")
        elif changed and state != "waiting":
            self._write(f"{name} : {state} ({event.elapsed:.1f}s)")

    def note(self, text: str) -> None:
        """A line of the apply itself (a commit made, a key pinned), above the live view."""
        if self.view is not None:
            self._above(printable(text))
        else:
            self._write(printable(text))

    def close(self) -> None:
        if self.view is not None:
            self.view.stop()  # the last drawing stays on the screen
            self.view = None
        self.out.flush()

    def _write(self, line: str) -> None:
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()

    def _above(self, line: str) -> None:
        from rich.text import Text  # deferred: only a terminal needs rich

        assert self.console is not None  # the live view is on
        self.console.print(Text(line), no_wrap=True, overflow="ellipsis", crop=True)

    def _render(self) -> RenderableType:
        from rich.spinner import Spinner  # deferred: only a terminal needs rich
        from rich.table import Table
        from rich.text import Text

        now = time.monotonic()
        with self.lock:
            hosts = [(name, replace(host)) for name, host in self.hosts.items()]
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(no_wrap=True)  # host
        grid.add_column(no_wrap=True, width=1)  # a spinner while it runs
        grid.add_column(no_wrap=True)  # state
        grid.add_column(no_wrap=True, justify="right")  # time
        grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)  # its last line
        for name, host in hosts:
            word = FINAL_WORDS.get(host.state, host.state)
            running = host.started is not None and host.state not in FINAL_WORDS
            grid.add_row(
                name,
                Spinner("dots", style="cyan") if running else "",
                Text(word, style=STYLES.get(word, "dim" if host.state == "waiting" else "")),
                host.clock(now),
                Text(host.last, style="dim"),
            )
        return grid
