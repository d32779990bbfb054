"""One apply at a time from one lab: a lock file in the lab's local `.homelab/` folder.

Two applies from the same checkout would race for the pre-apply commit (git then says
"cannot lock ref 'HEAD'") and write deploy records over each other's. The second one is
refused at once with one line naming the first. The lock is an flock on an open file, so
it goes with its process: an apply that was killed never leaves it behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from homelab.errors import LabFailure
from homelab.localstate import local_folder

LOCK = ".homelab/apply.lock"


@contextlib.contextmanager
def only_apply(root: Path, what: str = "homelab apply") -> Iterator[None]:
    """Hold the lab's apply lock for the block; LabFailure (exit 1) when another process
    holds it."""
    path = local_folder(Path(root)) / Path(LOCK).name
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another apply"
            raise LabFailure(
                f"{holder} is running in this lab; wait for it to end, then try again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} (pid {os.getpid()}, since {time.strftime('%H:%M:%S')})".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
