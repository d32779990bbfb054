"""An apply does its own work while the machines do theirs: the machines are reached while
the commit is made, the changes are worked out meanwhile (shown before the commit moves
HEAD), and each host's deploy record is written as that host ends. What must not change:
nothing is sent that the commit does not hold, and a commit that fails sends nothing."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import git
import pytest

from homelab.deploy.models import ApplyOptions
from homelab.deploy.workflow import prepare, send
from homelab.errors import LabFailure
from homelab.history.records import deployed
from homelab.lab import Lab
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.tidy import homelab_env
from tests.sshd.rig import Machine, Rig
from tests.terminal import Terminal


def rebuilds(machine: Machine) -> list[str]:
    return [c for c in machine.lines("commands.log") if c.startswith("nixos-rebuild")]


def record_tags(lab: Path) -> list[str]:
    return [t.name for t in git.Repo(lab).tags if t.name.startswith("homelab/deploy/")]


def staging_left(machine: Machine) -> list[str]:
    uploads = machine.root / "var/lib/homelab/uploads"
    return sorted(p.name for p in uploads.glob("*.partial")) if uploads.is_dir() else []


def options(rig: Rig) -> ApplyOptions:
    return ApplyOptions(ssh=rig.settings(), check_timeout=2, reconnect_timeout=20)  # type: ignore[arg-type]


def test_with_yes_the_changes_come_before_the_commit_and_nothing_uploads_before_it(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machines = [rig.add("web"), rig.add("db")]
    lab = make_lab(tmp_path / "lab", machines)
    (lab / "hosts" / "web" / "hardware-configuration.nix").write_text("{ ... }: { }\n# edited\n")

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 0, out + err
    lines = out.splitlines()
    said = next(i for i, ln in enumerate(lines) if ln.startswith("web: "))
    committed = next(i for i, ln in enumerate(lines) if ln.startswith("committed "))
    uploads = [i for i, ln in enumerate(lines) if ln.split(":")[-1].startswith(" uploading")]
    assert said < committed, out
    assert uploads and min(uploads) > committed, out  # what goes out is the commit's
    head = git.Repo(lab).head.commit.hexsha
    assert {r.commit for r in deployed(lab).values()} == {head}
    assert all(len(rebuilds(m)) == 1 for m in machines)


def test_a_commit_that_fails_sends_nothing_records_nothing_and_frees_the_machines(
    rig: Rig, tmp_path: Path
) -> None:
    machines = [rig.add("web"), rig.add("db")]
    lab = make_lab(tmp_path / "lab", machines)
    (lab / "hosts" / "db" / "hardware-configuration.nix").write_text("{ ... }: { }\n# edited\n")
    head = git.Repo(lab).head.commit.hexsha
    generations = [m.generation() for m in machines]

    def fails() -> None:  # e.g. the changes could not be worked out
        time.sleep(0.5)  # the machines are being reached meanwhile
        raise LabFailure("the changes could not be shown")

    ready = prepare(Lab(lab), [], ssh=rig.settings())  # type: ignore[arg-type]
    with pytest.raises(LabFailure, match="could not be shown"):
        send(ready, options(rig), before_sending=fails)

    assert git.Repo(lab).head.commit.hexsha == head  # HEAD never moved
    assert [m.generation() for m in machines] == generations
    assert not any(rebuilds(m) for m in machines)
    assert record_tags(lab) == []
    assert not any(staging_left(m) for m in machines)
    # the machines' locks were let go: the next apply goes through
    results = send(prepare(Lab(lab), [], ssh=rig.settings()), options(rig)).results  # type: ignore[arg-type]
    assert all(r.ok for r in results), [r.summary for r in results]
    assert all(len(rebuilds(m)) == 1 for m in machines)


def test_a_commit_git_refuses_sends_nothing_and_says_why(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    (lab / "hosts" / "web" / "hardware-configuration.nix").write_text("{ ... }: { }\n# edited\n")
    repo = git.Repo(lab)
    head = repo.head.commit.hexsha
    branch = repo.active_branch.name
    (lab / ".git" / "refs" / "heads" / f"{branch}.lock").write_text("")  # another git at work

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code != 0, out + err
    assert "web: " in out  # what was to be applied was shown, then why it stopped
    assert "update-ref" in err and ".lock" in err, err
    assert repo.head.commit.hexsha == head
    assert rebuilds(machine) == [] and record_tags(lab) == []
    assert staging_left(machine) == []


def test_each_host_is_recorded_as_it_ends_while_the_others_still_run(
    rig: Rig, tmp_path: Path
) -> None:
    fast, slow = rig.add("fast"), rig.add("slow")
    slow.fault("rebuild-seconds", "6")
    lab = make_lab(tmp_path / "lab", [fast, slow])
    ready = prepare(Lab(lab), [], ssh=rig.settings())  # type: ignore[arg-type]
    sending = threading.Thread(target=send, args=(ready, options(rig)))
    sending.start()
    try:
        deadline = time.monotonic() + 30
        while "fast" not in deployed(lab) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "fast" in deployed(lab)
        assert sending.is_alive() and "slow" not in deployed(lab)  # slow still rebuilds
    finally:
        sending.join(timeout=60)
    assert set(deployed(lab)) == {"fast", "slow"}
    assert {r.commit for r in deployed(lab).values()} == {git.Repo(lab).head.commit.hexsha}


def test_without_yes_the_changes_come_before_the_question_and_no_commits_nothing(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    (lab / "hosts" / "web" / "hardware-configuration.nix").write_text("{ ... }: { }\n# edited\n")
    before = git.Repo(lab).head.commit.hexsha
    command = [sys.executable, "-m", "homelab", "--lab", str(lab), "apply"]
    with Terminal(command, env=homelab_env(rig)) as term:
        term.wait_for(b"apply (switch) to 1 host: web? [y/N] ")
        term.wait_until_reading()
        term.type(b"n\r")
        code = term.end(30)
        screen = term.text.replace("\r\n", "\n")

    assert code == 0, screen
    assert screen.index("web: ") < screen.index("apply (switch) to 1 host"), screen
    assert screen.rstrip().endswith("nothing applied")
    assert git.Repo(lab).head.commit.hexsha == before
    assert machine.lines("commands.log") == [] and record_tags(lab) == []
