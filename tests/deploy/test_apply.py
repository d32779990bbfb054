"""`homelab apply` against simulated machines: real sshd processes, real SFTP, real
nix-instantiate; nixos-rebuild and friends are the rig's test doubles."""

from __future__ import annotations

import getpass
import http.server
import json
import os
import pwd
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from homelab.deploy.fanout import apply
from homelab.deploy.models import ApplyOptions, Event, HostResult
from homelab.deploy.plan import HostPlan, plan_hosts
from homelab.deploy.workflow import prepare, send
from homelab.history import commit_lab
from homelab.history.records import deployed
from homelab.lab import Lab
from tests.conftest import RunCli
from tests.deploy.labs import make_lab, set_markers
from tests.sshd.rig import Machine, Rig

MANIFEST = ".homelab-manifest.json"


def run_api(
    lab_root: Path, rig: Rig, hosts: list[str] | None = None, **options: object
) -> list[HostResult]:
    """The apply workflow the CLI and the editor run: commit, send, record."""
    settings = options.pop("ssh", None) or rig.settings()
    opts = ApplyOptions(ssh=settings, check_timeout=2, reconnect_timeout=20, **options)  # type: ignore[arg-type]
    return list(send(prepare(Lab(lab_root), hosts or []), opts).results)


def committed_plans(lab_root: Path, hosts: list[str]) -> list[HostPlan]:
    """Plans of hosts built and committed (for tests that call `apply` themselves)."""
    lab = Lab(lab_root)
    ready = prepare(lab, hosts)
    commit_lab(lab, hosts=hosts)
    head = git.Repo(lab_root).head.commit.hexsha
    return plan_hosts(lab, ready.state, ready.chosen, head)


def by_host(results: list[HostResult]) -> dict[str, HostResult]:
    return {r.host: r for r in results}


def rebuilds(machine: Machine) -> list[str]:
    return [c for c in machine.lines("commands.log") if c.startswith("nixos-rebuild")]


def config_mtimes(machine: Machine) -> dict[str, float]:
    config = machine.state() / "config"
    return {str(p.relative_to(config)): p.stat().st_mtime for p in config.rglob("*") if p.is_file()}


# ---- many hosts -----------------------------------------------------------------------


def test_five_hosts_each_get_a_new_generation_and_nothing_is_sent_twice(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machines = [rig.add(f"web{i}", systemd=i != 3) for i in (1, 2, 3)]
    machines += [rig.add(f"db{i}") for i in (1, 2)]
    lab = make_lab(tmp_path / "lab", machines)

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 0, out + err
    for m in machines:
        assert m.generations() == [1, 2]
        assert m.current() == m.system_of(2)
        built = m.running_config(f"hosts/{m.name}/configuration.nix")
        assert built == (lab / "hosts" / m.name / "configuration.nix").read_text()
        assert re.search(rf"^{m.name}\s+ok\s+\S+\s+generation 1 -> generation 2", out, re.M)
        commands = rebuilds(m)
        assert len(commands) == 1
        assert commands[0].startswith("nixos-rebuild switch --flake ")
        assert commands[0].endswith(f"/var/lib/homelab/config#{m.name}")
    # what went out is committed, and each machine's record names that commit
    head = git.Repo(lab).head.commit
    assert "hosts/web1/configuration.nix" in head.stats.files
    records = deployed(lab)
    assert {h: (r.commit, r.mode, r.result) for h, r in records.items()} == {
        m.name: (head.hexsha, "switch", "ok") for m in machines
    }
    code, status, err = run_cli("--lab", str(lab), "status")
    assert code == 0, err
    for m in machines:
        assert re.search(rf"^{m.name}\s+{head.hexsha[:7]} .*\(switch\)", status, re.M)
    before = {m.name: config_mtimes(m) for m in machines}
    time.sleep(0.05)  # so that a file written again would get a newer time

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--force")

    assert code == 0, out + err
    for m in machines:
        assert len(rebuilds(m)) == 2  # --force rebuilds a machine that is up to date
        assert m.generation() == 2  # the same system: no new generation
        after = config_mtimes(m)
        assert set(after) == set(before[m.name])
        rewritten = [p for p in after if after[p] != before[m.name][p]]
        assert rewritten == [MANIFEST]
        assert re.search(
            rf"^{m.name}\s*\| no file changed since the last upload \(only the manifest", out, re.M
        )
        assert re.search(rf"^{m.name}\s+ok\s+\S+\s+no change: still on generation 2", out, re.M)


def test_a_changed_profile_sends_only_the_files_that_changed(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    run_api(lab, rig)
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [hello, vim]"))

    [result] = run_api(lab, rig)

    assert result.ok, result
    assert machine.generation() == 3
    changed = [p for p in result.uploaded if p != MANIFEST]
    assert changed and all(p.startswith("hosts/web/") for p in changed)
    assert "hosts/web/hardware-configuration.nix" not in changed
    assert "flake.nix" not in changed
    assert "vim" in "".join(machine.running_config(p) for p in changed)


def test_a_tag_selects_its_hosts_only(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machines = {n: rig.add(n) for n in ("web1", "web2", "db1")}
    tags = {"web1": ["web", "lab"], "web2": ["web"], "db1": ["db"]}
    lab = make_lab(tmp_path / "lab", list(machines.values()), tags=tags)

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "@web")

    assert code == 0, out + err
    assert machines["web1"].generation() == 2
    assert machines["web2"].generation() == 2
    assert machines["db1"].generation() == 1
    assert "db1" not in out
    code, _, err = run_cli("--lab", str(lab), "apply", "--yes", "@nope")
    assert code == 2
    assert "no host has the tag 'nope'" in err


def test_without_yes_and_without_a_terminal_nothing_happens(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    code, _out, err = run_cli("--lab", str(lab), "apply")
    assert code == 2
    assert "add --yes" in err
    assert machine.generation() == 1
    assert machine.lines("commands.log") == []


def test_bad_options_are_refused_before_anything_runs(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    for argv, said in [
        (["--confirm", "5", "--mode", "boot"], "--confirm only goes with --mode switch or test"),
        (["--jobs", "0"], "--jobs needs at least 1"),
        (["--timeout", "-1"], "--timeout cannot be negative"),
    ]:
        code, _out, err = run_cli("--lab", str(lab), "apply", "--yes", *argv)
        assert code == 2, argv
        assert said in err
    assert machine.lines("commands.log") == []


# ---- modes ----------------------------------------------------------------------------


def test_boot_test_and_dry_activate(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    installed = machine.current()

    [result] = run_api(lab, rig, mode="boot")
    assert result.ok, result
    assert machine.generation() == 2  # the next boot starts the new system...
    assert machine.current() == installed  # ...but it does not run yet
    assert machine.lines("boot-entry") == [machine.system_of(2)]

    [result] = run_api(lab, rig, mode="test")
    assert result.ok, result
    assert machine.current() == machine.system_of(2)  # runs now...
    assert machine.generations() == [1, 2]  # ...with no new generation

    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("[hello]", "[hello, git]"))
    [result] = run_api(lab, rig, mode="dry-activate")
    assert result.ok, result
    assert "dry activation done" in result.summary
    assert machine.generations() == [1, 2]
    assert machine.current() == machine.system_of(2)


def test_build_mode_shows_the_closure_diff_and_changes_nothing(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    run_api(lab, rig)
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [vim]"))

    [result] = run_api(lab, rig, mode="build")

    assert result.ok, result
    assert "[A.]  vim  1.0" in result.closure_diff
    assert "[R.]  hello  1.0" in result.closure_diff
    assert machine.generation() == 2
    assert machine.current() == machine.system_of(2)


# ---- rollback, secrets, channels ---------------------------------------------------------


def test_rollback_command_switches_to_the_previous_generation(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    run_api(lab, rig)
    assert machine.generation() == 2

    code, out, err = run_cli("--lab", str(lab), "rollback", "web", "--yes")

    assert code == 0, out + err
    assert machine.generation() == 1
    assert machine.current() == machine.system_of(1)
    assert re.search(r"^web\s+ok\s+\S+\s+generation 2 -> generation 1 \(rolled back\)", out, re.M)
    code, out, err = run_cli("--lab", str(lab), "rollback", "web", "--yes")
    assert code == 1
    assert "rollback failed" in out
    assert "no previous generation" in out


def test_secrets_go_outside_the_store_with_their_mode(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    secret = "hunter2-very-secret\n"
    extra_profile = (
        "secrets:\n"
        "  api-key:\n"
        "    source: secrets/api.key\n"
        "    target: /var/lib/secrets/api.key\n"
        '    mode: "0640"\n'
        "    owner: nobody\n"
    )
    lab = make_lab(tmp_path / "lab", [machine])
    (lab / ".git" / "info" / "exclude").write_text("secrets/\n")  # kept out of git
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text() + extra_profile)
    (lab / "secrets").mkdir()
    (lab / "secrets" / "api.key").write_text(secret)

    [result] = run_api(lab, rig)

    assert result.ok, result
    target = machine.root / "var" / "lib" / "secrets" / "api.key"
    assert target.read_text() == secret
    assert target.stat().st_mode & 0o777 == 0o640
    assert target.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    store = "".join(
        p.read_text(errors="replace") for p in (machine.root / "nix").rglob("*") if p.is_file()
    )
    uploads = "".join(
        p.read_text(errors="replace")
        for p in machine.state().rglob("*")
        if p.is_file() and not p.is_symlink()
    )
    assert secret.strip() not in store
    assert secret.strip() not in uploads
    assert machine.staging_leftovers() == []
    stamp = target.stat().st_mtime
    time.sleep(0.05)
    [result] = run_api(lab, rig)
    assert result.ok
    assert target.stat().st_mtime == stamp  # unchanged: not sent again
    (lab / "secrets" / "api.key").write_text("a new one\n")
    [result] = run_api(lab, rig)
    assert target.read_text() == "a new one\n"


def test_a_missing_secret_file_is_bad_input_with_its_place(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine], commit=False)
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(
        profile.read_text()
        + "secrets:\n  k:\n    source: secrets/gone.key\n    target: /var/lib/secrets/k\n"
    )
    code, _out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 2
    assert "hosts/web/profile.yaml:" in err
    assert "secrets/gone.key" in err
    assert machine.lines("commands.log") == []


def test_channels_method_puts_the_files_in_etc_nixos_and_keeps_the_old_ones(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    original = (machine.root / "etc" / "nixos" / "configuration.nix").read_text()
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": "  method: channels\n"})

    [result] = run_api(lab, rig)
    assert result.ok, result
    # a second time (forced: nothing changed): the first deploy's files become the backup
    [result] = run_api(lab, rig, force=True)
    assert result.ok, result

    etc = machine.root / "etc"
    ours = (lab / "hosts" / "web" / "configuration.nix").read_text()
    assert (etc / "nixos" / "configuration.nix").read_text() == ours
    assert (etc / "nixos" / "hardware-configuration.nix").exists()
    assert (etc / "nixos.before-homelab" / "configuration.nix").read_text() == original
    assert (etc / "nixos.previous" / "configuration.nix").read_text() == ours
    assert machine.running_config("configuration.nix") == ours
    assert rebuilds(machine) == ["nixos-rebuild switch"] * 2


# ---- safety nets ---------------------------------------------------------------------------


def test_confirm_timer_brings_back_a_machine_whose_new_configuration_broke_ssh(
    rig: Rig, tmp_path: Path
) -> None:
    good, broken = rig.add("good"), rig.add("broken", systemd=False)
    lab = make_lab(tmp_path / "lab", [good, broken])
    set_markers(lab, "broken", "break-ssh")

    results = by_host(run_api(lab, rig, confirm=3.0))

    assert results["good"].ok, results["good"]
    assert not results["broken"].ok
    assert "the machine rolled back to generation 1 by itself" in results["broken"].summary
    assert broken.generation() == 1
    assert broken.current() == broken.system_of(1)
    assert broken.running()  # the old configuration brought sshd back
    activations = broken.lines("activations.log")
    assert activations == [f"switch {broken.system_of(2)}", f"switch {broken.system_of(1)}"]
    # the good one was confirmed in time: its timer does nothing when it runs out
    time.sleep(3.5)
    assert good.generation() == 2
    assert good.current() == good.system_of(2)
    assert not list(good.state().glob("runs/*/confirm-fired"))


def test_failing_health_checks_are_reported_and_left_alone_without_rollback(
    rig: Rig, tmp_path: Path
) -> None:
    with http_server() as port:
        machine = rig.add("web")
        closed = free_port_number()
        checks = (
            f"  checks:\n    tcp: [{port}, {closed}]\n"
            f'    http: ["http://127.0.0.1:{port}/health", "http://127.0.0.1:{port}/missing"]\n'
        )
        lab = make_lab(tmp_path / "lab", [machine], extra={"web": checks})
        [result] = run_api(lab, rig)

    assert not result.ok
    verdicts = {str(c.check): (c.ok, c.detail) for c in result.checks}
    assert verdicts[f"tcp {port}"] == (True, "listening")
    assert verdicts[f"tcp {closed}"] == (False, "nothing listening")
    assert verdicts[f"http http://127.0.0.1:{port}/health"] == (True, "HTTP 200")
    assert verdicts[f"http http://127.0.0.1:{port}/missing"] == (False, "HTTP 404")
    assert "still on generation 2; --rollback-on-failure switches back" in result.summary
    assert machine.generation() == 2


def test_sudo_password_goes_to_sudo_on_its_input_never_its_command_line(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = rig.add("web")
    machine.fault("sudo-password", "correct horse")
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": "  sudo: true\n"})
    asked: list[str] = []
    monkeypatch.setattr(
        getpass, "getpass", lambda prompt="": asked.append(prompt) or "correct horse"
    )

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--ask-sudo-password")

    assert code == 0, out + err
    assert len(asked) == 1
    assert machine.generation() == 2
    calls = [json.loads(line) for line in machine.lines("sudo.log")]
    assert calls and all("correct horse" not in arg for call in calls for arg in call)
    assert ["-S", "systemd-run"] in [call[:2] for call in calls]
    assert all(call[0] in ("-S", "-n") for call in calls), calls

    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "wrong")
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--ask-sudo-password")
    assert code == 1
    assert re.search(r"^web\s+FAILED\s+\S+\s+sudo refused the password; not touched", out, re.M)


def test_a_second_apply_to_a_busy_host_refuses_or_waits(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    # long enough that the second apply reaches the machine while the first still builds,
    # even on a loaded machine (2 s was seen to be too short there)
    machine.fault("rebuild-seconds", "6")
    lab = make_lab(tmp_path / "lab", [machine])
    first: list[HostResult] = []
    building = threading.Event()

    def watch(event: Event) -> None:
        if event.state == "building":
            building.set()

    plans = committed_plans(lab, ["web"])
    options = ApplyOptions(ssh=rig.settings(), reconnect_timeout=20)  # type: ignore[arg-type]
    worker = threading.Thread(target=lambda: first.extend(apply(plans, options, watch)))
    worker.start()
    assert building.wait(30)

    [refused] = apply(plans, options)
    assert not refused.ok
    assert refused.summary.startswith("locked: homelab apply by ")
    assert refused.summary.endswith("is applying to this host; not touched")

    [waited] = apply(plans, ApplyOptions(ssh=options.ssh, lock_wait=30, reconnect_timeout=20))
    worker.join()
    assert first[0].ok, first[0]
    assert waited.ok, waited
    assert waited.summary.startswith("no change: still on generation 2")
    assert len(rebuilds(machine)) == 2  # one after the other, never two at once


def test_cancel_stops_the_run_on_the_machine(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    set_markers(lab, "web", "hang")
    cancel = threading.Event()

    def watch(event: Event) -> None:
        if event.line and "never ends" in event.line:
            cancel.set()

    plans = committed_plans(lab, ["web"])
    options = ApplyOptions(ssh=rig.settings(), reconnect_timeout=20)  # type: ignore[arg-type]
    [result] = apply(plans, options, watch, cancel)

    assert result.state == "cancelled"
    assert machine.generation() == 1
    deadline = time.monotonic() + 5
    while machine.processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert machine.processes() == []


# ---- helpers ------------------------------------------------------------------------------


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


class http_server:
    def __enter__(self) -> int:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return int(self.server.server_address[1])

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def lock_holder(machine: Machine) -> int:
    """The process on the machine that holds homelab's lock (lock.owner names it)."""
    owner = (machine.state() / "lock.owner").read_text()
    return int(re.findall(r"^holder=(\d+)$", owner, re.M)[0])


def free_port_number() -> int:
    from tests.sshd.rig import free_port

    return free_port()


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    yield


def test_a_run_killed_on_the_machine_is_reported_with_its_unit_result(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    set_markers(lab, "web", "hang")

    def watch(event: Event) -> None:
        if event.line and "never ends" in event.line:
            machine.kill_processes("unit-runner", "job.sh", "nixos-rebuild")  # as the OOM killer

    options = ApplyOptions(ssh=rig.settings(), reconnect_timeout=20)  # type: ignore[arg-type]
    [result] = apply(committed_plans(lab, ["web"]), options, watch)

    assert not result.ok
    assert result.summary == (
        "the rebuild stopped without a result (its unit's result: signal); still on generation 1"
    )
    assert machine.generation() == 1


def test_a_rebuild_still_running_on_the_machine_is_never_interleaved(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    set_markers(lab, "web", "hang")
    plans = committed_plans(lab, ["web"])
    options = ApplyOptions(ssh=rig.settings(), reconnect_timeout=20)  # type: ignore[arg-type]
    cancel = threading.Event()
    hung = threading.Event()
    first: list[HostResult] = []

    def watch(event: Event) -> None:
        if event.line and "never ends" in event.line:
            hung.set()

    worker = threading.Thread(target=lambda: first.extend(apply(plans, options, watch, cancel)))
    worker.start()
    assert hung.wait(30)
    # the first apply's lock goes (as when its laptop vanished), its rebuild goes on
    os.kill(lock_holder(machine), signal.SIGKILL)  # homelab's lock holder on the machine

    [second] = apply(plans, options)

    assert not second.ok
    assert second.summary.startswith("a rebuild started earlier (run ")
    assert second.summary.endswith("is still running on the machine; not touched")
    assert len(rebuilds(machine)) == 1
    cancel.set()
    worker.join()
    assert first[0].state == "cancelled"
    assert machine.generation() == 1
