"""An input of lab.yaml that flake.lock does not pin would be fetched unpinned by every
machine: `validate` warns at the input, `apply` refuses (exit 2) until `homelab lock` has
pinned it, and sends nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git

from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.tidy import homelab
from tests.sshd.rig import Rig
from tests.test_lab_lock import ALL_PINNED, lock

LAB_YAML = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
  nixos-hardware: {url: "github:NixOS/nixos-hardware", follows: false}
"""


def with_lab_yaml(lab: Path, pins: dict[str, tuple[dict[str, Any], str]] | None) -> None:
    (lab / "lab.yaml").write_text(LAB_YAML)
    (lab / "flake.nix").unlink()  # the skeleton's, kept by hand: lab.yaml's comes instead
    if pins is not None:
        (lab / "flake.lock").write_text(lock(pins))
    repo = git.Repo(lab)
    repo.git.add("--all")
    repo.index.commit("lab.yaml with two inputs")


def test_validate_warns_at_the_input_and_names_homelab_lock(
    tmp_path: Path, run_cli: RunCli
) -> None:
    lab = make_lab(tmp_path / "lab", [])
    (lab / "hosts" / "one").mkdir()
    (lab / "hosts" / "one" / "profile.yaml").write_text('host: {stateVersion: "24.05"}\n')
    with_lab_yaml(lab, {k: v for k, v in ALL_PINNED.items() if k != "agenix"})

    code, out, err = run_cli("--lab", str(lab), "validate")

    assert code == 0, out + err  # a warning never blocks validate
    said = (
        "warning: lab.yaml:3:3: input agenix is not pinned (flake.lock does not pin it): "
        "each machine would fetch it unpinned\n"
        "    hint: run `homelab lock` (or `homelab lock HOST` on a machine with Nix), "
        "and commit it\n"
    )
    assert said in err
    assert err.count("not pinned") == 1
    (lab / "flake.lock").write_text(lock(ALL_PINNED))
    code, out, err = run_cli("--lab", str(lab), "validate")
    assert code == 0 and "lab.yaml" not in err, err


def test_apply_refuses_an_unpinned_input_and_sends_nothing(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    with_lab_yaml(lab, None)
    before = git.Repo(lab).head.commit.hexsha

    done = homelab(rig, lab, "apply", "--yes")

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert (
        "lab.yaml:1:1: there is no flake.lock: no input is pinned (nixpkgs, home-manager, "
        "agenix, nixos-hardware): each machine would fetch them unpinned; apply waits until "
        "flake.lock pins every input"
    ) in done.stderr
    assert "hint: run `homelab lock`" in done.stderr
    assert git.Repo(lab).head.commit.hexsha == before  # nothing committed
    assert machine.lines("commands.log") == []  # nothing sent
    assert not (lab / "hosts" / "web" / "configuration.nix").exists()  # nothing built


def test_apply_refuses_a_lock_that_pins_another_release(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    with_lab_yaml(lab, dict(ALL_PINNED))
    (lab / "lab.yaml").write_text(LAB_YAML.replace("26.05", "26.11"))  # not locked anew

    done = homelab(rig, lab, "apply", "--yes")

    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        "input nixpkgs: flake.lock pins github:NixOS/nixpkgs/nixos-26.05, lab.yaml asks for "
        "github:NixOS/nixpkgs/nixos-26.11"
    ) in done.stderr
    assert machine.lines("commands.log") == []


def test_a_host_deployed_with_channels_uses_no_flake_and_is_not_refused(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": "  method: channels\n"})
    with_lab_yaml(lab, None)

    done = homelab(rig, lab, "apply", "--yes")

    assert done.returncode == 0, done.stdout + done.stderr
    assert machine.generation() == 2


def test_once_every_input_is_pinned_apply_goes_on(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    with_lab_yaml(lab, dict(ALL_PINNED))
    built = homelab(rig, lab, "build")  # flake.nix from lab.yaml, committed as a person would
    assert built.returncode == 0, built.stdout + built.stderr
    repo = git.Repo(lab)
    repo.git.add("--all")
    repo.index.commit("built")

    done = homelab(rig, lab, "apply", "--yes")

    assert done.returncode == 0, done.stdout + done.stderr
    assert machine.generation() == 2


def test_apply_judges_the_committed_lock_not_one_git_never_sees(rig: Rig, tmp_path: Path) -> None:
    """Apply sends a commit: a flake.lock that git ignores pins nothing on the machines,
    however well it pins on disk; with or without --no-commit."""
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    (lab / ".gitignore").write_text("flake.lock\n")
    with_lab_yaml(lab, dict(ALL_PINNED))  # written, but ignored: not committed
    assert "flake.lock" not in git.Repo(lab).git.ls_files()
    before = git.Repo(lab).head.commit.hexsha

    for extra in ([], ["--no-commit"]):
        done = homelab(rig, lab, "apply", "--yes", *extra)

        assert done.returncode == 2, done.stdout + done.stderr
        assert "lab.yaml:1:1: there is no flake.lock: no input is pinned" in done.stderr
        assert "hint: commit flake.lock (homelab sends what the commit holds)" in done.stderr
        assert git.Repo(lab).head.commit.hexsha == before
        assert machine.lines("commands.log") == []


def test_apply_no_commit_judges_head_s_lab_yaml(rig: Rig, tmp_path: Path) -> None:
    """With --no-commit apply sends HEAD: an input added to lab.yaml but not committed
    is no unpinned input of what goes out (the flake.nix it changes is refused instead)."""
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    with_lab_yaml(lab, dict(ALL_PINNED))
    built = homelab(rig, lab, "build")
    assert built.returncode == 0, built.stdout + built.stderr
    repo = git.Repo(lab)
    repo.git.add("--all")
    repo.index.commit("built")
    (lab / "lab.yaml").write_text(LAB_YAML + '  nur: {url: "github:nix-community/NUR"}\n')

    done = homelab(rig, lab, "apply", "--yes", "--no-commit")

    assert done.returncode == 2, done.stdout + done.stderr
    assert "not pinned" not in done.stderr
    assert "flake.nix: changed but not committed" in done.stderr
    committing = homelab(rig, lab, "apply", "--yes")  # this one would send the new lab.yaml
    assert committing.returncode == 2
    assert "input nur is not pinned" in committing.stderr
    assert machine.lines("commands.log") == []
