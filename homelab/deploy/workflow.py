"""One apply, the same from the command line and from the editor.

Front ends only choose options and show what happens:

    with only_apply(lab.root):                       # another apply running here: exit 1
        ready = prepare(lab, words, commit=True)     # refusals (exit 2) before any commit
        ...show ready.written and the changes, ask, get the sudo password...
        outcome = send(ready, options, on_event, stop, on_note)

`prepare` refuses early when git could not commit, when a profile or a secret is bad, or
when a file that goes out has changes the pre-apply commit would not take; then builds.
`send` commits what goes out, settles the keys of hosts whose encrypted secrets need their
machine's key first (homelab.deploy.hostkeys: pinned and the secrets re-encrypted, in a
commit of their own), plans from the commit (what a machine gets is exactly what the
commit holds; a host whose secrets its machine could not open is refused, the others go
on), fans out (`stop`: homelab.deploy.models.Stop), pins accepted host keys (in a commit
of their own), and records every host, confirming first how runs left going
by an earlier interrupted apply ended. Once the fan-out is over, a failure to pin or
record is a note: the machines are what they are, and the summary must still be shown.

The machines are not kept waiting for this work: unless keys must be settled first or a
host is built elsewhere, the fan-out starts before the commit (each host connects, takes
its lock and probes, then waits for its plan before sending anything), and each host's
record is written as soon as it ends (homelab.deploy.recorder).

`look_live` is `homelab status --live`: it asks the machines what they run and confirms
interrupted deploys, without sending anything. `rollback` is `homelab rollback`: no build
and no commit, but the connection, the pinning of accepted keys and the records are the
same as an apply's.

Over 500 lines for now: prepare, both orders of send (the fan-out before or after the
commit) and rollback share the Ready state and the planning and recording helpers; the
order that reaches the machines meanwhile (_send_meanwhile) is the part to move out next.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from homelab.deploy import fanout, hostkeys
from homelab.deploy.early import NONE, Early
from homelab.deploy.evalerrors import with_origins
from homelab.deploy.models import ApplyOptions, Event, HostResult
from homelab.deploy.optionupdate import read_cached
from homelab.deploy.outgoing import check_outgoing
from homelab.deploy.plan import (
    HostPlan,
    Refusal,
    endpoint_of,
    plan_connection,
    plan_hosts,
    secret_sources,
    secrets_of,
)
from homelab.deploy.recorder import Recorder
from homelab.deploy.records import ROLLBACK, pin_keys, record
from homelab.deploy.ssh import SshSettings
from homelab.deploy.upload import SecretFile
from homelab.errors import InvalidInput, LabFailure, Place, Problem
from homelab.history import check_can_commit, commit_lab
from homelab.history.commit import Known, managed_paths, state_at
from homelab.history.records import DeployRecord, interrupted, last_attempts
from homelab.history.repo import GitSource, LabRepo, NotARepository, open_repository
from homelab.labconfig import LAB_YAML, lock
from homelab.labfiles import LabFiles, LabState
from homelab.source import DiskSource, Source, Unreadable

Note = Callable[[str], None]


@dataclass(frozen=True)
class Ready:
    """A lab checked and built for an apply; nothing committed or sent yet."""

    lab: LabFiles
    state: LabState
    chosen: tuple[str, ...]  # host folders
    written: tuple[str, ...]  # generated files the build wrote
    committing: bool  # the pre-apply commit is made (else: HEAD goes out as it is)
    secrets: Mapping[str, tuple[SecretFile, ...]] = field(repr=False)
    # hosts left out whose modules the lab's names changed (the proxy serving a new name):
    # they need an apply of their own
    also: tuple[str, ...] = ()
    nothing_to_commit: bool = False  # the lab is as HEAD holds it: the commit is skipped
    early: Early = field(default=NONE, repr=False)  # connections started while preparing
    known: Known | None = field(default=None, repr=False)  # the lab at HEAD and on disk

    def close(self) -> None:
        """Close the early connections no host took (an apply not sent, or sent)."""
        self.early.close()

    @property
    def built_on(self) -> dict[str, str]:
        """Host name -> the name of the machine that builds its system (deploy.buildOn)."""
        built_on = self.state.built_on()
        return {
            p.name: built_on[f]
            for f in self.chosen
            if f in built_on and (p := self.state.hosts[f].profile) is not None
        }

    @property
    def names(self) -> list[str]:
        """The chosen hosts' names, as their events and results name them."""
        return [p.name for f in self.chosen if (p := self.state.hosts[f].profile) is not None]


@dataclass(frozen=True)
class Outcome:
    results: tuple[HostResult, ...]
    commit: str  # what was sent: the commit every record names
    stopped: bool = False  # the person stopped it (Ctrl-C, SIGTERM, Cancel)

    @property
    def failed(self) -> list[HostResult]:
        return [r for r in self.results if not r.ok]


def prepare(
    lab: LabFiles,
    words: Sequence[str],
    *,
    commit: bool = True,
    ssh: SshSettings | None = None,
    jobs: int = 0,
) -> Ready:
    """Check everything that can be checked before a commit is made, and build.
    InvalidInput (exit 2) with every problem at once. With `ssh`, the chosen hosts are
    connected to meanwhile (homelab.deploy.early): `send` uses those connections, and
    closes the ones it does not (so does Ready.close)."""
    state, chosen = _valid(lab, words)
    early = NONE
    if ssh is not None:
        endpoints = {f: endpoint_of(p) for f in chosen if (p := state.hosts[f].profile) is not None}
        early = Early(endpoints, ssh, jobs)
    try:
        ready = _prepare(lab, state, chosen, commit=commit)
    except BaseException:
        early.close()
        raise
    return replace(ready, early=early)


def _prepare(lab: LabFiles, state: LabState, chosen: list[str], *, commit: bool) -> Ready:
    if commit:
        check_can_commit(lab.root)  # refuse before writing anything
    try:
        lr = open_repository(lab.root)
    except NotARepository:
        lr = None
    if not commit and (lr is None or lr.head() is None):
        raise InvalidInput(
            [
                Problem(
                    Place(str(lab.root)),
                    "--no-commit sends what HEAD holds, and nothing is committed yet",
                    hint="apply without --no-commit, or commit the lab first",
                )
            ]
        )
    flake_hosts = [
        f
        for f in chosen
        if (p := state.hosts[f].profile) is not None and p.deploy.method != "channels"
    ]
    if flake_hosts:
        _check_pinned(lab, lr, committing=commit)
    secrets = secrets_of(lab, state, chosen)
    built = lab.build(state, chosen)
    clean = commit and lr is not None and lr.unchanged_since() is not None
    taken: set[str] = set()
    known = None
    if commit and lr is not None and not clean:
        taken, known = _taken(lab, state, chosen)
    check_outgoing(
        lab.root,
        lr,
        chosen,
        taken,
        flake_hosts=flake_hosts,
        secrets={"": secret_sources(lab, state, list(state.hosts))},
        committing=commit,
        modules=[
            m for f in chosen if (p := state.hosts[f].profile) is not None for m in p.module_files
        ],
        encrypted=[
            m for f in chosen if (p := state.hosts[f].profile) is not None for m in p.secret_files
        ],
    )
    return Ready(
        lab,
        state,
        tuple(chosen),
        tuple(built.written),
        commit,
        secrets,
        _also(lab, state, chosen),
        nothing_to_commit=clean,
        known=known,
    )


def _also(lab: LabFiles, state: LabState, chosen: Sequence[str]) -> tuple[str, ...]:
    """The hosts outside this apply whose lab-wide modules (compile.LAB_WIDE) the lab's
    names, roles and builds now change: a name added on a backend is served by the proxy
    only once the proxy is applied too, a new host answered by the DNS server once the
    server is, a new buildOn host built by its builder once the builder has its key."""
    from homelab.compile import LAB_WIDE  # deferred: the compiler, as labfiles defers it

    joined = {
        *(state.web.hosts if state.web else ()),
        *(state.wiring.peers if state.wiring else ()),
        *(state.builds.hosts if state.builds else ()),
    }
    others = [f for f in sorted(joined) if f not in chosen]
    if not others:
        return ()
    stale = set(lab.plan_build(state, others).stale)
    return tuple(f for f in others if {f"hosts/{f}/{name}" for name in LAB_WIDE} & stale)


def _check_pinned(lab: LabFiles, lr: LabRepo | None, *, committing: bool) -> None:
    """Refuse (exit 2) while an input of lab.yaml is not pinned in flake.lock: every
    machine would fetch it on its own, maybe each at another revision. Judged on the
    files that go out, for apply sends a commit: lab.yaml is the working tree's when
    homelab commits first (the pre-apply commit takes it), HEAD's with --no-commit;
    flake.lock is always HEAD's (only `homelab lock` commits it)."""
    head = lr.head() if lr is not None else None
    committed = GitSource(lr, head) if lr is not None and head else None
    disk = DiskSource(lab.root)

    def read(source: Source | None, name: str) -> str | None:
        if source is None:  # no commit yet: what the first one would take
            source = disk
        try:
            return source.read(name)
        except (UnicodeDecodeError, Unreadable):
            return None

    lock_text = read(committed, lock.FLAKE_LOCK)
    found = lock.lock_problems(
        read(disk if committing else committed, LAB_YAML), lock_text, warning=False
    )
    if found:
        hint = found[0].hint
        if read(disk, lock.FLAKE_LOCK) != lock_text:  # a lock made but not committed
            hint = "commit flake.lock (homelab sends what the commit holds); or " + hint
        raise InvalidInput(
            [
                replace(
                    p,
                    message=p.message + "; apply waits until flake.lock pins every input",
                    hint=hint,
                )
                for p in found
            ]
        )


def _taken(lab: LabFiles, state: LabState, chosen: Sequence[str]) -> tuple[set[str], Known]:
    """The lab paths the pre-apply commit takes from the working tree (commit_lab's), and
    the two states that told (the commit reuses them)."""
    lr = open_repository(lab.root)
    head = lr.head()
    old = state_at(lab, lr, head)
    return managed_paths(lab, lr, old, state, head, list(chosen)), Known(head, old, state)


def send(
    ready: Ready,
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None = None,
    stop: threading.Event | None = None,
    on_note: Note | None = None,
    before_sending: Callable[[], None] | None = None,
) -> Outcome:
    """Commit what goes out, send it, pin, record. The sudo password (in `options`) was
    asked before: nothing is committed for an apply that cannot go on.
    `before_sending` runs once, before HEAD moves to the pre-apply commit (or before the
    fan-out when nothing is committed): the command line shows the changes then, worked
    out meanwhile; when it raises, nothing is committed or sent."""
    try:
        return _send(ready, options, on_event, stop, on_note, _once(before_sending))
    finally:
        ready.close()


def _once(work: Callable[[], None] | None) -> Callable[[], None]:
    done: list[bool] = []

    def once() -> None:
        if not done and work is not None:
            done.append(True)
            work()

    return once


def _send(
    ready: Ready,
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None,
    stop: threading.Event | None,
    on_note: Note | None,
    before_sending: Callable[[], None],
) -> Outcome:
    note = on_note or (lambda _: None)
    stop = stop or threading.Event()
    lab = ready.lab
    if stop.is_set():
        return Outcome((), "", stopped=True)
    if _reach_meanwhile(ready):
        return _send_meanwhile(ready, options, on_event, stop, note, before_sending)
    _commit(ready, note, before_sending)
    # hosts whose secrets need their key first: pinned and re-encrypted in a commit of
    # their own before the upload sets are read, so that one run deploys them
    settled = hostkeys.settle(
        lab, ready.state, ready.chosen, options, committing=ready.committing, note=note, stop=stop
    )
    state = _reloaded(lab, ready.state) if settled.changed else ready.state
    refused = {**hostkeys.refusals(state, ready.chosen), **settled.refused}
    commit = _head(lab)
    plans, earlier = _plans(ready, state, commit, settled.verified, refused, note)
    # each host's record is written as it ends, while the others still run
    recorder = Recorder(
        lambda ended: record(
            lab.root, with_origins(ended, plans, state), commit, options.mode, earlier
        )
    )
    try:
        sent = fanout.apply(plans, options, on_event, stop, ready.early, recorder.add)
    finally:
        for line in recorder.finish():
            note(line)
    results = with_origins(sent, plans, state)
    pin_keys(lab, plans, results, ready.committing, note)
    return Outcome(tuple(results), commit, stopped=stop.is_set())


def _reach_meanwhile(ready: Ready) -> bool:
    """Can the machines be reached (connected to, locked, probed) while the commit is made
    and planned from? Not when a host's secrets need its key first (that settles keys
    and commits again before anything is planned), nor when a host is built elsewhere
    (its builder's work is planned with it)."""
    state = ready.state
    if any(hostkeys.wants_key(state, f) for f in ready.chosen):
        return False
    return state.builds is None or not any(f in state.builds.build_on for f in ready.chosen)


@dataclass(frozen=True)
class _Planned:
    commit: str
    plans: list[HostPlan]
    earlier: Mapping[str, DeployRecord]


def _send_meanwhile(
    ready: Ready,
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None,
    stop: threading.Event,
    note: Note,
    before_sending: Callable[[], None],
) -> Outcome:
    """The fan-out starts at once, from plans that only say how to reach each host: the
    machines are connected to, locked and probed while the commit is made here and the
    upload sets are read from it; each host waits for its plan before it sends anything.
    When the commit or the planning fails, `stop` is set and every host ends before
    sending (its staging folder removed, its lock released), nothing is recorded, and the
    error is raised."""
    lab, state = ready.lab, ready.state
    refused = hostkeys.refusals(state, ready.chosen)
    reach = [replace(plan_connection(state, f), refused=refused.get(f)) for f in ready.chosen]
    planned: dict[str, Future[HostPlan]] = {p.folder: Future() for p in reach}
    made: Future[_Planned] = Future()

    def write(ended: Sequence[HostResult]) -> None:
        if made.exception() is not None:
            return  # nothing was committed, so nothing was sent: nothing to record
        it = made.result()
        record(lab.root, with_origins(ended, it.plans, state), it.commit, options.mode, it.earlier)

    recorder = Recorder(write)
    fanned: Future[list[HostResult]] = Future()

    def fan_out() -> None:
        try:
            sent = fanout.apply(reach, options, on_event, stop, ready.early, recorder.add, planned)
        except BaseException as error:
            fanned.set_exception(error)
        else:
            fanned.set_result(sent)

    threading.Thread(target=fan_out, name="fan-out", daemon=True).start()
    try:
        try:
            _commit(ready, note, before_sending)
            commit = _head(lab)
            plans, earlier = _plans(ready, state, commit, {}, refused, note)
        except BaseException as error:
            stop.set()  # the hosts not reached yet are not; the others end before sending
            made.set_exception(error)
            for future in planned.values():
                future.set_exception(error)
            raise
        made.set_result(_Planned(commit, plans, earlier))
        by_folder = {p.folder: p for p in plans}
        for folder, future in planned.items():
            if folder in by_folder:
                future.set_result(by_folder[folder])
            else:  # no profile to plan from: it ends without sending
                future.set_exception(LabFailure(f"{folder} has no plan"))
        sent = fanned.result()
    finally:
        fanned.exception()  # every host has ended before the records are finished
        for line in recorder.finish():
            note(line)
    results = with_origins(sent, plans, state)
    pin_keys(lab, plans, results, ready.committing, note)
    return Outcome(tuple(results), commit, stopped=stop.is_set())


def _commit(ready: Ready, note: Note, before_sending: Callable[[], None]) -> None:
    """The pre-apply commit (when one is made); `before_sending` runs before HEAD moves,
    or here when nothing is committed."""
    if ready.committing and not ready.nothing_to_commit:
        try:
            done = commit_lab(
                ready.lab,
                hosts=list(ready.chosen),
                known=ready.known,
                before_head_moves=before_sending,
            )
        except Exception:
            with contextlib.suppress(Exception):  # what was to be applied, then the error
                before_sending()
            raise
        if done is not None:
            note(f"committed {done.short} {done.subject}")
    before_sending()


def _plans(
    ready: Ready,
    state: LabState,
    commit: str,
    verified: Mapping[str, str],
    refused: Mapping[str, Refusal],
    note: Note,
) -> tuple[list[HostPlan], Mapping[str, DeployRecord]]:
    """The plans from the commit that goes out, each with its newest record, and the
    records of interrupted applies to confirm."""
    plans = plan_hosts(ready.lab, state, ready.chosen, commit, ready.secrets)
    last = _last_attempts(ready.lab, note)
    earlier = interrupted(last)
    plans = [
        replace(_with_earlier(_settled(p, verified, refused), earlier), last=last.get(p.folder))
        for p in plans
    ]
    return plans, earlier


def rollback(
    lab: LabFiles,
    words: Sequence[str],
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None = None,
    stop: threading.Event | None = None,
    on_note: Note | None = None,
    *,
    commit: bool = True,
) -> Outcome:
    """Switch the chosen machines (valid hosts; InvalidInput otherwise) back to their
    previous generation: nothing is built or committed; accepted host keys are pinned
    (committed unless `commit` is False) and each host is recorded on HEAD, as an
    apply's are. The sudo password (in `options`) was asked before."""
    note = on_note or (lambda _: None)
    stop = stop or threading.Event()
    state, chosen = _valid(lab, words)
    if stop.is_set():
        return Outcome((), "", stopped=True)
    head = _head(lab)
    earlier = _unconfirmed(lab, note)
    plans = [_with_earlier(plan_connection(state, f), earlier) for f in chosen]
    results = fanout.rollback(plans, options, on_event, stop)
    pin_keys(lab, plans, results, commit, note)
    _record(lab, results, head, ROLLBACK, earlier, note)
    return Outcome(tuple(results), head, stopped=stop.is_set())


def look_live(
    lab: LabFiles,
    words: Sequence[str],
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None = None,
    stop: threading.Event | None = None,
    on_note: Note | None = None,
) -> list[HostResult]:
    """Ask the chosen machines (valid hosts; all by default) what they run, and record
    how the runs of interrupted deploys ended."""
    note = on_note or (lambda _: None)
    state = lab.load()
    chosen = [f for f in lab.select(state, words) if state.hosts[f].profile is not None]
    earlier = _unconfirmed(lab, note)
    plans = [_with_earlier(plan_connection(state, f), earlier) for f in chosen]
    results = fanout.look(plans, options, on_event, stop)
    _record(lab, results, "", "", earlier, note)
    return results


def _valid(lab: LabFiles, words: Sequence[str]) -> tuple[LabState, list[str]]:
    """The lab's state and the chosen hosts; InvalidInput with every problem at once.
    With an option index, the options are checked too: a misspelt option is refused here,
    at its profile line, not minutes later by the machine's evaluation."""
    state = lab.load(index=read_cached(lab.root))
    chosen = lab.select(state, words)
    problems = state.all_problems(chosen)
    if problems:
        raise InvalidInput(problems)
    return state, chosen


def _record(
    lab: LabFiles,
    results: Sequence[HostResult],
    commit: str,
    mode: str,
    earlier: Mapping[str, DeployRecord],
    note: Note,
) -> None:
    """The deploy records; once the machines are done, a failure here is a note."""
    try:
        record(lab.root, results, commit, mode, earlier)
    except (InvalidInput, LabFailure) as err:
        note(f"note: the deploy records could not be written: {err}")


def _head(lab: LabFiles) -> str:
    try:
        return open_repository(lab.root).head() or ""
    except NotARepository:
        return ""


def _unconfirmed(lab: LabFiles, note: Note) -> Mapping[str, DeployRecord]:
    return interrupted(_last_attempts(lab, note))


def _last_attempts(lab: LabFiles, note: Note) -> Mapping[str, DeployRecord]:
    """Each host's newest deploy record: an interrupted one is confirmed first, a switch
    that landed may make the machine up to date."""
    try:
        return last_attempts(lab.root)
    except (InvalidInput, LabFailure) as err:
        note(f"note: earlier deploy records could not be read: {err}")
        return {}


def _reloaded(lab: LabFiles, was: LabState) -> LabState:
    """The lab after host keys were pinned (and secrets re-encrypted) for this apply."""
    try:
        return lab.load()
    except (InvalidInput, LabFailure):
        return was


def _settled(
    plan: HostPlan, verified: Mapping[str, str], refused: Mapping[str, Refusal]
) -> HostPlan:
    """The plan with the key its host was verified with before (that key and no other is
    accepted now) and why it is refused, if it is."""
    if plan.folder in verified:
        plan = replace(plan, endpoint=replace(plan.endpoint, host_key=verified[plan.folder]))
    return replace(plan, refused=refused.get(plan.folder))


def _with_earlier(plan: HostPlan, earlier: Mapping[str, DeployRecord]) -> HostPlan:
    was = earlier.get(plan.folder)
    return replace(plan, earlier_run=was.run) if was is not None and was.run else plan
