"""Deploy records kept in git, and `homelab status` built on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from homelab.errors import InvalidInput
from homelab.history.records import DeployRecord, deploy_log, deployed, record_deploy
from tests.history.tools import edit, git, head, identify, snapshot

RunCli = Callable[..., tuple[int, str, str]]
STARTED = datetime(2025, 3, 1, 9, 59, 0, tzinfo=UTC)
FINISHED = datetime(2025, 3, 1, 10, 0, 30, tzinfo=UTC)


def status(run_cli: RunCli, lab: Path) -> dict[str, list[str]]:
    code, out, err = run_cli("--lab", str(lab), "status")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["HOST", "DEPLOYED", "HEAD", "WORKING", "TREE"]
    return {line.split()[0]: line.split("  ", 1)[1].split() for line in lines[1:]}


def test_a_successful_deploy_sets_the_hosts_ref_and_leaves_a_tag(lab: Path) -> None:
    commit = head(lab)
    record_deploy(lab, "pi", commit[:7], "switch", "ok", STARTED, FINISHED, "3 checks passed")
    assert deployed(lab) == {
        "pi": DeployRecord("pi", commit, "switch", "ok", FINISHED, summary="3 checks passed")
    }
    # plain git sees it: the ref names the commit, the tag says the rest
    assert git(lab, "rev-parse", "refs/homelab/deployed/pi^{commit}").strip() == commit
    tags = git(lab, "tag", "--list", "homelab/deploy/*").split()
    assert tags == ["homelab/deploy/pi/20250301T100030Z"]
    text = git(lab, "tag", "--list", "-n20", tags[0])
    for line in ("host: pi", f"commit: {commit}", "mode: switch", "result: ok", "3 checks passed"):
        assert line in text


def test_a_failed_deploy_is_logged_but_moves_nothing(lab: Path) -> None:
    first = head(lab)
    record_deploy(lab, "pi", first, "switch", "ok", STARTED, FINISHED)
    edit(lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    git(lab, "commit", "-q", "-am", "pi: newer state version")
    later = FINISHED + timedelta(hours=1)
    record_deploy(lab, "pi", "HEAD", "switch", "failed", later, later, "activation failed")
    dry = later + timedelta(minutes=1)
    record_deploy(lab, "pi", "HEAD", "dry-activate", "ok", dry, dry)
    assert deployed(lab)["pi"].commit == first
    log = deploy_log(lab, "pi")
    assert [(r.mode, r.result) for r in log] == [
        ("dry-activate", "ok"),
        ("switch", "failed"),
        ("switch", "ok"),
    ]
    assert len(git(lab, "tag", "--list", "homelab/deploy/pi/*").split()) == 3


def test_times_keep_their_zone_and_naive_ones_are_local(lab: Path) -> None:
    plus2 = timezone(timedelta(hours=2))
    record_deploy(lab, "pi", "HEAD", "boot", "ok", STARTED, FINISHED.astimezone(plus2))
    assert deployed(lab)["pi"].when == FINISHED
    naive = datetime(2025, 3, 2, 8, 0, 0)
    record_deploy(lab, "lone", "HEAD", "switch", "ok", naive, naive)
    assert deployed(lab)["lone"].when == naive.astimezone()


def test_a_clone_knows_what_is_deployed_from_the_tags(lab: Path, tmp_path: Path) -> None:
    record_deploy(lab, "pi", "HEAD", "switch", "ok", STARTED, FINISHED)
    record_deploy(lab, "nixos-demo", "HEAD", "switch", "failed", STARTED, FINISHED)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(lab), str(clone))
    assert git(clone, "for-each-ref", "refs/homelab/") == ""  # git does not fetch those
    assert deployed(clone) == deployed(lab)
    assert set(deployed(clone)) == {"pi"}


def test_records_refuse_what_they_cannot_keep(lab: Path) -> None:
    before = snapshot(lab)
    with pytest.raises(InvalidInput, match="unknown revision 'nope'"):
        record_deploy(lab, "pi", "nope", "switch", "ok", STARTED, FINISHED)
    with pytest.raises(InvalidInput, match="cannot name a git ref"):
        record_deploy(lab, "a..b", "HEAD", "switch", "ok", STARTED, FINISHED)
    with pytest.raises(InvalidInput, match="without spaces"):
        record_deploy(lab, "pi", "HEAD", "switch", "not ok", STARTED, FINISHED)
    assert snapshot(lab) == before


def test_a_deploy_is_recorded_even_where_git_knows_no_one(lab: Path) -> None:
    git(lab, "config", "--unset", "user.name")
    git(lab, "config", "--unset", "user.email")
    record_deploy(lab, "pi", "HEAD", "switch", "ok", STARTED, FINISHED)
    assert "pi" in deployed(lab)
    identify(lab)


def test_status_before_and_after_a_deploy(lab: Path, run_cli: RunCli) -> None:
    rows = status(run_cli, lab)
    assert rows == {
        "lone": ["never", "not", "deployed", "clean"],
        "nixos-demo": ["never", "not", "deployed", "clean"],
        "pi": ["never", "not", "deployed", "clean"],
    }
    record_deploy(lab, "pi", "HEAD", "switch", "ok", STARTED, FINISHED)
    when = FINISHED.astimezone().strftime("%Y-%m-%d %H:%M")
    rows = status(run_cli, lab)
    assert rows["pi"] == [head(lab)[:7], *when.split(), "(switch)", "up", "to", "date", "clean"]
    assert rows["lone"][0] == "never"

    # a committed change to a fragment pi includes: HEAD is ahead of the machine
    edit(lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    assert status(run_cli, lab)["pi"][4:] == ["changes", "not", "deployed", "clean"]

    # an uncommitted edit shows in the working tree column
    edit(lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    assert status(run_cli, lab)["pi"][-2:] == ["uncommitted", "changes"]
    assert status(run_cli, lab)["lone"][-1] == "clean"


def test_status_is_unmoved_by_changes_to_other_hosts(lab: Path, run_cli: RunCli) -> None:
    record_deploy(lab, "pi", "HEAD", "switch", "ok", STARTED, FINISHED)
    edit(lab, "hosts/lone/profile.yaml", "24.05", "24.11")
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    edit(lab, "hosts/nixos-demo/profile.yaml", "wheel", "wheel, audio")
    assert status(run_cli, lab)["pi"][-4:] == ["up", "to", "date", "clean"]


def test_status_shows_a_deployed_host_that_left_the_lab(lab: Path, run_cli: RunCli) -> None:
    record_deploy(lab, "lone", "HEAD", "switch", "ok", STARTED, FINISHED)
    (lab / "hosts/lone/profile.yaml").unlink()
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    assert status(run_cli, lab)["lone"][-5:] == ["no", "longer", "in", "the", "lab"]


def test_a_host_named_apart_from_its_folder_is_recorded_by_folder(lab: Path) -> None:
    edit(lab, "hosts/lone/profile.yaml", "host:\n", "host:\n  name: media-box\n")
    record_deploy(lab, "media-box", "HEAD", "switch", "ok", STARTED, FINISHED)
    assert set(deployed(lab)) == {"lone"}
