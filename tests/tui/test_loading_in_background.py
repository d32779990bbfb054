"""The editor is usable while the whole lab loads: the host list and the first host come
first; switching hosts and editing work while the load still runs (held here, until the
test lets it go); the marks and problems of every host arrive when it ends. On a big lab
the load runs in another process, as it does here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from homelab.tui import labload
from homelab.tui.app import HomelabApp
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.hostlist import HostList
from homelab.tui.widgets.preview import Preview
from tests.tui.pilot import SIZE, field, run

PI = "hosts/pi/profile.yaml"


async def until(pilot: Pilot[Any], check: Callable[[], bool], limit: float = 60.0) -> None:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < limit, "gave up waiting"
        await pilot.pause(0.02)


def test_hosts_switch_and_edit_while_the_lab_loads(lab: Path, held: asyncio.Event) -> None:
    (lab / PI).write_text((lab / PI).read_text() + "nonsense: 1\n")  # pi has a problem

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            hosts = main.query_one(HostList)
            preview = main.query_one(Preview)
            await until(pilot, lambda: preview.folder == "homeserver")
            assert list(hosts.rows) == ["homeserver", "nixos-demo", "pi"]
            assert hosts.rows["pi"].invalid is None  # not checked yet: no mark either way

            # another host, and an edit, while the load is held
            hosts.focus()
            await pilot.press("down")
            await until(pilot, lambda: preview.folder == "nixos-demo")
            timezone = field(app, ("host", "timezone"), f.TextField)
            timezone.control.focus()
            await pilot.press("end", "ctrl+u", *"Europe/Paris")
            area = main.query_one("#preview-nix")
            await until(pilot, lambda: 'time.timeZone = "Europe/Paris";' in area.text)  # type: ignore[attr-defined]
            assert app.session.dirty() == ["nixos-demo"]
            assert not main.loaded
            assert hosts.marks == {}

            held.set()
            await until(pilot, lambda: main.loaded)
            await pilot.pause(0.1)
            assert hosts.marks == dict.fromkeys(["homeserver", "nixos-demo", "pi"], "never")
            assert hosts.rows["pi"].invalid is True  # its problem, from the whole lab's load
            assert hosts.rows["homeserver"].invalid is False
            assert app.session.state is not None
            assert sorted(app.session.state.hosts) == ["homeserver", "nixos-demo", "pi"]
            # the edit made meanwhile is still there, and still shown
            assert app.session.dirty() == ["nixos-demo"]
            assert "timezone: Europe/Paris" in app.session.text("nixos-demo")
            assert main.folder == "nixos-demo"
            assert 'time.timeZone = "Europe/Paris";' in area.text  # type: ignore[attr-defined]

    run(scenario)


def test_a_load_that_fails_in_its_process_is_done_in_a_thread(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process could not load (here: it never starts): the editor loads the lab in a
    thread, as a small lab, and its marks arrive all the same."""

    async def failed(*args: Any, **kwargs: Any) -> labload.Loaded:
        raise labload.LoadFailed("no process here")

    monkeypatch.setattr(labload, "IN_PROCESS_BELOW", 0)
    monkeypatch.setattr(labload, "load_apart", failed)

    async def scenario() -> None:
        app = HomelabApp(lab)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.main.loaded)
            assert app.main.query_one(HostList).marks["pi"] == "never"

    run(scenario)


def test_the_load_in_another_process_gives_the_lab_as_loaded_here(lab: Path) -> None:
    """What the process sends back is the lab as loading it here gives it."""
    from homelab.lab import Lab

    here = labload.load_here(Lab(lab), {})
    apart = asyncio.run(labload.load_apart(lab, {}))
    assert apart.marks == here.marks
    assert sorted(apart.state.hosts) == sorted(here.state.hosts)
    for folder, host in here.state.hosts.items():
        assert apart.state.hosts[folder] == host
    assert apart.state.web == here.state.web
    assert apart.state.wiring == here.state.wiring
    assert apart.state.problems == here.state.problems
    assert sorted(apart.state.catalog.services) == sorted(here.state.catalog.services)
