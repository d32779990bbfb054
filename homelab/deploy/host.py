"""One host's apply, rollback or look, from the first connection to its HostResult.

An apply: connect, probe and take the host's lock (homelab.deploy.hostlock), confirm how
a run an interrupted apply left going ended, upload what changed, start the rebuild as a
detached run and follow it (homelab.deploy.follow), confirm over a fresh connection
(`--confirm`), run the health checks. What runs on the machine comes from
homelab.deploy.steps, as data. Every error ends as a HostResult with one clear line: one
host failing never touches another (homelab.deploy.fanout runs each in its own thread).

Over 500 lines: one host's run is one sequence (connection, lock, staging, run, confirm,
checks) whose steps share the run's fields.
"""

from __future__ import annotations

import collections
import contextlib
import getpass
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from homelab.deploy import scripts, steps
from homelab.deploy.checks import first_starts, run_checks
from homelab.deploy.command import Masked, Remote, Sudo
from homelab.deploy.early import drop
from homelab.deploy.elsewhere import Builder, Wanted
from homelab.deploy.follow import Run, Runs, interrupted
from homelab.deploy.hostlock import Facts, Failed, HostLock, Interrupted
from homelab.deploy.lastbackup import last_backup
from homelab.deploy.models import (
    ApplyOptions,
    ApplyState,
    CheckPlan,
    CheckResult,
    Confirmed,
    Event,
    Generation,
    HostResult,
    Mode,
    generation_number,
)
from homelab.deploy.plan import HostPlan
from homelab.deploy.ssh import (
    ConnectError,
    Connection,
    HostKeyError,
    connect,
    ed25519_line,
    fingerprint,
)
from homelab.deploy.steps import Machine
from homelab.deploy.target import Cancelled, ConnectionLost, Target, parse_facts
from homelab.deploy.upload import Upload, UploadFailed, upload
from homelab.deploy.uptodate import judge

State = ApplyState
NIX_ERROR_LINES = 200  # of one Nix error: without --show-trace, its trace is short


class HostRun:
    """One host's work, reporting through `emit`; `cancel` is the apply's Stop."""

    def __init__(
        self,
        plan: HostPlan,
        options: ApplyOptions,
        emit: Callable[[Event], None],
        cancel: threading.Event,
        early: Future[Connection] | None = None,
        builder: Builder | None = None,
        planned: Future[HostPlan] | None = None,
    ) -> None:
        # with `planned`, `plan` only says how to reach the host: what is sent is planned
        # from the commit while the machine is reached, and waited for once it is
        self.plan = plan
        self._planned = planned
        self.builder = builder  # another machine builds its system (deploy.buildOn)
        self.built_on = ""  # set once what it activates came from there
        self._early = early  # a connection started before the fan-out (homelab.deploy.early)
        self.options = options
        self._emit = emit
        self.cancel = cancel
        self._state = State.WAITING
        self.t0 = time.monotonic()
        self.started = datetime.now(UTC)
        self.id = time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()
        self.tail: collections.deque[str] = collections.deque(maxlen=15)
        self.nix_error: list[str] = []  # Nix's last error, whole: the tail may cut it
        self.notes: list[str] = []
        self.pinned: str | None = None
        self.age_key: str | None = None  # the ed25519 host key, read once a key is accepted
        self.facts = Facts()
        self.machine = Machine()
        self.uploaded: tuple[str, ...] = ()
        self.upload_result: Upload | None = None
        self.target = Target(plan.name, self._open)
        beat = float(steps.heartbeat(options))
        self.lock = HostLock(self.target, cancel, wait=options.lock_wait, beat=beat)
        self.runs = self._runs()
        self.confirmed: Confirmed | None = None

    # ---- events --------------------------------------------------------------------

    @property
    def state(self) -> ApplyState:
        return self._state

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def set(self, state: ApplyState) -> None:
        if state != self._state:
            self._state = state
            self._emit(Event(self.plan.name, state, None, self.elapsed()))

    def line(self, text: str) -> None:
        self.tail.append(text)
        if text.startswith("error:"):  # a new report (newer Nix indents the inner errors)
            self.nix_error = [text]
        elif self.nix_error and len(self.nix_error) < NIX_ERROR_LINES:
            self.nix_error.append(text)
        self._emit(Event(self.plan.name, self._state, text, self.elapsed()))

    def _open(self) -> Connection:
        early, self._early = self._early, None  # a reconnect always connects anew
        conn = (
            early.result() if early is not None else connect(self.plan.endpoint, self.options.ssh)
        )
        if conn.accepted_key and not self.pinned:
            self.pinned = conn.accepted_key
            self.line(
                f"accepted the new host key {fingerprint(conn.accepted_key)}; "
                f"it will be pinned in {self.plan.profile_file}"
            )
        return conn

    def _runs(self) -> Runs:
        return Runs(
            self.target,
            self.machine,
            self.options,
            self.cancel,
            self,
            relock=self._relock,
            after_cut=self._clean_after_cut,
            clean_staging=self._clean_staging,
        )

    # ---- the whole story ----------------------------------------------------------------

    def apply(self) -> HostResult:
        return self._guarded(self._apply)

    def undo(self) -> HostResult:
        return self._guarded(self._undo)

    def look(self) -> HostResult:
        return self._guarded(self._look)

    def _guarded(self, work: Callable[[], HostResult]) -> HostResult:
        try:
            return work()
        except Failed as failure:  # BuildFailed too: its builder did not deliver
            return self._result(State.FAILED, failure.summary, details=failure.details)
        except Interrupted as stopped:
            return self._gone_on(stopped)
        except Cancelled:
            if self.runs.live:  # e.g. stopped while confirming: the machine's timer decides
                return self._gone_on(interrupted(self.runs.live, self.state))
            return self._result(State.CANCELLED, "cancelled before it finished")
        except HostKeyError as err:
            unknown = err.presented if err.kind == "unknown" and err.pinnable else None
            return self._result(State.FAILED, err.short, details=(str(err),), unknown_key=unknown)
        except ConnectError as err:
            return self._result(State.FAILED, err.short, details=(str(err),))
        except ConnectionLost as err:
            return self._result(State.FAILED, f"connection lost ({err})")
        except Exception as err:
            return self._result(State.FAILED, f"unexpected error: {type(err).__name__}: {err}")
        finally:
            if self.builder is not None:  # said once: its other targets never wait for it
                self.builder.skip(self.plan.folder)
            self.lock.release()
            self.target.close()
            if self._early is not None:  # never connected (refused, cancelled): close it
                drop(self._early)
                self._early = None

    def _result(self, state: ApplyState, summary: str, **extra: Any) -> HostResult:
        self.set(state)
        details = tuple(extra.pop("details", ()))
        if state != State.DONE and self.tail:
            details += ("last lines from the machine:", *(f"  {t}" for t in self.tail))
        return HostResult(
            host=self.plan.name,
            folder=self.plan.folder,
            state=state,
            summary=summary,
            uploaded=self.uploaded,
            details=(*self.notes, *details),
            nix_error="\n".join(self.nix_error) if state != State.DONE else "",
            pinned_key=self.pinned,
            age_key=self.age_key if self.pinned else None,
            confirmed=self.confirmed,
            started=self.started,
            finished=datetime.now(UTC),
            elapsed=self.elapsed(),
            built_on=self.built_on,
            **{"before": self.facts.generation_now if self.facts.current else None, **extra},
        )

    def _gone_on(self, stopped: Interrupted) -> HostResult:
        return self._result(
            State.INTERRUPTED, stopped.summary, run=stopped.run, details=stopped.details
        )

    def _apply(self) -> HostResult:
        mode = self.options.mode
        self._check_cancel()
        if self.plan.refused is not None:  # never reached: not even connected to
            refused = self.plan.refused
            return self._result(
                State.FAILED,
                refused.summary,
                details=refused.details,
                unknown_key=refused.unknown_key,
            )
        if self.builder is not None:
            self.builder.wait_ready(self.line)
        self.set(State.CONNECTING)
        self.target.connection  # noqa: B018 - connect now: failures say so here
        before = self._probe(staging=True).generation_now
        self._read_age_key()
        if self._planned is not None:
            self.plan = self._wait_for_plan(self._planned)
        if self.plan.earlier_run:
            self.confirmed = self.runs.how_it_ended(self.plan.earlier_run)
        verdict = judge(self.plan, self.facts, self.options)
        if verdict.note:
            self.line(verdict.note)
        if verdict.up_to_date:
            self._clean_staging()
            self.line("up to date: it runs what its last deploy switched to, and nothing changed")
            return self._result(
                State.DONE,
                f"still on {before}, nothing to send (--force rebuilds it)",
                after=before,
                up_to_date=True,
            )
        self.set(State.UPLOADING)
        self._upload()
        self._check_cancel()
        arrived = self._build_elsewhere() if self.builder is not None else ""
        checking = self._check_plan()
        first = first_starts(self.target, checking) if mode.activates else frozenset()
        for service in sorted(first):
            wait = max(
                c.wait(self.options.check_timeout, True)
                for c in checking.checks
                if c.service == service
            )
            self.line(
                f"{service} starts here for the first time (none of its units is active yet): "
                f"its checks may take up to {wait:g} s"
            )
        self.set(State.BUILDING)
        job = steps.apply_job(
            self.plan, self.options, self.machine, before, self.upload_result, self.id, arrived
        )
        run = self.runs.start(job, self.id, install=True)
        if run.status != 0:
            return self._failed_run(run, before)
        if self.options.confirm and mode.activates:
            run = self.runs.confirm(run, before, self.id)
        after = run.after or before
        checks: list[CheckResult] = []
        skipped = checking.skipped if mode.activates else ()
        if mode.activates and checking.checks:
            self.set(State.CHECKING)
            try:
                checks = run_checks(
                    self.target,
                    checking.checks,
                    within=self.options.check_timeout,
                    first=first,
                    cancel=self.cancel,
                    on_line=self.line,
                )
            except Cancelled:  # the machine switched all the same: say so
                line = self._success_line(before, after, run)
                return self._result(
                    State.DONE, f"{line}; stopped before the health checks ended", after=after
                )
            failed = [c for c in checks if not c.ok and not c.given_up]
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
                    State.FAILED,
                    summary,
                    after=after,
                    checks=tuple(checks),
                    checks_skipped=skipped,
                    rolled_back=rolled,
                )
        return self._result(
            State.DONE,
            self._success_line(before, after, run),
            after=after,
            checks=tuple(checks),
            checks_skipped=skipped,
            closure_diff=tuple(run.closure_diff),
        )

    def _build_elsewhere(self) -> str:
        """The system built on the host's builder and copied here: its path ("" when the
        machine builds it itself: its running system does not let the builder in yet)."""
        builder, spec = self.builder, self.plan.build_on
        assert builder is not None and spec is not None
        if not spec.spec.copy.host_key:
            builder.skip(self.plan.folder)
            self.line(
                f"its host key is not pinned yet, and {builder.name} would check it: it "
                f"builds its own system until one is (--accept-new pins it)"
            )
            return ""
        public = spec.spec.ssh_public.split()
        check = Remote(scripts.KNOWS_BUILD_KEY, (spec.spec.copy.user, public[1]))
        if self.target.run(check.line(), timeout=30).out.strip() != "yes":
            builder.skip(self.plan.folder)
            self.line(
                f"its running system does not let {builder.name} in yet (deployed before "
                f"deploy.buildOn): it builds its own system this time, and the next apply "
                f"builds it on {builder.name}"
            )
            return ""
        self.set(State.BUILDING)
        self.line(f"building on {builder.name}")
        wanted = Wanted(self.plan.folder, self.plan.attr, self.plan.files, self.line)
        system = builder.need(wanted)
        self._check_cancel()
        self.line(f"copying {system.rsplit('/', 1)[-1]} here from {builder.name}")
        arrived = builder.send(self.plan.folder, system, self.line)
        self.built_on = builder.name
        return arrived

    def _check_plan(self) -> CheckPlan:
        """The host's checks for this apply: none with --no-checks (they count as skipped)."""
        if not self.options.checks:
            return self.plan.checks.none_run("--no-checks")
        return self.plan.checks

    def _success_line(self, before: Generation, after: Generation, run: Run) -> str:
        mode = self.options.mode
        changed = len(self.uploaded) - 1
        sent = f"{changed} file{'s' if changed != 1 else ''} uploaded"
        if mode == Mode.BUILD:
            diff = f", {len(run.closure_diff)} closure change line(s)" if run.closure_diff else ""
            text = f"built ({sent}{diff}); still on {after}"
        elif mode == Mode.DRY_ACTIVATE:
            text = f"dry activation done ({sent}); still on {after}"
        elif mode == Mode.BOOT:
            text = f"{after} set for the next boot ({sent})"
        elif before.system == after.system and before.number == after.number:
            text = f"no change: still on {after} ({sent})"
        else:
            text = f"{before} -> {after} ({sent})"
        if self.built_on:
            text += f", built on {self.built_on}"
        if run.reconnected:
            text += "; reconnected after the connection dropped"
        return text

    def _look(self) -> HostResult:
        self.set(State.CONNECTING)
        self.target.connection  # noqa: B018
        self.set(State.CHECKING)
        if self.plan.earlier_run:
            self.confirmed = self.runs.how_it_ended(self.plan.earlier_run)
            now = self.confirmed.now
        else:
            found = parse_facts(self.target.run(steps.run_state().line()).out)
            now = Generation(generation_number(found.get("profile", "")), found.get("current", ""))
        backup = self._last_backup()
        return self._result(State.DONE, f"runs {now}", after=now, last_backup=backup)

    def _last_backup(self) -> str:
        """How the lab's backup job last ran ("" for a host the lab does not back up)."""
        if not self.plan.backup_unit:
            return ""
        ran = self.target.run(steps.unit_run(self.plan.backup_unit).line())
        return last_backup(parse_facts(ran.out))

    def _undo(self) -> HostResult:
        self.set(State.CONNECTING)
        self.target.connection  # noqa: B018
        before = self._probe(staging=False).generation_now
        self._read_age_key()
        if self.plan.earlier_run:
            self.confirmed = self.runs.how_it_ended(self.plan.earlier_run)
        self.set(State.ROLLING_BACK)
        # a run that switches back, when it is confirmed later
        run = self.runs.start(steps.rollback_job(), self.id + "-back", install=False)
        if run.status != 0:
            how = "it stopped" if run.status is None else f"exit {run.status}"
            raise Failed(f"rollback failed ({how}); still on {run.after or before}")
        after = run.after or before
        return self._result(State.DONE, f"{before} -> {after} (rolled back)", after=after)

    def _wait_for_plan(self, planned: Future[HostPlan]) -> HostPlan:
        """What is sent, once the commit is made and planned from; a stop meanwhile, or a
        commit that failed, ends the host before anything was sent (Cancelled)."""
        while True:
            if self.cancel.is_set():
                self._clean_staging()
                raise Cancelled()
            try:
                return planned.result(timeout=0.1)
            except TimeoutError:
                continue
            except Exception:  # the apply itself says why (its commit or plan failed)
                self._clean_staging()
                raise Cancelled() from None

    # ---- probe, lock, sudo ------------------------------------------------------------

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def _owner(self) -> str:
        who = f"{getpass.getuser()}@{socket.gethostname()}"
        return f"homelab apply by {who} (pid {os.getpid()}) since {time.strftime('%H:%M:%S')}"

    def _probe(self, *, staging: bool) -> Facts:
        """Take the host's lock and learn what the machine is: refuse (Failed) when it
        is locked, busy, or no NixOS, or when sudo will not do."""
        need_sudo = self.plan.sudo or self.target.connection.route.user != "root"
        for attempt in range(2):
            probe = steps.probe(
                self._owner(),
                self.options,
                check_sudo=need_sudo,
                staging=self.id if staging else "",
            )
            chan, text = self.lock.ask(probe)
            found = parse_facts(text)
            if found.get("state") == "missing" and attempt == 0:
                chan.close()
                self._sudo_mode(found)
                machine = replace(self.machine, root=found.get("root", ""))
                command = steps.make_state(machine, found.get("user", ""))
                ran = self.target.run(command.line(), stdin=command.input())
                if ran.code != 0:
                    raise Failed(f"cannot make {scripts.STATE} on the machine: {ran.err.strip()}")
                continue
            break
        self.lock.keep(chan, self.plan.name)
        if "tookover" in found:
            self.line(
                f"took over the host's lock from {found['tookover']}: that apply is gone "
                "(killed, or its connection lost)"
            )
        if found.get("state") == "missing":
            raise Failed(f"cannot use {scripts.STATE} on the machine (owned by another user?)")
        if "locked" in found:
            self.lock.release()
            owner = found["locked"] or "another homelab"
            raise Failed(f"locked: {owner} is applying to this host; not touched", owner)
        self.facts = facts = Facts.parse(text)
        self._machine(replace(self.machine, root=facts.root, systemd=facts.systemd))
        for path in facts.cleaned:
            self.line(f"removed {path}, left by an earlier apply that was cut off")
        if "running" in found:
            raise Failed(
                f"a rebuild started earlier (run {found['running']}) is still running on the "
                "machine; not touched",
                f"its log: {scripts.STATE}/runs/{found['running']}/log",
            )
        if not facts.rebuild:
            self._clean_staging()
            raise Failed("nixos-rebuild not found on the machine (is it NixOS?)")
        if found.get("user", "root") != "root" or self.plan.sudo:
            self._sudo_mode(found)
        return facts

    def _read_age_key(self) -> None:
        """With a host key accepted now: the machine's ed25519 host key too, over this
        verified connection (age decrypts with it; the key negotiated may be ECDSA). A
        machine without one only goes without (its secrets say so when it uses some)."""
        if not self.pinned or self.age_key:
            return
        try:
            ran = self.target.run(steps.host_key().line(), timeout=30)
        except (ConnectionLost, ConnectError, OSError) as err:
            self.line(f"could not read the ed25519 host key ({err}): none pinned for age")
            return
        self.age_key = ed25519_line(ran.out) if ran.code == 0 else None
        if self.age_key is None:
            self.line(f"no ed25519 host key at {steps.ED25519_HOST_KEY}: none pinned for age")

    def _machine(self, machine: Machine) -> None:
        self.machine = self.runs.machine = machine

    def _sudo_mode(self, found: Mapping[str, str]) -> None:
        """How commands reach root: sudo without a password, or with the one given."""
        if found.get("sudo") == "ok":
            self._machine(replace(self.machine, sudo=Sudo.NO_PASSWORD, password=None))
            return
        if self.options.sudo_password is None:
            self._clean_staging()
            raise Failed(
                "sudo needs a password: run again with --ask-sudo-password; not touched",
                f"`sudo -n true` failed for {found.get('user', '?')} on the machine.",
            )
        password = Masked(self.options.sudo_password)
        self._machine(replace(self.machine, sudo=Sudo.PASSWORD, password=password))
        command = steps.sudo_works(password)
        ran = self.target.run(command.line(), stdin=command.input(), timeout=30)
        if ran.code != 0:
            self._clean_staging()
            raise Failed("sudo refused the password; not touched")

    def _relock(self) -> None:
        """A reconnect dropped the lock with the old connection: take it again."""
        note = self.lock.again(steps.relock(self._owner(), self.options), self.plan.name)
        if note:
            self.notes.append(note)

    def _clean_staging(self) -> None:
        if not self.facts.staging:
            return
        command = steps.clean_staging(self.machine, self.facts.staging)
        with contextlib.suppress(ConnectionLost, ConnectError, OSError):
            self.target.run(command.line(), timeout=30)

    def _clean_after_cut(self) -> bool:
        try:
            self.target.reconnect(min(self.options.reconnect_timeout, 15.0), self.cancel)
            command = steps.clean_staging(self.machine, self.facts.staging)
            return self.target.run(command.line(), timeout=30).code == 0
        except (ConnectionLost, ConnectError, OSError, Cancelled):
            return False

    # ---- upload ----------------------------------------------------------------------

    def _upload(self) -> None:
        plan, facts = self.plan, self.facts
        extra = {
            "host": plan.folder,
            "method": str(plan.method),
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
            raise Failed(
                "connection lost during upload; nothing installed"
                + ("" if cleaned else " (the next apply removes the staging folder)"),
                f"staging folder {facts.staging} "
                + ("removed" if cleaned else "left on the machine"),
            ) from None
        except UploadFailed as failure:
            self._clean_staging()  # frees the space the partial upload took
            raise Failed(failure.summary, *failure.details) from None
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

    # ---- after the run ------------------------------------------------------------------

    def _failed_run(self, run: Run, before: Generation) -> HostResult:
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
        if after != before and self.options.mode.changes_system:
            back = self._restore(before, after)
            summary = f"{what}; switched back to {back}"
            return self._result(State.FAILED, summary, after=back, rolled_back=True)
        return self._result(State.FAILED, f"{what}; still on {after}", after=after)

    def _restore(self, before: Generation, after: Generation) -> Generation:
        """Switch the machine back to `before` (a detached run too)."""
        self.set(State.ROLLING_BACK)
        self.line(f"switching back to {before}")
        job = steps.restore_job(before, self.options.mode, self.machine)
        run = self.runs.start(job, self.id + "-back", install=False)
        if run.status != 0:
            self.notes.append(f"switching back to {before} failed (exit {run.status})")
        return run.after or after
