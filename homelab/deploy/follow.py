"""Runs on one machine: a job started detached (so that a dropped connection cannot leave
the machine half-switched), followed to its end through reconnects, stopped, confirmed.

`Runs.start` writes the job (homelab.deploy.steps' Job), starts it, shows its output as it
comes (turning the job's `@homelab` lines into states and notes), and says how it ended:
a `Run`. A timeout stops the run on the machine; a cancel (Stop.set) stops it; an
interrupt (Stop.interrupt), or a link that does not come back in time, leaves it going
there and raises Interrupted, naming it, for a later apply to confirm (`how_it_ended`).
`confirm` is --confirm's second half: a fresh connection disarms the machine's timer in
time, or homelab says where the timer took the machine.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from homelab.deploy import scripts, steps
from homelab.deploy.hostlock import Failed, Interrupted
from homelab.deploy.models import (
    FINAL,
    ApplyOptions,
    ApplyState,
    Confirmed,
    Generation,
    generation_number,
)
from homelab.deploy.models import leaves_running as _leaves_running
from homelab.deploy.ssh import ConnectError
from homelab.deploy.steps import Job, Machine
from homelab.deploy.target import Cancelled, ConnectionLost, Target, parse_facts


class Reporter(Protocol):
    """Where a host's states and output lines go (homelab.deploy.host.HostRun)."""

    @property
    def state(self) -> ApplyState: ...

    def set(self, state: ApplyState) -> None: ...

    def line(self, text: str) -> None: ...


@dataclass
class Run:
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


def interrupted(run_id: str, state: ApplyState, why: str = "") -> Interrupted:
    """homelab stops following the run `run_id`, which goes on on the machine."""
    phase = state if state not in FINAL else "running"
    return Interrupted(
        run_id,
        (why or f"interrupted while {phase}") + f": the run goes on on the machine (run {run_id}); "
        "the next apply or `homelab status --live` confirms how it ended",
        f"its log on the machine: {scripts.STATE}/runs/{run_id}/log",
    )


def how_a_run_ended(run_id: str, found: Mapping[str, str]) -> tuple[str, str]:
    """From RUN_STATE's facts: the record's result ("" while the run goes on) and the
    words for it. A run that switches back (`-back`) ended well is a rollback."""
    state = found.get("run", "missing")
    status = found.get("status", "").strip()
    if state == "running" or found.get("armed") == "1":
        return "", "is still running"
    if state == "missing":
        return "unknown", "is no longer known to the machine"
    if state == "vanished":
        return "failed", "ended without a result (it never started, or was killed)"
    if status == "0" and found.get("fired") == "1":
        return "rolled-back", "ended; its confirm timer switched the machine back"
    if status == "0":
        return ("rolled-back" if run_id.endswith("-back") else "ok"), "ended well (exit 0)"
    return "failed", f"failed (exit {status or '?'})"


class Runs:
    """The runs homelab starts on one machine."""

    def __init__(
        self,
        target: Target,
        machine: Machine,
        options: ApplyOptions,
        cancel: threading.Event,
        report: Reporter,
        *,
        relock: Callable[[], None],
        after_cut: Callable[[], bool],
        clean_staging: Callable[[], None],
    ) -> None:
        self.target = target
        self.machine = machine
        self.options = options
        self.cancel = cancel
        self.report = report
        self.relock = relock  # the host's lock again, after a reconnect
        self.after_cut = after_cut  # remove the staging folder after a cut; did it?
        self.clean_staging = clean_staging
        self.live = ""  # a run started on the machine whose end homelab has not seen

    def start(self, job: Job, run_id: str, *, install: bool) -> Run:
        """Write the job, start it detached, follow its log to its end (reconnecting when
        the connection drops), and say what state the machine is in."""
        machine = self.machine
        try:
            self.target.make_dirs(machine.run_dir(run_id), {machine.state})  # the probe made it
            for path, text in steps.job_files(job, machine, run_id).items():
                self.target.write_file(path, text.encode(), mode=0o755)
        except ConnectionLost:
            if install:
                cleaned = self.after_cut()
                raise Failed(
                    "connection lost before the rebuild started; nothing installed",
                    "staging folder " + ("removed" if cleaned else "left for the next apply"),
                ) from None
            raise
        result = Run()
        command = steps.start(machine, run_id, install=install)
        deadline = time.monotonic() + self.options.timeout
        self.live = run_id  # from here on the machine may switch without us
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
                    command.line(),
                    out,
                    err.extend,
                    stdin=command.input(),
                    timeout=left,
                    cancel=self.cancel,
                )
                started = True
            except ConnectionLost:
                result.reconnected = True
                self.report.line(
                    "connection lost; reconnecting (the rebuild goes on on the machine)"
                )
                window = self.options.reconnect_timeout
                if self.options.confirm and armed_at is not None:
                    window = max(window, self.options.confirm + 30)
                try:
                    self.target.reconnect(window, self.cancel)
                except ConnectError as error:
                    why = f"connection lost and not back within {window:g} s"
                    it = interrupted(run_id, self.report.state, why)
                    raise Interrupted(it.run, it.summary, str(error), *it.details) from None
                self.report.line("reconnected; following the rest of the run")
                self.relock()
                command = steps.follow(machine, run_id, offset)
                continue
            except TimeoutError:
                result.timed_out = True
                self.report.line(f"timed out after {self.options.timeout:g} s; stopping the run")
                self.stop(run_id)
                command = steps.follow(machine, run_id, offset)
                deadline = time.monotonic() + 60
                continue
            except Cancelled:
                if _leaves_running(self.cancel):
                    self.report.line("stopped following: the run goes on on the machine")
                    raise interrupted(run_id, self.report.state) from None
                self.report.line("cancelled: stopping the run on the machine")
                self.stop(run_id)
                self.live = ""
                raise
            break
        if not (self.options.confirm and armed_at is not None):
            self.live = ""  # its end is seen (an armed confirm timer still decides)
        if pending:
            self._output(pending.decode("utf-8", "replace"), result)
        return self._ended(result, parse_facts(err.decode("utf-8", "replace")), started, install)

    def _ended(self, result: Run, facts: dict[str, str], started: bool, install: bool) -> Run:
        if "start" in facts:
            if install:
                self.clean_staging()
            raise Failed(facts["start"])
        if not started:
            raise Failed("the run did not start")
        status = facts.get("status", "").strip()
        result.status = int(status) if status.lstrip("-").isdigit() else None
        if result.timed_out:
            result.status = None
        result.fired = facts.get("fired") == "1"
        if "current" in facts:
            result.after = Generation(generation_number(facts.get("profile", "")), facts["current"])
        if "nostart" in facts:
            result.problem = "the run never started: " + facts["nostart"].strip()
        result.unit = facts.get("unit", "").strip()
        return result

    def _output(self, text: str, result: Run) -> None:
        """One line of the run's log: the job's own lines (`@homelab ...`) become states
        and notes, the rest is the machine's output."""
        report = self.report
        if text.startswith(scripts.MARK):
            word, _, rest = text[len(scripts.MARK) :].partition(" ")
            if word == "phase":
                phase = rest.strip().strip('"')
                if phase == "diff":
                    result.in_diff = True
                elif phase in tuple(ApplyState):
                    result.activated = result.activated or phase == ApplyState.ACTIVATING
                    report.set(ApplyState(phase))
            elif word == "note":
                report.line(rest)
            elif word == "problem":
                result.problem = rest
                report.line(rest)
            elif word == "armed":
                report.line(f"confirm timer armed: {rest} s to reach the machine again")
            return
        if result.in_diff:
            result.closure_diff.append(text)
        if report.state != ApplyState.ROLLING_BACK:
            if text.startswith("activating the configuration"):
                result.activated = True
                report.set(ApplyState.ACTIVATING)
            elif text.startswith("building the system configuration"):
                report.set(ApplyState.BUILDING)
        report.line(text)

    def stop(self, run_id: str) -> None:
        """Stop the run on the machine (as root), as well as the link allows."""
        command = steps.stop(self.machine, run_id)
        with contextlib.suppress(ConnectionLost, ConnectError, OSError):
            self.target.run(command.line(), stdin=command.input(), timeout=30)

    def how_it_ended(self, run_id: str) -> Confirmed:
        """How the run an interrupted apply left going ended, from the machine's own
        record of it (its status file, its confirm timer, what it runs now)."""
        ran = self.target.run(steps.run_state(run_id).line(), timeout=30)
        found = parse_facts(ran.out)
        now = Generation(generation_number(found.get("profile", "")), found.get("current", ""))
        result, what = how_a_run_ended(run_id, found)
        summary = f"the run {run_id} left by an interrupted apply {what}; the machine runs {now}"
        self.report.line(summary)
        return Confirmed(run_id, result, summary, now)

    def confirm(self, run: Run, before: Generation, run_id: str) -> Run:
        """Reach the machine again over a fresh connection and disarm the rollback timer."""
        seconds = self.options.confirm or 0.0
        self.report.line("opening a fresh connection to confirm")
        disarmed = None
        try:
            self.target.reconnect(seconds, self.cancel)
            command = steps.disarm(self.machine, run_id)
            ran = self.target.run(command.line(), stdin=command.input(), timeout=max(seconds, 5))
            disarmed = ran.code == 0
        except (ConnectError, ConnectionLost) as err:
            self.report.line(f"could not reach the machine to confirm: {err}")
        if disarmed:
            self.report.line("confirmed: rollback timer disarmed")
            self.live = ""
            self.relock()
            return run
        # the timer fires (or fired): see where the machine ended up
        state = self._state_after_timer(seconds, before, run_id)
        if disarmed is None:
            why = f"could not reach the machine within {seconds:g} s after activation"
        else:
            why = f"the confirm timer fired before homelab got back in ({seconds:g} s)"
        advice = "the new configuration probably cut the network or SSH"
        if state is not None:
            raise Failed(f"{why}: the machine rolled back to {state} by itself", advice)
        raise Failed(f"{why}: its timer rolls it back to {before} by itself", advice)

    def _state_after_timer(
        self, seconds: float, before: Generation, run_id: str
    ) -> Generation | None:
        """Where the machine is once its timer had its chance (None: unreachable)."""
        end = time.monotonic() + seconds + self.options.reconnect_timeout
        seen: Generation | None = None
        command = steps.state_now(self.machine, run_id)
        while time.monotonic() < end:
            try:
                if not self.target.connection_alive():
                    self.target.reconnect(max(1.0, end - time.monotonic()), self.cancel)
                ran = self.target.run(command.line(), timeout=30)
            except (ConnectError, ConnectionLost):
                return seen
            found = parse_facts(ran.out)
            seen = Generation(generation_number(found.get("profile", "")), found.get("current", ""))
            if found.get("fired") == "1" and seen.system == before.system:
                return seen
            time.sleep(0.3)
        return seen
