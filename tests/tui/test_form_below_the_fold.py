"""The first host's form opens with its top sections only, and its check (includes merged,
problems, the Nix) once that form is drawn; the sections below the fold follow a frame
later. Neither may show another host's values, or leave the host unchecked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Input

from homelab.tui.app import HomelabApp
from homelab.tui.screens import main as main_screen
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.hostlist import HostList
from homelab.tui.widgets.preview import Preview
from tests.tui.pilot import SIZE, field, settle

ALLOW_UNFREE = ("nix", "allowUnfree")
TIMEZONE = ("host", "timezone")


def test_a_host_chosen_while_the_form_is_made_shows_its_own_values_below_the_fold(
    lab: Path,
) -> None:
    # homeserver is shown first; nixos-demo, chosen the moment it is, allows unfree
    # packages: the nix section is made after the switch, and must be nixos-demo's
    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            while not app.main.opened:
                await asyncio.sleep(0)
            assert app.main.folder == "homeserver"
            hosts = app.main.query_one(HostList)
            hosts.highlighted = hosts.get_option_index("nixos-demo")
            await settle(pilot)
            assert app.main.folder == "nixos-demo"
            assert field(app, ALLOW_UNFREE, f.BoolField).own is True
            hosts.highlighted = hosts.get_option_index("homeserver")
            await settle(pilot)
            assert field(app, ALLOW_UNFREE, f.BoolField).own is not True

    asyncio.run(scenario())


def test_the_first_host_is_checked_as_soon_as_its_form_is_drawn(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the check at the latest is put far off: only the drawn form can bring it
    monkeypatch.setattr(main_screen, "FIRST_CHECK_AT_LATEST", 3600.0)

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "homeserver" in app.session.checks
            assert app.main.query_one(Preview).folder == "homeserver"
            # what the host inherits from base.yaml shows once it is checked
            timezone = field(app, TIMEZONE, f.TextField).query_one(Input)
            assert "America/Los_Angeles" in str(timezone.placeholder)

    asyncio.run(scenario())
