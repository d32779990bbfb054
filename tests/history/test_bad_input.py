"""States of a repository where homelab must not commit, and revisions it cannot use:
each a clear message, exit code 2, and HEAD, index, refs and working tree as they were."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from homelab.errors import InvalidInput
from homelab.history import check_can_commit
from tests.history.tools import edit, git, head, snapshot, write

RunCli = Callable[..., tuple[int, str, str]]
PI = "hosts/pi/profile.yaml"


def conflicting_branch(lab: Path) -> None:
    """Branch `other` and main both change README.md, differently."""
    write(lab, "README.md", "our lab\n")
    git(lab, "add", "README.md")
    git(lab, "commit", "-q", "-m", "readme")
    git(lab, "switch", "-q", "-c", "other")
    write(lab, "README.md", "their lab\n")
    git(lab, "commit", "-q", "-am", "their readme")
    git(lab, "switch", "-q", "main")
    write(lab, "README.md", "my lab\n")
    git(lab, "commit", "-q", "-am", "my readme")


def in_a_merge(lab: Path) -> None:
    conflicting_branch(lab)
    git(lab, "merge", "other", check=False)
    assert (lab / ".git/MERGE_HEAD").exists()


def in_a_rebase(lab: Path) -> None:
    conflicting_branch(lab)
    git(lab, "rebase", "other", check=False)
    assert (lab / ".git/rebase-merge").exists() or (lab / ".git/rebase-apply").exists()


def detached(lab: Path) -> None:
    git(lab, "switch", "-q", "--detach", "HEAD")


STATES = {
    "merge": (in_a_merge, "in the middle of a merge"),
    "rebase": (in_a_rebase, "in the middle of a rebase"),
    "detached": (detached, "HEAD is detached"),
}


def edit_pi_twice(lab: Path, run_cli: RunCli) -> str:
    """Two commits to pi; returns the commit before them."""
    before = head(lab)
    for old, new in (("24.05", "24.11"), ("openssh: {}", "openssh: {}\n  jellyfin: {}")):
        edit(lab, PI, old, new)
        code, _, err = run_cli("--lab", str(lab), "build", "--commit")
        assert code == 0, err
    return before


@pytest.mark.parametrize("state", sorted(STATES))
def test_build_commit_refuses(lab: Path, run_cli: RunCli, state: str) -> None:
    make, says = STATES[state]
    # a comment: the profile changes, its generated files do not (build writes nothing)
    edit(lab, PI, "host:", "# the DNS box\nhost:")
    make(lab)
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 2
    assert says in err
    assert "committed" not in out
    assert snapshot(lab) == before


@pytest.mark.parametrize("state", sorted(STATES))
def test_revert_refuses(lab: Path, run_cli: RunCli, state: str) -> None:
    make, says = STATES[state]
    good = edit_pi_twice(lab, run_cli)
    make(lab)
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "revert", good, "pi")
    assert (code, out) == (2, "")
    assert says in err
    assert snapshot(lab) == before


def test_revert_to_an_unknown_revision(lab: Path, run_cli: RunCli) -> None:
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "revert", "v9.9", "pi")
    assert (code, out) == (2, "")
    assert "unknown revision 'v9.9'" in err
    assert snapshot(lab) == before


def test_revert_to_before_the_host_existed(lab: Path, run_cli: RunCli) -> None:
    first = head(lab)
    write(lab, "hosts/nas/profile.yaml", 'host:\n  stateVersion: "24.11"\n')
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "revert", first, "nas")
    assert (code, out) == (2, "")
    assert f"host 'nas' did not exist at {first[:7]}" in err
    assert snapshot(lab) == before


def test_revert_to_a_profile_that_no_longer_fits_the_lab(lab: Path, run_cli: RunCli) -> None:
    old = edit_pi_twice(lab, run_cli)
    # pi used openssh back then; the catalogue no longer has it
    for host in ("hosts/nixos-demo/profile.yaml", PI):
        edit(lab, host, "  openssh: {}\n", "  docker: {}\n" if host == PI else "  pihole: {}\n")
    (lab / "services/openssh.yaml").unlink()
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "revert", old, "pi")
    assert (code, out) == (2, "")
    assert "openssh" in err
    assert f"the profiles as they were at {old[:7]} do not fit the lab as it is now" in err
    assert snapshot(lab) == before


@pytest.mark.parametrize(
    "args",
    [["status"], ["history", "pi"], ["diff"], ["revert", "HEAD", "pi"], ["build", "--commit"]],
)
def test_a_lab_inside_a_bare_repository(
    lab: Path, tmp_path: Path, run_cli: RunCli, args: list[str]
) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(lab), str(bare))
    for folder in ("hosts", "services"):  # built: `build` has nothing to write
        shutil.copytree(lab / folder, bare / folder)
    before = snapshot(bare)
    code, out, err = run_cli("--lab", str(bare), *args)
    assert code == 2
    assert "the lab is inside a bare git repository" in err
    assert "committed" not in out
    assert snapshot(bare) == before


@pytest.mark.parametrize("args", [["status"], ["history"], ["diff"], ["revert", "HEAD"]])
def test_a_lab_not_in_a_repository(
    tmp_path: Path, lab: Path, run_cli: RunCli, args: list[str]
) -> None:
    shutil.rmtree(lab / ".git")
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), *args)
    assert (code, out) == (2, "")
    assert "the lab is not in a git repository" in err
    assert snapshot(lab) == before


@pytest.mark.parametrize("state", sorted(STATES))
def test_check_can_commit_says_it_before_any_work(lab: Path, state: str) -> None:
    make, says = STATES[state]
    make(lab)
    with pytest.raises(InvalidInput, match=says):
        check_can_commit(lab)


def test_check_can_commit_lets_a_lab_without_a_repository_through(lab: Path) -> None:
    shutil.rmtree(lab / ".git")
    before = snapshot(lab)
    with pytest.raises(InvalidInput, match="git does not know who you are"):
        check_can_commit(lab)  # the lab's own config went with .git
    assert snapshot(lab) == before
