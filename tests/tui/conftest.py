"""Fixtures of the TUI tests: a demo lab in a real git repository, with fixed dates and
names so that commit ids (and the snapshots that show them) are always the same."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homelab.lab import Lab
from homelab.tui import labload

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_AUTHOR_DATE": "2026-03-01T10:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-03-01T10:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "TZ": "UTC",
}


@pytest.fixture(autouse=True)
def no_timed_disk_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests call MainScreen.check_disk themselves, so that it runs when they say."""
    from homelab.tui.screens.main import MainScreen

    monkeypatch.setattr(MainScreen, "DISK_EVERY", 3600.0)


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def lab(tmp_path: Path, git_env: None) -> Path:
    """tests/tui/lab (three hosts, one of them invalid) with the repository's catalogue,
    built, in a git repository with one commit."""
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is missing")
        pytest.skip("git is missing")
    root = tmp_path / "demo"
    shutil.copytree(HERE / "lab", root)
    shutil.copytree(REPO / "services", root / "services")
    the_lab = Lab(root)
    state = the_lab.load()
    the_lab.build(state, sorted(f for f, h in state.hosts.items() if h.valid))
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "the demo lab")
    return root


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The whole lab's load, in another process (as on a big lab), held until set."""
    release = asyncio.Event()
    real = labload.load_apart

    async def load_apart(*args: Any, **kwargs: Any) -> labload.Loaded:
        await release.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(labload, "IN_PROCESS_BELOW", 0)
    monkeypatch.setattr(labload, "load_apart", load_apart)
    return release
