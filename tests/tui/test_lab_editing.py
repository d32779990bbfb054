"""The Lab screen (f5) edits lab.yaml with keys: the release, inputs added, edited and
removed, overlays added, removed and moved. ctrl+s checks the whole file before anything
is written, writes lab.yaml with its comments and the flake.nix it makes, and offers a
commit in the lab's words; Escape with unsaved changes asks first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Input

from homelab import labconfig
from homelab.labconfig.flake import flake_text
from homelab.tui.screens.commit import CommitDialog
from homelab.tui.screens.dialogs import Confirm, Refused
from homelab.tui.screens.help import HelpScreen
from homelab.tui.screens.labforms import InputForm, OverlayForm
from homelab.tui.screens.labview import InputList, LabScreen, OverlayList
from tests.conftest import tree_hash
from tests.tui.conftest import REPO, commit_all, git
from tests.tui.pilot import choose_host, focus, run, running, screen_text, settle, type_into

FLAKED = REPO / "tests" / "labs" / "flaked"
COMMENT = "# the lab's own words, kept\n"


@pytest.fixture
def flaked(tmp_path: Path, git_env: None) -> Path:
    """tests/labs/flaked, with a comment of its owner in lab.yaml, in a git repository."""
    if shutil.which("git") is None:
        pytest.skip("git is missing")
    root = tmp_path / "flaked"
    shutil.copytree(FLAKED, root)
    shutil.copytree(REPO / "services", root / "services")
    lab_yaml = root / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text().replace("inputs:\n", "inputs:\n  " + COMMENT))
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "the flaked lab")
    return root


def _flake_of(root: Path) -> str:
    config, problems = labconfig.load(
        lambda rel: (root / rel).read_text() if (root / rel).is_file() else None
    )
    assert config is not None, problems
    return flake_text(config)


async def _open(pilot: object) -> None:
    await pilot.press("f5")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


def test_release_input_and_overlay_edited_saved_and_committed(flaked: Path) -> None:
    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await _open(pilot)
            screen = app.screen
            assert isinstance(screen, LabScreen)
            await type_into(pilot, screen.query_one("#lab-release", Input), "26.11")
            await pilot.press("tab")  # to the inputs
            await settle(pilot)
            assert isinstance(app.focused, InputList)
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, InputForm)
            await pilot.press(*"sops-nix", "enter", *"github:Mic92/sops-nix", "enter")
            await settle(pilot)
            assert app.screen is screen
            text = screen_text(app)
            assert "sops-nix        github:Mic92/sops-nix  follows the lab's nixpkgs" in text
            assert "unsaved changes" in text
            overlays = screen.query_one(OverlayList)
            await focus(pilot, overlays)
            await pilot.press("down", "delete")  # ./overlays/tools.nix
            await settle(pilot)
            assert "./overlays/tools.nix" not in screen_text(app)
            assert "2. " not in screen_text(app)
            before = (flaked / "lab.yaml").read_text()
            assert "26.11" not in before  # nothing written before ctrl+s

            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            assert "Commit lab.yaml" in screen_text(app)
            await pilot.press("ctrl+s")  # commit, with the subject offered
            await settle(pilot)
            assert app.screen is screen
            status = screen_text(app)
            assert "homelab lock" in status and "sops-nix" in status

            await pilot.press("escape")  # saved: no question
            await settle(pilot)
            assert app.screen is app.main

        text = (flaked / "lab.yaml").read_text()
        assert text.startswith("# A lab whose flake.nix homelab generates")
        assert "  " + COMMENT in text
        assert 'release: "26.11"' in text
        assert '  sops-nix: {url: "github:Mic92/sops-nix"}\n' in text
        assert "./overlays/tools.nix" not in text and "  - agenix.overlays.default\n" in text
        assert (flaked / "flake.nix").read_text() == _flake_of(flaked)
        subject = git(flaked, "log", "-1", "--format=%s").strip()
        assert subject == "lab: release 26.05 → 26.11; sops-nix added and 1 more", subject
        names = git(flaked, "show", "--name-only", "--format=", "HEAD").split()
        assert names == ["flake.nix", "lab.yaml"]
        assert git(flaked, "status", "--porcelain") == ""

    run(scenario)


def test_an_input_edited_and_an_overlay_added_and_moved(flaked: Path) -> None:
    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await _open(pilot)
            screen = app.screen
            inputs = screen.query_one(InputList)
            await focus(pilot, inputs)
            await pilot.press("end", "enter")  # nixos-hardware
            await settle(pilot)
            form = app.screen
            assert isinstance(form, InputForm)
            assert form.query_one("#input-url", Input).value == "github:NixOS/nixos-hardware"
            await pilot.press("tab", "space", "ctrl+s")  # it follows the lab's nixpkgs now
            await settle(pilot)
            assert "nixos-hardware  github:NixOS/nixos-hardware  follows" in screen_text(app)
            await pilot.press("home", "delete")  # nixpkgs comes with the release
            await settle(pilot)
            assert "nixpkgs " in screen_text(app)
            overlays = screen.query_one(OverlayList)
            await focus(pilot, overlays)
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, OverlayForm)
            await pilot.press(*"./overlays/tools2.nix", "enter")
            await settle(pilot)
            await pilot.press("end", "shift+up", "shift+up")
            await settle(pilot)
            text = screen_text(app)
            assert "1. ./overlays/tools2.nix" in text and "2. agenix.overlays.default" in text
            assert "overlay file './overlays/tools2.nix' is missing" in text  # not yet
            (flaked / "overlays" / "tools2.nix").write_text("final: prev: { }\n")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            await pilot.press("escape")  # not now
            await settle(pilot)

        text = (flaked / "lab.yaml").read_text()
        assert '  nixos-hardware: {url: "github:NixOS/nixos-hardware"}\n' in text
        assert text.endswith(
            "overlays:\n  - ./overlays/tools2.nix\n  - agenix.overlays.default\n"
            "  - ./overlays/tools.nix\n"
        )
        assert git(flaked, "log", "--format=%s") == "the flaked lab\n"  # not committed

    run(scenario)


def test_a_bad_url_or_name_shows_the_problem_and_writes_nothing(flaked: Path) -> None:
    before = tree_hash(flaked)

    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await _open(pilot)
            await focus(pilot, app.screen.query_one(InputList))
            await pilot.press("a")
            await settle(pilot)
            await pilot.press(*"2fa", "enter", *"github:has space", "enter")
            await settle(pilot)
            text = screen_text(app)
            assert "error: lab.yaml:7:" in text, text  # the url, at its place
            assert "'2fa' cannot name an input" not in text  # said once the url is right
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, Refused)
            assert "Not saved: lab.yaml" in screen_text(app)
            assert "lab.yaml:7:" in screen_text(app)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("end", "enter")  # the new input: its url made right
            await settle(pilot)
            url = app.screen.query_one("#input-url", Input)
            url.value = "github:a/b"
            await pilot.press("ctrl+s")
            await settle(pilot)
            text = screen_text(app)
            assert "'2fa' cannot name an input" in text and "lab.yaml:7:" in text
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, Refused)

    run(scenario)
    assert tree_hash(flaked) == before


def test_leaving_with_unsaved_changes_asks_first(flaked: Path) -> None:
    before = (flaked / "lab.yaml").read_text()

    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await _open(pilot)
            screen = app.screen
            await type_into(pilot, screen.query_one("#lab-release", Input), "26.11")
            await pilot.press("ctrl+q")  # quitting would lose them: not now
            await settle(pilot)
            assert app.is_running and app.screen is screen
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            assert "Unsaved changes" in screen_text(app)
            await pilot.press("enter")  # Go back: the change stays
            await settle(pilot)
            assert app.screen is screen
            assert screen.query_one("#lab-release", Input).value == "26.11"
            await pilot.press("escape")
            await settle(pilot)
            await focus(pilot, app.screen.query_one("#answer-discard"))
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is app.main

    run(scenario)
    assert (flaked / "lab.yaml").read_text() == before


def test_a_lab_without_lab_yaml_or_flake_is_offered_one(lab: Path) -> None:
    git(lab, "rm", "-q", "flake.nix")
    commit_all(lab, "no flake")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await _open(pilot)
            assert "Press c to start one (release 26.05)" in screen_text(app)
            await pilot.press("c")
            await settle(pilot)
            assert app.screen.query_one("#lab-release", Input).value == "26.05"
            assert not (lab / "lab.yaml").exists()
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            await pilot.press("ctrl+s")
            await settle(pilot)

    run(scenario)
    assert (lab / "lab.yaml").read_text() == labconfig.lab_yaml_text(labconfig.DEFAULT_RELEASE)
    assert (lab / "flake.nix").read_text() == _flake_of(lab)
    subject = git(lab, "log", "-1", "--format=%s").strip()
    assert subject == "lab: lab.yaml created (release 26.05)"


def test_a_hand_kept_flake_is_not_offered_a_lab_yaml(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await _open(pilot)
            text = screen_text(app)
            assert "hand-kept flake.nix" in text and "Press c" not in text
            await pilot.press("c")
            await settle(pilot)
            assert not (lab / "lab.yaml").exists()

    run(scenario)


def test_help_lists_the_keys_of_the_lab_screen(flaked: Path) -> None:
    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await _open(pilot)
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            text = screen_text(app)
            for said in ("Save", "Move up", "Move down", "Add", "Remove", "Back"):
                assert said in text, said

    run(scenario)


def test_the_editor_checks_hosts_anew_after_lab_yaml_is_saved(flaked: Path) -> None:
    """box imports nixos-hardware's module: with the input gone, box says so at once."""

    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await choose_host(pilot, "box")
            assert "which lab.yaml does not have" not in screen_text(app)
            await _open(pilot)
            await focus(pilot, app.screen.query_one(InputList))
            await pilot.press("end", "delete")  # nixos-hardware
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.press("escape")  # no commit now
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is app.main
            assert "'nixos-hardware', which lab.yaml does not have" in screen_text(app)

    run(scenario)
