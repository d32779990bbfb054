"""The editor keeps a profile's `deploy.checks` (turned-off services, graces) when a
person edits the Network tab's deploy fields and saves: none of it is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from homelab.lab import Lab
from homelab.tui.screens.commit import CommitDialog
from homelab.tui.widgets import fields as f
from tests.tui.conftest import GIT_ENV, commit_all, git
from tests.tui.pilot import choose_host, field, open_tab, run, running, settle, type_into

REPO = Path(__file__).resolve().parents[2]
DEMO = "hosts/nixos-demo/profile.yaml"
CHECKS = """\
  checks:
    grace: 45
    firstGrace: 600
    units: [fwupd.service]
    services:
      wikijs: {enable: false}
      pihole: {grace: 90, firstGrace: 900, tcp: [5353]}
"""


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    from homelab.tui.screens.main import MainScreen

    monkeypatch.setattr(MainScreen, "DISK_EVERY", 3600.0)  # no disk check mid-test
    root = tmp_path / "demo"
    shutil.copytree(REPO / "tests" / "tui" / "lab", root)
    shutil.copytree(REPO / "services", root / "services")
    profile = root / DEMO
    text = profile.read_text()
    profile.write_text(text.replace("  tags: [desktop]\n", "  tags: [desktop]\n" + CHECKS))
    the_lab = Lab(root)
    state = the_lab.load()
    assert state.hosts["nixos-demo"].valid, state.hosts["nixos-demo"].problems
    the_lab.build(state, sorted(f for f, h in state.hosts.items() if h.valid))
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "the demo lab")
    return root


def test_deploy_checks_survive_an_edit_of_the_deploy_fields(lab: Path) -> None:
    seen: dict[str, object] = {}

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "networking")
            grace = field(app, ("deploy", "checks", "grace"), f.TextField)
            seen["grace"] = grace.control.value
            pihole = field(app, ("deploy", "checks", "services", "pihole", "grace"), f.TextField)
            seen["pihole"] = pihole.control.value
            port = field(app, ("deploy", "port"), f.TextField)
            await type_into(pilot, port.control, "2222")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog), app.screen
            await pilot.click("#commit")
            await settle(pilot)

    run(scenario)
    assert (seen["grace"], seen["pihole"]) == ("45", "90")  # shown in the form
    state = Lab(lab).load()
    profile = state.hosts["nixos-demo"].profile
    assert profile is not None
    checks = profile.deploy.checks
    assert profile.deploy.port == 2222
    assert (checks.grace, checks.first_grace, checks.extra.units) == (45, 600, ("fwupd.service",))
    assert not checks.of("wikijs").enable
    pihole = checks.of("pihole")
    assert (pihole.grace, pihole.first_grace, pihole.extra.tcp) == (90, 900, (5353,))
