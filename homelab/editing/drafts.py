"""Drafts: the profiles being edited, and their unsaved edits kept on disk while the
editor runs, so that a crash or a kill loses nothing.

A `Draft` is one profile's text as the editor holds it. Each one with unsaved edits is
written to `.homelab/drafts/<host>.json` in the lab (atomically, readable by its owner
only) with the disk text the edits started from; a save, a reload or a discard removes
it. When the editor starts, drafts left by an editor that is no longer running are
offered back. A draft never writes a profile by itself: it comes back as unsaved edits,
and an edit made on disk since is asked about as any other."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homelab.labfiles import PROFILE
from homelab.localstate import LOCAL, local_folder

FOLDER = f"{LOCAL}/drafts"
FORMAT = 1
MAX_BYTES = 8 << 20  # a draft is a profile or two (its text and its base): far below this


def profile_rel(folder: str) -> str:
    return f"hosts/{folder}/{PROFILE}"


@dataclass
class Draft:
    """One profile being edited. `base` is the disk text it started from (None: new host,
    or a file that cannot be read). `not_utf8`: the file had bytes that are not UTF-8,
    shown as U+FFFD until retyped."""

    folder: str
    base: str | None
    text: str
    not_utf8: bool = False

    @property
    def rel(self) -> str:
        return profile_rel(self.folder)

    @property
    def dirty(self) -> bool:
        return self.text != self.base


def write_private(path: Path, data: bytes) -> None:
    """Write the whole file or nothing, readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@dataclass(frozen=True)
class Kept:
    """A draft found on disk: one host's unsaved text, and the disk text it started from."""

    folder: str
    base: str | None  # None: a new host, never saved
    text: str
    not_utf8: bool
    written: float  # when it was written (seconds since the epoch)


def _started(pid: int) -> str | None:
    """When the process started (Linux: clock ticks since boot), to tell a process from a
    later one that got the same id; None where that cannot be known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _running(pid: int, started: str | None) -> bool:
    if pid == os.getpid():
        return False  # this process runs one editor at a time: an earlier one has ended
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    now = _started(pid)
    return now is None or started is None or now == started


class DraftStore:
    """The drafts of one lab. This editor writes and removes only its own drafts; those of
    an editor that is gone are left alone until the person restores or discards them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / FOLDER
        self.pid = os.getpid()
        self.started = _started(self.pid)
        self.written: dict[str, tuple[str | None, str, bool]] = {}  # host -> what is on disk

    def path(self, host: str) -> Path:
        return self.folder / f"{host}.json"

    # ---- what an earlier editor left -------------------------------------------------

    def found(self) -> list[Kept]:
        """Drafts of editors that are no longer running, oldest host name first."""
        kept: list[Kept] = []
        try:
            names = sorted(os.listdir(self.folder))
        except OSError:
            return kept
        for name in names:
            if not name.endswith(".json") or name.startswith("."):
                continue
            data = self._read(self.folder / name)
            if data is None or _running(data["pid"], data["started"]):
                continue
            kept.append(
                Kept(data["folder"], data["base"], data["text"], data["not_utf8"], data["time"])
            )
        return kept

    def _read(self, path: Path) -> dict[str, Any] | None:
        """A draft file, or None when it is not one (a draft is never trusted blindly)."""
        try:
            if path.stat().st_size > MAX_BYTES:
                return None
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        folder, base, text = data.get("folder"), data.get("base"), data.get("text")
        if not isinstance(folder, str) or path.name != f"{folder}.json":
            return None
        if folder.startswith(".") or "/" in folder:  # a host folder's name, nothing else
            return None
        if not isinstance(text, str) or not (base is None or isinstance(base, str)):
            return None
        pid = data.get("pid")
        started = data.get("started")
        return {
            "folder": folder,
            "base": base,
            "text": text,
            "not_utf8": data.get("not_utf8") is True,
            "time": float(data.get("time") or 0),
            "pid": pid if isinstance(pid, int) else -1,
            "started": started if isinstance(started, str) else None,
        }

    def take(self, kept: Iterable[Kept]) -> None:
        """Restored: these drafts are this editor's now (the next sync rewrites them)."""
        for draft in kept:
            self.written.pop(draft.folder, None)

    def discard(self, kept: Iterable[Kept]) -> None:
        for draft in kept:
            self._remove(draft.folder)

    # ---- this editor's drafts --------------------------------------------------------

    def sync(self, drafts: Mapping[str, Draft]) -> None:
        """Make the files match the unsaved edits: write what changed, remove what was
        saved, reloaded or discarded since. Raises OSError when the disk refuses."""
        dirty = {folder: d for folder, d in drafts.items() if d.dirty}
        for folder in [f for f in self.written if f not in dirty]:
            self._remove(folder)
        for folder, draft in dirty.items():
            state = (draft.base, draft.text, draft.not_utf8)
            if self.written.get(folder) == state:
                continue
            local_folder(self.root, "drafts")
            data = {
                "format": FORMAT,
                "folder": folder,
                "base": draft.base,
                "text": draft.text,
                "not_utf8": draft.not_utf8,
                "time": time.time(),
                "pid": self.pid,
                "started": self.started,
            }
            write_private(self.path(folder), json.dumps(data).encode())
            self.written[folder] = state

    def _remove(self, folder: str) -> None:
        self.written.pop(folder, None)
        with contextlib.suppress(FileNotFoundError):
            self.path(folder).unlink()
