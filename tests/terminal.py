"""A real `homelab` process (the editor, or apply at its question) on a pseudo-terminal of
its own, driven by keystrokes."""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# keys as a terminal sends them
CTRL_N = b"\x0e"
CTRL_Q = b"\x11"
ENTER = b"\r"
F2 = b"\x1bOQ"


def _syscall(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/syscall").read_text().split()[0]
    except (OSError, IndexError):
        return ""


class Terminal:
    """The process is the session leader of its terminal, as in a person's shell."""

    def __init__(
        self,
        command: list[str],
        size: tuple[int, int] = (160, 48),
        env: dict[str, str] | None = None,
    ) -> None:
        self.command, self.size = command, size
        self.seen = b""
        self.env = {
            **(os.environ if env is None else env),
            "TERM": "xterm-256color",
            "COLUMNS": str(size[0]),
            "LINES": str(size[1]),
        }

    @classmethod
    def editor(cls, lab: Path, *args: str) -> Terminal:
        return cls([sys.executable, "-m", "homelab", "--lab", str(lab), "tui", *args])

    def __enter__(self) -> Terminal:
        self.master, slave = pty.openpty()
        columns, lines = self.size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))

        def take_terminal() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=REPO, stdin=slave, stdout=slave, stderr=slave,
            preexec_fn=take_terminal,
        )  # fmt: skip
        os.close(slave)
        return self

    def _read(self, within: float) -> None:
        ready, _, _ = select.select([self.master], [], [], within)
        if ready:
            with contextlib.suppress(OSError):  # the other side closed
                self.seen += os.read(self.master, 65536)

    def wait_for(self, text: bytes, within: float = 60) -> None:
        self.wait_until(lambda: text in self.seen, within, f"{text!r} on the screen")

    def wait_until(self, done: Callable[[], bool], within: float = 60, what: str = "") -> None:
        deadline = time.monotonic() + within
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {within} s for {what}; the terminal showed:\n{self.text}"
                )
            self._read(0.1)

    def wait_until_reading(self, within: float = 30) -> None:
        """Until the process sleeps in a read of its terminal. A signal (Ctrl-C) that lands
        between a prompt and input()'s read() only sets Python's flag, and the read then
        waits for a key: no person types that fast, a loaded test machine can."""
        if platform.machine() != "x86_64" or not _syscall(os.getpid()):
            time.sleep(0.5)  # no way to see the read here: a pause instead
            return
        stat = Path(f"/proc/{self.process.pid}/stat")

        def reading() -> bool:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
            return state == "S" and _syscall(self.process.pid) == "0"  # 0: read on x86_64

        self.wait_until(reading, within, "the process to read its terminal")

    def wait_until_quiet(self, quiet: float = 0.5, within: float = 30) -> None:
        """Until the screen stops changing for `quiet` seconds: the last key took effect.
        A full-screen app reads keys that come together as one burst, and a key bound
        above the focused widget (Tab) then moves the focus after the keys behind it
        were already given to the old one: a person sees each key's effect first.

        A focused text field's cursor blinks: it redraws the field every 0.5 s, the same
        two frames in turn. A redraw already seen during this wait changes nothing on the
        screen: it does not count (else the wait raced the blink's timer)."""
        deadline = time.monotonic() + within
        drawn: set[bytes] = set()
        while time.monotonic() < deadline:
            before = len(self.seen)
            self._read(quiet)
            new = self.seen[before:]
            if not new or new in drawn:
                return
            drawn.add(new)
        raise AssertionError(f"the screen kept changing for {within} s")

    @property
    def text(self) -> str:
        return self.seen.decode(errors="replace")

    def type(self, data: bytes, pause: float = 0.3) -> None:
        os.write(self.master, data)
        self._read(pause)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def end(self, within: float = 60) -> int:
        deadline = time.monotonic() + within
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        self._read(0.3)
        return self.process.wait(1)

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
