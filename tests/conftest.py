"""Shared fixtures: copies of the fixture labs with the repository's real catalogue."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from homelab import cli

REPO = Path(__file__).resolve().parents[1]
LABS = Path(__file__).resolve().parent / "labs"


def copy_lab(name: str, dest: Path) -> Path:
    """tests/labs/<name> copied to dest, with the repository's services/ beside its hosts/."""
    shutil.copytree(LABS / name, dest)
    shutil.copytree(REPO / "services", dest / "services")
    return dest


@pytest.fixture
def basic_lab(tmp_path: Path) -> Path:
    """A copy of tests/labs/basic: hosts alpha and beta, fragments in hosts/common/."""
    return copy_lab("basic", tmp_path / "lab")


RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """homelab's main() in this process: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def tree_hash(root: Path) -> str:
    """One digest of every file and folder under root, names and bytes: equal digests
    mean nothing was written, deleted or touched."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        if path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
