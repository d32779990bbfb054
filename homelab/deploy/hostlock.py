"""The host's lock, and what the probe that takes it says of the machine.

homelab's probe (scripts.PROBE) takes the machine's lock, prints facts (`key=value`
lines), then `ready`, and holds the lock until homelab closes its channel. While the
apply runs, a heartbeat on that channel shows the machine that it is still there; a lock
whose apply went silent is taken over by the next one. `Facts` reads the probe's answer
(pure); `HostLock` holds the channel.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homelab.deploy.command import Remote
from homelab.deploy.models import Generation, generation_number
from homelab.deploy.target import Cancelled, ConnectionLost, Target, parse_facts


class Failed(Exception):
    """The host's apply failed: one line for the summary, and the longer story."""

    def __init__(self, summary: str, *details: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


class Interrupted(Exception):
    """homelab stopped following a run that goes on on the machine."""

    def __init__(self, run: str, summary: str, *details: str) -> None:
        super().__init__(summary)
        self.run = run
        self.summary = summary
        self.details = details


@dataclass(frozen=True)
class Facts:
    """What the probe found on the machine."""

    root: str = ""
    user: str = ""
    current: str = ""
    generation: int | None = None
    systemd: bool = False
    nvd: bool = False
    nix: bool = False
    rebuild: bool = False
    manifest: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    staging: str = ""
    cleaned: tuple[str, ...] = ()

    @property
    def generation_now(self) -> Generation:
        return Generation(self.generation, self.current)

    @classmethod
    def parse(cls, text: str) -> Facts:
        """The probe's answer (its `key=value` lines)."""
        found = parse_facts(text)
        return cls(
            root=found.get("root", ""),
            user=found.get("user", ""),
            current=found.get("current", ""),
            generation=generation_number(found.get("profile", "")),
            systemd=found.get("systemd") == "1",
            nvd=found.get("nvd") == "1",
            nix=found.get("nix") == "1",
            rebuild=found.get("rebuild") == "1",
            manifest=_json(found.get("manifest", "")),
            secrets={str(k): str(v) for k, v in _json(found.get("secrets", "")).items()},
            staging=found.get("staging", ""),
            cleaned=tuple(v for k, v in _pairs(text) if k == "cleaned"),
        )


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out.append((key, value))
    return out


def _rest(chan: Any, wait: float = 10.0) -> bytes:
    """The output still to come from a command that has ended: OpenSSH sends the exit
    status when the command exits, which can be before its last lines have been read."""
    out = b""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if chan.recv_ready():
            out += chan.recv(65536)
        elif chan.eof_received or chan.closed:
            return out + (chan.recv(65536) if chan.recv_ready() else b"")
        else:
            time.sleep(0.01)  # status_event is set already: waiting on it would spin
    return out


class HostLock:
    """The channel that holds the host's lock, with its heartbeat."""

    def __init__(
        self, target: Target, cancel: threading.Event, *, wait: float, beat: float
    ) -> None:
        self.target = target
        self.cancel = cancel
        self.wait = wait  # how long the probe may wait for the lock
        self.beat = beat  # seconds between signs of life
        self.holder: Any = None  # the probe's paramiko Channel
        self.beating: threading.Event | None = None

    def ask(self, probe: Remote) -> tuple[Any, str]:
        """Start a probe: its answer up to `ready`, and its channel, which holds the lock
        until it is closed (its input stays open)."""
        chan = self.target.open_channel(probe.line())
        data = b""
        deadline = time.monotonic() + max(60.0, self.wait + 30)
        while b"\nready\n" not in b"\n" + data:
            if chan.recv_ready():
                data += chan.recv(65536)
                continue
            if chan.exit_status_ready():
                data += _rest(chan)
                if b"\nready\n" in b"\n" + data:
                    break
                if not self.target.connection_alive():
                    raise ConnectionLost("the connection dropped")
                err = chan.recv_stderr(65536).decode(errors="replace").strip()
                said = data.decode("utf-8", "replace").strip().splitlines()
                # never an empty reason: the exit status and the probe's last words
                why = err or "; ".join(said[-3:]) or "it printed nothing"
                status = chan.recv_exit_status()
                raise Failed(
                    f"the machine could not run homelab's probe (exit {status}): {why[:200]}"
                )
            if time.monotonic() > deadline:
                chan.close()
                raise Failed("the machine did not answer homelab's probe")
            if self.cancel.is_set():
                raise Cancelled()
            chan.status_event.wait(0.02)
        return chan, data.decode("utf-8", "replace")

    def keep(self, chan: Any, name: str) -> None:
        """Hold the lock on this channel: signs of life on it show the machine that this
        apply is still there, and a later apply takes over the lock only once they stop."""
        self.holder = chan
        stop = self.beating = threading.Event()

        def beat() -> None:
            while not stop.wait(self.beat):
                try:
                    chan.sendall(b"\n")
                except Exception:  # the connection went: the lock went with it
                    return

        threading.Thread(target=beat, name=f"heartbeat-{name}", daemon=True).start()

    def again(self, probe: Remote, name: str) -> str:
        """After a reconnect (the lock went with the old connection): take it again. A
        note when another apply got it in between."""
        self.release()
        try:
            chan, text = self.ask(probe)
        except (ConnectionLost, Failed):
            return ""
        if "locked" in parse_facts(text):
            chan.close()
            return "after reconnecting, another apply held this host's lock"
        self.keep(chan, name)
        return ""

    def release(self) -> None:
        if self.beating is not None:
            self.beating.set()
            self.beating = None
        if self.holder is not None:
            with contextlib.suppress(Exception):
                self.holder.close()
            self.holder = None
