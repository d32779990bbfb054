"""An apply leaves alone the machines that already run what it would send, against real
sshd machines: the rig's nixos-rebuild counts its calls in commands.log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import git

from homelab.history.records import deploy_log, deployed
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.test_apply import config_mtimes, rebuilds
from tests.sshd.rig import Machine, Rig
from tests.sshd.standin import set_link


def apply(run_cli: RunCli, lab: Path, *more: str) -> str:
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", *more)
    assert code == 0, out + err
    return out + err


def switched_by_hand(machine: Machine, generation: int) -> None:
    """What `nixos-rebuild switch --rollback` run on the machine itself leaves behind."""
    set_link(machine.root / "run" / "current-system", machine.system_of(generation))


def test_a_second_apply_with_nothing_changed_runs_no_rebuild_and_says_up_to_date(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machines = [rig.add("web"), rig.add("db")]
    lab = make_lab(tmp_path / "lab", machines)
    apply(run_cli, lab)
    records = len(deploy_log(lab))
    files = {m.name: config_mtimes(m) for m in machines}

    out = apply(run_cli, lab)

    for m in machines:
        assert len(rebuilds(m)) == 1  # only the first apply's
        assert m.generations() == [1, 2]
        assert config_mtimes(m) == files[m.name]  # not a file written, not even the manifest
        assert m.staging_leftovers() == []
        assert re.search(
            rf"^{m.name}\s+up to date\s+\S+\s+still on generation 2, nothing to send", out, re.M
        )
    assert len(deploy_log(lab)) == records  # nothing happened: nothing recorded

    out = apply(run_cli, lab, "--force")

    for m in machines:
        assert len(rebuilds(m)) == 2
        assert re.search(rf"^{m.name}\s+ok\s+\S+\s+no change: still on generation 2", out, re.M)


def test_only_the_host_whose_profile_changed_is_rebuilt(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    web, db = rig.add("web"), rig.add("db")
    lab = make_lab(tmp_path / "lab", [web, db])
    apply(run_cli, lab)
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [hello, vim]"))

    out = apply(run_cli, lab)

    assert len(rebuilds(web)) == 2 and web.generation() == 3
    assert len(rebuilds(db)) == 1 and db.generation() == 2
    assert re.search(r"^db\s+up to date\s", out, re.M)
    head = git.Repo(lab).head.commit.hexsha
    records = deployed(lab)
    assert records["web"].commit == head
    assert records["db"].commit != head  # its record still names what it was switched to
    assert records["web"].system == web.current()


def test_a_machine_switched_by_hand_is_rebuilt_and_told_so(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    apply(run_cli, lab)
    ours = machine.current()
    switched_by_hand(machine, 1)

    out = apply(run_cli, lab)

    assert len(rebuilds(machine)) == 2
    assert f"runs {machine.system_of(1)}, not {ours} its last deploy switched to" in out
    assert machine.current() != machine.system_of(1)  # back on what the lab says


def test_a_last_deploy_that_did_not_switch_for_good_is_never_trusted(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    for mode in ("test", "boot", "dry-activate", "build"):
        apply(run_cli, lab, "--mode", mode)
        before = len(rebuilds(machine))

        apply(run_cli, lab)

        assert len(rebuilds(machine)) == before + 1, mode
    apply(run_cli, lab)
    assert len(rebuilds(machine)) == before + 1  # now a switch landed: up to date


def test_a_failed_last_deploy_is_never_trusted(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    apply(run_cli, lab)
    machine.fault("eval-error", "error: undefined variable 'oops'")  # the same files fail
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--force")
    assert code == 1, out + err
    machine.clear("eval-error")

    apply(run_cli, lab)

    assert len(rebuilds(machine)) == 3


def test_a_changed_secret_or_flake_lock_rebuilds(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    (lab / ".git" / "info" / "exclude").write_text("secrets/\n")
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(
        profile.read_text()
        + "secrets:\n  api:\n    source: secrets/api.key\n    target: /var/lib/secrets/api\n"
    )
    (lab / "secrets").mkdir()
    key = lab / "secrets" / "api.key"
    key.write_text("one\n")
    apply(run_cli, lab)
    apply(run_cli, lab)
    assert len(rebuilds(machine)) == 1

    key.write_text("two\n")  # a copy-at-apply secret: never in git, only its digest on the machine
    apply(run_cli, lab)
    assert len(rebuilds(machine)) == 2
    assert (machine.root / "var" / "lib" / "secrets" / "api").read_text() == "two\n"

    lock = {"nodes": {"root": {}}, "root": "root", "version": 7}
    (lab / "flake.lock").write_text(json.dumps(lock) + "\n")
    repo = git.Repo(lab)
    repo.git.add("flake.lock")
    repo.index.commit("flake.lock locked")
    apply(run_cli, lab)
    assert len(rebuilds(machine)) == 3
