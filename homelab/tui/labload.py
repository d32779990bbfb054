"""The whole lab loaded for the editor, without stalling it.

Loading every host is seconds of Python on a big lab. In a thread it shares the GIL with
the event loop: keys waited up to half a second behind it (and behind the garbage
collections its millions of new objects set off). So a big lab is loaded in another
process, which sends back each host pickled apart; the editor unpickles them a few
milliseconds at a time, and not at all in the moments after a key, so that a host switch
or a keystroke never waits for more than one slice. A small lab loads in a thread: a
process's start-up would cost more than its whole load.

No Textual here: the loading process imports this module, and should stay light.
"""

from __future__ import annotations

import asyncio
import copyreg
import dataclasses
import gc
import io
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from homelab.gcpause import paused
from homelab.lab import Lab, LabState

IN_PROCESS_BELOW = 60  # hosts: a smaller lab loads in a thread (faster than a process's start)
SLICE = 0.005  # seconds of unpickling at a time
KEYS_QUIET = 0.1  # seconds after a key in which no unpickling runs: the key's work goes first


@dataclass(frozen=True)
class Loaded:
    """The whole lab, and each host's deploy mark ("ahead", "never"; none: deployed)."""

    state: LabState
    marks: dict[str, str]


def load_here(lab: Lab, texts: dict[str, str]) -> Loaded:
    """The whole lab loaded in this process (a thread's job: seconds on a big lab)."""
    state = lab.load(texts=texts)
    try:
        marks: dict[str, str] = dict(lab.deploy_marks())
    except Exception:  # no git, a broken repository: no marks, the editor still works
        marks = {}
    return Loaded(state, marks)


# ---- the loading process ---------------------------------------------------------------


def _without_cache(obj: Any) -> tuple[Any, ...]:
    """A frozen dataclass pickled without its cached properties (a catalogue entry's
    compiled validator cannot be pickled; it is made again when first asked for)."""
    cached = {k for k, v in vars(type(obj)).items() if isinstance(v, cached_property)}
    state = {k: v for k, v in vars(obj).items() if k not in cached}
    return (copyreg.__newobj__, (type(obj),), state)  # type: ignore[attr-defined]


def _dumps(obj: object) -> bytes:
    from homelab.catalog import Service

    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, Service: _without_cache}
    pickler.dump(obj)
    return out.getvalue()


def main() -> None:
    """The loading process (`python -m homelab.tui.labload ROOT`): the unsaved texts come
    pickled on stdin; the lab without its hosts, then each host, go pickled apart to
    stdout. A process of its own, not multiprocessing's: that one runs the program's
    main module again in the child, whatever it is."""
    os.nice(10)  # background work: the editor's own process goes first on a busy machine
    texts = pickle.load(sys.stdin.buffer)
    loaded = load_here(Lab(Path(sys.argv[1])), texts)
    state = loaded.state
    chunks = [_dumps((dataclasses.replace(state, hosts={}), loaded.marks))]
    chunks += [_dumps((folder, host)) for folder, host in state.hosts.items()]
    pickle.dump(chunks, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


class LoadFailed(Exception):
    """The loading process failed (its error is the message): load in a thread."""


async def load_apart(
    root: Path, texts: dict[str, str], last_key: Callable[[], float] = lambda: 0.0
) -> Loaded:
    """The whole lab loaded in another process, and unpickled here in slices; last_key():
    the time.monotonic() of the last key, after which unpickling waits KEYS_QUIET. The
    process is ended when this is cancelled. LoadFailed when it could not load or send."""
    import homelab

    here = str(Path(homelab.__file__).resolve().parents[1])  # this homelab, in the child too
    paths = [here, *filter(None, [os.environ.get("PYTHONPATH")])]
    process = subprocess.Popen(
        [sys.executable, "-m", "homelab.tui.labload", str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
    )
    try:
        sent = pickle.dumps(texts, protocol=pickle.HIGHEST_PROTOCOL)
        out, err = await asyncio.to_thread(process.communicate, sent)
        if process.returncode != 0:
            said = err.decode("utf-8", "replace").strip().splitlines()
            raise LoadFailed(said[-1] if said else f"exit code {process.returncode}")
        chunks = await asyncio.to_thread(pickle.loads, out)  # a list of bytes: cheap
        return await _unpickled(chunks, last_key)
    finally:
        if process.poll() is None:
            process.kill()
            await asyncio.to_thread(process.wait)


async def _unpickled(chunks: list[bytes], last_key: Callable[[], float]) -> Loaded:
    # no garbage collection while millions of objects arrive: each full pass over a heap
    # that big would stall the editor; they are frozen once in (a lab's state holds no
    # cycles: dropping the last one frees it all the same)
    with paused():
        rest, marks = pickle.loads(chunks[0])
        hosts: dict[str, Any] = {}
        started = time.perf_counter()
        for chunk in chunks[1:]:
            if time.perf_counter() - started > SLICE:
                await _pause(last_key)
                started = time.perf_counter()
            folder, host = pickle.loads(chunk)
            hosts[folder] = host
        gc.freeze()
    return Loaded(dataclasses.replace(rest, hosts=hosts), marks)


async def _pause(last_key: Callable[[], float]) -> None:
    """A turn of the event loop for what waits; longer while keys come."""
    await asyncio.sleep(0.001)
    while (quiet := time.monotonic() - last_key()) < KEYS_QUIET:
        await asyncio.sleep(KEYS_QUIET - quiet)


if __name__ == "__main__":
    main()
