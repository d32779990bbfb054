"""Python's garbage collector paused while many small objects are made that all stay
alive (a lab's YAML nodes and marks, an option index, an unpickled lab): every pass would
walk them again and free nothing. Put back as it was found: callers nest, and tests run
many commands in one process."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No collection inside; the collector as it was found afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
