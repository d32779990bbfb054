"""Uploading a host's configuration: only what changed since the machine's manifest, into
a staging folder (a copy of the configuration in place), then every file checked on the
machine (size and sha256) and what is not whole sent again. Secrets go to a private
folder of their own, never into the configuration (nor the Nix store). When the machine
does not take a file, UploadFailed says why in plain words (a full disk with its free
space). Nothing is put in place here: the run does that (homelab.deploy.steps).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homelab.deploy import scripts
from homelab.deploy.ssh import ConnectError
from homelab.deploy.target import (
    Cancelled,
    ConnectionLost,
    Target,
    WriteFailed,
    reason_of,
    sha256,
)


class UploadFailed(Exception):
    """Something did not reach the machine whole; nothing was put in place."""

    def __init__(self, summary: str, *details: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


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
            raise self._refused(path, what, 0, 4096, reason_of(err), folder=True) from None

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
