"""The option search in the editor (ctrl+o): words typed, the index's options ranked, one
picked by keys; it lands in the Options tab (or a user's home.options) with a field of
its type, and saving writes it under options:. A small index made by hand, as
`homelab options update` would read it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Switch, TextArea

from homelab.optionindex import model as m
from homelab.optionindex.model import Option, OptionIndex, OptionSet, OptionType
from homelab.tui.app import HomelabApp
from homelab.yamlfile import load_plain
from tests.tui.pilot import SIZE, choose_host, field, run, screen_text, settle

DEMO = "hosts/nixos-demo/profile.yaml"
BOOL = OptionType(m.BOOL, "bool")
PORT = OptionType(m.INT, "port", low=0, high=65535)
PERMIT = OptionType(
    m.ENUM,
    "enum",
    values=("yes", "without-password", "prohibit-password", "forced-commands-only", "no"),
)


def _set(*options: Option) -> OptionSet:
    return OptionSet({o.path: o for o in options})


def _o(path: str, t: OptionType, description: str, default: str | None = None) -> Option:
    return Option(tuple(path.split(".")), t, description, default)


def small_index() -> OptionIndex:
    nixos = _set(
        _o("services.fwupd.enable", BOOL, "Whether to enable fwupd, a DBus service.", "false"),
        _o("services.openssh.enable", BOOL, "Whether to enable the OpenSSH daemon.", "false"),
        _o(
            "services.openssh.ports",
            OptionType(m.LIST, "listOf", of=(PORT,)),
            "Specifies on which ports the SSH daemon listens.",
            "[ 22 ]",
        ),
        _o(
            "services.openssh.settings",
            OptionType(m.SUBMODULE, "submodule", freeform=True),
            "Configuration for sshd_config(5).",
        ),
        _o(
            "services.openssh.settings.PermitRootLogin",
            PERMIT,
            "Whether the root user can login using ssh.",
            '"prohibit-password"',
        ),
        _o(
            "services.openssh.settings.X11Forwarding",
            BOOL,
            "Whether to allow X11 connections to be forwarded.",
            "false",
        ),
        _o("services.openssh.startWhenNeeded", BOOL, "Start sshd on demand by socket.", "false"),
        _o(
            "boot.loader.timeout",
            OptionType(m.NULL_OR, "nullOr", of=(OptionType(m.INT, "int", low=0, high=600),)),
            "Timeout (in seconds) until loader boots the default menu item.",
            "5",
        ),
        _o(
            "services.nginx.virtualHosts",
            OptionType(m.ATTRS, "attrsOf", of=(OptionType(m.SUBMODULE, "submodule"),)),
            "Declarative vhost config.",
            "{ }",
        ),
        _o(
            "services.nginx.virtualHosts.<name>.root",
            OptionType(m.NULL_OR, "nullOr", of=(OptionType(m.PATH, "path"),)),
            "The path of the web root directory.",
            "null",
        ),
        _o(
            "time.timeZone",
            OptionType(m.NULL_OR, "nullOr", of=(OptionType(m.STR, "str"),)),
            "The time zone used when displaying times and dates.",
            "null",
        ),
    )
    home = _set(
        _o("programs.bat.enable", BOOL, "Whether to enable bat, a cat clone with wings.", "false"),
        _o(
            "programs.git.userName",
            OptionType(m.NULL_OR, "nullOr", of=(OptionType(m.STR, "str"),)),
            "Default user name to use.",
            "null",
        ),
    )
    return OptionIndex("nixpkgs-test", "home-manager-test", nixos, home)


def more_index() -> OptionIndex:
    """The small index and a list of text, a list of submodules and a number with a range
    in a submodule (not in the snapshot's index, which counts its options)."""
    small = small_index()
    nixos = _set(
        *small.nixos,
        _o(
            "networking.nameservers",
            OptionType(m.LIST, "listOf", of=(OptionType(m.STR, "str"),)),
            "The list of nameservers.",
            "[ ]",
        ),
        _o(
            "services.nginx.virtualHosts.<name>.listen",
            OptionType(m.LIST, "listOf", of=(OptionType(m.SUBMODULE, "submodule"),)),
            "Listen addresses and ports for this virtual host.",
            "[ ]",
        ),
        _o(
            "services.journald.forward",
            OptionType(
                m.LIST,
                "listOf",
                of=(OptionType(m.ENUM, "enum", values=("syslog", "kmsg", "console")),),
            ),
            "Where the journal is forwarded to.",
            "[ ]",
        ),
        _o(
            "services.openssh.settings.MaxAuthTries",
            OptionType(m.INT, "ints.between", low=1, high=10),
            "How many times a login may be tried.",
        ),
    )
    return OptionIndex(small.nixpkgs, small.home_manager, nixos, small.home)


@asynccontextmanager
async def running(
    root: Path, index: OptionIndex | None, size: tuple[int, int] = SIZE
) -> AsyncIterator[tuple[HomelabApp, Pilot[None]]]:
    app = HomelabApp(root, option_index=index)
    if index is None:
        app.option_index = lambda: None  # type: ignore[method-assign]  # none made for this lab
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        yield app, pilot


async def keys(pilot: Any, *pressed: str) -> None:
    await pilot.press(*pressed)
    await pilot.pause(0.4)  # the typing pause
    await settle(pilot)


def test_search_pick_an_enum_and_a_bool_set_them_by_keys_and_save(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"root login")
            text = screen_text(app)
            assert "Find a NixOS option" in text, text
            assert "services.openssh.settings.PermitRootLogin" in text
            assert "Whether the root user can login using ssh." in text
            await keys(pilot, "enter")
            # the Options tab, the entry added at its default, the choice focused
            choices = app.main.query_one("#option-enum", Select)
            assert app.focused is choices, app.focused
            text = screen_text(app)
            assert "option services.openssh.settings.PermitRootLogin" in text, text
            assert "one of: yes, without-password, prohibit-password" in text
            assert choices.value == "prohibit-password"
            await keys(pilot, "enter", "down", "enter")  # the next member
            assert choices.value == "forced-commands-only"

            await keys(pilot, "ctrl+o", *"fwupd")
            await keys(pilot, "enter")
            switch = app.main.query_one("#option-bool", Switch)
            assert app.focused is switch and switch.value is False  # its default
            await keys(pilot, "space")
            assert switch.value is True
            assert "services.fwupd.enable" in screen_text(app)
            await keys(pilot, "ctrl+s")

    run(scenario)
    written = profile.read_text()
    assert written.endswith(
        "options:\n"
        "  services.openssh.settings.PermitRootLogin: forced-commands-only\n"
        "  services.fwupd.enable: true\n"
    ), written


def test_a_number_is_checked_against_the_options_range(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"loader timeout", "enter")
            value = app.main.query_one("#option-value", Input)
            assert app.focused is value and value.value == "5"
            assert "whole number 0 to 600" in screen_text(app)
            await keys(pilot, "end", "ctrl+u", *"900")
            assert "900 is outside 0 to 600" in screen_text(app)
            await keys(pilot, "ctrl+u", *"12", "enter", "ctrl+s")

    run(scenario)
    assert profile.read_text().endswith("options:\n  boot.loader.timeout: 12\n")


def test_a_submodules_options_get_fields_of_their_types_set_by_keys(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"services.openssh.settings")
            await keys(pilot, "enter")  # the exact path first
            # the enum a select, the bool a switch that says it is not set yet
            choice = app.main.query_one("#option-sub Select", Select)
            switch = app.main.query_one("#option-sub Switch", Switch)
            assert app.focused is choice and choice.name == "PermitRootLogin"
            assert switch.name == "X11Forwarding"
            text = screen_text(app)
            assert "PermitRootLogin" in text and "X11Forwarding" in text, text
            assert "not set  (space: true)" in text, text
            await keys(pilot, "enter", "end", "enter")  # the last member: no
            assert choice.value == "no"
            await keys(pilot, "tab")
            assert app.focused is switch
            await keys(pilot, "space")
            assert "true  (space switches it)" in screen_text(app)
            await keys(pilot, "ctrl+s")

    run(scenario)
    written = profile.read_text()
    assert written.endswith(
        'options:\n  services.openssh.settings: {PermitRootLogin: "no", X11Forwarding: true}\n'
    ), written
    assert load_plain(written)["options"]["services.openssh.settings"] == {
        "PermitRootLogin": "no",
        "X11Forwarding": True,
    }


def test_a_submodules_number_is_checked_against_its_range(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, more_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"services.openssh.settings", "enter")
            number = app.main.query_one("#option-sub Input", Input)  # the first, by name
            assert app.focused is number and number.name == "MaxAuthTries"
            await keys(pilot, *"99")
            assert "MaxAuthTries: 99 is outside 1 to 10" in screen_text(app)
            await keys(pilot, "backspace", "enter", "ctrl+s")

    run(scenario)
    assert profile.read_text().endswith(
        "options:\n  services.openssh.settings: {MaxAuthTries: 9}\n"
    ), profile.read_text()


def test_from_the_home_tab_it_goes_into_the_users_home_options(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "4")
            await keys(pilot, "ctrl+o", *"bat")
            assert "Find a home-manager option" in screen_text(app)
            await keys(pilot, "enter", "space", "ctrl+s")

    run(scenario)
    written = profile.read_text()
    assert "      options:\n        programs.bat.enable: true\n" in written, written


def test_without_an_index_it_says_how_to_make_one(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, None) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o")
            text = screen_text(app)
            assert "No option index for this lab yet" in text, text
            assert "homelab options update" in text
            assert "Find a NixOS option" not in text

    run(scenario)


def test_the_command_palette_opens_it(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+p", *"find an option")
            await keys(pilot, "enter")
            assert "Find a NixOS option" in screen_text(app)

    run(scenario)


def test_the_focused_field_shows_its_options_type_and_description(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "1")
            field(app, ("host", "timezone")).focus_control()
            await settle(pilot)
            help_text = screen_text(app)
            assert "NixOS: time.timeZone · null or text: The time zone used when" in help_text

    run(scenario)


def test_raw_nix_completes_option_paths_from_the_index(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "8")
            area = app.main.query_one("#raw-nix", TextArea)
            area.focus()
            area.move_cursor((area.document.line_count - 1, 0))
            await keys(pilot, *"services.ope", "ctrl+space")
            assert area.document.get_line(area.cursor_location[0]) == "services.openssh."
            await keys(pilot, "ctrl+space")
            text = screen_text(app)
            assert (
                "services.openssh.…  enable  ports  settings  settings.  startWhenNeeded" in text
            ), text
            await keys(pilot, "e", "ctrl+space")
            text = screen_text(app)
            assert "services.openssh.enable: true or false: Whether to enable the OpenSSH" in text
            await keys(pilot, *" = true;", "ctrl+s")

    run(scenario)
    assert "  services.openssh.enable = true;\n" in profile.read_text()


def test_raw_nix_completion_without_an_index_says_how_to_make_one(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, None) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "8")
            app.main.query_one("#raw-nix", TextArea).focus()
            await keys(pilot, "ctrl+space")
            assert "`homelab options update` makes one" in screen_text(app)

    run(scenario)


def test_snapshot_of_the_search(lab: Path, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await choose_host(pilot, "nixos-demo")
        await keys(pilot, "ctrl+o", *"openssh", "down")
        pilot.app.screen.query_one(Input).cursor_blink = False  # the same picture every time
        await settle(pilot)

    app = HomelabApp(lab, option_index=small_index())
    assert snap_compare(app, terminal_size=(140, 42), run_before=ready)


def test_a_list_of_text_gets_an_item_a_row_added_and_removed_by_keys(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, more_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"nameservers", "enter")
            new = app.main.query_one("#option-item-new", Input)
            items = app.main.query_one("#option-items", OptionList)
            assert app.focused is new  # no item yet: the input that adds one
            assert "add an item (text), then enter" in screen_text(app)
            await keys(pilot, *"1.1.1.1", "enter", *"9.9.9.9", "enter", *"8.8.8.8", "enter")
            assert items.option_count == 3
            await keys(pilot, "shift+tab")  # to the items
            assert app.focused is items
            await keys(pilot, "down", "delete")  # the second one
            text = screen_text(app)
            assert "1.1.1.1" in text and "8.8.8.8" in text and "9.9.9.9" not in text, text
            await keys(pilot, "a")  # back to adding
            assert app.focused is new
            await keys(pilot, "ctrl+s")

    run(scenario)
    written = profile.read_text()
    assert written.endswith("options:\n  networking.nameservers: [1.1.1.1, 8.8.8.8]\n"), written
    assert load_plain(written)["options"]["networking.nameservers"] == ["1.1.1.1", "8.8.8.8"]


def test_a_list_items_number_outside_its_range_is_refused(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"ssh ports", "enter")
            new = app.main.query_one("#option-item-new", Input)
            items = app.main.query_one("#option-items", OptionList)
            assert app.focused is new
            await keys(pilot, *"22", "enter", *"99999")
            assert "99999 is outside 0 to 65535" in screen_text(app)
            await keys(pilot, "enter")
            assert "not added: 99999 is outside 0 to 65535" in screen_text(app)
            assert items.option_count == 1 and new.value == "99999"  # kept, to be mended
            await keys(pilot, "ctrl+u", *"2222", "enter", "ctrl+s")

    run(scenario)
    assert profile.read_text().endswith("options:\n  services.openssh.ports: [22, 2222]\n")


def test_a_list_of_choices_adds_its_items_from_a_select(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, more_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"journald forward", "enter")
            chooser = app.main.query_one("#option-item-choose", Select)
            assert app.focused is chooser
            assert "add an item: enter chooses it" in screen_text(app), screen_text(app)
            await keys(pilot, "enter", "end", "enter")  # console
            await keys(pilot, "enter", "down", "enter")  # syslog: the first after the prompt
            text = screen_text(app)
            assert "console" in text and "syslog" in text, text
            await keys(pilot, "ctrl+s")

    run(scenario)
    written = profile.read_text()
    assert written.endswith("options:\n  services.journald.forward: [console, syslog]\n"), written


def test_a_list_of_submodules_keeps_the_yaml_box(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab, more_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"nginx listen", "enter")
            await keys(pilot, "escape")  # off the placeholder in its path
            assert app.main.query_one("#option-box", TextArea).display
            assert not app.main.query_one("#option-list").display

    run(scenario)


def test_home_options_from_the_real_home_manager_index(lab: Path) -> None:
    """home-manager's real options (indexed by the real Nix from its modules): a switch and
    a port, found by words, set by keys, written under the user's home.options."""
    from tests.optionindex import home_manager_index

    index = home_manager_index()
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, index) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "4", "ctrl+o", *"programs.git.enable")
            assert f"Find a home-manager option ({len(index.home)} in the index)" in (
                screen_text(app)
            )
            await keys(pilot, "enter")
            assert "Whether to enable Git." in screen_text(app)
            await keys(pilot, "space")
            await keys(pilot, "ctrl+o", *"beets mpd port", "enter")
            await keys(pilot, "end", "ctrl+u", *"70000")
            assert "70000 is outside 0 to 65535" in screen_text(app)
            await keys(pilot, "ctrl+u", *"6600", "enter", "ctrl+s")

    run(scenario)
    written = profile.read_text()
    assert (
        "      options:\n"
        "        programs.git.enable: true\n"
        "        programs.beets.mpdIntegration.port: 6600\n"
    ) in written, written


def test_a_placeholder_in_the_path_is_selected_to_be_typed_over(lab: Path) -> None:
    profile = lab / DEMO

    async def scenario() -> None:
        async with running(lab, small_index()) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "ctrl+o", *"nginx root", "enter")
            path = app.main.query_one("#option-path", Input)
            assert app.focused is path
            assert path.value == 'services.nginx.virtualHosts."<name>".root'
            await keys(pilot, *"example.org", "enter", "tab", "tab", *"/srv/www", "enter")
            await keys(pilot, "ctrl+s")

    run(scenario)
    assert profile.read_text().endswith(
        'options:\n  services.nginx.virtualHosts."example.org".root: "/srv/www"\n'
    ), profile.read_text()
