"""`make demo` opens a copy of the demo lab with a git history of its own: saving and
committing in the demo never writes into homelab's own repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homelab.tui.screens.commit import CommitDialog
from homelab.tui.widgets import fields as f
from tests.tui.conftest import REPO, commit_all, git
from tests.tui.pilot import choose_host, field, run, running, settle, type_into


@pytest.fixture
def checkout(tmp_path: Path, git_env: None) -> Path:
    """A checkout of homelab as far as the demo goes: its lab, the script, .gitignore."""
    root = tmp_path / "homelab"
    for part in ("hosts", "services", "secrets", "scripts"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns(".homelab"))
    for name in ("flake.nix", ".gitignore", "Makefile"):
        shutil.copy(REPO / name, root / name)
    git(root, "init", "-q", "-b", "work-in-progress")
    commit_all(root, "homelab's own history")
    return root


def make_demo_lab(checkout: Path) -> subprocess.CompletedProcess[str]:
    """What `make demo` runs first (with this test's Python: the one homelab is in)."""
    # GitPython reads no ISO dates with a T, which the fixed dates of these tests are
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATE")}
    return subprocess.run(
        [sys.executable, "scripts/demo-lab", "demo-lab"],
        cwd=checkout,
        capture_output=True,
        text=True,
        env=env,
    )


def test_the_demo_lab_is_a_copy_with_a_git_history_of_its_own(checkout: Path) -> None:
    head = git(checkout, "rev-parse", "HEAD")
    done = make_demo_lab(checkout)
    assert done.returncode == 0, done.stderr
    demo = checkout / "demo-lab"
    assert git(demo, "rev-parse", "--show-toplevel").strip() == str(demo)
    assert git(demo, "log", "--format=%s").splitlines() == ["homelab init: a new lab"]
    assert git(demo, "status", "--porcelain") == ""
    for host in ("homeserver", "nixos-demo", "pi"):
        profile = f"hosts/{host}/profile.yaml"
        assert (demo / profile).read_bytes() == (checkout / profile).read_bytes()
    assert sorted(p.name for p in (demo / "services").iterdir()) == sorted(
        p.name for p in (checkout / "services").iterdir()
    )
    assert "nixosConfigurations" in (demo / "flake.nix").read_text()
    # homelab's own repository: nothing new, nothing to commit
    assert git(checkout, "rev-parse", "HEAD") == head
    assert git(checkout, "status", "--porcelain") == ""
    checked = subprocess.run(
        [sys.executable, "-m", "homelab", "--lab", str(demo), "validate"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_saving_and_committing_in_the_demo_commits_in_the_demo_lab_only(checkout: Path) -> None:
    assert make_demo_lab(checkout).returncode == 0
    demo = checkout / "demo-lab"
    head = git(checkout, "rev-parse", "HEAD")

    async def scenario() -> None:
        async with running(demo) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            zone = field(app, ("host", "timezone"), f.TextField).control
            await type_into(pilot, zone, "Europe/Paris")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            await pilot.click("#commit")
            await settle(pilot)

    run(scenario)
    assert git(demo, "log", "-1", "--format=%s").startswith("nixos-demo: host.timezone")
    assert git(demo, "status", "--porcelain") == ""
    assert git(checkout, "rev-parse", "HEAD") == head
    assert git(checkout, "status", "--porcelain") == ""
    theirs = (checkout / "hosts/nixos-demo/profile.yaml").read_text()
    assert "timezone: America/Los_Angeles" in theirs


def test_the_demo_lab_is_kept_between_runs_and_made_afresh_when_missing(checkout: Path) -> None:
    assert make_demo_lab(checkout).returncode == 0
    demo = checkout / "demo-lab"
    note = demo / "hosts/pi/notes.txt"
    note.write_text("kept\n")
    again = make_demo_lab(checkout)
    assert again.returncode == 0 and "kept from last time" in again.stdout
    assert note.read_text() == "kept\n"
    shutil.rmtree(demo)
    assert make_demo_lab(checkout).returncode == 0
    assert not note.exists()
    assert git(demo, "status", "--porcelain") == ""


def test_a_demo_folder_without_a_repository_of_its_own_is_refused(checkout: Path) -> None:
    demo = checkout / "demo-lab"
    demo.mkdir()
    (demo / "hosts").mkdir()  # a copy made by hand: committing in it would reach homelab's
    done = make_demo_lab(checkout)
    assert done.returncode == 2
    assert "not a lab with a git repository of its own" in done.stderr
    assert not (demo / ".git").exists()


def test_make_demo_opens_the_copy_and_homelab_ignores_it() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is missing")
    shown = subprocess.run(
        ["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "scripts/demo-lab demo-lab" in shown
    assert "--lab demo-lab tui" in shown
    assert "--lab ." not in shown
    ignored = subprocess.run(["git", "check-ignore", "-q", "demo-lab/hosts"], cwd=REPO)
    assert ignored.returncode == 0
