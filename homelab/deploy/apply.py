"""Applying configurations to many machines at once, safely.

`apply(plans, options, on_event, cancel)` is the orchestrator: it takes host plans (what
to send where, made by `plan_hosts` from a loaded lab), runs each host in its own worker
thread, and reports through `on_event(Event)`: state changes (connecting, uploading,
building, activating, checking, rolling back, done, failed) and each line of the
machine's output. Front ends (CLI, TUI) only show these events and the results.

One host failing never stops or touches another: every host runs in its own thread, with
its own connection, and every error ends as a failed HostResult with one clear line.

Used the same way by the CLI and the TUI (which calls `apply` from a worker thread):

    state = lab.load(); folders = lab.select(state, words); lab.build(state, folders)
    plans = plan_hosts(lab, state, folders, commit)         # InvalidInput on bad input
    results = apply(plans, ApplyOptions(mode="switch"), on_event, cancel_event)
    for r in results: r.pinned_key and pin_host_key(lab.root, <its profile file>, r.pinned_key)
    record(lab.root, results, commit, mode)                 # deploy records (history)

`rollback(plan_connection(state, folder), options, on_event)` is `homelab rollback`.
"""

from __future__ import annotations

import collections
import contextlib
import getpass
import json
import os
import socket
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

    from homelab.lab import Lab, LabState
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
)
FINAL = ("done", "failed", "cancelled")
MAX_JOBS = 32


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


@dataclass(frozen=True)
class Generation:
    number: int | None
    system: str  # store path of the running system

    def __str__(self) -> str:
        if self.number is None:
            return self.system.rsplit("/", 1)[-1] or "unknown"
        return f"generation {self.number}"


@dataclass(frozen=True)
class HostResult:
    host: str
    folder: str
    state: str  # done, failed or cancelled
    summary: str  # one line for the summary table
    before: Generation | None = None
    after: Generation | None = None
    uploaded: tuple[str, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    closure_diff: tuple[str, ...] = ()
    details: tuple[str, ...] = ()  # the longer story of a failure, and last output lines
    pinned_key: str | None = None  # an unknown host key accepted with --accept-new
    rolled_back: bool = False  # the machine was switched back to where it was
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime = field(default_factory=lambda: datetime.now(UTC))
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == "done"


# ---- plans --------------------------------------------------------------------------


def plan_hosts(
    lab: Lab, state: LabState, folders: Sequence[str], commit: str = ""
) -> list[HostPlan]:
    """The plans of these hosts: their files read from the lab, their secrets, checks.
    InvalidInput (every problem at once) when a file is missing."""
    from homelab.source import DiskSource
    from homelab.write import generated_files

    problems: list[Problem] = []
    plans: list[HostPlan] = []
    generated = lab.generated(state, folders)
    for folder in folders:
        host = state.hosts[folder]
        profile = host.profile
        if profile is None:
            continue
        document = host.document

        secret_sources = {s.source for s in profile.secrets}
        on_disk = set(generated_files(DiskSource(lab.root), folder))
        host_files: dict[str, bytes] = {}
        base = lab.root / "hosts" / folder
        for path in sorted(base.iterdir()) if base.is_dir() else []:
            rel = f"hosts/{folder}/{path.name}"
            if (
                not path.is_file()
                or path.name.startswith(".")
                or path.suffix in (".yaml", ".yml")
                or rel in on_disk
                or rel in secret_sources
            ):
                continue
            host_files[rel] = path.read_bytes()
        for rel, text in generated.items():
            if rel.startswith(f"hosts/{folder}/"):
                host_files[rel] = text.encode("utf-8")
        files: dict[str, bytes] = {}
        if profile.deploy.method == "channels":
            for rel, data in host_files.items():
                files[rel.removeprefix(f"hosts/{folder}/")] = data
        else:
            files.update(host_files)
            for name in ("flake.nix", "flake.lock"):
                if (lab.root / name).is_file():
                    files[name] = (lab.root / name).read_bytes()
            if "flake.nix" not in files:
                problems.append(
                    Problem(
                        Place("flake.nix"),
                        f"{folder} deploys with a flake, but the lab has no flake.nix",
                        hint="`homelab init` writes one; or set deploy.method: channels",
                    )
                )
        secrets: list[SecretFile] = []
        for secret in profile.secrets:
            source = lab.root / secret.source
            try:
                data = source.read_bytes()
            except OSError as err:
                problems.append(
                    Problem(
                        _place(document, ("secrets", secret.name, "source"), profile.file),
                        f"cannot read secret file {secret.source}: {err.strerror or err}",
                        path=f"secrets.{secret.name}.source",
                    )
                )
                continue
            secrets.append(
                SecretFile(
                    secret.name,
                    secret.target,
                    data,
                    secret.mode,
                    secret.owner or "root",
                    secret.group,
                )
            )
        deploy = profile.deploy
        plans.append(
            HostPlan(
                folder=folder,
                name=profile.name,
                endpoint=endpoint_of(profile),
                files=files,
                secrets=tuple(secrets),
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

    def _guarded(self, work: Callable[[], HostResult]) -> HostResult:
        try:
            return work()
        except _Failed as failure:
            return self._result("failed", failure.summary, details=failure.details)
        except Cancelled:
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
            checks = run_checks(
                self.target,
                self.plan.checks,
                within=self.options.check_timeout,
                cancel=self.cancel,
                on_line=self.line,
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

    def _undo(self) -> HostResult:
        self.set("connecting")
        self.target.connection  # noqa: B018
        facts = self._probe(staging=False)
        before = facts.generation_now
        self.set("rolling back")
        run = self._start_and_follow(
            ['say phase "rolling back"', "nixos-rebuild switch --rollback || finish $?"],
            install=False,
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
            chan, text = self._hold(scripts.command(scripts.PROBE, self._owner(), "10", "0", ""))
        except (ConnectionLost, _Failed):
            return
        if "locked" in parse_facts(text):
            chan.close()
            self.notes.append("after reconnecting, another apply held this host's lock")
            return
        self.holder = chan

    def _release(self) -> None:
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
        if up is not None:
            digests = json.dumps(dict(up.secret_digests), sort_keys=True)
            steps.append(
                f'( umask 077; printf "%s\\n" {q(digests)} > "$S/secrets.json" ) '
                '&& chown --reference="$S" "$S/secrets.json" 2>/dev/null; true'
            )
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
                    steps.append(self._chown(secret, f'"$R"{q(secret.target)}', after=True))
        return steps

    @staticmethod
    def _chown(secret: SecretFile, dest: str, after: bool = False) -> str:
        owner = q(secret.owner) + (f":{q(secret.group)}" if secret.group else "")
        note = "owner " + secret.owner + " does not exist yet"
        if after:
            return f"chown {owner} {dest} || say note {q('secret ' + secret.name + ': ' + note)}"
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
                    raise _Failed(
                        f"connection lost and not back within {window:g} s; the rebuild goes on "
                        "on the machine (see its log)",
                        str(error),
                        f"its log: {scripts.STATE}/runs/{run_id}/log",
                    ) from None
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
                self.line("cancelled: stopping the run on the machine")
                self._stop(run_id)
                raise
            break
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


def record(lab_root: Path, results: Sequence[HostResult], commit: str, mode: str) -> None:
    """Each host's result as a deploy record (the history's), for `homelab status`."""
    from homelab.history.records import DeployAttempt, record_deploys

    attempts = []
    for r in results:
        if r.state == "cancelled" and r.before is None:
            continue  # never reached: nothing to say about the machine
        outcome = "ok" if r.ok else "rolled-back" if r.rolled_back else r.state
        details = r.summary
        if r.after is not None:
            details += f"\nsystem: {r.after.system}"
        attempts.append(
            DeployAttempt(r.folder, commit, mode, outcome, r.started, r.finished, details)
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
