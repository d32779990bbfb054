"""`homelab undo` beside `homelab revert` on the command line: both listed with plain
words, and undo runs end to end in a real repository (the details are in
tests/history/test_undo.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.test_lab import run
from tests.conftest import RunCli
from tests.history.tools import edit, git, head, make_lab


@pytest.fixture
def lab(tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = make_lab(tmp_path / "lab")
    code, _, err = run_cli("--lab", str(root), "build", "--commit", "-m", "a new lab")
    assert code == 0, err
    return root


def test_help_names_undo_and_going_back_plainly() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    listed = result.stdout.splitlines()
    lines = {line.split()[0]: line for line in listed if line.startswith("    ")}
    assert "undo one commit" in lines["undo"]
    assert "go back to a state" in lines["revert"]
    result = run("undo", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: homelab undo [-h] REV [HOST ...]" in result.stdout


def test_undo_then_nothing_left_to_undo(lab: Path, run_cli: RunCli) -> None:
    rel = "hosts/pi/profile.yaml"
    edit(lab, rel, "24.05", "24.11")
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    change = head(lab)
    code, out, err = run_cli("--lab", str(lab), "undo", change[:7])
    assert code == 0, err
    assert out == f"committed {head(lab)[:7]} Undo on pi: host.stateVersion 24.11 -> 24.05\n"
    assert '  stateVersion: "24.05"' in (lab / rel).read_text()
    code, out, err = run_cli("--lab", str(lab), "undo", change[:7], "pi")
    assert code == 0, err
    assert out == f"nothing to undo: what {change[:7]} changed in pi is undone already\n"
    code, _, err = run_cli("--lab", str(lab), "undo", "no-such-rev")
    assert code == 2
    assert "unknown revision 'no-such-rev'" in err
    assert git(lab, "status", "--porcelain") == "?? flake.nix\n"


def test_history_show_names_the_commands_that_undo_or_go_back(lab: Path, run_cli: RunCli) -> None:
    first = head(lab)
    edit(lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    change = head(lab)
    code, out, err = run_cli("--lab", str(lab), "history", "pi", "--show", change[:7])
    assert code == 0, err
    assert out.endswith(
        f"undo this commit: homelab undo {change[:7]} pi  (host.stateVersion 24.11 -> 24.05)\n"
        "go back to this state: not offered: hosts/pi is already as it was at "
        f"{change[:7]}: nothing to go back to\n"
    )
    code, out, err = run_cli("--lab", str(lab), "history", "pi", "--show", first[:7])
    assert code == 0, err
    assert f"go back to this state: homelab revert {first[:7]} pi  (" in out
    assert "undo this commit: not offered: hosts/pi/profile.yaml: " in out
