"""The questions the editor asks the lab's history, answered through Lab: HEAD, a host's
committed Nix, what committing a host would say, which hosts wait for a deploy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from homelab.history.records import record_deploy
from homelab.lab import DeployMark, Lab
from homelab.source import DiskSource
from homelab.write import generated_files
from tests.history.tools import edit, git, head, make_lab, message

WHEN = datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)
PI = "hosts/pi/profile.yaml"


def test_head_is_the_commit_of_the_lab_or_nothing_before_the_first(tmp_path: Path) -> None:
    bare_folder = make_lab(tmp_path / "no-git", repository=False)
    assert Lab(bare_folder).head() == ""
    fresh = make_lab(tmp_path / "fresh")
    assert Lab(fresh).head() == ""  # a repository without a commit


def test_head_names_the_last_commit(lab: Path) -> None:
    assert Lab(lab).head() == head(lab)


def test_the_committed_nix_of_a_host_is_what_head_holds(lab: Path) -> None:
    committed = Lab(lab).committed_generated("pi")
    assert committed is not None
    assert set(committed) >= {"hosts/pi/configuration.nix"}
    assert committed == generated_files(DiskSource(lab), "pi")
    # rebuilt on disk but not committed: HEAD's text is still the answer
    (lab / "hosts/pi/configuration.nix").write_text("# edited\n")
    assert Lab(lab).committed_generated("pi") == committed


def test_no_committed_nix_without_a_commit(tmp_path: Path) -> None:
    assert Lab(make_lab(tmp_path / "no-git", repository=False)).committed_generated("pi") is None
    assert Lab(make_lab(tmp_path / "fresh")).committed_generated("pi") is None


def test_the_nix_diff_says_what_changed_file_by_file() -> None:
    lines = Lab.nix_diff({"a.nix": "x = 1;\n"}, {"a.nix": "x = 2;\n"})
    assert "-x = 1;" in lines and "+x = 2;" in lines
    assert Lab.nix_diff({"a.nix": "same\n"}, {"a.nix": "same\n"}) == []


def test_a_pending_commit_says_the_hosts_changes_in_its_words(lab: Path) -> None:
    edit(lab, PI, 'stateVersion: "24.05"', 'stateVersion: "24.05"\n  timezone: Asia/Tokyo')
    the_lab = Lab(lab)
    state = the_lab.load()
    pending = the_lab.pending_commit(state.hosts["pi"], state.catalog)
    assert pending is not None
    assert pending.subject == "pi: host.timezone Europe/Berlin -> Asia/Tokyo"
    assert pending.lines == ("pi:", "- host.timezone: Europe/Berlin -> Asia/Tokyo")


def test_nothing_is_pending_for_a_host_as_committed(lab: Path) -> None:
    the_lab = Lab(lab)
    state = the_lab.load()
    assert the_lab.pending_commit(state.hosts["pi"], state.catalog) is None


def test_nothing_is_pending_outside_a_repository(tmp_path: Path) -> None:
    the_lab = Lab(make_lab(tmp_path / "no-git", repository=False))
    state = the_lab.load()
    assert the_lab.pending_commit(state.hosts["pi"], state.catalog) is None


def test_a_commit_of_one_host_says_its_commit_and_subject(lab: Path) -> None:
    edit(lab, PI, 'stateVersion: "24.05"', 'stateVersion: "24.05"\n  timezone: Asia/Tokyo')
    (lab / "hosts/lone/profile.yaml").write_text("host: {stateVersion: '24.11'}\n")
    done = Lab(lab).commit(["pi"], subject="pi: to Tokyo", message="moved")
    assert done is not None
    assert done.sha == head(lab)
    assert done.subject == "pi: to Tokyo"
    assert message(lab).startswith("pi: to Tokyo\n")
    changed = git(lab, "show", "--format=", "--name-only", "HEAD").split()
    assert "hosts/lone/profile.yaml" not in changed  # only the host asked for
    assert Lab(lab).commit(["pi"]) is None  # nothing left to commit there


def test_deploy_marks_follow_deploys_and_edits(lab: Path) -> None:
    the_lab = Lab(lab)
    assert the_lab.deploy_marks() == dict.fromkeys(["lone", "nixos-demo", "pi"], DeployMark.NEVER)
    record_deploy(lab, "pi", head(lab), "switch", "ok", WHEN, WHEN)
    assert the_lab.deploy_marks()["pi"] == DeployMark.DEPLOYED
    edit(lab, PI, 'stateVersion: "24.05"', 'stateVersion: "24.05"\n  timezone: Asia/Tokyo')
    assert the_lab.deploy_marks()["pi"] == DeployMark.AHEAD  # changed since, uncommitted
    assert the_lab.deploy_marks()["lone"] == DeployMark.NEVER
    assert [r.host for r in the_lab.deploy_log("pi")] == ["pi"]


def test_no_deploy_marks_before_the_first_commit(tmp_path: Path) -> None:
    assert Lab(make_lab(tmp_path / "no-git", repository=False)).deploy_marks() == {}
    assert Lab(make_lab(tmp_path / "fresh")).deploy_marks() == {}
