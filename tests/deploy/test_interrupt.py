"""Ctrl-C, SIGTERM and a link that does not come back end an apply cleanly: a summary, no
traceback, and records that say what the machine may still do ("interrupted"), confirmed
from the machine's own run status by the next apply or `homelab status --live`. A lock
on a machine whose apply went silent is taken over, saying so; a live one never is."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import git
import pytest

from homelab.deploy.fanout import apply
from homelab.deploy.models import ApplyOptions, Event, HostResult
from homelab.deploy.workflow import prepare, send
from homelab.history.records import deploy_log, deployed, unconfirmed
from homelab.lab import Lab
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.test_apply import committed_plans
from tests.deploy.tidy import (
    REPO,
    assert_record_holds_what_runs,
    assert_tidy,
    homelab,
    homelab_env,
    start_homelab,
)
from tests.sshd.rig import Machine, Rig


class Output:
    """A process's standard output, read line by line as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, within: float = 60) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"never saw {pattern!r} in:\n{''.join(self.lines)}")

    def rest(self, within: float = 60) -> tuple[int, str, str]:
        """Wait for the end: (exit code, the rest of stdout, stderr)."""
        code = self.process.wait(within)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        assert self.process.stderr is not None
        return code, "".join(self.lines), self.process.stderr.read()


def eventually(check: Callable[[], bool], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.1)


def switched(machine: Machine) -> Callable[[], bool]:
    """Has the run left going on the machine ended, on generation 2?"""

    def check() -> bool:
        current = machine.state() / "runs" / "current"
        return machine.generation() == 2 and (current / "status").exists()

    return check


def tag_messages(lab: Path, host: str) -> list[str]:
    out = git.Repo(lab).git.for_each_ref(
        f"refs/tags/homelab/deploy/{host}/", "--sort=refname", "--format=%(contents)%00"
    )
    return [m.strip() for m in out.split("\0") if m.strip()]


def interrupted_apply(rig: Rig, lab: Path, machine: Machine, number: int) -> tuple[str, str]:
    """`homelab apply` as a process, sent a real signal while the machine builds:
    (its stdout, its stderr)."""
    running = Output(start_homelab(rig, lab, "apply", "--yes"))
    running.wait_for(rf"^{machine.name}\s+: building")
    time.sleep(0.5)
    os.kill(running.process.pid, number)
    code, out, err = running.rest(within=30)
    assert code == 1, out + err
    return out, err


@pytest.mark.parametrize(
    ("number", "said"),
    [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")],
    ids=["int", "term"],
)
def test_a_signal_mid_rebuild_records_interrupted_and_the_next_apply_confirms_the_switch(
    rig: Rig, tmp_path: Path, number: int, said: str
) -> None:
    machine = rig.add("web")
    machine.fault("rebuild-seconds", "4")
    lab = make_lab(tmp_path / "lab", [machine])

    out, err = interrupted_apply(rig, lab, machine, number)

    assert "Traceback" not in err
    assert f"stopping ({said}): no host starts now" in err
    assert f"apply stopped ({said}): web may still switch" in err
    assert re.search(
        r"^web\s+INTERRUPTED\s+\S+\s+interrupted while building: the run goes on on the "
        r"machine \(run \S+\)",
        out,
        re.M,
    ), out
    sent = git.Repo(lab).head.commit.hexsha
    [record] = deploy_log(lab, "web")
    assert (record.commit, record.result) == (sent, "interrupted")
    assert record.run
    assert unconfirmed(lab) == {"web": record}
    status = homelab(rig, lab, "status")
    assert re.search(r"^web\s+interrupted \(unconfirmed\): " + sent[:7], status.stdout, re.M)
    assert_tidy(lab)
    # the stand-in finishes the switch on its own
    eventually(switched(machine))
    assert machine.current() == machine.system_of(2)

    again = homelab(rig, lab, "apply", "--yes")

    assert again.returncode == 0, again.stdout + again.stderr
    assert f"the run {record.run} left by an interrupted apply ended well (exit 0)" in again.stdout
    assert re.search(r"^web\s+ok\s+\S+\s+no change: still on generation 2", again.stdout, re.M)
    results = [r.result for r in deploy_log(lab, "web")]
    assert sorted(results) == ["interrupted", "ok", "ok"]
    confirmation = next(m for m in tag_messages(lab, "web") if "left by an interrupted" in m)
    assert f"commit: {sent}" in confirmation
    assert "result: ok" in confirmation
    assert f"system: {machine.system_of(2)}" in confirmation
    assert unconfirmed(lab) == {}
    assert deployed(lab)["web"].commit == sent
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_status_live_asks_the_machine_and_confirms_an_interrupted_apply(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    other = rig.add("db")
    machine.fault("rebuild-seconds", "4")
    lab = make_lab(tmp_path / "lab", [machine, other])
    homelab(rig, lab, "apply", "--yes", "db")
    interrupted_apply(rig, lab, machine, signal.SIGINT)
    offline = homelab(rig, lab, "status")
    assert re.search(r"^web\s+interrupted \(unconfirmed\)", offline.stdout, re.M)
    eventually(switched(machine))
    asked = len(machine.lines("commands.log"))

    live = homelab(rig, lab, "status", "--live")

    assert live.returncode == 0, live.stdout + live.stderr
    assert re.search(
        r"^web: the run \S+ left by an interrupted apply ended well \(exit 0\); the machine "
        r"runs generation 2: recorded as ok$",
        live.stdout,
        re.M,
    ), live.stdout
    assert re.search(r"^HOST\s+DEPLOYED\s+HEAD\s+WORKING TREE\s+MACHINE$", live.stdout, re.M)
    assert re.search(
        r"^web\s+\S+ .*\(switch\)\s+up to date\s+clean\s+generation 2$", live.stdout, re.M
    )
    assert re.search(r"^db\s+.*generation 2$", live.stdout, re.M)
    assert "interrupted" not in homelab(rig, lab, "status").stdout
    assert len(machine.lines("commands.log")) == asked  # nothing was run there
    assert deployed(lab)["web"].result == "ok"
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_a_link_that_does_not_come_back_is_interrupted_not_failed(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    machine.fault("rebuild-seconds", "2")
    lab = make_lab(tmp_path / "lab", [machine])

    def watch(event: Event) -> None:
        if event.line and event.line.startswith("building the system configuration"):
            machine.stop()  # the link goes (and stays gone); the rebuild goes on

    options = ApplyOptions(ssh=rig.settings(), reconnect_timeout=2)  # type: ignore[arg-type]
    outcome = send(prepare(Lab(lab), []), options, watch)

    [result] = outcome.results
    assert result.state == "interrupted", result
    assert result.summary.startswith(
        "connection lost and not back within 2 s: the run goes on on the machine (run "
    )
    assert [r.result for r in deploy_log(lab, "web")] == ["interrupted"]
    eventually(switched(machine))  # it did switch: "failed" would have been a lie
    if not machine.running():  # (the stand-in's activation may have started it again)
        machine.start()  # the person brings SSH back

    code, out, err = run_cli("--lab", str(lab), "status", "--live")

    assert code == 0, out + err
    assert "recorded as ok" in out
    assert deployed(lab)["web"].commit == outcome.commit == git.Repo(lab).head.commit.hexsha
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_ctrl_c_before_the_rebuild_starts_cancels_and_touches_nothing(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    machine.fault("rebuild-seconds", "8")
    lab = make_lab(tmp_path / "lab", [machine])
    plans = committed_plans(lab, ["web"])
    options = ApplyOptions(ssh=rig.settings(), reconnect_timeout=20)  # type: ignore[arg-type]
    building = threading.Event()
    first: list[HostResult] = []

    def watch(event: Event) -> None:
        if event.state == "building":
            building.set()

    busy = threading.Thread(target=lambda: first.extend(apply(plans, options, watch)))
    busy.start()  # an apply from elsewhere holds the machine
    assert building.wait(30)
    running = Output(start_homelab(rig, lab, "apply", "--yes", "--wait", "60"))
    running.wait_for(r"^web\s+: connecting")
    time.sleep(1)  # waiting for the machine's lock
    os.kill(running.process.pid, signal.SIGINT)

    code, out, err = running.rest(within=30)

    busy.join()
    assert code == 1, out + err
    assert "Traceback" not in err
    assert re.search(r"^web\s+cancelled\s+\S+\s+cancelled before it finished", out, re.M), out
    assert "apply stopped (Ctrl-C)" in err
    assert first[0].ok, first[0]
    assert len([c for c in machine.lines("commands.log") if "nixos-rebuild" in c]) == 1
    assert deploy_log(lab, "web") == []  # it never reached the machine: nothing to say
    assert_tidy(lab)


# ---- the lock on the machine -----------------------------------------------------------------

SILENT_APPLY = """
import sys
from homelab.deploy.models import ApplyOptions
from homelab.deploy.ssh import SshSettings
from homelab.deploy.workflow import prepare, send
from homelab.lab import Lab

options = ApplyOptions(ssh=SshSettings.from_home(), heartbeat=1)
send(prepare(Lab(sys.argv[1]), []), options, lambda e: print(e.line or e.state, flush=True))
"""


def test_a_lock_whose_apply_went_silent_is_taken_over_saying_so(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    machine.fault("rebuild-seconds", "1")
    lab = make_lab(tmp_path / "lab", [machine])
    first = subprocess.Popen(
        [sys.executable, "-c", SILENT_APPLY, str(lab)],
        env=homelab_env(rig),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        Output(first).wait_for(r"^building the system configuration")  # the run started
        os.kill(first.pid, signal.SIGSTOP)  # its laptop froze: the connection stays, silent
        eventually(switched(machine))
        # another checkout of the lab, on another laptop
        other = tmp_path / "other"
        with git.Repo(lab).clone(other).config_writer() as config:
            config.set_value("user", "name", "Someone Else")
            config.set_value("user", "email", "else@example.org")
        time.sleep(6)  # more than three missed heartbeats

        code, out, err = run_cli("--lab", str(other), "apply", "--yes")

        assert code == 0, out + err
        assert re.search(
            r"^web\s+\| took over the host's lock from homelab apply by \S+ \(pid "
            rf"{first.pid}\) since \S+ \(silent for \d+ s\): that apply is gone",
            out,
            re.M,
        ), out
        assert re.search(r"^web\s+ok\s+\S+\s+no change: still on generation 2", out, re.M)
    finally:
        first.kill()
        first.wait()


def test_the_lock_of_a_live_apply_is_never_taken_over_however_long_it_runs(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    machine.fault("rebuild-seconds", "10")
    lab = make_lab(tmp_path / "lab", [machine])
    plans = committed_plans(lab, ["web"])
    options = ApplyOptions(ssh=rig.settings(), heartbeat=1, reconnect_timeout=20)  # type: ignore[arg-type]
    building = threading.Event()
    first: list[HostResult] = []

    def watch(event: Event) -> None:
        if event.state == "building":
            building.set()

    worker = threading.Thread(target=lambda: first.extend(apply(plans, options, watch)))
    worker.start()
    assert building.wait(30)
    time.sleep(7)  # longer than a silent owner is given

    [second] = apply(plans, options)

    worker.join()
    assert second.summary.startswith("locked: homelab apply by "), second.summary
    assert first[0].ok, first[0]
    assert len([c for c in machine.lines("commands.log") if c.startswith("nixos-rebuild")]) == 1
