"""`homelab lock` in a lab with lab.yaml: flake.nix is generated from lab.yaml before Nix
locks it, so the real `nix flake lock` pins every input lab.yaml has and drops those it no
longer has; the commit holds lab.yaml, flake.nix and flake.lock and says what was pinned.
Inputs are local `path:` stand-ins (no network)."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from homelab.labconfig.lock import read_lock
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.test_adopt_lock import nix_or_skip
from tests.sshd.rig import Rig


def stand_ins(tmp_path: Path) -> dict[str, Path]:
    """nixpkgs, home-manager, agenix and extra as tiny local flakes; all but nixpkgs
    have a nixpkgs input, which the lab's flake makes follow its own."""
    folders = {}
    for name in ("nixpkgs", "home-manager", "agenix", "extra"):
        folder = tmp_path / "inputs" / name
        folder.mkdir(parents=True)
        if name == "nixpkgs":
            text = "{ outputs = { self }: { lib = { }; }; }\n"
        else:
            nixpkgs = tmp_path / "inputs" / "nixpkgs"
            text = (
                f'{{ inputs.nixpkgs.url = "path:{nixpkgs}";\n'
                "  outputs = { self, nixpkgs }: { nixosModules.default = { }; }; }\n"
            )
        (folder / "flake.nix").write_text(text)
        folders[name] = folder
    return folders


def lab_yaml(inputs: dict[str, Path], extra: bool = True) -> str:
    text = (
        'release: "26.05"\n'
        f'nixpkgs: {{url: "path:{inputs["nixpkgs"]}"}}\n'
        f'home-manager: {{url: "path:{inputs["home-manager"]}"}}\n'
        "inputs:\n"
        f'  agenix: {{url: "path:{inputs["agenix"]}"}}\n'
    )
    if extra:
        text += f'  extra: {{url: "path:{inputs["extra"]}", follows: false}}\n'
    return text


def a_lab(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    lab = make_lab(tmp_path / "lab", [])
    inputs = stand_ins(tmp_path)
    (lab / "flake.nix").unlink()  # the skeleton's: lab.yaml's is generated instead
    (lab / "lab.yaml").write_text(lab_yaml(inputs))
    repo = git.Repo(lab)
    repo.git.add("--all")
    repo.index.commit("lab.yaml, not yet locked")
    return lab, inputs


def test_lock_generates_the_flake_first_and_pins_every_input(
    tmp_path: Path, run_cli: RunCli
) -> None:
    nix_or_skip()
    lab, _ = a_lab(tmp_path)

    code, out, err = run_cli("--lab", str(lab), "lock")

    assert code == 0, out + err
    assert "wrote flake.nix (from lab.yaml)" in out
    pins = read_lock((lab / "flake.lock").read_text())
    assert pins is not None
    assert set(pins) == {"nixpkgs", "home-manager", "agenix", "extra"}
    head = git.Repo(lab).head.commit
    assert set(head.stats.files) == {"flake.nix", "flake.lock"}  # lab.yaml was committed
    assert "- agenix pinned at " in str(head.message)
    code, out, err = run_cli("--lab", str(lab), "validate")
    assert "not pinned" not in err, err


def test_an_input_taken_out_of_lab_yaml_leaves_flake_lock(tmp_path: Path, run_cli: RunCli) -> None:
    nix_or_skip()
    lab, inputs = a_lab(tmp_path)
    code, out, err = run_cli("--lab", str(lab), "lock")
    assert code == 0, out + err
    (lab / "lab.yaml").write_text(lab_yaml(inputs, extra=False))

    code, out, err = run_cli("--lab", str(lab), "lock")

    assert code == 0, out + err
    assert "extra" not in (lab / "flake.nix").read_text()
    pins = read_lock((lab / "flake.lock").read_text())
    assert pins is not None and set(pins) == {"nixpkgs", "home-manager", "agenix"}
    head = git.Repo(lab).head.commit
    assert set(head.stats.files) == {"lab.yaml", "flake.nix", "flake.lock"}
    assert str(head.message).endswith("lab:\n- extra removed\n- extra no longer pinned\n")


def test_a_hand_edited_flake_is_not_locked_over(tmp_path: Path, run_cli: RunCli) -> None:
    nix_or_skip()
    lab, _ = a_lab(tmp_path)
    code, out, err = run_cli("--lab", str(lab), "lock")
    assert code == 0, out + err
    lock = (lab / "flake.lock").read_text()
    flake = lab / "flake.nix"
    flake.write_text(flake.read_text().replace("A home lab", "My home lab"))

    code, out, err = run_cli("--lab", str(lab), "lock")

    assert code == 2, out + err
    assert "flake.nix: this generated file was edited by hand" in err
    assert (lab / "flake.lock").read_text() == lock


def test_locking_on_a_machine_drops_a_removed_input_too(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nix_or_skip()
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    machine = rig.add("builder")
    lab = make_lab(tmp_path / "lab", [machine])
    inputs = stand_ins(tmp_path)
    (lab / "flake.nix").unlink()
    (lab / "lab.yaml").write_text(lab_yaml(inputs))
    code, out, err = run_cli("--lab", str(lab), "lock", "builder")
    assert code == 0, out + err
    assert "builder | wrote flake.nix (from lab.yaml)" in out
    assert set(read_lock((lab / "flake.lock").read_text()) or {}) == {
        "nixpkgs",
        "home-manager",
        "agenix",
        "extra",
    }
    (lab / "lab.yaml").write_text(lab_yaml(inputs, extra=False))

    code, out, err = run_cli("--lab", str(lab), "lock", "builder")

    assert code == 0, out + err
    assert set(read_lock((lab / "flake.lock").read_text()) or {}) == {
        "nixpkgs",
        "home-manager",
        "agenix",
    }
    assert str(git.Repo(lab).head.commit.message).endswith(
        "lab:\n- extra removed\n- extra no longer pinned\n"
    )
