"""Help where you are, driven by keys: ? and F1 open the keys of the screen shown, ? is
still typed into a text field, Escape closes the help; the focused field is explained
under the tabs (description, kind, default, place in the profile, NixOS option)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from homelab.tui.screens.help import HelpScreen, render
from homelab.tui.widgets.fields import Field
from tests.tui.pilot import choose_host, run, running, settle


def shown(app: Any) -> str:
    """The screen's characters, as a terminal without colour shows them."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def test_question_mark_opens_the_keys_of_the_editor_and_escape_closes_them(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("?")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            text = shown(app)
            assert "Keys: the editor" in text
            assert "ctrl+s  Save" in text
            assert "Tabs" in text and "alt+1" in text and "System" in text
            assert "f3  History" in text
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, HelpScreen)
            assert "Keys: the editor" not in shown(app)

    run(scenario)


def test_f1_opens_help_from_a_text_field_where_question_mark_is_typed(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("tab", "tab")  # the editor's tab bar, then its first field
            await settle(pilot)
            name = app.screen.focused
            assert isinstance(name, Input)
            await pilot.press("?")
            await settle(pilot)
            assert name.value.endswith("?")
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            assert "Keys: the editor" in shown(app)
            await pilot.press("q")
            await settle(pilot)
            assert not isinstance(app.screen, HelpScreen)
            assert app.screen.focused is name and name.value.endswith("?")

    run(scenario)


def test_help_follows_the_screen_history_and_dialogs(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("f3")
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            text = shown(app)
            assert "Keys: history" in text and "esc  Back" in text
            await pilot.press("f1")  # F1 again closes it
            await settle(pilot)
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("escape", "ctrl+n")  # back to the editor; the new-host dialog
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            assert "Keys: this dialog" in shown(app)

    run(scenario)


def test_tab_to_a_field_explains_it_under_the_tabs(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            assert "? or F1: the keys of this screen" in shown(app)
            await pilot.press("tab", "tab", "tab")  # the tab bar, the host's name, its system
            await settle(pilot)
            text = shown(app)
            assert "System: The machine's platform" in text
            assert "one of: x86_64-linux, aarch64-linux" in text
            assert "default x86_64-linux" in text
            assert "profile: host.system" in text
            assert "NixOS: nixpkgs.hostPlatform" in text

    run(scenario)


def test_a_service_setting_names_the_nixos_option_its_catalogue_entry_sets(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await pilot.press("alt+5", "tab", "tab")  # the Services tab, its catalogue
            await settle(pilot)
            await pilot.press(*"home-")  # type-ahead: home-assistant, enabled on this host
            await settle(pilot)
            text = shown(app)  # the catalogue's highlighted entry is explained too
            assert "home-assistant: Home Assistant home automation hub" in text
            assert "NixOS: services.home-assistant.enable" in text
            await pilot.press("tab")  # straight on to the first setting
            await settle(pilot)
            assert any(isinstance(n, Field) for n in app.screen.focused.ancestors)
            text = shown(app)
            assert "Port: Port of the web UI" in text
            assert "whole number, 1 to 65535" in text and "default 8123" in text
            assert "profile: services.home-assistant.port" in text
            assert "NixOS: services.home-assistant.config" in text

    run(scenario)


def test_the_help_lists_every_key_the_screens_bind(lab: Path) -> None:
    """Read from the bindings when it opens: a key added to a screen or a list shows up."""

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screens = [app.main]
            await pilot.press("f3")
            await settle(pilot)
            screens.append(app.screen)
            for screen in screens:
                text = render(screen).plain
                for _, binding in screen._bindings:
                    if binding.description and not binding.system:
                        assert binding.description in text, (type(screen), binding)
            text = render(app.main).plain
            for words in ["Enable/disable", "Rename", "Add program", "Undo"]:
                assert words in text
            # f7 (the preview) is the screen's before a text box sees it: not "Select all"
            assert "Select all" not in text and "f7  Preview" in text

    run(scenario)


def test_the_command_palette_opens_the_help_of_the_screen_under_it(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"Help")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            assert "Keys: the editor" in shown(app)

    run(scenario)
