"""`homelab options update [HOST]` for real: the lab's flake (its inputs stand-ins over
nixpkgs' real lib and home-manager's real modules) evaluated by the real Nix, here and on
a machine of the SSH rig, through homelab/optionindex/index.nix."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from homelab.deploy.optionupdate import eval_command, too_small
from homelab.lab import Lab
from tests.conftest import RunCli
from tests.deploy.labs import make_lab, write_host
from tests.nixtools import _run
from tests.optionindex import home_manager_index, use_stand_in_inputs
from tests.sshd.rig import Rig


def nix_or_skip() -> None:
    if shutil.which("nix") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nix is missing")
        pytest.skip("nix is missing")


# a user with home-manager: the reasons of removed home-manager options come from a user
USER = """\
users:
  ops:
    home:
      stateVersion: "25.05"
      programs:
        git: {enable: true}
      modules: [./backup.nix]
"""
# a home-manager module of the lab, imported by the user: its options are indexed too
BACKUP = """\
{ lib, ... }:
{
  options.backup.paths = lib.mkOption {
    type = lib.types.listOf lib.types.str;
    default = [ ];
    description = "What to back up.";
  };
}
"""


def flake_lab(tmp_path: Path, run_cli: RunCli, hosts: list[str], extra: str = "") -> Path:
    """A lab of these hosts (machines of the rig, or none), built, its flake on stand-in
    inputs, locked, committed."""
    nix_or_skip()
    lab = make_lab(tmp_path / "lab", [])
    for name in hosts:
        write_host(lab, name, extra=extra)
        (lab / "hosts" / name / "backup.nix").write_text(BACKUP)
    use_stand_in_inputs(lab, tmp_path)
    code, out, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, out + err
    code, out, err = run_cli("--lab", str(lab), "lock")
    assert code == 0, out + err
    repo = git.Repo(lab)
    repo.git.add("--all")
    repo.index.commit("stand-in inputs")
    return lab


def index_files(lab: Path) -> list[Path]:
    return sorted((lab / ".homelab" / "options").glob("*.json.gz"))


def test_update_here_makes_the_index_of_the_pinned_pair(tmp_path: Path, run_cli: RunCli) -> None:
    lab = flake_lab(tmp_path, run_cli, ["alpha"], USER)  # no machine: evaluated here
    assert Lab(lab).option_index() is None

    code, out, err = run_cli("--lab", str(lab), "options", "update")

    assert code == 0, out + err
    assert "memory" in err  # the warning
    index = Lab(lab).option_index()
    assert index is not None
    print(out)
    # the same expression as the tests' own index: the same options, and the user's module
    assert len(index.home) == len(home_manager_index().home) + 1
    backup = index.home.get(["backup", "paths"])
    assert backup is not None and backup.type.kind == "list"
    assert backup.description == "What to back up."
    assert index.made_with == "nixosConfigurations.alpha with ./backup.nix"
    git_enable = index.home.get(["programs", "git", "enable"])
    assert git_enable is not None and git_enable.type.kind == "bool"
    assert index.nixos.get(["home-manager", "users"]) is not None
    kime = index.home.get(["i18n", "inputMethod", "kime", "config"])
    assert kime is not None and kime.removed == (
        "Please use 'i18n.inputMethod.kime.extraConfig' instead."
    )
    [file] = index_files(lab)
    assert file.parent.parent.name == ".homelab"
    assert "options" not in git.Repo(lab).untracked_files  # .homelab/ ignores itself


def test_update_on_a_machine_brings_the_index_back(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    rig.add("builder")
    lab = flake_lab(tmp_path, run_cli, ["builder"])
    temporary = set(Path("/tmp").glob("homelab-lock.*"))

    code, out, err = run_cli("--lab", str(lab), "options", "update", "builder")

    assert code == 0, out + err
    assert "builder | note: Nix evaluates every NixOS option" in err
    index = Lab(lab).option_index()
    assert index is not None
    assert len(index.home) == len(home_manager_index().home)
    assert index.made_with == "nixosConfigurations.builder"
    assert set(Path("/tmp").glob("homelab-lock.*")) == temporary  # cleaned up there

    # a damaged index file is remade, never misread
    [file] = index_files(lab)
    file.write_bytes(b"\x1f\x8b not an index")
    assert Lab(lab).option_index() is None
    code, out, err = run_cli("--lab", str(lab), "options", "update", "builder", "--small")
    assert code == 0, out + err
    assert Lab(lab).option_index() == index


def test_bad_inputs_write_nothing(rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path) -> None:
    rig.add("builder")
    bare = rig.add("bare")
    lab = flake_lab(tmp_path, run_cli, ["builder", "bare"])

    code, _out, err = run_cli("--lab", str(lab), "options", "update", "nosuchhost")
    assert code == 2
    assert "nosuchhost" in err

    # a machine without Nix (its `nix` is what sh says of a missing command)
    bin_dir = tmp_path / "bare-bin"
    bin_dir.mkdir()
    for tool in rig.bin.iterdir():
        if tool.name != "nix":  # the rig's own nix stand-in: the other machines keep it
            (bin_dir / tool.name).symlink_to(tool)
    (bin_dir / "nix").write_text('#!/bin/sh\necho "sh: 1: nix: not found" >&2\nexit 127\n')
    (bin_dir / "nix").chmod(0o755)
    bare.stop()
    bare.bin = bin_dir
    bare.start()
    code, _out, err = run_cli("--lab", str(lab), "options", "update", "bare")
    assert code == 1
    assert "bare has no Nix command (nix)" in err
    assert index_files(lab) == []

    # the evaluation fails: Nix's error is shown
    flake = (lab / "flake.nix").read_text()
    (lab / "flake.nix").write_text(
        flake.replace("lib.nixosSystem {", 'throw "this lab is broken on purpose" {', 1)
    )
    git.Repo(lab).git.commit("-am", "a broken flake")
    code, _out, err = run_cli("--lab", str(lab), "options", "update", "builder")
    assert code == 1
    assert "Nix could not evaluate the options on the machine (nothing written)" in err
    assert "this lab is broken on purpose" in err
    assert index_files(lab) == []


def test_without_nix_here_it_asks_for_a_machine(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = flake_lab(tmp_path, run_cli, ["alpha"])
    path = tmp_path / "path"
    path.mkdir()
    found = shutil.which("git")
    assert found is not None
    (path / "git").symlink_to(found)
    monkeypatch.setenv("PATH", str(path))  # git, and no nix

    code, _out, err = run_cli("--lab", str(lab), "options", "update")

    assert code == 1
    assert "Nix is not installed here" in err and "homelab options update HOST" in err
    assert index_files(lab) == []


def test_without_flake_lock_it_says_to_lock_first(tmp_path: Path, run_cli: RunCli) -> None:
    lab = make_lab(tmp_path / "lab", [])
    code, _out, err = run_cli("--lab", str(lab), "options", "update")
    assert code == 2
    assert "flake.lock" in err and "homelab lock" in err
    assert Lab(lab).option_index() is None


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    yield


def test_a_machine_with_little_memory_is_asked_only_with_small() -> None:
    assert too_small("2009876\n") == 2009876  # a Raspberry Pi with 2 GB
    assert too_small("8000000") is None
    assert too_small("") is None  # not told: asked


def test_a_host_name_reaches_nix_as_text_never_as_code() -> None:
    # the expression `options update` runs names the host inside a Nix string: `${...}`
    # in a name must stay text (a JSON string would let Nix evaluate it)
    host = 'web${builtins.abort "evaluated"}"\\'
    call = eval_command("/tmp/lab dir", host, "/tmp/expr")[-1]
    arguments = call.split(" ", 2)[2]  # after `import "…/fromflake.nix"`
    out = _run(["--eval", "--strict", "--json", "-E", f"({arguments}).host"])
    assert json.loads(out) == host
