"""Python's garbage collection, kept off the editor's start-up.

Start-up makes hundreds of thousands of objects (Textual, the core, the first screen's
widgets) that all live as long as the app. Every collection while they are made walks
them again and frees nothing: tens of milliseconds of the opening. Afterwards each full
collection walked them too, set off by whatever allocated next, mostly a host switch, which
then waited 100 ms or more. So: no collection during the imports and the first screen,
then what they made is frozen, out of every later pass; the young generations are collected
as before (a few milliseconds), the full pass only once the keys pause. While keys come,
garbage in cycles waits; refcounting frees the rest.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

QUIET = 0.5  # seconds without a key before a full collection may run
EVERY = 1.0  # seconds between looks
FULL_AFTER = 10  # young collections since the last full one (Python's own default)
NEVER = 1 << 30  # a threshold never reached: no full collection on its own


class Collector:
    """Paused while the app builds its first screen (pause); then back on, what exists
    frozen, the full pass left to collect_if_quiet (start); as it was found once the app
    ends (stop): tests run many apps in one process."""

    def __init__(self) -> None:
        self._enabled: bool | None = None  # as found by pause; None: not paused
        self._threshold = gc.get_threshold()
        self.started = False

    def pause(self) -> None:
        """No collection until start: the first screen's objects all live on."""
        if self._enabled is None:
            self._enabled = gc.isenabled()
        gc.disable()

    def start(self) -> None:
        """What exists now lives as long as the app: frozen, out of later passes."""
        if self._enabled is None or self.started:
            return
        self.started = True
        gc.freeze()
        self._threshold = young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)
        if self._enabled:
            gc.enable()

    def collect_if_quiet(self, last_key: Callable[[], float]) -> None:
        """The full collection, once young ones have piled up and no key came for QUIET
        seconds (last_key: the time.monotonic() of the last key)."""
        if not self.started or gc.get_count()[2] < FULL_AFTER:
            return
        if time.monotonic() - last_key() > QUIET:
            gc.collect()

    def stop(self) -> None:
        """The collector as it was found, everything frozen given back to it."""
        if self._enabled is None:
            return
        enabled, self._enabled, self.started = self._enabled, None, False
        gc.set_threshold(*self._threshold)
        gc.unfreeze()
        if enabled:
            gc.enable()
