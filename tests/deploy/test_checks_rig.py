"""Health checks against simulated machines (the SSH test rig): a check turned off in the
profile is never tried, `--no-checks` tries none, a grace period waits for a service that
answers late, a first start gets its longer grace, and the summary says what ran."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from homelab.deploy.fanout import apply
from homelab.deploy.models import ApplyOptions, ApplyState, Event, HostResult
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.test_apply import committed_plans
from tests.sshd.rig import Rig, free_port

LATE = 3.0  # seconds after the checks start that the late service answers (a first try
# of every check fits well within it, even on a loaded machine)


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


class Service:
    """A service on the machine's loopback (the rig's machines share this one) that
    counts every connection made to it: a check that is tried leaves a mark."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.connections = 0
        self.server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> None:
        counter = self

        class Server(http.server.ThreadingHTTPServer):
            def verify_request(self, request: object, client_address: object) -> bool:
                counter.connections += 1
                return True

        self.server = Server(("127.0.0.1", self.port), _Answer)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def start_later(self, seconds: float, then: Callable[[], None] | None = None) -> None:
        def later() -> None:
            time.sleep(seconds)
            if then is not None:
                then()
            self.start()

        threading.Thread(target=later, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def services() -> Iterator[list[Service]]:
    made: list[Service] = []
    yield made
    for service in made:
        service.stop()


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def host_with(services_yaml: str, checks_yaml: str) -> str:
    """The end of a rig host's profile: its deploy.checks, then its services."""
    return "  checks:\n" + checks_yaml + "services:\n" + services_yaml


def apply_late(
    lab: Path, rig: Rig, host: str, late: Service, before_answer: Callable[[], None] | None = None
) -> tuple[HostResult, list[str]]:
    """Apply to the host; `late` starts answering LATE seconds after its checks begin."""
    lines: list[str] = []

    def watch(event: Event) -> None:
        if event.line:
            lines.append(event.line)
        if event.state == ApplyState.CHECKING and late.server is None and not event.line:
            late.start_later(LATE, before_answer)

    opts = ApplyOptions(ssh=rig.settings(), check_timeout=1, reconnect_timeout=20)  # type: ignore[arg-type]
    [result] = apply(committed_plans(lab, [host]), opts, watch)
    return result, lines


def test_a_service_turned_off_is_never_checked_and_the_summary_says_so(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, services: list[Service]
) -> None:
    exporter, kuma = Service(), Service()
    services += [exporter, kuma]
    exporter.start()
    kuma.start()  # it answers: only its counter can tell whether it was tried
    machine = rig.add("web")
    machine.fault("failed-units", "uptime-kuma.service")  # and its unit would fail
    extra = host_with(
        f"  prometheus-node-exporter: {{port: {exporter.port}}}\n"
        f"  uptime-kuma: {{port: {kuma.port}}}\n",
        "    services:\n      uptime-kuma: {enable: false}\n",
    )
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": extra})

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 0, out + err
    assert kuma.connections == 0
    assert exporter.connections >= 2  # its tcp and http checks
    assert "web: checks: 3 ran (3 ok), 3 skipped (uptime-kuma: off in deploy.checks)" in out


def test_no_checks_runs_none_even_when_they_would_fail(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, services: list[Service]
) -> None:
    exporter = Service()  # never started: nothing listens on its port
    machine = rig.add("web")
    machine.fault("failed-units", "prometheus-node-exporter.service")
    extra = host_with(
        f"  prometheus-node-exporter: {{port: {exporter.port}}}\n", "    units: [sshd.service]\n"
    )
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": extra})

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--no-checks")
    assert code == 0, out + err
    assert "web: checks: none ran, 4 skipped (--no-checks)" in out
    assert machine.generation() == 2

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--force", "--check-timeout", "0")
    assert code == 1, out + err  # without the flag they run, and fail
    assert "web: checks: 4 ran (1 ok, 3 failed)" in out


def test_a_grace_longer_than_the_start_passes_and_a_shorter_one_fails(
    rig: Rig, tmp_path: Path, services: list[Service]
) -> None:
    for name, grace, passes in (("patient", LATE + 4, True), ("hasty", 0, False)):
        late = Service()
        services.append(late)
        machine = rig.add(name)
        extra = host_with(
            f"  prometheus-node-exporter: {{port: {late.port}}}\n",
            f"    services:\n      prometheus-node-exporter: {{grace: {grace:g}}}\n",
        )
        lab = make_lab(tmp_path / name, [machine], extra={name: extra})
        result, _ = apply_late(lab, rig, name, late)
        assert result.ok is passes, result
        if passes:
            assert result.elapsed >= LATE
        else:
            assert "health check failed" in result.summary
            assert late.connections == 0  # it failed before the service answered


def test_a_first_start_gets_its_longer_grace_and_a_restart_does_not(
    rig: Rig, tmp_path: Path, services: list[Service]
) -> None:
    unit = "prometheus-node-exporter.service"
    checks = (
        "    grace: 0\n    services:\n"
        f"      prometheus-node-exporter: {{firstGrace: {LATE + 4:g}}}\n"
    )
    outcomes = {}
    for new in (True, False):
        late = Service()
        services.append(late)
        machine = rig.add("new" if new else "again")
        extra = host_with(f"  prometheus-node-exporter: {{port: {late.port}}}\n", checks)
        lab = make_lab(tmp_path / machine.name, [machine], extra={machine.name: extra})
        if new:  # not running before the switch; it comes up with the service
            machine.fault("failed-units", unit)
        result, lines = apply_late(
            lab, rig, machine.name, late, partial(machine.clear, "failed-units")
        )
        outcomes[new] = (result, lines)
    result, lines = outcomes[True]
    assert result.ok, result
    assert any("prometheus-node-exporter starts here for the first time" in t for t in lines)
    result, lines = outcomes[False]
    assert not result.ok, result  # it was running before: the short grace holds
    assert not any("first time" in t for t in lines)
