"""One machine over SSH: run a command, stream its output, copy files, reconnect.

A Target owns one connection at a time and knows how to make a new one (the same host
key checks every time). When the connection drops, the calls raise ConnectionLost; the
caller decides whether to reconnect (`reconnect`) and carry on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homelab.deploy import scripts
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


class UploadFailed(Exception):
    """Something did not reach the machine whole; nothing was put in place."""

    def __init__(self, summary: str, *details: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


WRITE_SIZE = 32768  # paramiko's largest SFTP write request


def _reason(err: BaseException) -> str:
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
            raise WriteFailed(path, written, len(data), _reason(err)) from None
        except Exception as err:
            if type(err).__name__ == "SSHException":
                raise ConnectionLost(str(err)) from None
            raise

    def make_dirs(self, path: str, known: set[str], mode: int = 0o755) -> None:
        """mkdir -p over SFTP; `known` remembers folders that exist."""
        parts = path.strip("/").split("/")
        here = ""
        for part in parts:
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


# ---- uploading ---------------------------------------------------------------------


@dataclass(frozen=True)
class SecretFile:
    """A local file that goes to `target` on the machine, outside the Nix store."""

    name: str
    target: str
    data: bytes = field(repr=False)
    mode: str = "0600"
    owner: str = "root"
    group: str | None = None

    @property
    def digest(self) -> str:
        # hashed with its ownership, so a change of owner or mode installs it again
        return sha256(f"{self.mode}:{self.owner}:{self.group}:".encode() + self.data)


@dataclass(frozen=True)
class Upload:
    """What went to the machine's staging folder."""

    staging: str
    uploaded: tuple[str, ...]  # relative paths written (always the manifest)
    removed: tuple[str, ...]
    secrets: tuple[tuple[int, SecretFile], ...]  # (number in secrets.partial, secret)
    secret_digests: Mapping[str, str]
    bytes: int
    resent: tuple[str, ...] = ()  # found on the machine not whole, and sent again


def manifest_text(files: Mapping[str, bytes], extra: Mapping[str, Any]) -> bytes:
    body = {**extra, "files": {p: sha256(d) for p, d in sorted(files.items())}}
    return (json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n").encode()


def changed_files(
    files: Mapping[str, bytes], remote: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """(files to upload, files to remove) against the machine's manifest."""
    known = remote.get("files") if isinstance(remote.get("files"), dict) else {}
    assert isinstance(known, dict)
    upload = [p for p, d in sorted(files.items()) if known.get(p) != sha256(d)]
    remove = sorted(p for p in known if p not in files)
    return upload, remove


def upload(
    target: Target,
    root: str,
    staging: str,
    files: Mapping[str, bytes],
    remote_manifest: Mapping[str, Any],
    manifest_extra: Mapping[str, Any],
    secrets: Iterable[SecretFile],
    remote_secrets: Mapping[str, str],
    on_file: Callable[[str], None],
    cancel: threading.Event | None = None,
) -> Upload:
    """Only what changed, into `staging` (a copy of the configuration in place); then all
    of it (what was copied too) checked on the machine, size and sha256, and whatever is
    not whole sent again. UploadFailed, saying why, when the machine does not take it."""
    secrets = list(secrets)
    to_send, to_remove = changed_files(files, remote_manifest)
    sending = _Sending(target, root, {root + staging})
    sent: list[str] = []
    for rel in to_send:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        sending.put(f"{root}{staging}/{rel}", files[rel], rel)
        sent.append(rel)
        on_file(rel)
    for rel in to_remove:
        target.remove(f"{root}{staging}/{rel}")
    manifest = manifest_text(files, manifest_extra)
    wanted: dict[str, tuple[str, bytes, int]] = {
        f"{root}{staging}/{rel}": (rel, data, 0o644) for rel, data in sorted(files.items())
    }
    wanted[f"{root}{staging}/{scripts.MANIFEST}"] = ("homelab's manifest", manifest, 0o644)
    sending.put(f"{root}{staging}/{scripts.MANIFEST}", manifest, "homelab's manifest")
    sent.append(scripts.MANIFEST)
    chosen: list[tuple[int, SecretFile]] = []
    digests = {s.target: s.digest for s in secrets}
    changed_secrets = [s for s in secrets if remote_secrets.get(s.target) != s.digest]
    if changed_secrets:
        folder = f"{root}{scripts.STATE}/secrets.partial"
        sending.folder(folder, mode=0o700)
        try:
            target.sftp().chmod(folder, 0o700)
        except (EOFError, OSError) as err:
            raise ConnectionLost(str(err)) from None
        for number, secret in enumerate(changed_secrets):
            what = f"secret {secret.name}"
            path = f"{folder}/{number}"
            sending.put(path, secret.data, what, mode=0o600, goes_to=secret.target)
            wanted[path] = (what, secret.data, 0o600)
            chosen.append((number, secret))
            on_file(f"secret {secret.name} -> {secret.target}")
    resent = _send_again_what_is_not_whole(sending, wanted, cancel)
    for what in resent:
        if what in files and what not in sent:
            sent.insert(-1, what)  # the manifest stays last
    return Upload(
        staging, tuple(sent), tuple(to_remove), tuple(chosen), digests, sending.bytes,
        tuple(resent),
    )  # fmt: skip


def _send_again_what_is_not_whole(
    sending: _Sending,
    wanted: Mapping[str, tuple[str, bytes, int]],
    cancel: threading.Event | None,
) -> list[str]:
    """Compare every file on the machine with what it should be; send the ones that are
    not whole once more (an earlier apply may have left them short), and check again."""
    bad = sending.not_whole(wanted)
    for path in bad:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        what, data, mode = wanted[path]
        sending.put(path, data, what, mode=mode)
    still = sending.not_whole({p: wanted[p] for p in bad}) if bad else []
    if still:
        path = still[0]
        what, data, _ = wanted[path]
        raise UploadFailed(
            f"{what} did not arrive whole on the machine, even sent twice; nothing installed",
            f"{sending.shown(path)} should hold {len(data):,} bytes with sha256 {sha256(data)}",
            "the machine keeps its configuration",
        )
    return [wanted[p][0] for p in bad]


# What is on the machine, for the files given: `missing N` for each one that is not a
# regular file (N counts from 1), then the size of each other one (`size BYTES`), then its
# sha256sum line; in the order given. Two programs in all, however many files.
CHECK = r"""
n=$#; i=0
for f in "$@"; do
  i=$((i+1))
  if [ -f "$f" ] && [ ! -L "$f" ]; then set -- "$@" "$f"; else echo "missing $i"; fi
done
shift "$n"
[ "$#" = 0 ] || { stat -c 'size %s' -- "$@" && sha256sum -- "$@"; }
"""


def found_on_machine(paths: Sequence[str], out: str) -> dict[str, tuple[int, str]] | None:
    """CHECK's answer: (size, sha256) of each file that is there; None when it is not
    the answer for these paths (the check itself failed)."""
    lines = out.splitlines()
    marks = [line.split() for line in lines]
    missing = {int(w[1]) - 1 for w in marks if len(w) == 2 and w[0] == "missing" and w[1].isdigit()}
    present = [p for i, p in enumerate(paths) if i not in missing]
    rest = lines[len(missing) :]
    if len(rest) != 2 * len(present):
        return None
    found: dict[str, tuple[int, str]] = {}
    for path, size, digest in zip(present, rest[: len(present)], rest[len(present) :], strict=True):
        words = size.split()
        if len(words) != 2 or words[0] != "size" or not words[1].isdigit():
            return None
        found[path] = (int(words[1]), digest.lstrip("\\")[:64])
    return found


# The file system that holds $1 (or the nearest folder above it that exists), as
# `df -P` says: "NAME BLOCKS USED AVAILABLE CAPACITY% MOUNTED-ON" in KiB.
FREE_SPACE = r"""
d="$1"
while [ -n "$d" ] && [ ! -d "$d" ]; do d="${d%/*}"; done
df -Pk -- "${d:-/}" | tail -n 1
"""

_DF_LINE = re.compile(r"\s(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+(.+)$")


@dataclass(frozen=True)
class Space:
    """Free space of a file system on the machine."""

    free: int  # bytes an unprivileged writer may still use
    mount: str  # where it is mounted (a machine path)


def free_space(target: Target, path: str) -> Space | None:
    """What `df` on the machine says about the file system that holds `path`."""
    try:
        ran = target.run(scripts.command(FREE_SPACE, path), timeout=30)
    except (ConnectionLost, ConnectError, TimeoutError, OSError):
        return None
    found = _DF_LINE.search(ran.out.strip())
    if ran.code != 0 or found is None:
        return None
    return Space(int(found.group(3)) * 1024, found.group(4))


def amount(size: int) -> str:
    """Bytes as a person reads them: 586 KiB, 12.5 MiB, 3.1 GiB."""
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KiB"
    if size < 1024**3:
        return f"{size / 1024**2:.1f} MiB"
    return f"{size / 1024**3:.1f} GiB"


class _Sending:
    """Writes of one upload: checked, counted, and explained when the machine refuses."""

    def __init__(self, target: Target, root: str, known: set[str]) -> None:
        self.target = target
        self.root = root
        self.known = known  # folders that exist
        self.bytes = 0

    def shown(self, path: str) -> str:
        """A machine path as the person knows it (the rig's root taken off)."""
        return path[len(self.root) :] if self.root and path.startswith(self.root) else path

    def folder(self, path: str, mode: int = 0o755) -> None:
        try:
            self.target.make_dirs(path, self.known, mode=mode)
        except OSError as err:
            # a folder takes a block of the disk (4 KiB on most file systems)
            what = f"folder {self.shown(path)}"
            raise self._refused(path, what, 0, 4096, _reason(err), folder=True) from None

    def put(
        self, path: str, data: bytes, what: str, *, mode: int = 0o644, goes_to: str = ""
    ) -> None:
        self.folder(path.rsplit("/", 1)[0])
        try:
            self.target.write_file(path, data, mode)
        except WriteFailed as err:
            raise self._refused(path, what, err.written, len(data), err.reason, goes_to) from None
        self.bytes += len(data)

    def not_whole(self, wanted: Mapping[str, tuple[str, bytes, int]]) -> list[str]:
        """The paths whose size or sha256 on the machine is not what was sent."""
        paths = sorted(wanted)
        bad: list[str] = []
        for start in range(0, len(paths), 200):  # a command line of a sane length
            batch = paths[start : start + 200]
            ran = self.target.run(scripts.command(CHECK, *batch), timeout=300)
            found = found_on_machine(batch, ran.out) if ran.code == 0 else None
            if found is None:
                raise UploadFailed(
                    "could not check what arrived on the machine; nothing installed",
                    f"checking sizes and sha256 said: {ran.err.strip()[:300] or 'nothing'}",
                )
            for path in batch:
                data = wanted[path][1]
                if found.get(path) != (len(data), sha256(data)):
                    bad.append(path)
        return bad

    def _refused(
        self,
        path: str,
        what: str,
        written: int,
        size: int,
        reason: str,
        goes_to: str = "",
        folder: bool = False,
    ) -> UploadFailed:
        """Why a write failed, in plain words. sftp-server answers a full disk with its
        generic "Failure": the file system's free space tells whether that was it."""
        space = free_space(self.target, path)
        where = f" (it goes to {goes_to})" if goes_to else ""
        keeps = "the machine keeps its configuration; the next apply sends it again"
        if space is not None and space.free < max(size - written, 1):
            mount = self.shown(space.mount) or "/"
            return UploadFailed(
                f"no space left on the machine: {mount} has {amount(space.free)} free, "
                f"and {what} needs {amount(size)}; nothing installed",
                f'{self.shown(path)}{where}: the machine answered "{reason}" after '
                f"{written:,} of {size:,} bytes",
                f"free some space on {mount} (on NixOS `nix-collect-garbage -d` removes old "
                f"generations) and apply again; {keeps}",
            )
        free = f"; {amount(space.free)} free on {self.shown(space.mount) or '/'}" if space else ""
        if folder:
            return UploadFailed(
                f"could not make {what} on the machine ({reason}); nothing installed",
                f"the machine's SFTP server refused it{free}",
                keeps,
            )
        return UploadFailed(
            f"could not write {what} on the machine ({written:,} of {size:,} bytes written: "
            f"{reason}); nothing installed",
            f"{self.shown(path)}{where}: the machine's SFTP server refused a write{free}",
            keeps,
        )
