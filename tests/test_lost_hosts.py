"""A host never disappears silently. A profile.yaml that is there but cannot be read (a
link to nothing, a folder, a FIFO, a file without read permission) is an error with exit
code 2, never "0 hosts valid", and build deletes none of that host's generated modules.
Only a profile that is really gone takes its generated modules with it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RunCli, tree_hash
from nobody import make_unreadable, run_cli_unprivileged, shared_lab_copy

ALPHA = "hosts/alpha/profile.yaml"


@pytest.fixture
def built(basic_lab: Path, run_cli: RunCli) -> Path:
    """The basic lab, built: both hosts have their generated modules."""
    assert run_cli("--lab", str(basic_lab), "build")[0] == 0
    assert (basic_lab / "hosts/alpha/configuration.nix").exists()
    return basic_lab


def generated(lab: Path, folder: str) -> list[str]:
    return sorted(p.name for p in (lab / "hosts" / folder).glob("*.nix"))


def test_a_profile_link_to_nothing_is_an_error_and_build_deletes_nothing(
    built: Path, run_cli: RunCli
) -> None:
    modules = generated(built, "alpha")
    (built / ALPHA).rename(built / "hosts/alpha/profile.yaml.moved")
    (built / ALPHA).symlink_to("../../elsewhere/profile.yaml")
    before = tree_hash(built)
    code, out, err = run_cli("--lab", str(built), "build")
    assert (code, out) == (2, "")
    assert f"error: {ALPHA}: the file is a symbolic link to ../../elsewhere/profile.yaml" in err
    assert "which does not exist" in err
    assert generated(built, "alpha") == modules
    assert tree_hash(built) == before


def test_a_profile_that_is_a_folder_is_an_error_not_a_skipped_host(
    basic_lab: Path, run_cli: RunCli
) -> None:
    (basic_lab / "hosts/gamma/profile.yaml").mkdir(parents=True)
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert (code, out) == (2, "")
    assert "error: hosts/gamma/profile.yaml: this is a folder, not a file" in err
    code, out, _ = run_cli("--lab", str(basic_lab), "hosts")
    assert any(line.startswith("gamma ") and "(invalid)" in line for line in out.splitlines())


def test_a_profile_turned_into_a_folder_after_a_build_keeps_its_modules(
    built: Path, run_cli: RunCli
) -> None:
    modules = generated(built, "alpha")
    (built / ALPHA).unlink()
    (built / ALPHA).mkdir()
    code, _, err = run_cli("--lab", str(built), "build")
    assert code == 2
    assert f"error: {ALPHA}: this is a folder" in err
    assert generated(built, "alpha") == modules


def test_a_profile_turned_into_a_fifo_after_a_build_keeps_its_modules(built: Path) -> None:
    modules = generated(built, "alpha")
    (built / ALPHA).unlink()
    os.mkfifo(built / ALPHA)
    env = {k: v for k, v in os.environ.items() if k != "HOMELAB_LAB"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "homelab", "--lab", str(built), "build"],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("build waited on the FIFO")
    assert done.returncode == 2
    assert f"error: {ALPHA}: the file is a FIFO" in done.stderr
    assert generated(built, "alpha") == modules


@pytest.fixture
def shared_lab() -> Iterator[Path]:
    with shared_lab_copy() as lab:
        yield lab


def test_a_profile_that_cannot_be_read_after_a_build_keeps_its_modules(
    shared_lab: Path, run_cli: RunCli
) -> None:
    assert run_cli("--lab", str(shared_lab), "build")[0] == 0
    modules = generated(shared_lab, "alpha")
    assert modules
    make_unreadable(shared_lab / ALPHA)
    code, out = run_cli_unprivileged("--lab", str(shared_lab), "build")
    assert code == 2, out
    assert f"error: {ALPHA}: the file cannot be read: permission denied" in out
    assert generated(shared_lab, "alpha") == modules


def test_a_generated_module_that_cannot_be_read_is_never_deleted(
    built: Path, run_cli: RunCli
) -> None:
    # beta's profile is really gone: its modules go, except one that is now a FIFO
    (built / "hosts/beta/profile.yaml").unlink()
    (built / "hosts/beta/boot.nix").unlink()
    os.mkfifo(built / "hosts/beta/boot.nix")
    code, out, _ = run_cli("--lab", str(built), "build")
    assert code == 0
    assert "deleted hosts/beta/configuration.nix" in out
    assert generated(built, "beta") == ["boot.nix"]


def test_a_host_whose_profile_is_gone_still_loses_its_modules(built: Path, run_cli: RunCli) -> None:
    (built / "hosts/beta/profile.yaml").unlink()
    code, out, _ = run_cli("--lab", str(built), "build")
    assert code == 0
    assert "deleted hosts/beta/configuration.nix" in out
    assert generated(built, "beta") == []
