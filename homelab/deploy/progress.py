"""Showing an apply on a terminal: a live view (one line per host, redrawn in place, the
machines' output scrolling above it) or, when not on a terminal, plain lines prefixed
with the host name. And the summary table at the end."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from homelab.deploy.apply import FINAL, Event, HostResult

ICONS = {"done": "ok", "failed": "FAILED", "cancelled": "cancelled", "interrupted": "INTERRUPTED"}


@dataclass
class _Host:
    state: str = "waiting"
    started: float | None = None
    elapsed: float = 0.0
    last: str = ""


class Progress:
    """Receives apply events (from worker threads) and prints them."""

    def __init__(self, hosts: Sequence[str], out: TextIO, *, live: bool) -> None:
        self.out = out
        self.hosts = {h: _Host() for h in hosts}
        self.width = max((len(h) for h in hosts), default=4)
        size = shutil.get_terminal_size((100, 40))
        self.live = live and len(hosts) + 2 < size.lines
        self.columns = size.columns
        self.lock = threading.Lock()
        self.drawn = 0
        self.stopped = threading.Event()
        self.ticker: threading.Thread | None = None
        if self.live:
            self.ticker = threading.Thread(target=self._tick, daemon=True)
            self.ticker.start()

    def event(self, event: Event) -> None:
        with self.lock:
            host = self.hosts.setdefault(event.host, _Host())
            if host.started is None and event.state != "waiting":
                host.started = time.monotonic() - event.elapsed
            host.elapsed = event.elapsed
            changed = event.state != host.state
            host.state = event.state
            if event.line is not None:
                host.last = event.line
            if self.live:
                self._clear()
                if event.line is not None:
                    self.out.write(
                        self._fit(f"{event.host.ljust(self.width)} | {event.line}") + "\n"
                    )
                self._draw()
            elif event.line is not None:
                self.out.write(f"{event.host.ljust(self.width)} | {event.line}\n")
            elif changed and event.state != "waiting":
                self.out.write(
                    f"{event.host.ljust(self.width)} : {event.state} ({event.elapsed:.1f}s)\n"
                )
            self.out.flush()

    def note(self, text: str) -> None:
        """A line of the apply itself (a commit made, a key pinned), above the live view."""
        with self.lock:
            if self.live:
                self._clear()
                self.out.write(self._fit(text) + "\n")
                self._draw()
            else:
                self.out.write(text + "\n")
            self.out.flush()

    def close(self) -> None:
        self.stopped.set()
        if self.ticker is not None:
            self.ticker.join()
        with self.lock:
            if self.live:
                self._clear()
                self._draw()
                self.drawn = 0
            self.out.flush()

    # ---- the live view -------------------------------------------------------------------

    def _tick(self) -> None:
        while not self.stopped.wait(0.5):
            with self.lock:
                self._clear()
                self._draw()
                self.out.flush()

    def _clear(self) -> None:
        if self.drawn:
            self.out.write(f"\x1b[{self.drawn}F\x1b[J")
            self.drawn = 0

    def _draw(self) -> None:
        now = time.monotonic()
        for name, host in self.hosts.items():
            elapsed = host.elapsed
            if host.started is not None and host.state not in FINAL:
                elapsed = now - host.started
            state = ICONS.get(host.state, host.state)
            clock = f"{elapsed:5.1f}s" if host.started is not None else "      "
            line = f"{name.ljust(self.width)}  {state:<12} {clock}  {host.last}"
            self.out.write(self._fit(line) + "\n")
        self.drawn = len(self.hosts)

    def _fit(self, text: str) -> str:
        limit = max(20, self.columns - 1)
        return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(results: Sequence[HostResult]) -> list[str]:
    """The table at the end: one line per host, then what went wrong, in words."""
    rows = [("HOST", "RESULT", "TIME", "WHAT HAPPENED")]
    for r in results:
        rows.append((r.host, ICONS.get(r.state, r.state), f"{r.elapsed:.1f}s", r.summary))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)), row[3]]).rstrip()
        for row in rows
    ]
    for r in results:
        if r.ok or not r.details:
            continue
        lines.append("")
        lines.append(f"{r.host}:")
        lines.extend(f"  {d}" for d in "\n".join(r.details).splitlines())
    for r in results:
        if r.closure_diff:
            lines.append("")
            lines.append(f"{r.host}: what the new system changes (closure diff)")
            lines.extend(f"  {d}" for d in r.closure_diff)
    return lines
