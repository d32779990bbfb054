"""The words of an apply as types: what a front end chooses (Mode, ApplyOptions), what it
is told (Event, with an ApplyState), and what it gets back (HostResult).

Enums are made at the edge and carry the very text that is shown and recorded (they are
str-valued: `f"{ApplyState.DONE}"` is "done", and "done" == ApplyState.DONE). This module
is pure data, cheap to import: homelab.lab re-exports it for the front ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from homelab.deploy.ssh import SshSettings

MAX_JOBS = 32  # hosts at a time when the person does not say


class Mode(StrEnum):
    """What nixos-rebuild does on the machine."""

    SWITCH = "switch"
    BOOT = "boot"
    TEST = "test"
    DRY_ACTIVATE = "dry-activate"
    BUILD = "build"

    @property
    def activates(self) -> bool:
        """The machine runs the new system right away (health checks and the confirm
        timer only mean something then)."""
        return self in (Mode.SWITCH, Mode.TEST)

    @property
    def changes_system(self) -> bool:
        """The machine runs, or boots into, the new system: a failure is switched back."""
        return self in (Mode.SWITCH, Mode.TEST, Mode.BOOT)


class ApplyState(StrEnum):
    """Where one host is in an apply (a rollback, a look), in the order they come."""

    WAITING = "waiting"
    CONNECTING = "connecting"
    UPLOADING = "uploading"
    BUILDING = "building"
    ACTIVATING = "activating"
    CHECKING = "checking"
    ROLLING_BACK = "rolling back"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def final(self) -> bool:
        return self in FINAL


FINAL = (ApplyState.DONE, ApplyState.FAILED, ApplyState.CANCELLED, ApplyState.INTERRUPTED)
MODES = tuple(Mode)
STATES = tuple(ApplyState)


class Method(StrEnum):
    """How a machine gets its configuration: a flake (homelab's folder), or channels
    (the files put in /etc/nixos)."""

    FLAKE = "flake"
    CHANNELS = "channels"


class Stop(threading.Event):
    """Asks an apply to stop: `set()` cancels (rebuilds that started are stopped on the
    machines), `interrupt()` leaves rebuilds that started to finish there."""

    def __init__(self) -> None:
        super().__init__()
        self.leave_running = False

    def interrupt(self) -> None:
        self.leave_running = True
        self.set()


def leaves_running(cancel: threading.Event) -> bool:
    """Was the apply interrupted (rebuilds that started go on), not cancelled?"""
    return bool(getattr(cancel, "leave_running", False))


@dataclass(frozen=True)
class Event:
    """Something happened on one host: a new state, or a line of its output."""

    host: str
    state: ApplyState
    line: str | None = None
    elapsed: float = 0.0


@dataclass(frozen=True)
class ApplyOptions:
    mode: Mode = Mode.SWITCH
    jobs: int = 0  # 0: all hosts at once, up to MAX_JOBS
    ssh: SshSettings = field(default_factory=SshSettings.from_home)
    sudo_password: str | None = field(default=None, repr=False)
    confirm: float | None = None  # magic rollback: seconds to reach the machine again
    rollback_on_failure: bool = False
    timeout: float = 3600.0  # for the rebuild on the machine
    check_timeout: float = 30.0  # the grace of checks whose profile gives none
    checks: bool = True  # False: --no-checks, no health check runs
    reconnect_timeout: float = 120.0
    lock_wait: float = 0.0  # 0: refuse at once when another apply holds the host
    heartbeat: float = 10.0  # seconds between the signs of life that keep the host's lock
    force: bool = False  # rebuild even a machine that already runs what would be sent

    def __post_init__(self) -> None:
        # a front end may hand over the word it was given: ValueError when it is no mode
        object.__setattr__(self, "mode", Mode(self.mode))


@dataclass(frozen=True)
class Generation:
    number: int | None
    system: str  # store path of the running system

    def __str__(self) -> str:
        if self.number is None:
            return self.system.rsplit("/", 1)[-1] or "unknown"
        return f"generation {self.number}"


def generation_number(link: str) -> int | None:
    """system-12-link -> 12"""
    name = link.rsplit("/", 1)[-1]
    middle = name.removeprefix("system-").removesuffix("-link")
    return int(middle) if middle.isdigit() else None


@dataclass(frozen=True)
class Check:
    """A health check after activation (homelab.deploy.checks runs them)."""

    kind: str  # unit, tcp or http
    what: str  # unit name, port number, URL

    def __str__(self) -> str:
        return f"{self.kind} {self.what}"


@dataclass(frozen=True)
class PlannedCheck:
    """A check as one host runs it: whose it is, and how long it may keep failing."""

    check: Check
    service: str = ""  # the catalogue service it is for; "": the host's own (deploy.checks)
    grace: float | None = None  # seconds; None: the apply's check_timeout
    first_grace: float | None = None  # seconds on the service's first start; None: grace

    def wait(self, default: float, first_start: bool) -> float:
        grace = default if self.grace is None else self.grace
        if first_start and self.first_grace is not None:
            return max(grace, self.first_grace)
        return grace


@dataclass(frozen=True)
class SkippedChecks:
    """Checks that were not run, and why: "off in deploy.checks", "--no-checks"."""

    service: str  # "": all of the host's
    count: int
    reason: str

    def __str__(self) -> str:
        return f"{self.service or 'all'}: {self.reason}"


@dataclass(frozen=True)
class CheckPlan:
    """The health checks of one host: those to run, and those its profile turned off."""

    checks: tuple[PlannedCheck, ...] = ()
    skipped: tuple[SkippedChecks, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.checks or self.skipped)

    @property
    def count(self) -> int:
        return len(self.checks) + sum(s.count for s in self.skipped)

    def units_to_see_first(self) -> dict[str, tuple[str, ...]]:
        """Service -> its checked units, for the services whose first start gets a longer
        grace: whether those were active before the switch says if the start is a first."""
        out: dict[str, list[str]] = {}
        for planned in self.checks:
            longer = planned.first_grace is not None and (
                planned.grace is None or planned.first_grace > planned.grace
            )
            if planned.service and longer and planned.check.kind == "unit":
                out.setdefault(planned.service, []).append(planned.check.what)
        return {service: tuple(units) for service, units in out.items()}

    def none_run(self, reason: str) -> CheckPlan:
        """All of them skipped, for this reason (`--no-checks`)."""
        return CheckPlan((), (SkippedChecks("", self.count, reason),) if self.count else ())


@dataclass(frozen=True)
class CheckResult:
    check: Check
    ok: bool
    detail: str  # "active", "listening", "HTTP 200", or why not
    service: str = ""  # whose check it is ("": the host's own)
    given_up: bool = False  # still failing when another check had failed for good

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


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
    state: ApplyState  # done, failed, cancelled or interrupted
    summary: str  # one line for the summary table
    before: Generation | None = None
    after: Generation | None = None
    uploaded: tuple[str, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    checks_skipped: tuple[SkippedChecks, ...] = ()  # not run: turned off, --no-checks
    closure_diff: tuple[str, ...] = ()
    details: tuple[str, ...] = ()  # the longer story of a failure, and last output lines
    nix_error: str = ""  # a failed rebuild: Nix's error, from its first `error:` line on
    pinned_key: str | None = None  # an unknown host key accepted with --accept-new
    age_key: str | None = None  # with pinned_key: the machine's ed25519 host key, read then
    unknown_key: str | None = None  # refused as unknown: the key a person may check and accept
    rolled_back: bool = False  # the machine was switched back to where it was
    run: str = ""  # interrupted: the run left going on the machine
    confirmed: Confirmed | None = None  # the end of an earlier interrupted run, seen now
    last_backup: str = ""  # status --live: how the lab's backup job last ran ("" not asked)
    up_to_date: bool = False  # it already ran what would be sent: no rebuild, no record
    built_on: str = ""  # the machine that built what it activated (deploy.buildOn)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime = field(default_factory=lambda: datetime.now(UTC))
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == ApplyState.DONE
