"""Focus and selection that show without colour, and lists driven by keys: the focused
field's name carries a bar and `▌`, the highlighted row of a list a `▶` (`▷` when focus
is elsewhere); j/k/g/G move, typing a name jumps to it, `/` filters; a key that lands
where it does nothing says where focus is. Read on the screen's characters only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot

from homelab.tui.app import HomelabApp
from homelab.tui.widgets.editors.services import ServiceList
from homelab.tui.widgets.hostlist import HostList
from tests.tui.pilot import field, open_tab, run, running, screen_text, settle


def row(text: str, name: str) -> str:
    """The screen's line that shows name (the first one)."""
    return next(line for line in text.splitlines() if name in line)


def marked_host(app: HomelabApp) -> str:
    """The host row with a marker in the host list's gutter: its line, from the marker."""
    lines = [line for line in screen_text(app).splitlines() if line.startswith(("│▶", "│▷"))]
    assert len(lines) == 1, lines
    return lines[0][1:25]


def said(app: HomelabApp) -> str:
    """The screen's words, toasts included, with runs of spaces made one."""
    return " ".join(screen_text(app).split())


async def keys(pilot: Pilot[None], *names: str) -> None:
    await pilot.press(*names)
    await settle(pilot)


def test_the_focused_field_shows_a_marker_that_moves_with_tab(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            text = screen_text(app)
            assert "Name              " in row(text, "│ Name ")  # nothing focused in the form
            before = row(text, "│ System ").index("x86_64-linux")
            await keys(pilot, "tab", "tab")  # the tab bar, then the form's first field
            text = screen_text(app)
            assert "Name             ▌" in row(text, "│ Name ")
            assert "System           ▌" not in row(text, "│ System ")
            await keys(pilot, "tab")
            text = screen_text(app)
            assert "Name             ▌" not in row(text, "│ Name ")
            assert "System           ▌" in row(text, "│ System ")
            # the marker takes the place of a blank: the value does not move
            assert row(text, "│ System ").index("x86_64-linux") == before

    run(scenario)


def test_the_selected_host_is_marked_and_j_k_g_G_move(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            assert "▶" in marked_host(app) and "homeserver" in marked_host(app)
            await keys(pilot, "j")
            assert "nixos-demo" in marked_host(app)
            assert app.main.folder == "nixos-demo"
            await keys(pilot, "G")
            assert "pi" in marked_host(app)
            await keys(pilot, "k")
            assert "nixos-demo" in marked_host(app)
            await keys(pilot, "g")
            assert "homeserver" in marked_host(app)
            await keys(pilot, "tab")  # focus leaves the list: the selected host keeps a mark
            assert marked_host(app).startswith("▷") and "homeserver" in marked_host(app)

    run(scenario)


def test_typing_a_hosts_name_jumps_to_it(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, notifications=True) as (app, pilot):
            await keys(pilot, "p")
            assert "▶" in marked_host(app) and " pi " in marked_host(app) + " "
            assert app.main.folder == "pi"
            await keys(pilot, "n", "i")
            assert "nixos-demo" in marked_host(app)
            await keys(pilot, "z")  # no host starts with it: said, not dropped
            assert "nixos-demo" in marked_host(app)
            assert "No host starts with" in said(app)

    run(scenario)


def test_slash_filters_the_host_list_enter_keeps_escape_clears(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await keys(pilot, "slash", "a", "a", "r")
            text = screen_text(app)
            assert "/aar" in text and "1/3" in text
            assert " pi " in marked_host(app) + " "
            assert "homeserver" not in text.split("Hosts")[1].split("╰")[0]
            await keys(pilot, "enter")  # the filter stays; keys move in what it shows
            hosts = app.main.query_one(HostList)
            assert hosts.option_count == 1 and hosts.query_text == "aar"
            assert app.main.folder == "pi"
            await keys(pilot, "escape")
            assert hosts.option_count == 3
            assert "/aar" not in screen_text(app)
            assert app.main.folder == "pi"  # the host stays chosen

    run(scenario)


def highlighted(services: ServiceList) -> str | None:
    option = services.highlighted_option
    return option.id if option is not None else None


async def catalogue(app: HomelabApp, pilot: Pilot[None]) -> ServiceList:
    await open_tab(pilot, "services")
    services = app.main.query_one(ServiceList)
    await keys(pilot, "tab", "tab")  # the tab bar, then the catalogue
    assert app.focused is services
    return services


def test_the_catalogue_entry_is_marked_and_moves_by_keys_type_ahead_and_filter(
    lab: Path,
) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            services = await catalogue(app, pilot)
            names = [o.id or "" for o in services.options]
            first, last = names[0], names[-1]
            assert re.search(rf"▶ [○●◐] {first} ", screen_text(app))
            await keys(pilot, "G")
            assert highlighted(services) == last
            assert re.search(rf"▶ [○●◐] {last} ", screen_text(app))
            assert not re.search(rf"▶ [○●◐] {first} ", screen_text(app))
            await keys(pilot, "g", "j")
            assert highlighted(services) == names[1]
            # type-ahead: the first service whose name starts with what was typed
            target = next(n for n in names if n and not set(n[:2]) & set("jkgG"))
            await keys(pilot, *target[:2])
            assert highlighted(services) == next(n for n in names if n.startswith(target[:2]))
            # `/`: only the services whose line holds the text
            await keys(pilot, "slash", *target)
            assert [o.id for o in services.options] == [target]
            assert f"/{target}" in screen_text(app)
            await keys(pilot, "escape")
            assert len(services.options) == len(names)

    run(scenario)


def test_the_highlighted_user_is_marked_and_type_ahead_finds_one(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, notifications=True) as (app, pilot):
            await keys(pilot, "n")  # nixos-demo, by type-ahead in the host list
            await open_tab(pilot, "users")
            await keys(pilot, "tab", "tab")
            text = screen_text(app)
            assert "▶ demouser" in text
            await keys(pilot, "d")
            assert "▶ demouser" in screen_text(app)
            await keys(pilot, "q")
            assert "No user starts with" in said(app)

    run(scenario)


def test_a_key_a_switch_cannot_take_says_where_focus_is(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, notifications=True) as (app, pilot):
            await open_tab(pilot, "networking")
            await keys(pilot, "tab", "tab")
            for _ in range(20):  # tab on to the first switch
                if type(app.focused).__name__ == "Switch":
                    break
                await keys(pilot, "tab")
            assert type(app.focused).__name__ == "Switch"
            await keys(pilot, "x")
            assert "Focus is on NetworkManager: space switches it" in said(app)

    run(scenario)


def test_keys_typed_in_one_burst_after_slash_go_to_the_filter(lab: Path) -> None:
    """A terminal delivers `/media` at once: every key lands in the filter, in order."""

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            services = await catalogue(app, pilot)
            for key, character in [("g", "g"), ("slash", "/"), *((c, c) for c in "media")]:
                app.post_message(events.Key(key, character))  # no wait between keys
            await settle(pilot)
            assert services.query_text == "media"
            assert "/media" in screen_text(app)
            assert [o.id for o in services.options] == ["jellyfin"]

    run(scenario)


def test_a_letter_on_the_tab_bar_says_where_focus_is_and_how_to_move(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, notifications=True) as (app, pilot):
            await keys(pilot, "tab")  # from the host list to the tab bar
            await keys(pilot, "x")
            text = said(app)  # a toast wraps its words: its lines are read one by one
            assert "Focus is on the tab bar, which takes no typing:" in text
            assert "left/right pick a tab" in text

    run(scenario)


def test_with_no_color_the_markers_show_and_the_editor_runs(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR set: Textual draws in monochrome, and the marks are still there."""
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            assert app.no_color
            await keys(pilot, "j")
            assert marked_host(app).startswith("▶") and "nixos-demo" in marked_host(app)
            await keys(pilot, "tab", "tab")
            assert "Name             ▌" in row(screen_text(app), "│ Name ")
            assert marked_host(app).startswith("▷")

    run(scenario)


def test_tab_from_the_catalogue_reaches_the_first_setting_of_a_long_form(lab: Path) -> None:
    """Immich's form is taller than the screen: its scroll area is no stop of its own,
    where a digit typed would have switched tabs instead of going into the port."""

    async def scenario() -> None:
        async with running(lab, size=(140, 30)) as (app, pilot):
            services = await catalogue(app, pilot)
            await keys(pilot, "slash", *"immich", "enter", "space")
            await keys(pilot, "tab")
            assert app.focused is not services
            await keys(pilot, *"2300")
            assert app.main.query_one(ServiceList) is services and services.display
            port = field(app, ("services", "immich", "port"))
            assert "2300" in screen_text(app), row(screen_text(app), "Port")
            assert port.has_focus_within

    run(scenario)
