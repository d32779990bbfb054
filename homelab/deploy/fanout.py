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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from homelab.deploy import ssh
from homelab.deploy.early import NONE, Early
from homelab.deploy.elsewhere import Builder
from homelab.deploy.host import HostRun
from homelab.deploy.models import MAX_JOBS, ApplyOptions, ApplyState, Event, HostResult
from homelab.deploy.plan import HostPlan

OnEvent = Callable[[Event], None]
OnResult = Callable[[HostResult], None]


def apply(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    on_event: OnEvent | None = None,
    cancel: threading.Event | None = None,
    early: Early = NONE,
    on_result: OnResult | None = None,
    planned: Mapping[str, Future[HostPlan]] | None = None,
) -> list[HostResult]:
    """Apply every plan, in parallel; a host takes its connection from `early` when one
    was started for it. `on_result` gets each host's result as soon as that host ends
    (from its worker thread; the others may still run). With `planned` (host folder ->
    its plan to come), `plans` only say how to reach the hosts: each host is connected
    to and locked meanwhile, and waits for its plan before it sends anything (no host
    is built elsewhere then)."""
    emit = on_event or _nothing
    for plan in plans:
        emit(Event(plan.name, ApplyState.WAITING))
    work = HostRun.apply if on_result is None else _then(HostRun.apply, on_result)
    if planned is not None or not any(p.build_on is not None and p.refused is None for p in plans):
        return _fan_out(plans, options, emit, cancel, work, "apply", early, planned or {})
    return _with_builders(plans, options, emit, cancel or threading.Event(), early, work)


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


def _then(
    work: Callable[[HostRun], HostResult], on_result: OnResult
) -> Callable[[HostRun], HostResult]:
    def run(host: HostRun) -> HostResult:
        result = work(host)
        on_result(result)
        return result

    return run


def _fan_out(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    emit: OnEvent,
    cancel: threading.Event | None,
    work: Callable[[HostRun], HostResult],
    name: str,
    early: Early = NONE,
    planned: Mapping[str, Future[HostPlan]] | None = None,
) -> list[HostResult]:
    if not plans:
        return []
    stop = cancel or threading.Event()
    ssh.load()
    jobs = options.jobs if options.jobs > 0 else MAX_JOBS
    with ThreadPoolExecutor(max_workers=min(jobs, len(plans)), thread_name_prefix=name) as pool:
        runs = [
            HostRun(
                plan,
                options,
                emit,
                stop,
                early.take(plan.folder, plan.endpoint, options.ssh),
                planned=(planned or {}).get(plan.folder),
            )
            for plan in plans
        ]
        futures = [pool.submit(work, run) for run in runs]
        return [f.result() for f in futures]


def _with_builders(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    emit: OnEvent,
    stop: threading.Event,
    early: Early,
    work: Callable[[HostRun], HostResult] = HostRun.apply,
) -> list[HostResult]:
    """An apply where some hosts are built on another machine (deploy.buildOn). Builders
    start first: a builder that is also applied is deployed before it builds for the
    others. The hosts built elsewhere each get a thread of their own (they mostly wait for
    their builder, and a builder waits for all of its hosts to say what they need: in the
    pool they could hold every worker); the other hosts share the pool as always."""
    ssh.load()
    targets = [p for p in plans if p.build_on is not None and p.refused is None]
    built_here = [p for p in plans if p not in targets]
    builders_first = sorted(
        built_here,
        key=lambda p: not any(t.build_on and t.build_on.builder == p.folder for t in targets),
    )
    jobs = options.jobs if options.jobs > 0 else MAX_JOBS
    futures: dict[str, Future[HostResult]] = {}
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(jobs, len(built_here))), thread_name_prefix="apply"
    )
    own = ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="apply-built-elsewhere")
    builders: dict[str, Builder] = {}
    try:
        for plan in builders_first:
            run = HostRun(
                plan, options, emit, stop, early.take(plan.folder, plan.endpoint, options.ssh)
            )
            futures[plan.folder] = pool.submit(work, run)
        for plan in targets:
            assert plan.build_on is not None
            b = plan.build_on
            if b.builder not in builders:
                group = {
                    t.folder: t.build_on.spec
                    for t in targets
                    if t.build_on and t.build_on.builder == b.builder
                }
                builders[b.builder] = Builder(b, group, options.ssh, stop, futures.get(b.builder))
            run = HostRun(
                plan,
                options,
                emit,
                stop,
                early.take(plan.folder, plan.endpoint, options.ssh),
                builders[b.builder],
            )
            futures[plan.folder] = own.submit(work, run)
        return [futures[p.folder].result() for p in plans]
    finally:
        pool.shutdown(wait=True)
        own.shutdown(wait=True)
        for builder in builders.values():
            builder.close()
