"""A profile or fragment that is there but cannot be read is a message with its place and
exit code 2, never a traceback or a hang: a FIFO, a symbolic link loop, a file without
read permission, a file that is not UTF-8, a link to a file outside the lab."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RunCli, tree_hash
from nobody import make_unreadable, run_cli_unprivileged, shared_lab_copy

from homelab.source import Unreadable, read_file

ALPHA = "hosts/alpha/profile.yaml"
USERS = "hosts/common/users.yaml"  # included by alpha, on its line 2


@pytest.fixture
def shared_lab() -> Iterator[Path]:
    with shared_lab_copy() as lab:
        yield lab


def run(lab: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """homelab in its own process, so that a hang fails the test instead of the suite."""
    env = {k: v for k, v in os.environ.items() if k != "HOMELAB_LAB"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "homelab", "--lab", str(lab), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`homelab {' '.join(args)}` hung")


def replace(lab: Path, rel: str, how: str) -> None:
    path = lab / rel
    path.unlink()
    if how == "fifo":
        os.mkfifo(path)
    elif how == "loop":
        path.symlink_to(path.name)
    else:
        path.symlink_to(how)


def test_a_profile_that_is_a_fifo_is_refused_without_waiting(basic_lab: Path) -> None:
    replace(basic_lab, ALPHA, "fifo")
    done = run(basic_lab, "validate")
    assert done.returncode == 2
    assert f"error: {ALPHA}: the file is a FIFO (named pipe), not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_included_fifo_is_refused_at_the_include(basic_lab: Path) -> None:
    replace(basic_lab, USERS, "fifo")
    done = run(basic_lab, "validate")
    assert done.returncode == 2
    assert f"error: {ALPHA}:2:" in done.stderr
    assert "include '../common/users.yaml': the file is a FIFO" in done.stderr


def test_a_profile_in_a_symlink_loop_is_refused(basic_lab: Path, run_cli: RunCli) -> None:
    replace(basic_lab, ALPHA, "loop")
    code, _, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2
    assert f"error: {ALPHA}: the file is a symbolic link that loops back on itself" in err


def test_an_include_in_a_symlink_loop_is_refused_at_the_include(
    basic_lab: Path, run_cli: RunCli
) -> None:
    replace(basic_lab, USERS, "loop")
    code, _, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2
    assert f"error: {ALPHA}:2:" in err and "loops back on itself" in err


def test_an_unreadable_profile_is_refused(shared_lab: Path) -> None:
    # the kernel refuses the read: as `nobody` when the tests run as root
    assert run_cli_unprivileged("--lab", str(shared_lab), "validate")[0] == 0
    make_unreadable(shared_lab / ALPHA)
    code, out = run_cli_unprivileged("--lab", str(shared_lab), "validate")
    assert code == 2, out
    assert f"error: {ALPHA}: the file cannot be read: permission denied" in out
    assert "chmod u+r" in out
    assert "Traceback" not in out


def test_an_unreadable_include_is_refused_at_the_include(shared_lab: Path) -> None:
    assert run_cli_unprivileged("--lab", str(shared_lab), "validate")[0] == 0
    make_unreadable(shared_lab / USERS)
    code, out = run_cli_unprivileged("--lab", str(shared_lab), "validate")
    assert code == 2, out
    assert f"error: {ALPHA}:2:" in out
    assert "include '../common/users.yaml': the file cannot be read: permission denied" in out


def test_a_folder_that_cannot_be_listed_is_said_so(shared_lab: Path) -> None:
    assert run_cli_unprivileged("--lab", str(shared_lab), "validate")[0] == 0
    (shared_lab / "services").chmod(0o311)  # enter, but not list
    code, out = run_cli_unprivileged("--lab", str(shared_lab), "validate")
    assert code == 2, out
    assert "error: services/: the folder cannot be read: permission denied" in out


def test_a_profile_that_is_not_utf8_is_refused_at_the_line_of_the_bad_byte(
    basic_lab: Path, run_cli: RunCli
) -> None:
    profile = basic_lab / ALPHA
    profile.write_bytes(profile.read_bytes().replace(b"htop", b"h\xe9top"))
    line = next(n for n, t in enumerate(profile.read_bytes().splitlines(), 1) if b"\xe9" in t)
    code, _, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2
    assert f"error: {ALPHA}:{line}:13: not UTF-8 text" in err
    assert "save the file as UTF-8" in err


# ---- links out of the lab -------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file beside the lab, not in it: the operator's own, say."""
    path = tmp_path / "private.yaml"
    path.write_text('host: {stateVersion: "24.05"}\nusers: {root: {description: secret}}\n')
    return path


def test_a_profile_linked_to_a_file_outside_the_lab_is_refused(
    basic_lab: Path, outside: Path, run_cli: RunCli
) -> None:
    replace(basic_lab, ALPHA, str(outside))
    before = tree_hash(basic_lab)
    code, out, err = run_cli("--lab", str(basic_lab), "build")
    assert (code, out) == (2, "")
    assert f"error: {ALPHA}: the file is a link to {outside}, outside the lab" in err
    assert "secret" not in err
    assert tree_hash(basic_lab) == before


def test_an_include_linked_outside_the_lab_is_refused_at_the_include(
    basic_lab: Path, outside: Path, run_cli: RunCli
) -> None:
    replace(basic_lab, USERS, str(outside))
    code, _, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2
    assert f"error: {ALPHA}:2:" in err
    assert f"include '../common/users.yaml': the file is a link to {outside}, outside" in err


def test_a_host_folder_linked_outside_the_lab_is_refused(
    basic_lab: Path, outside: Path, run_cli: RunCli
) -> None:
    (outside.parent / "elsewhere").mkdir()
    (outside.parent / "elsewhere/profile.yaml").symlink_to(outside)
    (basic_lab / "hosts/gamma").symlink_to(outside.parent / "elsewhere")
    code, _, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2
    assert "error: hosts/gamma/profile.yaml: the file is a link to" in err
    assert "outside the lab" in err


def test_links_inside_the_lab_are_followed(basic_lab: Path, run_cli: RunCli) -> None:
    common = basic_lab / "hosts/common"
    (common / "people.yaml").symlink_to("users.yaml")
    profile = basic_lab / ALPHA
    profile.write_text(profile.read_text().replace("users.yaml]", "people.yaml]"))
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert (code, err) == (0, ""), err
    assert "2 hosts valid" in out


def test_the_lab_reads_only_regular_files_of_at_most_1_MiB(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"#" * ((1 << 20) + 1))
    (tmp_path / "ok.yaml").write_bytes(b"#" * (1 << 20))
    (tmp_path / "folder.yaml").mkdir()
    os.mkfifo(tmp_path / "pipe.yaml")
    assert read_file(tmp_path, "ok.yaml") == b"#" * (1 << 20)
    assert read_file(tmp_path, "missing.yaml") is None
    assert read_file(tmp_path, "missing/x.yaml") is None
    for name, reason in [
        ("big.yaml", "the file is 1,048,577 bytes; homelab reads files of up to 1 MiB"),
        ("folder.yaml", "this is a folder, not a file"),
        ("pipe.yaml", "the file is a FIFO (named pipe), not a regular file"),
    ]:
        with pytest.raises(Unreadable) as refused:
            read_file(tmp_path, name)
        assert reason in refused.value.reason
