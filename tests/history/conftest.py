"""Every test here runs git with no global or system configuration: identity comes from
each temporary repository's own config."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.history.tools import make_lab

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def git_alone(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is not installed")
        pytest.skip("git is not installed")
    empty = tmp_path_factory.mktemp("git-config") / "config"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "HOMELAB_LAB", "EMAIL",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def lab(tmp_path: Path, run_cli: RunCli) -> Path:
    """The lab built and committed once: hosts nixos-demo and pi (sharing a fragment)
    and lone."""
    root = make_lab(tmp_path / "lab")
    code, _, err = run_cli("--lab", str(root), "build", "--commit", "-m", "a new lab")
    assert code == 0, err
    return root
