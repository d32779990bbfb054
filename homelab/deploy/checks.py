"""Health checks after activation: systemd units active, TCP ports listening, HTTP URLs
answering. They come from the catalogue entries of the host's services plus the checks
its profile adds (`deploy.checks`), which also turns them off (all, or a service's) and
says how long each may keep failing (its grace; a longer one for a service's first start).

Ports and URLs are tried from the machine itself, through the SSH connection (as
`ssh -L` does), so nothing needs to be installed there and nothing needs to be open to
the network.
"""

from __future__ import annotations

import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from homelab.catalog import Catalog, Checks, service_checks
from homelab.deploy import scripts
from homelab.deploy.models import (
    Check,
    CheckPlan,
    CheckResult,
    PlannedCheck,
    SkippedChecks,
)
from homelab.deploy.target import ConnectionLost, Target
from homelab.profile.model import Profile

__all__ = [
    "Check",
    "CheckPlan",
    "CheckResult",
    "checks_for",
    "first_starts",
    "plan_checks",
    "run_checks",
]

OFF = "off in deploy.checks"


def checks_for(profile: Profile, catalog: Catalog) -> tuple[Check, ...]:
    """Pure: the checks the host runs, each once."""
    return tuple(p.check for p in plan_checks(profile, catalog).checks)


def plan_checks(profile: Profile, catalog: Catalog) -> CheckPlan:
    """Pure: the checks of the host's services (catalogue, plus `deploy.checks.services`)
    and of its profile (`deploy.checks`), each once with its grace, and those the profile
    turned off. A check two services share runs once, with the longer grace."""
    own = profile.deploy.checks
    groups: list[tuple[str, Checks, bool]] = []  # whose, which, turned on
    for use in profile.services:
        service = catalog.get(use.name)
        settings = own.of(use.name)
        found = service_checks(service, use.settings) if service is not None else Checks()
        groups.append((use.name, found, settings.enable))
        groups.append((use.name, settings.extra, settings.enable))
    groups.append(("", own.extra, True))
    planned: dict[Check, PlannedCheck] = {}
    for whose, checks, on in groups:
        if not on:
            continue
        for check in _each(checks):
            planned[check] = _merged(planned.get(check), _planned(check, whose, profile))
    skipped = _skipped(groups, planned)
    if not own.enable:
        total = len(planned) + sum(s.count for s in skipped)
        return CheckPlan((), (SkippedChecks("", total, OFF),) if total else ())
    return CheckPlan(tuple(planned.values()), skipped)


def _planned(check: Check, whose: str, profile: Profile) -> PlannedCheck:
    own = profile.deploy.checks
    settings = own.of(whose)
    grace = settings.grace if settings.grace is not None else own.grace
    first = settings.first_grace if settings.first_grace is not None else own.first_grace
    if not whose:  # the host's own checks belong to no service that starts
        first = None
    return PlannedCheck(check, whose, grace, first)


def _merged(old: PlannedCheck | None, new: PlannedCheck) -> PlannedCheck:
    if old is None:
        return new
    return PlannedCheck(
        old.check,
        old.service,
        _longer(old.grace, new.grace),
        _longer(old.first_grace, new.first_grace),
    )


def _longer(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _skipped(
    groups: Sequence[tuple[str, Checks, bool]], planned: dict[Check, PlannedCheck]
) -> tuple[SkippedChecks, ...]:
    """The services turned off, with how many of their checks no one else runs (one whose
    checks all run for another is not said to be skipped)."""
    off: dict[str, set[Check]] = {}
    for whose, checks, on in groups:
        if not on:
            off.setdefault(whose, set()).update(c for c in _each(checks) if c not in planned)
    return tuple(SkippedChecks(whose, len(checks), OFF) for whose, checks in off.items() if checks)


def _each(checks: Checks) -> list[Check]:
    return [
        *(Check("unit", unit) for unit in checks.units),
        *(Check("tcp", str(port)) for port in checks.tcp),
        *(Check("http", url) for url in checks.http),
    ]


def first_starts(target: Target, plan: CheckPlan) -> frozenset[str]:
    """The services that start for the first time with this switch: none of their checked
    units is active yet. Asked of the machine before the switch, and only for services
    given a longer first grace (one command)."""
    wanted = plan.units_to_see_first()
    if not wanted:
        return frozenset()
    states = unit_states(target, sorted({u for units in wanted.values() for u in units}))
    return frozenset(
        service
        for service, units in wanted.items()
        if not any(states.get(u) == "active" for u in units)
    )


def unit_states(target: Target, units: Sequence[str]) -> dict[str, str]:
    """Unit -> `systemctl is-active` (active, activating, failed, inactive, unknown)."""
    ran = target.run(scripts.command(scripts.UNITS, *units), timeout=60)
    states: dict[str, str] = {}
    for line in ran.out.splitlines():
        name, _, state = line.rpartition(" ")
        states[name] = state or "unknown"
    return states


def run_checks(
    target: Target,
    checks: Sequence[PlannedCheck | Check],
    *,
    within: float = 30.0,
    first: frozenset[str] = frozenset(),
    sudo: str = "",
    cancel: threading.Event | None = None,
    on_line: Callable[[str], None] | None = None,
) -> list[CheckResult]:
    """Every check, failing ones tried again each second until their grace ran out
    (services take a moment to start after activation): `within` seconds unless the
    profile gives one, its first grace for a service in `first`. Once one check has
    failed for good the others are not waited for: the host has failed."""
    planned = [c if isinstance(c, PlannedCheck) else PlannedCheck(c) for c in checks]
    start = time.monotonic()
    deadline = {p: start + p.wait(within, p.service in first) for p in planned}
    results: dict[PlannedCheck, CheckResult] = {}
    pending = list(planned)
    given_up = False
    while pending:
        for p, result in zip(pending, _once(target, [p.check for p in pending]), strict=True):
            results[p] = replace(result, service=p.service)
        pending = [p for p in pending if not results[p].ok]
        now = time.monotonic()
        if any(now + 1 > deadline[p] for p in pending):
            given_up = True
            break
        if not pending or (cancel is not None and cancel.is_set()):
            break
        time.sleep(1)
    if given_up:
        for p in pending:
            if time.monotonic() + 1 <= deadline[p]:
                results[p] = replace(results[p], given_up=True)
    out = [results[p] for p in planned]
    if on_line is not None:
        for result in out:
            verdict = "ok" if result.ok else "not waited for" if result.given_up else "FAILED"
            on_line(f"check {result.check}: {verdict} ({result.detail})")
    return out


def _once(target: Target, checks: Sequence[Check]) -> list[CheckResult]:
    """One try of each check, in their order."""
    units = [c.what for c in checks if c.kind == "unit"]
    states = unit_states(target, units) if units else {}
    out: list[CheckResult] = []
    for check in checks:
        if check.kind == "unit":
            state = states.get(check.what, "unknown") or "unknown"
            out.append(CheckResult(check, state == "active", state))
        elif check.kind == "tcp":
            out.append(_tcp(target, check))
        else:
            out.append(_http(target, check))
    return out


def _tcp(target: Target, check: Check) -> CheckResult:
    import paramiko  # deferred: start-up (paramiko takes a while to import)

    try:
        chan = target.open_port("127.0.0.1", int(check.what))
    except paramiko.ChannelException:
        return CheckResult(check, False, "nothing listening")
    except paramiko.SSHException as err:
        raise ConnectionLost(str(err)) from None
    chan.close()
    return CheckResult(check, True, "listening")


def _http(target: Target, check: Check, timeout: float = 5.0) -> CheckResult:
    import paramiko  # deferred: start-up (paramiko takes a while to import)

    url = urllib.parse.urlsplit(check.what)
    if url.scheme not in ("http", "https") or not url.hostname:
        return CheckResult(check, False, "not an http(s) URL")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        chan = target.open_port(url.hostname, port, timeout)
    except paramiko.ChannelException:
        return CheckResult(check, False, f"nothing listening on port {port}")
    except paramiko.SSHException as err:
        raise ConnectionLost(str(err)) from None
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    request = (
        f"GET {path} HTTP/1.0\r\nHost: {url.netloc}\r\nUser-Agent: homelab-check\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    try:
        chan.settimeout(timeout)
        if url.scheme == "https":
            head = _https_exchange(chan, url.hostname, request)
        else:
            chan.sendall(request)
            head = _read_head(chan.recv)
    except (OSError, EOFError, ssl.SSLError) as err:
        return CheckResult(check, False, f"no answer ({err or type(err).__name__})")
    finally:
        chan.close()
    words = head.split(b"\r\n", 1)[0].split()
    if len(words) < 2 or not words[0].startswith(b"HTTP/") or not words[1].isdigit():
        return CheckResult(check, False, "no HTTP answer")
    status = int(words[1])
    # a login page (401/403) still means the service answers
    return CheckResult(check, status < 400 or status in (401, 403), f"HTTP {status}")


def _read_head(recv: Callable[[int], bytes]) -> bytes:
    data = b""
    while b"\r\n" not in data and len(data) < 65536:
        chunk = recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _https_exchange(chan: Any, hostname: str, request: bytes) -> bytes:
    """TLS over the SSH channel (no socket to wrap); certificates are not checked: this
    asks whether the service answers, not whom to trust."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=hostname)

    def flush() -> None:
        data = outgoing.read()
        if data:
            chan.sendall(data)

    def feed() -> None:
        data = chan.recv(65536)
        if not data:
            raise EOFError("the connection closed during TLS")
        incoming.write(data)

    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush()
            feed()
    flush()
    tls.write(request)
    flush()

    def recv(n: int) -> bytes:
        while True:
            try:
                return tls.read(n)
            except ssl.SSLWantReadError:
                try:
                    feed()
                except EOFError:
                    return b""
            except ssl.SSLZeroReturnError:
                return b""

    return _read_head(recv)
