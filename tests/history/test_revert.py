"""`homelab revert REV [HOST ...]`: hosts back to an old profile, as a new commit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from homelab.history.commit import state_at
from homelab.history.repo import open_repository
from homelab.lab import Lab
from tests.history.tools import count, edit, git, head, message, show, snapshot, touched, write

RunCli = Callable[..., tuple[int, str, str]]
DEMO = "hosts/nixos-demo/profile.yaml"


def commit_edit(run_cli: RunCli, lab: Path, rel: str, old: str, new: str) -> str:
    edit(lab, rel, old, new)
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    return head(lab)


def test_revert_makes_a_new_commit_with_the_old_profile(lab: Path, run_cli: RunCli) -> None:
    good = head(lab)
    commit_edit(run_cli, lab, DEMO, "  openssh: {}\n", "  openssh: {}\n  pihole: {}\n")
    bad = commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    commits = count(lab)
    code, out, err = run_cli("--lab", str(lab), "revert", good[:7], "nixos-demo")
    assert code == 0, err
    subject = (
        f"Back to {good[:7]} on nixos-demo: user demouser: groups - audio; service pihole removed"
    )
    assert out == f"committed {head(lab)[:7]} {subject}\n"
    assert count(lab) == commits + 1  # history kept, nothing rewritten
    assert git(lab, "rev-parse", "HEAD^").strip() == bad
    assert show(lab, "HEAD", DEMO) == show(lab, good, DEMO)
    # the generated files are as they were too (nothing else changed meanwhile)
    for name in ("services.nix", "users.nix", "configuration.nix"):
        rel = f"hosts/nixos-demo/{name}"
        assert show(lab, "HEAD", rel) == show(lab, good, rel) == (lab / rel).read_text()
    assert message(lab) == (
        f"{subject}\n\n"
        f'Back to the state of {good[:7]} "lone, nixos-demo, pi: a new lab".\n\n'
        "nixos-demo:\n"
        "- users.demouser.groups: - audio\n"
        "- services.pihole: removed\n"
    )
    assert touched(lab, "HEAD") <= {
        DEMO,
        *(f"hosts/nixos-demo/{n}" for n in ("services.nix", "users.nix")),
    }
    assert git(lab, "status", "--porcelain") == "?? flake.nix\n"


def test_the_merged_profile_equals_the_old_one(lab: Path, run_cli: RunCli) -> None:
    good = head(lab)
    commit_edit(run_cli, lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    code, _, err = run_cli("--lab", str(lab), "revert", good, "pi")
    assert code == 0, err
    lab_ = Lab(lab)
    repo = open_repository(lab)
    then, now = state_at(lab_, repo, good), state_at(lab_, repo, head(lab))
    assert then.hosts["pi"].document is not None and now.hosts["pi"].document is not None
    assert now.hosts["pi"].document.data == then.hosts["pi"].document.data


def test_other_hosts_are_left_alone(lab: Path, run_cli: RunCli) -> None:
    good = head(lab)
    commit_edit(run_cli, lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    code, _, err = run_cli("--lab", str(lab), "revert", good, "pi")
    assert code == 0, err
    assert "audio" in show(lab, "HEAD", DEMO)
    assert all(p.startswith("hosts/pi/") for p in touched(lab, "HEAD"))


def test_a_shared_fragment_changed_since_is_said(lab: Path, run_cli: RunCli) -> None:
    good = head(lab)
    commit_edit(run_cli, lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    commit_edit(run_cli, lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    code, out, err = run_cli("--lab", str(lab), "revert", good, "pi")
    assert code == 0, err
    assert show(lab, "HEAD", "hosts/pi/profile.yaml") == show(lab, good, "hosts/pi/profile.yaml")
    assert (
        f"note: pi still differs from {good} through what it shares with others:\n"
        "  host.timezone Europe/Berlin -> Europe/Paris\n"
    ) in out


def test_nothing_to_revert(lab: Path, run_cli: RunCli) -> None:
    before = snapshot(lab)
    code, out, _ = run_cli("--lab", str(lab), "revert", "HEAD", "pi")
    assert code == 0
    assert out == "nothing to revert: pi already as at HEAD\n"
    assert snapshot(lab) == before


def test_uncommitted_changes_to_the_host_are_refused(lab: Path, run_cli: RunCli) -> None:
    good = head(lab)
    commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    edit(lab, DEMO, "openssh: {}", "openssh: {}\n  docker: {}")  # not committed
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "revert", good, "nixos-demo")
    assert (code, out) == (2, "")
    assert f"{DEMO}: has changes that are not committed" in err
    assert snapshot(lab) == before


def test_a_persons_own_file_beside_the_profile_does_not_block(lab: Path, run_cli: RunCli) -> None:
    good = head(lab)
    commit_edit(run_cli, lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    (lab / "hosts/pi/notes.md").write_text("the router's admin page is at .1\n")
    code, _, err = run_cli("--lab", str(lab), "revert", good, "pi")
    assert code == 0, err
    assert "hosts/pi/notes.md" not in touched(lab, "HEAD")
    assert (lab / "hosts/pi/notes.md").read_text() == "the router's admin page is at .1\n"


def test_without_hosts_every_host_of_the_revision_goes_back(lab: Path, run_cli: RunCli) -> None:
    good = head(lab)
    commit_edit(run_cli, lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    write(lab, "hosts/nas/profile.yaml", 'host:\n  stateVersion: "24.11"\n')
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    code, out, err = run_cli("--lab", str(lab), "revert", good)
    assert code == 0, err
    assert out.startswith(f"committed {head(lab)[:7]} Back to {good[:7]} on nixos-demo, pi: ")
    for host in ("pi", "nixos-demo", "lone"):
        rel = f"hosts/{host}/profile.yaml"
        assert show(lab, "HEAD", rel) == show(lab, good, rel)
    assert "hosts/nas/profile.yaml" in git(lab, "ls-files")  # a host added since stays
