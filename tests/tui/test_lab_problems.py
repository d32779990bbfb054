"""Problems of the lab as a whole (lab.yaml's, an input flake.lock does not pin) are in
the editor's Problems panel of every host, at their place in lab.yaml; and the panel,
once reached, has its first problem chosen, so enter jumps to it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from homelab.errors import Problem
from homelab.tui.widgets.problems import ProblemsPanel
from tests.tui.conftest import REPO, commit_all, git
from tests.tui.pilot import choose_host, open_tab, run, running, settle

FLAKED = REPO / "tests" / "labs" / "flaked"


@pytest.fixture
def flaked(tmp_path: Path, git_env: None) -> Path:
    """tests/labs/flaked with a second host, the repository's catalogue, in git."""
    if shutil.which("git") is None:
        pytest.skip("git is missing")
    root = tmp_path / "flaked"
    shutil.copytree(FLAKED, root)
    shutil.copytree(root / "hosts" / "box", root / "hosts" / "shed")
    profile = root / "hosts" / "shed" / "profile.yaml"
    profile.write_text(profile.read_text().replace("box.lan", "shed.lan"))
    shutil.copytree(REPO / "services", root / "services")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "the flaked lab")
    return root


def _lab_lines(problems: list[Problem]) -> list[str]:
    return [
        f"{'warning' if p.warning else 'error'}: {p.place}: {p.message}"
        for p in problems
        if p.place.file == "lab.yaml"
    ]


def test_unpinned_inputs_are_warnings_of_every_host_at_their_place(flaked: Path) -> None:
    """There is no flake.lock: said once, at the first input (release: line 2)."""

    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            for folder in ("box", "shed", "box"):
                await choose_host(pilot, folder)
                await settle(pilot)
                panel = app.main.query_one(ProblemsPanel)
                (said,) = _lab_lines(panel.problems)
                assert said.startswith(
                    "warning: lab.yaml:2:1: there is no flake.lock: no input is pinned"
                ), said
                assert "warning" in str(panel.border_title)

    run(scenario)


def test_lab_yaml_errors_are_in_every_host_s_panel(flaked: Path) -> None:
    (flaked / "lab.yaml").write_text(
        'release: "26.05"\ninputs:\n  agenix: {url: "github:ryantm/agenix"}\n'
        "overlays:\n  - nope.overlays.default\n"
    )

    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            for folder in ("shed", "box"):
                await choose_host(pilot, folder)
                await settle(pilot)
                lines = _lab_lines(app.main.query_one(ProblemsPanel).problems)
                assert any(
                    line.startswith("error: lab.yaml:5:5: overlay 'nope.overlays.default'")
                    for line in lines
                ), lines

    run(scenario)


def test_enter_on_the_first_problem_jumps_without_moving_first(flaked: Path) -> None:
    profile = flaked / "hosts" / "box" / "profile.yaml"
    profile.write_text(profile.read_text().replace("systemd-boot", "lilo"))

    async def scenario() -> None:
        async with running(flaked) as (app, pilot):
            await choose_host(pilot, "box")
            await open_tab(pilot, "users")
            await settle(pilot)
            panel = app.main.query_one(ProblemsPanel)
            assert panel.problems[0].path == "hardware.boot.loader", panel.problems
            await pilot.press("f6")
            await settle(pilot)
            assert app.focused is panel
            assert panel.highlighted == 0
            await pilot.press("enter")
            await settle(pilot)
            assert app.main.host_editor.active_tab == "system"
            assert app.focused is not panel

    run(scenario)
