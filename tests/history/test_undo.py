"""`homelab undo REV [HOST ...]`: one commit's changes to hosts' profiles taken back, later
changes kept, as a new commit; refused (nothing written, no conflict markers) when later
commits changed the same lines. And what a host's history offers for a commit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from homelab.lab import Lab
from tests.history.tools import count, edit, git, head, message, show, snapshot, touched

RunCli = Callable[..., tuple[int, str, str]]
DEMO = "hosts/nixos-demo/profile.yaml"


def commit_edit(run_cli: RunCli, lab: Path, rel: str, old: str, new: str) -> str:
    edit(lab, rel, old, new)
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    return head(lab)


def no_markers(lab: Path) -> None:
    for path in (lab / "hosts").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "<<<<<<<" not in text and ">>>>>>>" not in text, path


def test_undo_takes_back_one_commit_and_keeps_the_later_ones(lab: Path, run_cli: RunCli) -> None:
    pihole = commit_edit(run_cli, lab, DEMO, "  openssh: {}\n", "  openssh: {}\n  pihole: {}\n")
    commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    later = show(lab, "HEAD", DEMO)
    commits = count(lab)
    code, out, err = run_cli("--lab", str(lab), "undo", pihole[:7], "nixos-demo")
    assert code == 0, err
    subject = "Undo on nixos-demo: service pihole removed"
    assert out == f"committed {head(lab)[:7]} {subject}\n"
    assert count(lab) == commits + 1
    profile = (lab / DEMO).read_text()
    assert profile == later.replace("  pihole: {}\n", "")  # the later groups change stays
    assert "groups: [wheel, audio]" in profile
    assert show(lab, "HEAD", DEMO) == profile
    assert "pihole" not in (lab / "hosts/nixos-demo/services.nix").read_text()
    text = message(lab)
    assert text.startswith(f"{subject}\n\n")
    assert f'Undoes {pihole[:7]} "nixos-demo: service pihole added".' in text
    assert touched(lab, "HEAD") <= {DEMO, "hosts/nixos-demo/services.nix"}
    assert git(lab, "status", "--porcelain") == "?? flake.nix\n"


def test_undo_says_each_setting_taken_back(lab: Path, run_cli: RunCli) -> None:
    change = commit_edit(
        run_cli, lab, DEMO, "  openssh: {}\n", "  openssh: {}\n  pihole: {webPort: 8385}\n"
    )
    commit_edit(run_cli, lab, DEMO, "pihole: {webPort: 8385}", "pihole: {webPort: 8386}")
    commit_edit(run_cli, lab, DEMO, "  demouser:\n", "  bob: {}\n  demouser:\n")
    bob = head(lab)
    code, _, err = run_cli("--lab", str(lab), "undo", bob, "nixos-demo")
    assert code == 0, err
    assert message(lab).splitlines()[0] == "Undo on nixos-demo: user bob removed"
    # a change of a value inside a service, undone later on its own
    commit_edit(run_cli, lab, DEMO, "webPort: 8386", "webPort: 8387")
    code, _, err = run_cli("--lab", str(lab), "undo", "HEAD")
    assert code == 0, err
    assert message(lab).splitlines()[0] == (
        "Undo on nixos-demo: service pihole: webPort 8387 -> 8386"
    )
    assert change  # the first commit stays in history, untouched
    assert "webPort: 8386" in (lab / DEMO).read_text()


def test_undo_refuses_when_later_commits_changed_the_same_lines(lab: Path, run_cli: RunCli) -> None:
    audio = commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    video = commit_edit(run_cli, lab, DEMO, "groups: [wheel, audio]", "groups: [wheel, video]")
    commit_edit(run_cli, lab, "hosts/pi/profile.yaml", "24.05", "24.11")  # elsewhere: no part
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "undo", audio[:7], "nixos-demo")
    assert (code, out) == (2, "")
    assert f"{DEMO}: not undone: later commits changed the same lines as {audio[:7]}" in err
    assert f'{video[:7]} "nixos-demo: user demouser: groups + video - audio"' in err
    assert "hosts/pi" not in err
    assert snapshot(lab) == before  # nothing written, nothing committed
    no_markers(lab)


def test_undo_twice_is_nothing_to_undo(lab: Path, run_cli: RunCli) -> None:
    audio = commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    code, _, err = run_cli("--lab", str(lab), "undo", audio, "nixos-demo")
    assert code == 0, err
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "undo", audio[:7], "nixos-demo")
    assert code == 0, err
    assert out == f"nothing to undo: what {audio[:7]} changed in nixos-demo is undone already\n"
    assert snapshot(lab) == before


def test_undo_without_hosts_takes_back_every_host_the_commit_changed(
    lab: Path, run_cli: RunCli
) -> None:
    edit(lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    both = commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    code, out, err = run_cli("--lab", str(lab), "undo", both)
    assert code == 0, err
    assert show(lab, "HEAD", DEMO) == show(lab, f"{both}^", DEMO)
    assert show(lab, "HEAD", "hosts/pi/profile.yaml") == show(
        lab, f"{both}^", "hosts/pi/profile.yaml"
    )
    assert out.startswith(f"committed {head(lab)[:7]} Undo on nixos-demo, pi: ")


def test_undo_of_a_shared_fragment_change_is_refused_and_says_why(
    lab: Path, run_cli: RunCli
) -> None:
    zone = commit_edit(run_cli, lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    before = snapshot(lab)
    code, _, err = run_cli("--lab", str(lab), "undo", zone, "pi")
    assert code == 2
    assert "changed nothing in this host's own profile" in err
    assert "hosts/common/base.yaml, shared with other hosts" in err
    assert snapshot(lab) == before


def test_undo_of_the_commit_that_added_a_host_is_refused(lab: Path, run_cli: RunCli) -> None:
    first = git(lab, "rev-list", "--max-parents=0", "HEAD").strip()
    before = snapshot(lab)
    code, _, err = run_cli("--lab", str(lab), "undo", first, "pi")
    assert code == 2
    assert f"{first[:7]} added this host: undoing it would remove the host" in err
    assert "Remove host" in err
    assert snapshot(lab) == before


def test_going_back_says_what_it_took_back(lab: Path, run_cli: RunCli) -> None:
    good = head(lab)
    commit_edit(run_cli, lab, DEMO, "  demouser:\n", "  bob: {}\n  demouser:\n")
    commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    code, out, err = run_cli("--lab", str(lab), "revert", good[:7], "nixos-demo")
    assert code == 0, err
    subject = f"Back to {good[:7]} on nixos-demo: user demouser: groups - audio; user bob removed"
    assert out == f"committed {head(lab)[:7]} {subject}\n"
    assert message(lab).startswith(
        f'{subject}\n\nBack to the state of {good[:7]} "lone, nixos-demo, pi: a new lab".\n'
    )
    no_markers(lab)


def test_the_history_offers_undo_and_going_back_but_never_a_no_op(
    lab: Path, run_cli: RunCli
) -> None:
    first = head(lab)
    audio = commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    zone = commit_edit(run_cli, lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    lab_ = Lab(lab)
    # the newest commit: going back to it changes nothing; undoing it changes no own file
    latest = lab_.history_choices("nixos-demo", zone)
    assert latest.back == (
        f"hosts/nixos-demo is already as it was at {zone[:7]}: nothing to go back to"
    )
    assert "changed nothing in this host's own profile" in latest.undo
    # the commit before: both offered (its state differs from now only by the fragment,
    # which is shared, so going back to it is a no-op for the host's own files)
    middle = lab_.history_choices("nixos-demo", audio)
    assert middle.undo == ""
    assert middle.undoes == ("user demouser: groups - audio",)  # what the undo would do
    assert "already as it was" in middle.back
    oldest = lab_.history_choices("nixos-demo", first)
    assert oldest.back == ""
    # going back takes back the host's own changes; the shared fragment stays as it is
    assert oldest.goes_back == ("user demouser: groups - audio",)
    assert "added this host" in oldest.undo
    code, _, err = run_cli("--lab", str(lab), "undo", audio, "nixos-demo")
    assert code == 0, err
    again = Lab(lab).history_choices("nixos-demo", audio)
    assert again.undo == f"what {audio[:7]} changed in hosts/nixos-demo is already undone"
    assert again.back == ""


def test_uncommitted_changes_to_the_host_come_first(lab: Path, run_cli: RunCli) -> None:
    first = head(lab)
    audio = commit_edit(run_cli, lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    edit(lab, DEMO, "openssh: {}", "openssh: {}\n  docker: {}")  # saved, not committed
    choices = Lab(lab).history_choices("nixos-demo", first)
    assert choices.undo == choices.back
    assert choices.back.startswith(f"{DEMO} has changes that are not committed")
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "undo", audio, "nixos-demo")
    assert (code, out) == (2, "")
    assert f"{DEMO}: has changes that are not committed" in err
    assert snapshot(lab) == before
