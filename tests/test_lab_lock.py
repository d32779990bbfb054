"""The lab's flake inputs against flake.lock, and their changes said in the lab's words."""

from __future__ import annotations

import json
from typing import Any

from homelab.errors import Place
from homelab.labconfig import as_written
from homelab.labconfig.lock import (
    input_changes,
    lock_problems,
    pin_changes,
    read_lock,
)

LAB = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
  nixos-hardware: {url: "github:NixOS/nixos-hardware", follows: false}
"""


def github(owner: str, repo: str, ref: str | None = None) -> dict[str, Any]:
    original = {"owner": owner, "repo": repo, "type": "github"}
    return {**original, "ref": ref} if ref else original


def lock(pins: dict[str, tuple[dict[str, Any], str]], when: int = 1_780_000_000) -> str:
    """A flake.lock as Nix 2.8 writes it: the root's inputs, each a node with `locked`
    and `original`."""
    nodes: dict[str, Any] = {"root": {"inputs": {name: name for name in pins}}}
    for name, (original, rev) in pins.items():
        locked = {**original, "rev": rev, "lastModified": when, "narHash": "sha256-x"}
        locked.pop("ref", None)
        nodes[name] = {"locked": locked, "original": original}
    return json.dumps({"nodes": nodes, "root": "root", "version": 7}, indent=2)


ALL_PINNED = {
    "nixpkgs": (github("NixOS", "nixpkgs", "nixos-26.05"), "a" * 40),
    "home-manager": (github("nix-community", "home-manager", "release-26.05"), "b" * 40),
    "agenix": (github("ryantm", "agenix"), "c" * 40),
    "nixos-hardware": (github("NixOS", "nixos-hardware"), "d" * 40),
}


def test_the_inputs_are_the_release_s_and_lab_yaml_s_each_at_its_line() -> None:
    written = as_written(LAB)
    assert written is not None
    found = written.inputs
    assert list(found) == ["nixpkgs", "home-manager", "agenix", "nixos-hardware"]
    assert found["nixpkgs"].url == "github:NixOS/nixpkgs/nixos-26.05"
    assert found["home-manager"].url == "github:nix-community/home-manager/release-26.05"
    assert found["agenix"].place == Place("lab.yaml", 3, 3)
    assert found["nixos-hardware"].follows is False


def test_a_lock_that_pins_every_input_is_quiet() -> None:
    assert lock_problems(LAB, lock(ALL_PINNED), warning=True) == []


def test_an_input_the_lock_lacks_is_a_warning_at_its_line_naming_homelab_lock() -> None:
    pins = {k: v for k, v in ALL_PINNED.items() if k != "agenix"}
    (found,) = lock_problems(LAB, lock(pins), warning=True)
    assert found.warning
    assert found.place == Place("lab.yaml", 3, 3)
    assert "input agenix is not pinned" in found.message
    assert "fetch it unpinned" in found.message
    assert "homelab lock" in found.hint


def test_without_flake_lock_no_input_is_pinned_said_once() -> None:
    (found,) = lock_problems(LAB, None, warning=False)
    assert found.message == (
        "there is no flake.lock: no input is pinned (nixpkgs, home-manager, agenix, "
        "nixos-hardware): each machine would fetch them unpinned"
    )
    assert found.place == Place("lab.yaml", 1, 1)  # at release:, which nixpkgs follows
    assert not found.warning
    (found,) = lock_problems(LAB, "{}", warning=True)
    assert found.message.startswith("flake.lock is not Nix's lock: no input is pinned")


def test_a_release_the_lock_does_not_pin_is_unpinned() -> None:
    newer = LAB.replace("26.05", "26.11")
    found = lock_problems(newer, lock(ALL_PINNED), warning=True)
    assert [p.message for p in found] == [
        "input nixpkgs: flake.lock pins github:NixOS/nixpkgs/nixos-26.05, lab.yaml asks for "
        "github:NixOS/nixpkgs/nixos-26.11: each machine would fetch it unpinned",
        "input home-manager: flake.lock pins github:nix-community/home-manager/release-26.05, "
        "lab.yaml asks for github:nix-community/home-manager/release-26.11: each machine "
        "would fetch it unpinned",
    ]


def test_a_local_path_input_is_compared_by_its_path() -> None:
    text = 'release: "26.05"\ninputs:\n  mine: {url: "path:/src/mine"}\n'
    pins = {**ALL_PINNED, "mine": ({"type": "path", "path": "/src/mine"}, "")}
    assert lock_problems(text, lock(pins), warning=True) == []
    moved = text.replace("/src/mine", "/src/other")
    (found,) = lock_problems(moved, lock(pins), warning=True)
    assert "flake.lock pins path:/src/mine" in found.message


def test_a_lab_without_lab_yaml_or_with_a_broken_one_is_not_checked_here() -> None:
    assert lock_problems(None, None, warning=True) == []
    assert lock_problems("inputs: [", None, warning=True) == []


def test_a_lock_nix_did_not_write_pins_nothing() -> None:
    assert read_lock("not json") is None
    assert read_lock("[]") is None
    assert read_lock(None) is None
    follows = json.dumps({"nodes": {"root": {"inputs": {"x": ["nixpkgs"]}}}, "root": "root"})
    assert read_lock(follows) == {}


def test_input_changes_in_the_lab_s_words() -> None:
    newer = """\
release: "26.11"
inputs:
  agenix: {url: "github:someone/agenix"}
  impermanence: {url: "github:nix-community/impermanence"}
overlays: [agenix.overlays.default]
"""
    assert input_changes(LAB, newer) == [
        "nixpkgs: 26.05 → 26.11",
        "home-manager: 26.05 → 26.11",
        "agenix: url github:ryantm/agenix → github:someone/agenix",
        "impermanence added",
        "nixos-hardware removed",
        "overlays: + agenix.overlays.default",
    ]
    assert input_changes(LAB, LAB) == []
    assert input_changes(None, LAB)[0] == "nixpkgs added (26.05)"


def test_a_url_of_its_own_instead_of_the_release_is_said_as_urls() -> None:
    own = LAB.replace(
        'release: "26.05"\n',
        'release: "26.05"\nnixpkgs: {url: "github:NixOS/nixpkgs/nixos-unstable"}\n',
    )
    assert input_changes(LAB, own) == ["nixpkgs: 26.05 → github:NixOS/nixpkgs/nixos-unstable"]


def test_following_the_lab_s_nixpkgs_or_not_is_a_change() -> None:
    loose = LAB.replace(
        'agenix: {url: "github:ryantm/agenix"}',
        'agenix: {url: "github:ryantm/agenix", follows: false}',
    )
    assert input_changes(LAB, loose) == ["agenix: no longer follows the lab's nixpkgs"]


def test_pin_changes_say_which_input_moved_and_to_when() -> None:
    moved = {**ALL_PINNED, "nixpkgs": (github("NixOS", "nixpkgs", "nixos-26.05"), "e" * 40)}
    del moved["agenix"]
    moved["stylix"] = (github("danth", "stylix"), "f" * 40)
    assert pin_changes(lock(ALL_PINNED), lock(moved, when=1_790_000_000)) == [
        "nixpkgs pinned anew: aaaaaaa (2026-05-28) → eeeeeee (2026-09-21)",
        "stylix pinned at fffffff (2026-09-21)",
        "agenix no longer pinned",
    ]


OVERRIDDEN = """\
release: "26.05"
nixpkgs: {url: "github:NixOS/nixpkgs/nixos-unstable"}
home-manager: {url: "github:nix-community/home-manager"}
"""


def test_an_override_is_the_input_the_lock_must_pin_at_its_own_line() -> None:
    """nixpkgs: {url: ...} replaces the release's: a lock of the release's urls is the
    wrong lock, said at the override's line, not at `release:`."""
    release_pins = {k: v for k, v in ALL_PINNED.items() if k in ("nixpkgs", "home-manager")}
    found = lock_problems(OVERRIDDEN, lock(release_pins), warning=True)
    assert [(p.place, p.message) for p in found] == [
        (
            Place("lab.yaml", 2, 1),
            "input nixpkgs: flake.lock pins github:NixOS/nixpkgs/nixos-26.05, lab.yaml asks "
            "for github:NixOS/nixpkgs/nixos-unstable: each machine would fetch it unpinned",
        ),
        (
            Place("lab.yaml", 3, 1),
            "input home-manager: flake.lock pins github:nix-community/home-manager/"
            "release-26.05, lab.yaml asks for github:nix-community/home-manager: each "
            "machine would fetch it unpinned",
        ),
    ]
    override_pins = {
        "nixpkgs": (github("NixOS", "nixpkgs", "nixos-unstable"), "a" * 40),
        "home-manager": (github("nix-community", "home-manager"), "b" * 40),
    }
    assert lock_problems(OVERRIDDEN, lock(override_pins), warning=True) == []


def test_an_override_changing_is_said_in_the_lab_s_words() -> None:
    plain = 'release: "26.05"\n'
    unstable = plain + 'nixpkgs: {url: "github:NixOS/nixpkgs/nixos-unstable"}\n'
    rolling = plain + 'nixpkgs: {url: "github:NixOS/nixpkgs/nixpkgs-unstable"}\n'
    assert input_changes(plain, unstable) == [
        "nixpkgs: 26.05 → github:NixOS/nixpkgs/nixos-unstable"
    ]
    assert input_changes(unstable, rolling) == [
        "nixpkgs: url github:NixOS/nixpkgs/nixos-unstable → github:NixOS/nixpkgs/nixpkgs-unstable"
    ]
    assert input_changes(rolling, plain) == [
        "nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable → 26.05"
    ]
    # a new release moves only what follows it: the overridden nixpkgs stays
    assert input_changes(unstable, unstable.replace("26.05", "26.11")) == [
        "home-manager: 26.05 → 26.11"
    ]
