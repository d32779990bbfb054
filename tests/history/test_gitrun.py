"""Running git without the subprocess module (homelab.history.gitrun): each run's own exit
code, output and errors, in order, however much each writes or is given to read, with no
file descriptor left open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homelab.history import gitrun
from tests.history.tools import git, head

ENV = dict(os.environ)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else set()


def test_a_run_gives_its_exit_code_output_and_errors(lab: Path) -> None:
    code, out, err = gitrun.run(lab, ["rev-parse", "HEAD"], ENV)
    assert (code, out, err) == (0, f"{head(lab)}\n".encode(), b"")
    code, out, err = gitrun.run(lab, ["rev-parse", "--verify", "no-such-thing"], ENV)
    assert code == 128 and out == b""
    assert b"fatal: Needed a single revision" in err


def test_runs_together_answer_each_in_order(lab: Path) -> None:
    before = open_fds()
    runs = [
        (["rev-parse", "HEAD"], b""),
        (["log", "--format=%s"], b""),
        (["cat-file", "--batch-check"], f"{head(lab)}\n".encode()),
        (["no-such-command"], b""),
    ]
    answers = gitrun.run_together(lab, runs, ENV)
    assert [code for code, _, _ in answers] == [0, 0, 0, 1]
    assert answers[0][1] == f"{head(lab)}\n".encode()
    assert answers[1][1] == git(lab, "log", "--format=%s").encode()
    assert answers[2][1].startswith(f"{head(lab)} commit ".encode())
    assert b"no-such-command" in answers[3][2]
    assert open_fds() == before


def test_much_to_read_and_much_to_write_at_once_does_not_hang(lab: Path) -> None:
    """More than a pipe holds both ways: the input is written while the output is read."""
    sha = head(lab)
    asked = f"{sha}\n".encode() * 20_000  # 800 KB in, about 1.3 MB out
    code, out, _ = gitrun.run(lab, ["cat-file", "--batch-check"], ENV, asked)
    assert code == 0
    assert out.count(f"{sha} commit".encode()) == 20_000
    # and errors past a pipe's size, the output read too (one error per path not known)
    missing = [f"no-such-file-{n:05}" for n in range(3_000)]
    code, out, err = gitrun.run(
        lab, ["ls-files", "--error-unmatch", "hosts/pi/profile.yaml", *missing], ENV
    )
    assert code == 1 and out == b"hosts/pi/profile.yaml\n"
    assert len(err) > 100_000 and err.count(b"did not match") == 3_000


def test_a_run_that_stops_reading_its_input_is_no_error(lab: Path) -> None:
    code, out, _ = gitrun.run(lab, ["rev-parse", "HEAD"], ENV, b"x" * 1_000_000)
    assert (code, out) == (0, f"{head(lab)}\n".encode())


def test_the_folder_is_the_one_git_works_in(tmp_path: Path, lab: Path) -> None:
    code, out, _ = gitrun.run(lab / "hosts", ["rev-parse", "--show-prefix"], ENV)
    assert (code, out) == (0, b"hosts/\n")
    code, _, err = gitrun.run(tmp_path / "nowhere", ["status"], ENV)
    assert code == 128 and b"nowhere" in err


def test_no_git_is_said_as_subprocess_says_it(lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = open_fds()
    monkeypatch.setenv("PATH", str(lab / "no-bin"))
    with pytest.raises(FileNotFoundError):
        gitrun.run_together(lab, [(["status"], b""), (["log"], b"")], ENV)
    assert open_fds() == before
