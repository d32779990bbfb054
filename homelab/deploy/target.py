"""One machine over SSH: run a command, stream its output, copy files, reconnect.

A Target owns one connection at a time and knows how to make a new one (the same host
key checks every time). When the connection drops, the calls raise ConnectionLost; the
caller decides whether to reconnect (`reconnect`) and carry on.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homelab.deploy.ssh import ConnectError, Connection, HostKeyError

if TYPE_CHECKING:
    import paramiko


class ConnectionLost(Exception):
    """The SSH connection dropped while we were using it."""


class Cancelled(Exception):
    """The person (or the program) asked to stop."""


class WriteFailed(OSError):
    """The machine did not take a whole file: its SFTP server refused a write."""

    def __init__(self, path: str, written: int, size: int, reason: str) -> None:
        super().__init__(
            f"could not write {path} ({written:,} of {size:,} bytes written: {reason})"
        )
        self.path = path
        self.written = written
        self.size = size
        self.reason = reason


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def parse_facts(text: str) -> dict[str, str]:
    """`key=value` lines into a dict (later lines win)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key and key.replace("_", "").isalnum():
            out[key] = value
    return out


class Lines:
    """A command's output as it comes, in bytes, handed over a whole line at a time
    (decoded, without its newline); `end()` hands over a last line that had none."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._on_line = on_line
        self._pending = b""

    def __call__(self, data: bytes) -> None:
        *lines, self._pending = (self._pending + data).split(b"\n")
        for line in lines:
            self._on_line(line.decode("utf-8", "replace"))

    def end(self) -> None:
        if self._pending:
            last, self._pending = self._pending, b""
            self._on_line(last.decode("utf-8", "replace"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


WRITE_SIZE = 32768  # paramiko's largest SFTP write request


def reason_of(err: BaseException) -> str:
    return (err.strerror if isinstance(err, OSError) else "") or str(err) or type(err).__name__


class Target:
    """A machine we talk to. `opener` makes a fresh, verified Connection."""

    def __init__(self, name: str, opener: Callable[[], Connection]) -> None:
        self.name = name
        self._opener = opener
        self._conn: Connection | None = None
        self._sftp: paramiko.SFTPClient | None = None

    # ---- the connection --------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        if self._conn is None or not self._conn.active:
            self._drop()
            self._conn = self._opener()
        return self._conn

    def _drop(self) -> None:
        if self._sftp is not None:
            with contextlib.suppress(Exception):
                self._sftp.close()
            self._sftp = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self._drop()

    def reconnect(self, within: float, cancel: threading.Event | None = None) -> None:
        """A fresh connection, trying again until `within` seconds have passed."""
        self._drop()
        deadline = time.monotonic() + within
        delay = 0.2
        last: ConnectError | None = None
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            try:
                self._conn = self._opener()
                return
            except HostKeyError:
                raise  # a different key is no network trouble: never try again
            except ConnectError as err:
                last = err
            if time.monotonic() + delay > deadline:
                assert last is not None
                raise last
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    # ---- commands --------------------------------------------------------------------

    def open_channel(self, command: str) -> paramiko.Channel:
        try:
            chan = self.connection.transport.open_session(timeout=15)
            chan.exec_command(command)
        except (OSError, EOFError) as err:
            raise ConnectionLost(str(err)) from None
        except Exception as err:
            if type(err).__name__ in ("SSHException", "ChannelException"):
                raise ConnectionLost(str(err)) from None
            raise
        return chan

    def run(self, command: str, *, stdin: bytes = b"", timeout: float = 120) -> Ran:
        """Run a command to its end and collect its output."""
        out = bytearray()
        err = bytearray()
        code = self.stream(command, out.extend, err.extend, stdin=stdin, timeout=timeout)
        return Ran(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))

    def stream(
        self,
        command: str,
        on_out: Callable[[bytes], None],
        on_err: Callable[[bytes], None] | None = None,
        *,
        stdin: bytes = b"",
        timeout: float | None = None,
        cancel: threading.Event | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> int:
        """Run a command, handing its output over as it comes; returns its exit code
        (-1 when it was killed). Raises ConnectionLost, TimeoutError, Cancelled."""
        chan = self.open_channel(command)
        err_sink = on_err or (lambda _: None)
        try:
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                busy = False
                while chan.recv_ready():
                    on_out(chan.recv(65536))
                    busy = True
                while chan.recv_stderr_ready():
                    err_sink(chan.recv_stderr(65536))
                    busy = True
                if chan.closed or (chan.eof_received and chan.exit_status_ready()):
                    # the server may send the exit status before the last output: only
                    # the end of the output (EOF, or the channel closed) says it is all here
                    while chan.recv_ready():
                        on_out(chan.recv(65536))
                    while chan.recv_stderr_ready():
                        err_sink(chan.recv_stderr(65536))
                    break
                if busy:
                    continue
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError()
                if on_wait is not None:
                    on_wait()
                chan.status_event.wait(0.02)
            status = chan.exit_status
            if status == -1 and not self.connection_alive():
                raise ConnectionLost("the connection dropped")
            return int(status)
        except (OSError, EOFError) as err:
            if isinstance(err, TimeoutError):
                raise
            raise ConnectionLost(str(err)) from None
        finally:
            chan.close()

    def connection_alive(self) -> bool:
        return self._conn is not None and self._conn.active

    # ---- files -----------------------------------------------------------------------

    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None or not self.connection_alive():
            try:
                self._sftp = self.connection.transport.open_sftp_client()
            except (OSError, EOFError) as err:
                raise ConnectionLost(str(err)) from None
            except Exception as err:
                if type(err).__name__ in ("SSHException", "ChannelException"):
                    raise ConnectionLost(str(err)) from None
                raise
            if self._sftp is None:
                raise ConnectionLost("no SFTP on the machine")
        return self._sftp

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """The whole file, or WriteFailed. Each write waits for its answer: paramiko drops
        the answers of pipelined writes, so a full disk left a short file and no error."""
        written = 0
        try:
            sftp = self.sftp()
            with sftp.open(path, "wb", bufsize=0) as f:
                sftp.chmod(path, mode)  # before the bytes go in: a secret is never readable
                while written < len(data):
                    f.write(data[written : written + WRITE_SIZE])
                    written = min(len(data), written + WRITE_SIZE)
        except (OSError, EOFError) as err:
            if not self.connection_alive() or isinstance(err, EOFError):
                raise ConnectionLost(str(err)) from None
            raise WriteFailed(path, written, len(data), reason_of(err)) from None
        except Exception as err:
            if type(err).__name__ == "SSHException":
                raise ConnectionLost(str(err)) from None
            raise

    def make_dirs(self, path: str, known: set[str], mode: int = 0o755) -> None:
        """mkdir -p over SFTP; `known` remembers folders that exist. The walk starts below
        the deepest known folder: over a busy connection each stat is a round trip."""
        parts = path.strip("/").split("/")
        start = next((i for i in range(len(parts), 0, -1) if "/" + "/".join(parts[:i]) in known), 0)
        here = "/" + "/".join(parts[:start]) if start else ""
        for part in parts[start:]:
            here += "/" + part
            if here in known:
                continue
            try:
                sftp = self.sftp()
                try:
                    sftp.stat(here)
                except FileNotFoundError:
                    sftp.mkdir(here, mode)
            except (EOFError, OSError) as err:
                if not self.connection_alive() or isinstance(err, EOFError):
                    raise ConnectionLost(str(err)) from None
                raise
            known.add(here)

    def remove(self, path: str) -> None:
        try:
            self.sftp().remove(path)
        except FileNotFoundError:
            pass
        except (EOFError, OSError) as err:
            if not self.connection_alive() or isinstance(err, EOFError):
                raise ConnectionLost(str(err)) from None
            raise

    def read_file(self, path: str) -> bytes:
        try:
            with self.sftp().open(path, "rb") as f:
                return bytes(f.read())
        except (EOFError, OSError) as err:
            if isinstance(err, FileNotFoundError):
                raise
            if not self.connection_alive() or isinstance(err, EOFError):
                raise ConnectionLost(str(err)) from None
            raise

    # ---- ports on the machine, through the connection -------------------------------------

    def open_port(self, host: str, port: int, timeout: float = 5) -> paramiko.Channel:
        """A TCP connection made from the machine itself (ssh -L without a local port)."""
        try:
            return self.connection.transport.open_channel(
                "direct-tcpip", (host, port), ("127.0.0.1", 0), timeout=timeout
            )
        except (OSError, EOFError) as err:
            raise ConnectionLost(str(err)) from None
