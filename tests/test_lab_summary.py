"""Lab.lab_settings: lab.yaml as the editor's Lab screen shows it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from homelab.lab import Lab

FLAKED = Path(__file__).resolve().parent / "labs" / "flaked"


def _lab(tmp_path: Path) -> Path:
    root = tmp_path / "flaked"
    shutil.copytree(FLAKED, root)
    return root


def _pin(root: Path, name: str, owner: str, repo: str) -> None:
    nodes = {
        "root": {"inputs": {name: name}},
        name: {
            "locked": {"rev": "fedcba9876543210", "lastModified": 1780000000},
            "original": {"type": "github", "owner": owner, "repo": repo},
        },
    }
    (root / "flake.lock").write_text(json.dumps({"nodes": nodes, "root": "root", "version": 7}))


def test_a_lab_without_lab_yaml_says_so(tmp_path: Path) -> None:
    root = _lab(tmp_path)
    (root / "lab.yaml").unlink()
    assert not Lab(root).lab_settings().present


def test_inputs_overlays_and_what_flake_lock_pins(tmp_path: Path) -> None:
    root = _lab(tmp_path)
    _pin(root, "agenix", "ryantm", "agenix")
    shown = Lab(root).lab_settings()
    assert shown.release == "26.05"
    by_name = {i.name: i for i in shown.inputs}
    assert list(by_name) == ["nixpkgs", "home-manager", "agenix", "nixos-hardware"]
    assert by_name["agenix"].pinned.startswith("fedcba9 (")
    assert by_name["agenix"].follows is True
    assert by_name["nixos-hardware"].follows is False and by_name["nixos-hardware"].pinned == ""
    assert by_name["nixpkgs"].follows is None
    assert shown.overlays == ("agenix.overlays.default", "./overlays/tools.nix")
    assert [p.message.split(" (")[0] for p in shown.problems if "nixos-hardware" in p.message]


def test_an_input_pinned_from_another_reference_is_not_pinned(tmp_path: Path) -> None:
    root = _lab(tmp_path)
    _pin(root, "agenix", "someone", "agenix-fork")
    agenix = next(i for i in Lab(root).lab_settings().inputs if i.name == "agenix")
    assert agenix.pinned == "" and agenix.pinned_from == "github:someone/agenix-fork"


def test_lab_yaml_with_problems_still_shows_what_it_can(tmp_path: Path) -> None:
    root = _lab(tmp_path)
    (root / "lab.yaml").write_text('release: "26.05"\noverlays: [nope.overlays.default]\n')
    shown = Lab(root).lab_settings()
    assert shown.present and shown.release == "26.05"
    assert shown.overlays == ("nope.overlays.default",)
    assert any(p.place.line == 2 and not p.warning for p in shown.problems)
