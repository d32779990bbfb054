"""What every apply test checks at its end, and `homelab` as a real process.

After an apply the lab is as a person left it: `git status` says nothing, no temporary
index of homelab's is left in .git, and each deploy record names a commit whose files are
the ones the machine built from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import git

from homelab.history.records import deploy_log
from tests.sshd.rig import Machine, Rig

REPO = Path(__file__).resolve().parents[2]


def assert_tidy(lab: Path) -> None:
    status = git.Repo(lab).git.status("--porcelain", "--untracked-files=all")
    assert status == "", status
    strays = [p.name for p in (lab / ".git").iterdir() if p.name.startswith("homelab-index")]
    assert strays == []


def assert_record_holds_what_runs(lab: Path, machine: Machine, host: str | None = None) -> None:
    """The newest ok record of the host names a commit holding the files the machine's
    running system was built from."""
    host = host or machine.name
    newest = next(r for r in deploy_log(lab, host) if r.result == "ok")
    tree = git.Repo(lab).commit(newest.commit).tree
    config = Path(machine.current()) / "config"
    built = {str(p.relative_to(config)) for p in config.rglob("*") if p.is_file()}
    assert built, "the machine runs no configuration of homelab's"
    for rel in built:
        assert (config / rel).read_bytes() == tree[rel].data_stream.read(), rel


def homelab_env(rig: Rig) -> dict[str, str]:
    env = {**os.environ, "HOME": str(rig.home), "PYTHONUNBUFFERED": "1"}
    env.pop("SSH_AUTH_SOCK", None)
    return env


def homelab(
    rig: Rig, lab: Path, *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`homelab --lab LAB ARGS` as its own process, without a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "homelab", "--lab", str(lab), *args],
        env=homelab_env(rig),
        cwd=REPO,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )


def start_homelab(rig: Rig, lab: Path, *args: str) -> subprocess.Popen[str]:
    """`homelab --lab LAB ARGS` started in the background, its output line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", "homelab", "--lab", str(lab), *args],
        env=homelab_env(rig),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
