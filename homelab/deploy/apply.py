"""Applying configurations to many machines at once, safely.

`apply(plans, options, on_event, cancel)` is the orchestrator: it takes host plans (what
to send where, made by `plan_hosts` from a loaded lab), runs each host in its own worker
thread, and reports through `on_event(Event)`: state changes (connecting, uploading,
building, activating, checking, rolling back, done, failed) and each line of the
machine's output. Front ends (CLI, TUI) only show these events and the results.

One host failing never stops or touches another: every host runs in its own thread, with
its own connection, and every error ends as a failed HostResult with one clear line.

The CLI and the editor reach it through homelab.deploy.workflow, which commits what goes
out, plans from that commit (`plan_hosts`), calls `apply`, pins accepted host keys and
records every host (`record`).

Stopping: `Stop.set()` (the editor's Cancel) stops each host at a safe point and stops
the rebuild it started on the machine; `Stop.interrupt()` (Ctrl-C, SIGTERM) stops the
fan-out and leaves a rebuild that already started to finish on the machine (stopping it
mid-switch could leave the machine half-switched): that host ends "interrupted", with the
run's id, and a later apply (or `look`, for `homelab status --live`) confirms how the run
ended. A link that drops and does not come back in time ends "interrupted" the same way.

`rollback(plan_connection(state, folder), options, on_event)` is `homelab rollback`.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import getpass
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab.deploy import scripts
from homelab.deploy.checks import Check, CheckResult, checks_for, run_checks
from homelab.deploy.scripts import q
from homelab.deploy.ssh import ConnectError, Endpoint, HostKeyError, SshSettings, connect
from homelab.deploy.target import (
    Cancelled,
    ConnectionLost,
    SecretFile,
    Target,
    Upload,
    UploadFailed,
    parse_facts,
    upload,
)
from homelab.errors import InvalidInput, Place, Problem

if TYPE_CHECKING:
    import paramiko

    from homelab.history.records import DeployRecord
    from homelab.labfiles import LabFiles, LabState
    from homelab.profile.model import Profile

MODES = ("switch", "boot", "test", "dry-activate", "build")
STATES = (
    "waiting",
    "connecting",
    "uploading",
    "building",
    "activating",
    "checking",
    "rolling back",
    "done",
    "failed",
    "cancelled",
    "interrupted",
)
FINAL = ("done", "failed", "cancelled", "interrupted")
MAX_JOBS = 32


class Stop(threading.Event):
    """Asks an apply to stop: `set()` cancels (rebuilds that started are stopped on the
    machines), `interrupt()` leaves rebuilds that started to finish there."""

    def __init__(self) -> None:
        super().__init__()
        self.leave_running = False

    def interrupt(self) -> None:
        self.leave_running = True
        self.set()


def _leaves_running(cancel: threading.Event) -> bool:
    return bool(getattr(cancel, "leave_running", False))


@dataclass(frozen=True)
class Event:
    """Something happened on one host: a new state, or a line of its output."""

    host: str
    state: str
    line: str | None = None
    elapsed: float = 0.0


@dataclass(frozen=True)
class HostPlan:
    """What to send to one machine and how to reach it."""

    folder: str
    name: str
    endpoint: Endpoint
    files: Mapping[str, bytes] = field(repr=False)  # machine-relative paths in the upload
    secrets: tuple[SecretFile, ...] = ()
    checks: tuple[Check, ...] = ()
    method: str = "flake"  # flake or channels
    attr: str = ""  # the flake's nixosConfigurations attribute (the host folder)
    sudo: bool = False
    profile_file: str = ""
    commit: str = ""
    earlier_run: str = ""  # a run an interrupted apply left going: confirm how it ended


@dataclass(frozen=True)
class ApplyOptions:
    mode: str = "switch"
    jobs: int = 0  # 0: all hosts at once, up to MAX_JOBS
    ssh: SshSettings = field(default_factory=SshSettings.from_home)
    sudo_password: str | None = field(default=None, repr=False)
    confirm: float | None = None  # magic rollback: seconds to reach the machine again
    rollback_on_failure: bool = False
    timeout: float = 3600.0  # for the rebuild on the machine
    check_timeout: float = 30.0
    reconnect_timeout: float = 120.0
    lock_wait: float = 0.0  # 0: refuse at once when another apply holds the host
    heartbeat: float = 10.0  # seconds between the signs of life that keep the host's lock


@dataclass(frozen=True)
class Generation:
    number: int | None
    system: str  # store path of the running system

    def __str__(self) -> str:
        if self.number is None:
            return self.system.rsplit("/", 1)[-1] or "unknown"
        return f"generation {self.number}"


@dataclass(frozen=True)
class Confirmed:
    """How a run that an interrupted apply left going on the machine ended."""

    run: str
    result: str  # ok, failed, rolled-back, or unknown (the machine no longer knows)
    summary: str
    now: Generation
    when: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class HostResult:
    host: str
    folder: str
    state: str  # done, failed, cancelled or interrupted
    summary: str  # one line for the summary table
    before: Generation | None = None
    after: Generation | None = None
    uploaded: tuple[str, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    closure_diff: tuple[str, ...] = ()
    details: tuple[str, ...] = ()  # the longer story of a failure, and last output lines
    pinned_key: str | None = None  # an unknown host key accepted with --accept-new
    rolled_back: bool = False  # the machine was switched back to where it was
    run: str = ""  # interrupted: the run left going on the machine
    confirmed: Confirmed | None = None  # the end of an earlier interrupted run, seen now
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime = field(default_factory=lambda: datetime.now(UTC))
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == "done"


# ---- plans --------------------------------------------------------------------------


def secrets_of(
    lab: LabFiles, state: LabState, folders: Sequence[str]
) -> dict[str, tuple[SecretFile, ...]]:
    """Each host's secrets, read from their sources (they never go through git or the
    Nix store). InvalidInput (every problem at once) when one cannot be read."""
    problems: list[Problem] = []
    out: dict[str, tuple[SecretFile, ...]] = {}
    for folder in folders:
        profile = state.hosts[folder].profile
        if profile is None:
            continue
        document = state.hosts[folder].document
        found: list[SecretFile] = []
        for secret in profile.secrets:
            try:
                data = _read_regular(lab.root / secret.source)
            except OSError as err:
                problems.append(
                    Problem(
                        _place(document, ("secrets", secret.name, "source"), profile.file),
                        f"cannot read secret file {secret.source}: {err.strerror or err}",
                        path=f"secrets.{secret.name}.source",
                    )
                )
                continue
            owner = secret.owner or "root"
            found.append(
                SecretFile(secret.name, secret.target, data, secret.mode, owner, secret.group)
            )
        out[folder] = tuple(found)
    if problems:
        raise InvalidInput(problems)
    return out


def _read_regular(path: Path) -> bytes:
    """A file's bytes; OSError for anything but a regular file (a FIFO would hang)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def secret_sources(lab: LabFiles, state: LabState, folders: Sequence[str]) -> set[str]:
    """Every lab path that is a secret's source, however it is spelled."""
    from homelab.deploy.outgoing import secret_paths

    sources = [
        s.source
        for f in folders
        if (profile := state.hosts[f].profile) is not None
        for s in profile.secrets
    ]
    return secret_paths(lab.root, sources)


def plan_hosts(
    lab: LabFiles,
    state: LabState,
    folders: Sequence[str],
    commit: str,
    secrets: Mapping[str, tuple[SecretFile, ...]] | None = None,
) -> list[HostPlan]:
    """The plans of these hosts: their upload set as `commit` holds it (never the working
    tree), their secrets, checks. InvalidInput (every problem at once) on bad input."""
    from homelab.deploy.outgoing import files_at
    from homelab.history.repo import open_repository

    if not commit:
        raise InvalidInput(
            [
                Problem(
                    Place(str(lab.root)),
                    "nothing is committed yet: homelab sends what a commit holds",
                    hint="commit the lab first (homelab build --commit)",
                )
            ]
        )
    if secrets is None:
        secrets = secrets_of(lab, state, folders)
    skip = secret_sources(lab, state, list(state.hosts))
    lr = open_repository(lab.root)
    problems: list[Problem] = []
    plans: list[HostPlan] = []
    for folder in folders:
        profile = state.hosts[folder].profile
        if profile is None:
            continue
        flake = profile.deploy.method != "channels"
        try:
            files = files_at(lr, commit, folder, flake=flake, secrets=skip)
        except InvalidInput as err:
            problems += err.problems
            continue
        if not flake:
            files = {rel.removeprefix(f"hosts/{folder}/"): data for rel, data in files.items()}
        elif "flake.nix" not in files:
            problems.append(
                Problem(
                    Place("flake.nix"),
                    f"{folder} deploys with a flake, but commit {commit[:7]} has no flake.nix",
                    hint="`homelab init` writes one (commit it); or set deploy.method: channels",
                )
            )
        deploy = profile.deploy
        plans.append(
            HostPlan(
                folder=folder,
                name=profile.name,
                endpoint=endpoint_of(profile),
                files=files,
                secrets=tuple(secrets.get(folder, ())),
                checks=checks_for(profile, state.catalog),
                method=deploy.method,
                attr=folder,
                sudo=deploy.sudo,
                profile_file=profile.file,
                commit=commit,
            )
        )
    if problems:
        raise InvalidInput(problems)
    return plans


def endpoint_of(profile: Profile) -> Endpoint:
    """How to reach a host: its deploy section, the host name when no address is given."""
    deploy = profile.deploy
    return Endpoint(
        deploy.address or profile.name,
        deploy.port,
        deploy.user,
        deploy.host_key,
        label=profile.name,
        pin_file=profile.file,
    )


def _place(document: Any, path: tuple[str | int, ...], file: str) -> Place:
    place = document.marks.value(path, Place(file)) if document is not None else Place(file)
    return place if isinstance(place, Place) else Place(file)


def plan_connection(state: LabState, folder: str) -> HostPlan:
    """A plan that only says how to reach the host (for rollback: nothing is sent)."""
    profile = state.hosts[folder].profile
    assert profile is not None
    deploy = profile.deploy
    endpoint = endpoint_of(profile)
    return HostPlan(
        folder=folder,
        name=profile.name,
        endpoint=endpoint,
        files={},
        method=deploy.method,
        attr=folder,
        sudo=deploy.sudo,
        profile_file=profile.file,
    )


# ---- many hosts -----------------------------------------------------------------------


def apply(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[HostResult]:
    """Apply every plan, in parallel; results in the order of the plans."""
    if options.mode not in MODES:
        raise ValueError(f"unknown mode {options.mode!r}")
    cancel = cancel or threading.Event()
    emit = on_event or (lambda _: None)
    for plan in plans:
        emit(Event(plan.name, "waiting"))
    if not plans:
        return []
    jobs = options.jobs if options.jobs > 0 else MAX_JOBS
    with ThreadPoolExecutor(max_workers=min(jobs, len(plans)), thread_name_prefix="apply") as pool:
        futures = [pool.submit(_HostRun(plan, options, emit, cancel).apply) for plan in plans]
        return [f.result() for f in futures]


def look(
    plans: Sequence[HostPlan],
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[HostResult]:
    """Ask each machine what it runs, and how the run named in its plan's `earlier_run`
    ended (`homelab status --live`); changes nothing on the machines."""
    cancel = cancel or threading.Event()
    emit = on_event or (lambda _: None)
    if not plans:
        return []
    jobs = options.jobs if options.jobs > 0 else MAX_JOBS
    with ThreadPoolExecutor(max_workers=min(jobs, len(plans)), thread_name_prefix="look") as pool:
        futures = [pool.submit(_HostRun(plan, options, emit, cancel).look) for plan in plans]
        return [f.result() for f in futures]


def rollback(
    plan: HostPlan,
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None = None,
    cancel: threading.Event | None = None,
) -> HostResult:
    """`homelab rollback HOST`: the machine back to its previous generation."""
    return _HostRun(plan, options, on_event or (lambda _: None), cancel or threading.Event()).undo()


# ---- one host -----------------------------------------------------------------------


class _Failed(Exception):
    def __init__(self, summary: str, *details: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


class _Interrupted(Exception):
    """homelab stopped following a run that goes on on the machine."""

    def __init__(self, run: str, summary: str, *details: str) -> None:
        super().__init__(summary)
        self.run = run
        self.summary = summary
        self.details = details


@dataclass
class _Facts:
    root: str = ""
    user: str = ""
    current: str = ""
    generation: int | None = None
    systemd: bool = False
    nvd: bool = False
    nix: bool = False
    rebuild: bool = False
    manifest: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    staging: str = ""
    cleaned: list[str] = field(default_factory=list)

    @property
    def generation_now(self) -> Generation:
        return Generation(self.generation, self.current)


def _generation_number(link: str) -> int | None:
    """system-12-link -> 12"""
    name = link.rsplit("/", 1)[-1]
    middle = name.removeprefix("system-").removesuffix("-link")
    return int(middle) if middle.isdigit() else None


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class _Run:
    """What following one detached run found."""

    status: int | None = None  # None: it ended without a status (stopped, killed)
    after: Generation | None = None
    fired: bool = False
    timed_out: bool = False
    reconnected: bool = False
    activated: bool = False
    closure_diff: list[str] = field(default_factory=list)
    in_diff: bool = False
    problem: str = ""
    unit: str = ""  # the systemd unit's result when the run left no status


class _HostRun:
    def __init__(
        self,
        plan: HostPlan,
        options: ApplyOptions,
        emit: Callable[[Event], None],
        cancel: threading.Event,
    ) -> None:
        self.plan = plan
        self.options = options
        self._emit = emit
        self.cancel = cancel
        self.state = "waiting"
        self.t0 = time.monotonic()
        self.started = datetime.now(UTC)
        self.id = time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()
        self.tail: collections.deque[str] = collections.deque(maxlen=15)
        self.notes: list[str] = []
        self.pinned: str | None = None
        self.holder: paramiko.Channel | None = None
        self.facts = _Facts()
        self.uploaded: tuple[str, ...] = ()
        self.upload_result: Upload | None = None
        self.sudo = ""
        self.target = Target(plan.name, self._open)
        self.live_run = ""  # a run started on the machine whose end homelab has not seen
        self.beating: threading.Event | None = None
        self.confirmed: Confirmed | None = None

    # ---- events --------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self._emit(Event(self.plan.name, state, None, self.elapsed()))

    def line(self, text: str) -> None:
        self.tail.append(text)
        self._emit(Event(self.plan.name, self.state, text, self.elapsed()))

    def _open(self) -> Any:
        conn = connect(self.plan.endpoint, self.options.ssh)
        if conn.accepted_key and not self.pinned:
            from homelab.deploy.ssh import fingerprint

            self.pinned = conn.accepted_key
            self.line(
                f"accepted the new host key {fingerprint(conn.accepted_key)}; "
                f"it will be pinned in {self.plan.profile_file}"
            )
        return conn

    # ---- the whole story ------------------------------------------------------------------

    def apply(self) -> HostResult:
        return self._guarded(self._apply)

    def undo(self) -> HostResult:
        return self._guarded(self._undo)

    def look(self) -> HostResult:
        return self._guarded(self._look)

    def _guarded(self, work: Callable[[], HostResult]) -> HostResult:
        try:
            return work()
        except _Failed as failure:
            return self._result("failed", failure.summary, details=failure.details)
        except _Interrupted as stopped:
            return self._gone_on(stopped)
        except Cancelled:
            if self.live_run:  # e.g. stopped while confirming: the machine's timer decides
                return self._gone_on(self._interrupted(self.live_run))
            return self._result("cancelled", "cancelled before it finished")
        except HostKeyError as err:
            return self._result("failed", err.short, details=(str(err),))
        except ConnectError as err:
            return self._result("failed", err.short, details=(str(err),))
        except ConnectionLost as err:
            return self._result("failed", f"connection lost ({err})")
        except Exception as err:
            return self._result("failed", f"unexpected error: {type(err).__name__}: {err}")
        finally:
            self._release()
            self.target.close()

    def _result(self, state: str, summary: str, **extra: Any) -> HostResult:
        self.set(state)
        details = tuple(extra.pop("details", ()))
        if state != "done" and self.tail:
            details += ("last lines from the machine:", *(f"  {t}" for t in self.tail))
        return HostResult(
            host=self.plan.name,
            folder=self.plan.folder,
            state=state,
            summary=summary,
            uploaded=self.uploaded,
            details=(*self.notes, *details),
            pinned_key=self.pinned,
            confirmed=self.confirmed,
            started=self.started,
            finished=datetime.now(UTC),
            elapsed=self.elapsed(),
            **{"before": self.facts.generation_now if self.facts.current else None, **extra},
        )

    def _apply(self) -> HostResult:
        mode = self.options.mode
        self._check_cancel()
        self.set("connecting")
        self.target.connection  # noqa: B018 - connect now: failures say so here
        facts = self._probe(staging=True)
        before = facts.generation_now
        if self.plan.earlier_run:
            self.confirmed = self._confirm_earlier(self.plan.earlier_run)
        self.set("uploading")
        self._upload()
        self._check_cancel()
        self.set("building")
        run = self._start_and_follow(self._job_steps(), install=True)
        if run.status != 0:
            return self._failed_run(run, before)
        if self.options.confirm and mode in ("switch", "test"):
            run = self._confirm(run, before)
        after = run.after or before
        checks: list[CheckResult] = []
        if mode in ("switch", "test") and self.plan.checks:
            self.set("checking")
            try:
                checks = run_checks(
                    self.target,
                    self.plan.checks,
                    within=self.options.check_timeout,
                    cancel=self.cancel,
                    on_line=self.line,
                )
            except Cancelled:  # the machine switched all the same: say so
                line = self._success_line(before, after, run)
                return self._result(
                    "done", f"{line}; stopped before the health checks ended", after=after
                )
            failed = [c for c in checks if not c.ok]
            if failed:
                summary = "health check failed: " + "; ".join(str(c) for c in failed)
                rolled = False
                if self.options.rollback_on_failure:
                    back = self._restore(before, after)
                    summary += f"; switched back to {back}"
                    after, rolled = back, True
                else:
                    summary += f" (still on {after}; --rollback-on-failure switches back)"
                return self._result(
                    "failed", summary, after=after, checks=tuple(checks), rolled_back=rolled
                )
        return self._result(
            "done",
            self._success_line(before, after, run),
            after=after,
            checks=tuple(checks),
            closure_diff=tuple(run.closure_diff),
        )

    def _success_line(self, before: Generation, after: Generation, run: _Run) -> str:
        mode = self.options.mode
        changed = len(self.uploaded) - 1
        sent = f"{changed} file{'s' if changed != 1 else ''} uploaded"
        if mode == "build":
            diff = f", {len(run.closure_diff)} closure change line(s)" if run.closure_diff else ""
            text = f"built ({sent}{diff}); still on {after}"
        elif mode == "dry-activate":
            text = f"dry activation done ({sent}); still on {after}"
        elif mode == "boot":
            text = f"{after} set for the next boot ({sent})"
        elif before.system == after.system and before.number == after.number:
            text = f"no change: still on {after} ({sent})"
        else:
            text = f"{before} -> {after} ({sent})"
        if run.reconnected:
            text += "; reconnected after the connection dropped"
        return text

    def _look(self) -> HostResult:
        self.set("connecting")
        self.target.connection  # noqa: B018
        self.set("checking")
        if self.plan.earlier_run:
            self.confirmed = self._confirm_earlier(self.plan.earlier_run)
            now = self.confirmed.now
        else:
            found = parse_facts(self.target.run(scripts.command(scripts.RUN_STATE, "")).out)
            now = Generation(_generation_number(found.get("profile", "")), found.get("current", ""))
        return self._result("done", f"runs {now}", after=now)

    def _confirm_earlier(self, run_id: str) -> Confirmed:
        """How the run an interrupted apply left going ended, from the machine's own
        record of it (its status file, its confirm timer, what it runs now)."""
        ran = self.target.run(scripts.command(scripts.RUN_STATE, run_id), timeout=30)
        found = parse_facts(ran.out)
        now = Generation(_generation_number(found.get("profile", "")), found.get("current", ""))
        state = found.get("run", "missing")
        status = found.get("status", "").strip()
        back = run_id.endswith("-back")
        if state == "running" or found.get("armed") == "1":
            result, what = "", "is still running"
        elif state == "missing":
            result, what = "unknown", "is no longer known to the machine"
        elif state == "vanished":
            result, what = "failed", "ended without a result (it never started, or was killed)"
        elif status == "0" and found.get("fired") == "1":
            result, what = "rolled-back", "ended; its confirm timer switched the machine back"
        elif status == "0":
            result, what = ("rolled-back" if back else "ok"), "ended well (exit 0)"
        else:
            result, what = "failed", f"failed (exit {status or '?'})"
        summary = f"the run {run_id} left by an interrupted apply {what}; the machine runs {now}"
        self.line(summary)
        return Confirmed(run_id, result, summary, now)

    def _gone_on(self, stopped: _Interrupted) -> HostResult:
        return self._result(
            "interrupted", stopped.summary, run=stopped.run, details=stopped.details
        )

    def _interrupted(self, run_id: str, why: str = "") -> _Interrupted:
        phase = self.state if self.state not in FINAL else "running"
        return _Interrupted(
            run_id,
            (why or f"interrupted while {phase}")
            + f": the run goes on on the machine (run {run_id}); "
            "the next apply or `homelab status --live` confirms how it ended",
            f"its log on the machine: {scripts.STATE}/runs/{run_id}/log",
        )

    def _undo(self) -> HostResult:
        self.set("connecting")
        self.target.connection  # noqa: B018
        facts = self._probe(staging=False)
        before = facts.generation_now
        self.set("rolling back")
        run = self._start_and_follow(
            ['say phase "rolling back"', "nixos-rebuild switch --rollback || finish $?"],
            install=False,
            run_id=self.id + "-back",  # a run that switches back, when confirmed later
        )
        if run.status != 0:
            how = "it stopped" if run.status is None else f"exit {run.status}"
            raise _Failed(f"rollback failed ({how}); still on {run.after or before}")
        after = run.after or before
        return self._result("done", f"{before} -> {after} (rolled back)", after=after)

    # ---- steps ----------------------------------------------------------------------

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def _owner(self) -> str:
        who = f"{getpass.getuser()}@{socket.gethostname()}"
        return f"homelab apply by {who} (pid {os.getpid()}) since {time.strftime('%H:%M:%S')}"

    def _probe(self, *, staging: bool) -> _Facts:
        need_sudo = self.plan.sudo or self._user() != "root"
        for attempt in range(2):
            chan, text = self._hold(
                scripts.command(
                    scripts.PROBE,
                    self._owner(),
                    f"{self.options.lock_wait:g}",
                    "1" if need_sudo else "0",
                    self.id if staging else "",
                    self._beat_seconds(),
                )
            )
            found = parse_facts(text)
            if found.get("state") == "missing" and attempt == 0:
                chan.close()
                self._sudo_mode(need=True, facts=found)
                ran = self.target.run(
                    scripts.sudo_command(
                        scripts.MAKE_STATE, found.get("root", ""), found.get("user", ""),
                        sudo=self.sudo,
                    ),
                    stdin=self._password_line(),
                )  # fmt: skip
                if ran.code != 0:
                    raise _Failed(f"cannot make {scripts.STATE} on the machine: {ran.err.strip()}")
                continue
            break
        self.holder = chan
        self._keep_beating(chan)
        if "tookover" in found:
            self.line(
                f"took over the host's lock from {found['tookover']}: that apply is gone "
                "(killed, or its connection lost)"
            )
        if found.get("state") == "missing":
            raise _Failed(f"cannot use {scripts.STATE} on the machine (owned by another user?)")
        if "locked" in found:
            chan.close()
            self.holder = None
            owner = found["locked"] or "another homelab"
            raise _Failed(f"locked: {owner} is applying to this host; not touched", owner)
        facts = _Facts(
            root=found.get("root", ""),
            user=found.get("user", ""),
            current=found.get("current", ""),
            generation=_generation_number(found.get("profile", "")),
            systemd=found.get("systemd") == "1",
            nvd=found.get("nvd") == "1",
            nix=found.get("nix") == "1",
            rebuild=found.get("rebuild") == "1",
            manifest=_json(found.get("manifest", "")),
            secrets={str(k): str(v) for k, v in _json(found.get("secrets", "")).items()},
            staging=found.get("staging", ""),
            cleaned=[v for k, v in _pairs(text) if k == "cleaned"],
        )
        self.facts = facts
        for path in facts.cleaned:
            self.line(f"removed {path}, left by an earlier apply that was cut off")
        if "running" in found:
            raise _Failed(
                f"a rebuild started earlier (run {found['running']}) is still running on the "
                "machine; not touched",
                f"its log: {scripts.STATE}/runs/{found['running']}/log",
            )
        if not facts.rebuild:
            self._clean_staging()
            raise _Failed("nixos-rebuild not found on the machine (is it NixOS?)")
        if found.get("user", "root") != "root" or self.plan.sudo:
            self._sudo_mode(need=True, facts=found)
        return facts

    def _user(self) -> str:
        conn = self.target.connection
        return conn.route.user

    def _sudo_mode(self, *, need: bool, facts: Mapping[str, str]) -> None:
        if not need:
            self.sudo = ""
            return
        if facts.get("sudo") == "ok":
            self.sudo = "-n"
            return
        if self.options.sudo_password is None:
            self._clean_staging()
            raise _Failed(
                "sudo needs a password: run again with --ask-sudo-password; not touched",
                f"`sudo -n true` failed for {facts.get('user', '?')} on the machine.",
            )
        self.sudo = "-S"
        ran = self.target.run(
            scripts.sudo_command("true", sudo="-S"), stdin=self._password_line(), timeout=30
        )
        if ran.code != 0:
            self._clean_staging()
            raise _Failed("sudo refused the password; not touched")

    def _password_line(self) -> bytes:
        if self.sudo == "-S" and self.options.sudo_password is not None:
            return self.options.sudo_password.encode() + b"\n"
        return b""

    def _hold(self, command: str) -> tuple[Any, str]:
        """Start a command that prints facts, then `ready`, then stays (holding the
        lock) until we close it."""
        chan = self.target.open_channel(command)  # its stdin stays open: closing frees the lock
        data = b""
        deadline = time.monotonic() + max(60.0, self.options.lock_wait + 30)
        while b"\nready\n" not in b"\n" + data:
            if chan.recv_ready():
                data += chan.recv(65536)
                continue
            if chan.exit_status_ready():
                data += chan.recv(65536) if chan.recv_ready() else b""
                if b"\nready\n" in b"\n" + data:
                    break
                if not self.target.connection_alive():
                    raise ConnectionLost("the connection dropped")
                err = chan.recv_stderr(65536).decode(errors="replace").strip()
                raise _Failed(f"the machine could not run homelab's probe: {err[:200]}")
            if time.monotonic() > deadline:
                chan.close()
                raise _Failed("the machine did not answer homelab's probe")
            self._check_cancel()
            chan.status_event.wait(0.02)
        return chan, data.decode("utf-8", "replace")

    def _relock(self) -> None:
        """A reconnect dropped the lock with the old connection: take it again."""
        self._release()
        try:
            chan, text = self._hold(
                scripts.command(scripts.PROBE, self._owner(), "10", "0", "", self._beat_seconds())
            )
        except (ConnectionLost, _Failed):
            return
        if "locked" in parse_facts(text):
            chan.close()
            self.notes.append("after reconnecting, another apply held this host's lock")
            return
        self.holder = chan
        self._keep_beating(chan)

    def _beat_seconds(self) -> str:
        return str(max(1, round(self.options.heartbeat)))

    def _keep_beating(self, chan: Any) -> None:
        """Signs of life on the lock's channel: the machine sees that this apply is still
        there, and a later apply takes over the lock only once they stop."""
        stop = self.beating = threading.Event()
        every = float(self._beat_seconds())

        def beat() -> None:
            while not stop.wait(every):
                try:
                    chan.sendall(b"\n")
                except Exception:  # the connection went: the lock went with it
                    return

        threading.Thread(target=beat, name=f"heartbeat-{self.plan.name}", daemon=True).start()

    def _release(self) -> None:
        if self.beating is not None:
            self.beating.set()
            self.beating = None
        if self.holder is not None:
            with contextlib.suppress(Exception):
                self.holder.close()
            self.holder = None

    def _clean_staging(self) -> None:
        if not self.facts.staging:
            return
        with contextlib.suppress(ConnectionLost, ConnectError, OSError):
            self.target.run(
                scripts.command(scripts.CLEAN_STAGING, self.facts.root, self.facts.staging),
                timeout=30,
            )

    def _upload(self) -> None:
        plan, facts = self.plan, self.facts
        extra = {
            "host": plan.folder,
            "method": plan.method,
            "commit": plan.commit,
            "by": self._owner(),
        }
        try:
            up = upload(
                self.target,
                facts.root,
                facts.staging,
                plan.files,
                facts.manifest,
                extra,
                plan.secrets,
                facts.secrets,
                on_file=lambda _: self._check_cancel(),
                cancel=self.cancel,
            )
        except ConnectionLost:
            cleaned = self._clean_after_cut()
            raise _Failed(
                "connection lost during upload; nothing installed"
                + ("" if cleaned else " (the next apply removes the staging folder)"),
                f"staging folder {facts.staging} "
                + ("removed" if cleaned else "left on the machine"),
            ) from None
        except UploadFailed as failure:
            self._clean_staging()  # frees the space the partial upload took
            raise _Failed(failure.summary, *failure.details) from None
        self.uploaded = up.uploaded
        self.upload_result = up
        if up.resent:
            self.line(f"sent again, as it had not arrived whole: {', '.join(up.resent)}")
        files = [p for p in up.uploaded if p != scripts.MANIFEST and p not in up.resent]
        size = f"{up.bytes / 1024:.1f} KiB"
        if files:
            shown = ", ".join(files[:6]) + (f" and {len(files) - 6} more" if len(files) > 6 else "")
            self.line(f"uploaded {len(files)} changed file(s) ({size}): {shown}")
        else:
            self.line("no file changed since the last upload (only the manifest sent)")
        if up.removed:
            self.line(f"removed {len(up.removed)} file(s) no longer generated")
        if up.secrets:
            self.line(f"{len(up.secrets)} secret(s) to install")

    def _clean_after_cut(self) -> bool:
        try:
            self.target.reconnect(min(self.options.reconnect_timeout, 15.0), self.cancel)
            ran = self.target.run(
                scripts.command(scripts.CLEAN_STAGING, self.facts.root, self.facts.staging),
                timeout=30,
            )
            return ran.code == 0
        except (ConnectionLost, ConnectError, OSError, Cancelled):
            return False

    # ---- the job on the machine ----------------------------------------------------------

    def _rebuild(self, mode: str) -> str:
        if self.plan.method == "channels":
            return f"nixos-rebuild {mode}"
        return f'nixos-rebuild {mode} --flake "$S/config"#{q(self.plan.attr)}'

    def _job_steps(self) -> list[str]:
        mode = self.options.mode
        steps: list[str] = []
        up = self.upload_result
        secrets = up.secrets if up is not None else ()
        if secrets:
            steps.append('say phase building; say note "installing secrets"')
            for number, secret in secrets:
                dest = f'"$R"{q(secret.target)}'
                steps.append(
                    f'install -D -m {q(secret.mode)} "$S/secrets.partial/{number}" '
                    f"{dest}.homelab-new && mv -f {dest}.homelab-new {dest} "
                    f"|| {{ say note {q('cannot install secret ' + secret.name)}; finish 71; }}"
                )
                steps.append(self._chown(secret, dest))
            steps.append('rm -rf "$S/secrets.partial"')
        if self.plan.method == "channels":
            steps += [
                'say note "putting the configuration in /etc/nixos"',
                'rm -rf "$R/etc/nixos.homelab-new" && mkdir -p "$R/etc/nixos.homelab-new" '
                '&& cp -a "$S/config/." "$R/etc/nixos.homelab-new/" || finish 72',
                'if [ -d "$R/etc/nixos" ] && [ ! -e "$R/etc/nixos.before-homelab" ]; then '
                'cp -a "$R/etc/nixos" "$R/etc/nixos.before-homelab"; fi',
                'rm -rf "$R/etc/nixos.previous"',
                'if [ -d "$R/etc/nixos" ]; then mv "$R/etc/nixos" "$R/etc/nixos.previous"; fi',
                'mv "$R/etc/nixos.homelab-new" "$R/etc/nixos" || finish 72',
            ]
        steps.append("say phase building")
        confirm = self.options.confirm
        if confirm and mode in ("switch", "test"):
            steps += self._confirm_steps(mode, confirm)
        elif mode == "build":
            steps += [
                f"{self._rebuild('build')} || finish $?",
                'new="$(readlink -f result)"; say built "$new"',
                "say phase diff",
                'if command -v nvd >/dev/null 2>&1; then nvd diff "$R/run/current-system" "$new"; '
                "elif command -v nix >/dev/null 2>&1; then nix --extra-experimental-features "
                'nix-command store diff-closures "$R/run/current-system" "$new"; '
                'else echo "no nvd or nix on the machine: no closure diff"; fi',
            ]
        else:
            steps.append(f"{self._rebuild(mode)} || finish $?")
        if secrets and mode in ("switch", "test", "boot"):
            for _, secret in secrets:
                if secret.owner != "root" or secret.group:
                    dest = f'"$R"{q(secret.target)}'
                    steps.append(self._chown(secret, dest, after=mode))
        if up is not None:
            # last: a run that stops before here sends its secrets again next time
            digests = json.dumps(dict(up.secret_digests), sort_keys=True)
            steps.append(
                f'( umask 077; printf "%s\\n" {q(digests)} > "$S/secrets.json" ) '
                '&& chown --reference="$S" "$S/secrets.json" 2>/dev/null; true'
            )
        return steps

    @staticmethod
    def _chown(secret: SecretFile, dest: str, after: str = "") -> str:
        """Give a secret its owner: before the switch quietly (the new configuration may
        make that user), after it for good: a user that still does not exist fails the
        host (the service could not read its secret). A boot waits for the next boot."""
        owner = q(secret.owner) + (f":{q(secret.group)}" if secret.group else "")
        who = secret.owner + (f" (group {secret.group})" if secret.group else "")
        if after == "boot":
            note = f"secret {secret.name}: owner {who} does not exist yet (until the boot)"
            return f"chown {owner} {dest} || say note {q(note)}"
        if after:
            problem = f"secret {secret.name}: its owner {who} does not exist on the machine"
            return f"chown {owner} {dest} || {{ say problem {q(problem)}; finish 73; }}"
        return f"chown {owner} {dest} 2>/dev/null || true"

    def _confirm_steps(self, mode: str, seconds: float) -> list[str]:
        """Build, arm the timer, activate: the machine rolls itself back unless homelab
        reaches it again (a fresh connection) and disarms the timer in time."""
        before = self.facts
        back = self._restore_steps(Generation(before.generation, before.current), mode)
        timer = "\n".join(
            [
                f"sleep {seconds:g}",
                'if mv "$run/confirm-armed" "$run/confirm-fired" 2>/dev/null; then',
                '  echo "@homelab note the confirm timer fired: rolling back"',
                *back,
                "fi",
            ]
        )
        timer_file = (
            f"run={q(self._run_dir())}\nR={q(self.facts.root)}\n"
            'exec >>"$run/log" 2>&1 </dev/null\n' + timer + "\n"
        )
        start = (
            f"systemd-run --unit={q('homelab-' + self.id + '-confirm')} --quiet -- "
            'sh "$run/confirm.sh" >/dev/null 2>&1'
            if self.facts.systemd
            else 'setsid nohup sh "$run/confirm.sh" >/dev/null 2>&1 </dev/null &'
        )
        steps = [
            f"{self._rebuild('build')} || finish $?",
            'new="$(readlink -f result)"; say built "$new"',
        ]
        if mode == "switch":
            steps.append('nix-env -p "$R/nix/var/nix/profiles/system" --set "$new" || finish $?')
        steps += [
            f"printf '%s' {q(timer_file)} > \"$run/confirm.sh\"",
            ': > "$run/confirm-armed"',
            start,
            f"say armed {seconds:g}",
            "say phase activating",
            f'"$new/bin/switch-to-configuration" {q(mode)} || finish $?',
        ]
        return steps

    def _restore_steps(self, before: Generation, mode: str) -> list[str]:
        """Shell lines that put the machine back on `before`."""
        steps = []
        if before.number is not None and mode in ("switch", "boot"):
            steps.append(
                'nix-env -p "$R/nix/var/nix/profiles/system" '
                f"--switch-generation {before.number} || finish $?"
            )
        if not before.system:
            return steps
        if mode == "boot":
            steps.append(
                '"$R/nix/var/nix/profiles/system/bin/switch-to-configuration" boot || finish $?'
            )
        else:
            action = "test" if mode == "test" else "switch"
            steps.append(f"{q(before.system)}/bin/switch-to-configuration {action} || finish $?")
        return steps

    def _run_dir(self, run_id: str | None = None) -> str:
        return f"{self.facts.root}{scripts.STATE}/runs/{run_id or self.id}"

    def _start_and_follow(self, steps: list[str], *, install: bool, run_id: str = "") -> _Run:
        """Write the job, start it detached, follow its log to its end (reconnecting when
        the connection drops), and say what state the machine is in."""
        run_id = run_id or self.id
        run_dir = self._run_dir(run_id)
        script = scripts.job_script(run=run_dir, root=self.facts.root, steps=steps)
        try:
            self.target.make_dirs(run_dir, set())
            self.target.write_file(f"{run_dir}/job.sh", script.encode(), mode=0o755)
        except ConnectionLost:
            if install:
                cleaned = self._clean_after_cut()
                raise _Failed(
                    "connection lost before the rebuild started; nothing installed",
                    "staging folder " + ("removed" if cleaned else "left for the next apply"),
                ) from None
            raise
        result = _Run()
        command = scripts.command(
            scripts.START,
            self.facts.root,
            run_id,
            "1" if self.facts.systemd else "0",
            self.sudo,
            "install" if install else "",
            scripts.FOLLOW,
        )
        stdin = self._password_line()
        deadline = time.monotonic() + self.options.timeout
        self.live_run = run_id  # from here on the machine may switch without us
        offset = 0
        pending = b""
        err = bytearray()
        armed_at: float | None = None

        def out(data: bytes) -> None:
            nonlocal offset, pending, armed_at
            offset += len(data)
            pending += data
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                text = raw.decode("utf-8", "replace").rstrip("\r")
                if text.startswith("@homelab armed"):
                    armed_at = time.monotonic()
                self._output(text, result)

        started = False
        while True:
            err.clear()
            try:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError()
                self.target.stream(
                    command, out, err.extend, stdin=stdin, timeout=left, cancel=self.cancel
                )
                started = True
            except ConnectionLost:
                result.reconnected = True
                self.line("connection lost; reconnecting (the rebuild goes on on the machine)")
                window = self.options.reconnect_timeout
                if self.options.confirm and armed_at is not None:
                    window = max(window, self.options.confirm + 30)
                try:
                    self.target.reconnect(window, self.cancel)
                except ConnectError as error:
                    it = self._interrupted(
                        run_id, f"connection lost and not back within {window:g} s"
                    )
                    raise _Interrupted(it.run, it.summary, str(error), *it.details) from None
                self.line("reconnected; following the rest of the run")
                self._relock()
                command = self._follow(run_dir, offset)
                stdin = b""
                continue
            except TimeoutError:
                result.timed_out = True
                self.line(f"timed out after {self.options.timeout:g} s; stopping the run")
                self._stop(run_id)
                command = self._follow(run_dir, offset)
                stdin = b""
                deadline = time.monotonic() + 60
                continue
            except Cancelled:
                if _leaves_running(self.cancel):
                    self.line("stopped following: the run goes on on the machine")
                    raise self._interrupted(run_id) from None
                self.line("cancelled: stopping the run on the machine")
                self._stop(run_id)
                self.live_run = ""
                raise
            break
        if not (self.options.confirm and armed_at is not None):
            self.live_run = ""  # its end is seen (an armed confirm timer still decides)
        if pending:
            self._output(pending.decode("utf-8", "replace"), result)
        facts = parse_facts(err.decode("utf-8", "replace"))
        if "start" in facts:
            if install:
                self._clean_staging()
            raise _Failed(facts["start"])
        if not started:
            raise _Failed("the run did not start")
        status = facts.get("status", "").strip()
        result.status = int(status) if status.lstrip("-").isdigit() else None
        if result.timed_out:
            result.status = None
        result.fired = facts.get("fired") == "1"
        if "current" in facts:
            result.after = Generation(
                _generation_number(facts.get("profile", "")), facts["current"]
            )
        if "nostart" in facts:
            result.problem = "the run never started: " + facts["nostart"].strip()
        result.unit = facts.get("unit", "").strip()
        return result

    def _follow(self, run_dir: str, offset: int) -> str:
        systemd = "1" if self.facts.systemd else "0"
        return scripts.command(scripts.FOLLOW, run_dir, str(offset), self.facts.root, systemd)

    def _output(self, text: str, result: _Run) -> None:
        if text.startswith(scripts.MARK):
            word, _, rest = text[len(scripts.MARK) :].partition(" ")
            if word == "phase":
                phase = rest.strip().strip('"')
                if phase == "diff":
                    result.in_diff = True
                elif phase in STATES:
                    result.activated = result.activated or phase == "activating"
                    self.set(phase)
            elif word == "note":
                self.line(rest)
            elif word == "problem":
                result.problem = rest
                self.line(rest)
            elif word == "armed":
                self.line(f"confirm timer armed: {rest} s to reach the machine again")
            return
        if result.in_diff:
            result.closure_diff.append(text)
        if self.state != "rolling back":
            if text.startswith("activating the configuration"):
                result.activated = True
                self.set("activating")
            elif text.startswith("building the system configuration"):
                self.set("building")
        self.line(text)

    def _stop(self, run_id: str) -> None:
        systemd = "1" if self.facts.systemd else "0"
        command = scripts.sudo_command(
            scripts.STOP, self.facts.root, run_id, systemd, sudo=self.sudo
        )
        with contextlib.suppress(ConnectionLost, ConnectError, OSError):
            self.target.run(command, stdin=self._password_line(), timeout=30)

    def _failed_run(self, run: _Run, before: Generation) -> HostResult:
        """The rebuild failed or was stopped: put back what it changed, say what happened."""
        after = run.after or before
        if run.problem:
            what = run.problem
        elif run.timed_out:
            what = f"timed out after {self.options.timeout:g} s; the rebuild was stopped"
        elif run.status is None:
            what = "the rebuild stopped without a result"
            if run.unit:
                what += f" (its unit's result: {run.unit})"
        elif run.activated or after != before:
            what = f"activation failed (exit {run.status})"
        else:
            what = f"build failed (exit {run.status})"
            last = next((t for t in reversed(self.tail) if "error" in t.lower()), "")
            if last:
                what += f": {last.strip()[:120]}"
        if after != before and self.options.mode in ("switch", "test", "boot"):
            back = self._restore(before, after)
            summary = f"{what}; switched back to {back}"
            return self._result("failed", summary, after=back, rolled_back=True)
        return self._result("failed", f"{what}; still on {after}", after=after)

    def _restore(self, before: Generation, after: Generation) -> Generation:
        """Switch the machine back to `before` (a detached run too)."""
        self.set("rolling back")
        self.line(f"switching back to {before}")
        steps = ['say phase "rolling back"', *self._restore_steps(before, self.options.mode)]
        run = self._start_and_follow(steps, install=False, run_id=self.id + "-back")
        if run.status != 0:
            self.notes.append(f"switching back to {before} failed (exit {run.status})")
        return run.after or after

    def _confirm(self, run: _Run, before: Generation) -> _Run:
        """Reach the machine again over a fresh connection and disarm the rollback timer."""
        seconds = self.options.confirm or 0.0
        self.line("opening a fresh connection to confirm")
        disarmed = None
        try:
            self.target.reconnect(seconds, self.cancel)
            ran = self.target.run(
                scripts.sudo_command(scripts.DISARM, self.facts.root, self.id, sudo=self.sudo),
                stdin=self._password_line(),
                timeout=max(seconds, 5),
            )
            disarmed = ran.code == 0
        except (ConnectError, ConnectionLost) as err:
            self.line(f"could not reach the machine to confirm: {err}")
        if disarmed:
            self.line("confirmed: rollback timer disarmed")
            self.live_run = ""
            self._relock()
            return run
        # the timer fires (or fired): see where the machine ended up
        state = self._state_after_timer(seconds, before)
        if disarmed is None:
            why = f"could not reach the machine within {seconds:g} s after activation"
        else:
            why = f"the confirm timer fired before homelab got back in ({seconds:g} s)"
        advice = "the new configuration probably cut the network or SSH"
        if state is not None:
            raise _Failed(f"{why}: the machine rolled back to {state} by itself", advice)
        raise _Failed(f"{why}: its timer rolls it back to {before} by itself", advice)

    def _state_after_timer(self, seconds: float, before: Generation) -> Generation | None:
        """Where the machine is once its timer had its chance (None: unreachable)."""
        end = time.monotonic() + seconds + self.options.reconnect_timeout
        seen: Generation | None = None
        while time.monotonic() < end:
            try:
                if not self.target.connection_alive():
                    self.target.reconnect(max(1.0, end - time.monotonic()), self.cancel)
                ran = self.target.run(
                    scripts.command(scripts.STATE_NOW, self.facts.root, self.id), timeout=30
                )
            except (ConnectError, ConnectionLost):
                return seen
            found = parse_facts(ran.out)
            number = _generation_number(found.get("profile", ""))
            seen = Generation(number, found.get("current", ""))
            if found.get("fired") == "1" and seen.system == before.system:
                return seen
            time.sleep(0.3)
        return seen


def _pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out.append((key, value))
    return out


# ---- after an apply: records and pinned keys -----------------------------------------------


def record(
    lab_root: Path,
    results: Sequence[HostResult],
    commit: str,
    mode: str,
    earlier: Mapping[str, DeployRecord] | None = None,
) -> None:
    """Each host's result as a deploy record (the history's), for `homelab status`; before
    it, how a run an interrupted apply left going ended (`earlier`: the unconfirmed
    records, by host folder), on the commit and mode that apply sent."""
    from homelab.history.records import DeployAttempt, record_deploys

    attempts = [
        DeployAttempt(
            r.folder,
            was.commit,
            was.mode,
            r.confirmed.result,
            was.when,
            r.confirmed.when,
            f"{r.confirmed.summary}\nsystem: {r.confirmed.now.system}",
        )
        for r in results
        if r.confirmed is not None
        and r.confirmed.result
        and (was := (earlier or {}).get(r.folder)) is not None
    ]
    for r in results:
        if r.state == "cancelled" and r.before is None:
            continue  # never reached: nothing to say about the machine
        if not commit:
            continue  # `homelab status --live` confirms without applying
        outcome = "ok" if r.ok else "rolled-back" if r.rolled_back else r.state
        details = r.summary
        if r.after is not None:
            details += f"\nsystem: {r.after.system}"
        attempts.append(
            DeployAttempt(r.folder, commit, mode, outcome, r.started, r.finished, details, r.run)
        )
    record_deploys(lab_root, attempts)


def pin_host_key(lab_root: Path, profile_file: str, key: str) -> None:
    """Write an accepted host key into the profile's deploy.hostKey, keeping the person's
    comments and layout."""
    from homelab.profile.edit import set_value
    from homelab.write import atomic_write

    path = lab_root / profile_file
    text = path.read_text(encoding="utf-8")
    atomic_write(path, set_value(text, ("deploy", "hostKey"), key))
