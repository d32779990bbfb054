"""Deploy records written while the apply goes on: each host's record as soon as the host
ends, not all of them once the last machine is done.

Hosts that end within GATHER seconds of each other, or while a write runs, go into one
write together (each write is a handful of git runs: on a busy machine they cost the
others' CPU), so an apply to 20 machines makes a few writes, and what is left when the
last host ends is that host's record. Records never wait for a machine: `add` only
queues. `finish` writes what is left and returns the notes of writes that failed (said by
the caller's thread: a front end's note may not be callable from another thread).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence

from homelab.deploy.models import HostResult
from homelab.errors import InvalidInput, LabFailure

Write = Callable[[Sequence[HostResult]], None]
_END = None
GATHER = 0.1  # seconds a write waits for more hosts ending (the apply's end never waits)


class Recorder:
    def __init__(self, write: Write) -> None:
        self._write = write
        self._queue: queue.SimpleQueue[HostResult | None] = queue.SimpleQueue()
        self._notes: list[str] = []
        self._thread = threading.Thread(target=self._run, name="records", daemon=True)
        self._thread.start()

    def add(self, result: HostResult) -> None:
        """A host ended: its record is written soon (from the recorder's thread)."""
        self._queue.put(result)

    def finish(self) -> list[str]:
        """Write what is left and wait for it; the notes of the writes that failed."""
        self._queue.put(_END)
        self._thread.join()
        return self._notes

    def _run(self) -> None:
        ending = False
        while not ending:
            batch: list[HostResult] = []
            item = self._queue.get()
            while True:
                if item is _END:
                    ending = True
                else:
                    batch.append(item)
                try:
                    item = self._queue.get_nowait() if ending else self._queue.get(timeout=GATHER)
                except queue.Empty:
                    break
            if batch:
                self._write_batch(batch)

    def _write_batch(self, batch: Sequence[HostResult]) -> None:
        try:
            self._write(batch)
        except (InvalidInput, LabFailure) as err:
            note = f"note: the deploy records could not be written: {err}"
            if note not in self._notes:
                self._notes.append(note)
        except Exception as err:  # the apply's summary must still be shown
            self._notes.append(
                f"note: the deploy records of {', '.join(r.host for r in batch)} could not be "
                f"written: {type(err).__name__}: {err}"
            )
