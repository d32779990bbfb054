"""Health checks after activation: systemd units active, TCP ports listening, HTTP URLs
answering. They come from the catalogue entries of the host's services plus the checks
its profile adds (`deploy.checks`).

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
from typing import Any

from homelab.catalog import Catalog, Checks, service_checks
from homelab.deploy import scripts
from homelab.deploy.models import Check, CheckResult
from homelab.deploy.target import ConnectionLost, Target
from homelab.profile.model import Profile

__all__ = ["Check", "CheckResult", "checks_for", "run_checks"]


def checks_for(profile: Profile, catalog: Catalog) -> tuple[Check, ...]:
    """Pure: the checks of the host's services (catalogue) and of its profile, each once."""
    found = [
        service_checks(service, use.settings)
        for use in profile.services
        if (service := catalog.get(use.name)) is not None
    ]
    out: list[Check] = []
    for checks in [*found, profile.deploy.checks]:
        for check in _each(checks):
            if check not in out:
                out.append(check)
    return tuple(out)


def _each(checks: Checks) -> list[Check]:
    return [
        *(Check("unit", unit) for unit in checks.units),
        *(Check("tcp", str(port)) for port in checks.tcp),
        *(Check("http", url) for url in checks.http),
    ]


def run_checks(
    target: Target,
    checks: Sequence[Check],
    *,
    within: float = 30.0,
    sudo: str = "",
    cancel: threading.Event | None = None,
    on_line: Callable[[str], None] | None = None,
) -> list[CheckResult]:
    """Every check, failing ones tried again each second until `within` seconds passed
    (services take a moment to start after activation)."""
    deadline = time.monotonic() + within
    results: dict[Check, CheckResult] = {}
    pending = list(checks)
    while pending:
        for result in _once(target, pending):
            results[result.check] = result
        pending = [c for c in pending if not results[c].ok]
        if not pending or time.monotonic() + 1 > deadline:
            break
        if cancel is not None and cancel.is_set():
            break
        time.sleep(1)
    out = [results[c] for c in checks]
    if on_line is not None:
        for result in out:
            on_line(f"check {result.check}: {'ok' if result.ok else 'FAILED'} ({result.detail})")
    return out


def _once(target: Target, checks: Sequence[Check]) -> list[CheckResult]:
    out: list[CheckResult] = []
    units = [c.what for c in checks if c.kind == "unit"]
    if units:
        ran = target.run(scripts.command(scripts.UNITS, *units), timeout=60)
        states = {}
        for line in ran.out.splitlines():
            name, _, state = line.rpartition(" ")
            states[name] = state or "unknown"
        for check in checks:
            if check.kind == "unit":
                state = states.get(check.what, "unknown") or "unknown"
                out.append(CheckResult(check, state == "active", state))
    for check in checks:
        if check.kind == "tcp":
            out.append(_tcp(target, check))
        elif check.kind == "http":
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
