"""The shell that runs on a machine, run for real here (sh, coreutils): the detached job
with its own functions and the confirm timer. Values reach their programs whole, however
they are spelled."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from homelab.deploy import steps
from homelab.deploy.command import Built, Step, say
from homelab.deploy.scripts import job_script, q
from homelab.deploy.steps import Job, Machine, Timer

NASTY = 'it\'s a "folder" $(touch pwned) `touch pwned2` ;x'


def stub(folder: Path, name: str, body: str) -> None:
    """A program on the job's PATH: `body` is its shell."""
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def run_job(
    tmp_path: Path, job: Job, machine: Machine, run_id: str = "r1"
) -> tuple[int, list[str]]:
    """Write the job's files as homelab does, run job.sh as the machine would, and give its
    exit code and its log."""
    run = Path(machine.run_dir(run_id))
    run.mkdir(parents=True)
    for path, text in steps.job_files(job, machine, run_id).items():
        Path(path).write_text(text)
    bin_dir = tmp_path / "bin"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["sh", str(run / "job.sh")], env=env, cwd=tmp_path, timeout=30)
    return done.returncode, (run / "log").read_text().splitlines()


def test_the_job_script_is_valid_shell_and_quotes_every_value(tmp_path: Path) -> None:
    nasty = '/srv/it\'s a "folder" $(rm -rf x) `y`'
    script = job_script(run=nasty, root=nasty, lines=[f"echo {q(nasty)}"])
    checked = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
    run = tmp_path / "run"
    run.mkdir()
    script = job_script(run=str(run), root="", lines=[f"echo {q(nasty)}", "finish 3"])
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 3
    assert (run / "status").read_text() == "3\n"
    log = (run / "log").read_text().splitlines()
    assert log == [nasty, "@homelab exit 3"]


def test_every_value_reaches_its_program_as_one_argument(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    stub(tmp_path / "bin", "nixos-rebuild", 'for a in "$@"; do echo "arg:$a"; done')
    machine = Machine(root=str(tmp_path / NASTY))
    plan_attr = f"web {NASTY}"
    flake = f"{machine.state}/config#{plan_attr}"
    job = Job((say("note", NASTY), Step(("nixos-rebuild", "switch", "--flake", flake))))

    code, log = run_job(tmp_path, job, machine)

    assert code == 0, log
    assert log == [f"@homelab note {NASTY}", "arg:switch", "arg:--flake", f"arg:{flake}",
                   "@homelab exit 0"]  # fmt: skip
    assert not list(tmp_path.rglob("pwned*"))


def test_a_failing_step_ends_the_job_with_its_exit_code_and_a_quiet_one_does_not(
    tmp_path: Path,
) -> None:
    (tmp_path / "bin").mkdir()
    stub(tmp_path / "bin", "nixos-rebuild", "echo building; exit 5")
    job = Job(
        (
            Step(("false",), check=False),
            Step(("nixos-rebuild", "switch")),
            Step(("echo", "never here")),
        )
    )
    code, log = run_job(tmp_path, job, Machine(root=str(tmp_path / "m")))
    assert code == 5
    assert log == ["building", "@homelab exit 5"]


def test_the_built_system_is_what_the_rebuild_left_in_result(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    system = tmp_path / "store" / "abc-system"
    (system / "bin").mkdir(parents=True)
    stub(system / "bin", "switch-to-configuration", 'echo "activating as $1"')
    stub(tmp_path / "bin", "nixos-rebuild", f"ln -s {q(str(system))} result")
    job = Job(
        (
            Step(("nixos-rebuild", "build")),
            Step(("take_built",), check=False),
            Step((Built("/bin/switch-to-configuration"), "test")),
        )
    )
    code, log = run_job(tmp_path, job, Machine(root=str(tmp_path / "m")))
    assert code == 0, log
    assert log == [f"@homelab built {system}", "activating as test", "@homelab exit 0"]


def test_a_secret_is_installed_with_its_mode_and_its_owner_or_said_why_not(
    tmp_path: Path,
) -> None:
    machine = Machine(root=str(tmp_path / "m"))
    partial = Path(machine.state) / "secrets.partial"
    partial.mkdir(parents=True)
    (partial / "0").write_text("hunter2")
    target = f"{machine.root}/run/keys/a {NASTY}"
    me = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    job = Job(
        (
            Step(("install_secret", str(partial / "0"), target, "0640", "a")),
            Step(("chown_secret", target, me, "quiet", "")),
            Step(("chown_secret", target, "no-such-user-x", "quiet", "")),
            Step(("chown_secret", target, "no-such-user-x", "note", "owner missing (boot)")),
            Step(("keep_secret_digests", f"{machine.state}/secrets.json", '{"a": "1"}')),
            Step(("chown_secret", target, "no-such-user-x", "problem", "owner missing")),
            Step(("echo", "never here")),
        )
    )

    code, log = run_job(tmp_path, job, machine)

    assert code == 73
    assert Path(target).read_text() == "hunter2"
    assert stat.S_IMODE(Path(target).stat().st_mode) == 0o640
    assert "@homelab note owner missing (boot)" in log
    assert log[-2:] == ["@homelab problem owner missing", "@homelab exit 73"]
    digests = Path(machine.state) / "secrets.json"
    assert digests.read_text() == '{"a": "1"}\n'
    assert stat.S_IMODE(digests.stat().st_mode) == 0o600


def test_a_secret_that_cannot_be_installed_ends_the_job_saying_which(tmp_path: Path) -> None:
    machine = Machine(root=str(tmp_path / "m"))
    job = Job((Step(("install_secret", "/nonexistent/0", f"{machine.root}/k", "0600", "db")),))
    code, log = run_job(tmp_path, job, machine)
    assert code == 71
    assert "@homelab note cannot install secret db" in log


def test_channels_put_the_configuration_in_etc_nixos_keeping_the_first_and_the_last(
    tmp_path: Path,
) -> None:
    machine = Machine(root=str(tmp_path / "m"))
    config = Path(machine.state) / "config"
    config.mkdir(parents=True)
    etc = Path(machine.root) / "etc" / "nixos"
    etc.mkdir(parents=True)
    (etc / "configuration.nix").write_text("by hand")
    put = Step(("put_in_etc_nixos", str(config), str(etc)))
    for version in ("one", "two"):
        (config / "configuration.nix").write_text(version)
        code, log = run_job(tmp_path, Job((put,)), machine, run_id=version)
        assert code == 0, log
    assert (etc / "configuration.nix").read_text() == "two"
    assert (etc.parent / "nixos.previous" / "configuration.nix").read_text() == "one"
    assert (etc.parent / "nixos.before-homelab" / "configuration.nix").read_text() == "by hand"


def test_the_confirm_timer_puts_the_machine_back_unless_disarmed(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    stub(tmp_path / "bin", "nix-env", 'echo "nix-env $*"')
    machine = Machine(root=str(tmp_path / "m"))
    timer = Timer(0, (Step(("nix-env", "--switch-generation", "4")),), "")
    job = Job((Step(("touch", f"{machine.run_dir('r1')}/confirm-armed"), check=False),), timer)
    code, _ = run_job(tmp_path, job, machine)
    assert code == 0
    run = Path(machine.run_dir("r1"))
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}

    subprocess.run(["sh", str(run / "confirm.sh")], env=env, check=True, timeout=30)

    log = (run / "log").read_text().splitlines()
    assert log[-2:] == [
        "@homelab note the confirm timer fired: rolling back",
        "nix-env --switch-generation 4",
    ]
    assert (run / "confirm-fired").exists() and not (run / "confirm-armed").exists()
    # disarmed (the file gone): the timer does nothing
    subprocess.run(["sh", str(run / "confirm.sh")], env=env, check=True, timeout=30)
    assert (run / "log").read_text().splitlines() == log
