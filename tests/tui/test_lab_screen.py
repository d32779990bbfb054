"""The Lab screen (f5) shows lab.yaml: release, inputs with whether flake.lock pins them,
overlays, problems with their places; and the Modules lists of a host and a user.
Editing it there: tests/tui/test_lab_editing.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual.widgets import Input

from homelab.tui.widgets.fields.list import ItemList, ListField
from tests.tui.conftest import REPO, commit_all, git
from tests.tui.pilot import (
    choose_host,
    field,
    open_tab,
    run,
    running,
    screen_text,
    settle,
    type_into,
)

FLAKED = REPO / "tests" / "labs" / "flaked"


@pytest.fixture
def flaked(tmp_path: Path, git_env: None) -> Path:
    """tests/labs/flaked with the repository's catalogue, in a git repository."""
    if shutil.which("git") is None:
        pytest.skip("git is missing")
    root = tmp_path / "flaked"
    shutil.copytree(FLAKED, root)
    shutil.copytree(REPO / "services", root / "services")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "the flaked lab")
    return root


def _lock(root: Path, names: list[str]) -> None:
    """A flake.lock as Nix writes it, pinning `names` from github."""
    nodes: dict[str, object] = {"root": {"inputs": {n: n for n in names}}}
    for n in names:
        owner, repo = {"agenix": ("ryantm", "agenix")}.get(n, ("NixOS", n))
        nodes[n] = {
            "locked": {"rev": "0123456789abcdef", "lastModified": 1780000000, "type": "github"},
            "original": {"type": "github", "owner": owner, "repo": repo},
        }
    (root / "flake.lock").write_text(json.dumps({"nodes": nodes, "root": "root", "version": 7}))


def test_f5_shows_lab_yaml_and_what_is_pinned(flaked: Path) -> None:
    _lock(flaked, ["agenix"])

    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await pilot.press("f5")
            await settle(pilot)
            text = screen_text(app)
            assert app.screen.query_one("#lab-release", Input).value == "26.05"
            assert "Release" in text and "26.05" in text
            assert "agenix" in text and "github:ryantm/agenix" in text
            assert "follows the lab's nixpkgs" in text
            assert "nixos-hardware" in text and "keeps its own nixpkgs" in text
            line = next(x for x in text.splitlines() if "github:ryantm/agenix" in x)
            assert "pinned 0123456" in line
            line = next(x for x in text.splitlines() if "github:NixOS/nixos-hardware" in x)
            assert "NOT PINNED" in line
            assert "1. agenix.overlays.default" in text
            assert "2. ./overlays/tools.nix" in text
            assert "warning: lab.yaml:" in text and "input nixos-hardware is not pinned" in text
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is app.main

    run(scenario)


def test_the_palette_opens_the_lab_screen(flaked: Path) -> None:
    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"Lab")
            await pilot.pause(0.5)  # the palette searches as you type
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert "Overlays · applied to every host's pkgs, in order" in screen_text(app)

    run(scenario)


def test_lab_without_lab_yaml_says_flake_nix_is_hand_kept(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("f5")
            await settle(pilot)
            assert "hand-kept flake.nix" in screen_text(app)

    run(scenario)


def test_lab_yaml_with_problems_lists_them_with_places(flaked: Path) -> None:
    (flaked / "lab.yaml").write_text(
        'release: "26.05"\ninputs:\n  agenix: {url: "github:ryantm/agenix"}\n'
        "overlays:\n  - ./overlays/missing.nix\n"
    )

    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await pilot.press("f5")
            await settle(pilot)
            text = screen_text(app)
            assert app.screen.query_one("#lab-release", Input).value == "26.05"
            assert "error: lab.yaml:5:" in text, text
            assert "./overlays/missing.nix" in text

    run(scenario)


def test_modules_lists_of_the_host_and_of_a_user(flaked: Path) -> None:
    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await choose_host(pilot, "box")
            await open_tab(pilot, "system")
            modules = field(app, ("modules",), ListField)
            items = modules.query_one(ItemList)
            shown = [str(items.get_option_at_index(i).prompt) for i in range(items.option_count)]
            assert shown[:3] == [
                "agenix.nixosModules.default",
                "nixos-hardware.nixosModules.common-pc-ssd",
                "./secrets.nix",
            ]
            await type_into(pilot, modules.query_one(Input), "nope.nixosModules.x")
            await pilot.press("enter")
            await settle(pilot)
            text = screen_text(app)
            assert "Modules: NixOS modules the host imports" in text  # the help line
            # (the panel wraps its lines where it may: the lab's warning about flake.lock
            # is listed too)
            assert "modules[3]: module 'nope.nixosModules.x'" in text
            assert items.option_count == 4
            items.focus()
            await pilot.pause()
            await pilot.press("end", "delete")
            await settle(pilot)
            assert items.option_count == 3
            assert "Problems: none" in screen_text(app)
            await open_tab(pilot, "home")
            text = screen_text(app)
            assert "agenix.homeManagerModules.default" in text
            assert "./home-secrets.nix" in text

    run(scenario)
