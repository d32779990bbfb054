"""An apply that cannot go on says so in one line and leaves nothing half-done: no sudo
password (the input ended), another apply running in the same lab, a secret whose owner
the machine does not have."""

from __future__ import annotations

import os
import pwd
import re
import sys
import threading
import time
from pathlib import Path

import git

from homelab.history.records import deploy_log
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.test_interrupt import Output
from tests.deploy.tidy import (
    assert_record_holds_what_runs,
    assert_tidy,
    homelab,
    homelab_env,
    start_homelab,
)
from tests.sshd.rig import Rig
from tests.terminal import Terminal


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_the_input_ending_at_the_sudo_prompt_is_one_line_and_nothing_is_committed(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    machine.fault("sudo-password", "hunter2")
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": "  sudo: true\n"})
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [vim]"))
    before = git.Repo(lab).head.commit.hexsha

    done = homelab(rig, lab, "apply", "--yes", "--ask-sudo-password", stdin="")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert error_lines(done.stderr) == [
        "error: no sudo password: the input ended at the prompt; nothing was committed or applied"
    ]
    assert git.Repo(lab).head.commit.hexsha == before  # asked before the commit
    assert machine.lines("commands.log") == []
    # given on the input, the password is taken (from a pipe, as a script gives it)
    done = homelab(rig, lab, "apply", "--yes", "--ask-sudo-password", stdin="hunter2\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert machine.generation() == 2
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_a_second_apply_in_the_same_lab_is_refused_in_one_line(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    machine.fault("rebuild-seconds", "4")
    lab = make_lab(tmp_path / "lab", [machine])
    first = Output(start_homelab(rig, lab, "apply", "--yes"))
    first.wait_for(r"^web\s+: building")

    second = homelab(rig, lab, "apply", "--yes")

    assert second.returncode == 1, second.stdout + second.stderr
    assert "Traceback" not in second.stderr
    [line] = second.stderr.splitlines()
    assert re.fullmatch(
        rf"error: homelab apply \(pid {first.process.pid}, since \d\d:\d\d:\d\d\) is running "
        r"in this lab; wait for it to end, then try again",
        line,
    ), line
    code, out, err = first.rest()
    assert code == 0, out + err
    rebuilds = [c for c in machine.lines("commands.log") if c.startswith("nixos-rebuild")]
    assert len(rebuilds) == 1
    # once it ended, the lab is free again
    again = homelab(rig, lab, "apply", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_two_applies_started_together_never_race_for_the_commit(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    machine.fault("rebuild-seconds", "5")  # the first one holds the lab while the others start
    lab = make_lab(tmp_path / "lab", [machine])
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [vim]"))
    done: list[tuple[int, str]] = []
    go = threading.Event()

    def one() -> None:
        go.wait()
        ran = homelab(rig, lab, "apply", "--yes")
        done.append((ran.returncode, ran.stderr))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()

    assert sorted(code for code, _ in done) == [0, 1, 1], done
    for code, err in done:
        assert "cannot lock ref" not in err
        if code == 1:
            assert "is running in this lab; wait for it to end" in err
    assert machine.generation() == 2
    assert_tidy(lab)


def test_a_secret_owner_the_machine_does_not_have_fails_the_host(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    (lab / ".git" / "info" / "exclude").write_text("secrets/\n")
    (lab / "secrets").mkdir()
    (lab / "secrets" / "api.key").write_text("hunter2\n")
    profile = lab / "hosts" / "web" / "profile.yaml"
    secret = "secrets:\n  api:\n    source: secrets/api.key\n    target: /run/keys/api\n"
    profile.write_text(profile.read_text() + secret + "    owner: nosuchuser\n")

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 1, out + err
    assert re.search(
        r"^web\s+FAILED\s+\S+\s+secret api: its owner nosuchuser does not exist on the machine; "
        r"switched back to generation 1",
        out,
        re.M,
    ), out
    assert machine.current() == machine.system_of(1)
    assert [r.result for r in deploy_log(lab, "web")] == ["rolled-back"]
    # fixed, the next apply sends the secret again and gives it its owner
    profile.write_text(profile.read_text().replace("owner: nosuchuser", "owner: nobody"))
    time.sleep(0.01)
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 0, out + err
    target = machine.root / "run" / "keys" / "api"
    assert target.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_ctrl_c_at_the_question_applies_nothing_and_commits_nothing(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    before = git.Repo(lab).head.commit.hexsha
    command = [sys.executable, "-m", "homelab", "--lab", str(lab), "apply"]
    with Terminal(command, env=homelab_env(rig)) as term:
        term.wait_for(b"apply (switch) to 1 host: web? [y/N] ")
        term.wait_until_reading()
        term.type(b"\x03", pause=0)  # Ctrl-C, as the terminal sends it: SIGINT to the process
        code = term.end(30)
        screen = term.text.replace("\r\n", "\n")

    assert code == 1, screen
    assert "Traceback" not in screen
    assert screen.rstrip().endswith("nothing applied")
    assert git.Repo(lab).head.commit.hexsha == before
    assert machine.lines("commands.log") == []


def test_a_secret_source_that_is_a_fifo_is_refused_at_once(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    (lab / ".git" / "info" / "exclude").write_text("secrets/\n")
    (lab / "secrets").mkdir()
    os.mkfifo(lab / "secrets" / "api.key")  # reading it would wait for a writer forever
    profile = lab / "hosts" / "web" / "profile.yaml"
    secret = "secrets:\n  api:\n    source: secrets/api.key\n    target: /run/keys/api\n"
    profile.write_text(profile.read_text() + secret)
    started = time.monotonic()

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 2, out + err
    assert time.monotonic() - started < 10
    assert "cannot read secret file secrets/api.key: it is not a regular file" in err
    assert machine.lines("commands.log") == []
