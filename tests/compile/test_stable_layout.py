"""The layout of generated Nix is stable: adding a user or a program beside others only
adds lines, it never re-nests its neighbours (one added user used to rewrite 59 lines of
home.nix); and the new layout means what the old one did."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from homelab.lab import Lab
from homelab.nix.expr import Block, Comment, NixValue
from homelab.nix.meaning import same_meaning
from homelab.nix.render import render
from tests.compiled import REPO
from tests.nixtools import nix_eval, nix_parse

ALICE = """\
  alice:
    groups: [wheel, audio]
    home:
      stateVersion: "24.05"
      programs:
        git: {enable: true}
"""


def _lab(root: Path, profile_edit: tuple[str, str] | None = None) -> Lab:
    root.mkdir()
    for name in ("hosts", "services", "secrets", "flake.nix"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("*.nix"))
        else:
            shutil.copy(src, root / name)
    hardware = "hosts/nixos-demo/hardware-configuration.nix"
    shutil.copy(REPO / hardware, root / hardware)
    if profile_edit is not None:
        path = root / "hosts/nixos-demo/profile.yaml"
        old, new = profile_edit
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
    return Lab(root)


def _files(lab: Lab) -> dict[str, str]:
    state = lab.load()
    assert not state.all_problems()
    return lab.generated(state)


def _diff(old: str, new: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines, the header's hash left out."""
    removed, added = [], []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")) or "homelab-hash:" in line:
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


def test_one_more_user_only_adds_lines(tmp_path: Path) -> None:
    before = _files(_lab(tmp_path / "before"))
    after = _files(_lab(tmp_path / "after", ("services:\n", ALICE + "services:\n")))
    removed, added = _diff(
        before["hosts/nixos-demo/users.nix"], after["hosts/nixos-demo/users.nix"]
    )
    assert removed == []
    assert added == [
        "  # users.alice",
        "  users.users.alice = {",
        "    extraGroups = [",
        '      "wheel"',
        '      "audio"',
        "    ];",
        "    isNormalUser = true;",
        "  };",
    ]
    removed, added = _diff(before["hosts/nixos-demo/home.nix"], after["hosts/nixos-demo/home.nix"])
    assert removed == []
    assert len(added) == 7  # comment, block, home.stateVersion, git block (3), closing brace
    assert "    users.alice = {" in added
    nix_parse(after["hosts/nixos-demo/home.nix"])


def test_one_more_program_only_adds_lines(tmp_path: Path) -> None:
    before = _files(_lab(tmp_path / "before"))
    after = _files(
        _lab(
            tmp_path / "after",
            (
                "        bash: {enable: true}\n",
                "        bash: {enable: true}\n        git: {enable: true}\n",
            ),
        )
    )
    removed, added = _diff(before["hosts/nixos-demo/home.nix"], after["hosts/nixos-demo/home.nix"])
    assert removed == []  # the diff may pair the new block's lines either way round
    assert sorted(added) == sorted(["      programs.git = {", "        enable = true;", "      };"])


# a set, and the same set with one more attribute somewhere deep inside
_GROWN: list[tuple[NixValue, NixValue]] = [
    ({"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 1, "d": 2}}}),
    ({"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 1}, "e": [1]}}),
    (
        {"u": {"x": Comment({"k": {"v": 1}}, "x")}},
        {"u": {"x": Comment({"k": {"v": 1}}, "x"), "y": 2}},
    ),
    ({"s": Block({"p": {"q": "r"}})}, {"s": Block({"p": {"q": "r", "z": True}})}),
    ({"l": [{"a": {"b": 1}}]}, {"l": [{"a": {"b": 1, "c": 2}}]}),
]


@pytest.mark.parametrize(("small", "grown"), _GROWN)
def test_a_sibling_only_adds_lines(small: NixValue, grown: NixValue) -> None:
    removed, added = _diff(render(small), render(grown))
    assert removed == []
    assert len(added) == 1


def test_the_new_layout_means_what_the_old_one_did() -> None:
    old = (
        "{ config, ... }:\n{\n  home-manager = {\n    users.demouser = {\n"
        "      programs = {\n        bash.enable = true;\n"
        "        starship = {\n          enable = true;\n"
        "          settings.x = ''\n            a\n            b\n          '';\n"
        "        };\n      };\n    };\n  };\n}\n"
    )
    new = (
        "{ config, ... }:\n{\n  home-manager = {\n    # users.demouser.home\n"
        "    users.demouser = {\n      programs.bash = {\n        enable = true;\n      };\n"
        "      programs.starship = {\n        enable = true;\n"
        "        settings.x = ''\n          a\n          b\n        '';\n"
        "      };\n    };\n  };\n}\n"
    )
    assert same_meaning(old, new)
    assert nix_eval(f"({old}) {{ config = 1; }}") == nix_eval(f"({new}) {{ config = 1; }}")
    assert not same_meaning(
        old, new.replace("bash = {\n        enable = true", "bash = {\n        enable = false")
    )
    assert not same_meaning(old, new.replace("          b\n", "          c\n"))
    assert not same_meaning(old, new.replace("programs.bash", "programs.zsh"))
