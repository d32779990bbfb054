"""Many hosts at once: each host's work (homelab.deploy.host) in its own worker thread,
with its own connection; results in the order of the plans.

`apply(plans, options, on_event, cancel)` reports through `on_event(Event)`: state
changes (connecting, uploading, building, activating, checking, rolling back, done,
failed) and each line of the machine's output. One host failing never stops or touches
another: every error ends as a failed HostResult with one clear line.

Stopping: `Stop.set()` (the editor's Cancel) stops each host at a safe point and stops
the rebuild it started on the machine; `Stop.interrupt()` (Ctrl-C, SIGTERM) stops the
fan-out and leaves a rebuild that already started to finish on the machine (stopping it
mid-switch could leave the machine half-switched): that host ends "interrupted", with the
run's id, and a later apply (or `look`, for `homelab status --live`) confirms how the run
ended. A link that drops and does not come back in time ends "interrupted" the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from homelab.deploy import ssh
from homelab.deploy.early import NONE, Early
from homelab.deploy.host import HostRun
from homelab.deploy.models import MAX_JOBS, ApplyOptions, ApplyState, Event, HostResult
from homelab.deploy.plan import HostPlan

OnEvent = Callable[[Event], None]


def apply(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    on_event: OnEvent | None = None,
    cancel: threading.Event | None = None,
    early: Early = NONE,
) -> list[HostResult]:
    """Apply every plan, in parallel; a host takes its connection from `early` when one
    was started for it."""
    emit = on_event or _nothing
    for plan in plans:
        emit(Event(plan.name, ApplyState.WAITING))
    return _fan_out(plans, options, emit, cancel, HostRun.apply, "apply", early)


def look(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    on_event: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> list[HostResult]:
    """Ask each machine what it runs, and how the run named in its plan's `earlier_run`
    ended (`homelab status --live`); changes nothing on the machines."""
    return _fan_out(plans, options, on_event or _nothing, cancel, HostRun.look, "look")


def rollback(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    on_event: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> list[HostResult]:
    """`homelab rollback`: each machine back to its previous generation."""
    return _fan_out(plans, options, on_event or _nothing, cancel, HostRun.undo, "rollback")


def _nothing(_: Event) -> None:
    pass


def _fan_out(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    emit: OnEvent,
    cancel: threading.Event | None,
    work: Callable[[HostRun], HostResult],
    name: str,
    early: Early = NONE,
) -> list[HostResult]:
    if not plans:
        return []
    stop = cancel or threading.Event()
    ssh.load()
    jobs = options.jobs if options.jobs > 0 else MAX_JOBS
    with ThreadPoolExecutor(max_workers=min(jobs, len(plans)), thread_name_prefix=name) as pool:
        runs = [
            HostRun(plan, options, emit, stop, early.take(plan.folder, plan.endpoint, options.ssh))
            for plan in plans
        ]
        futures = [pool.submit(work, run) for run in runs]
        return [f.result() for f in futures]
