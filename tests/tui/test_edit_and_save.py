"""Editing in the TUI: the profile changes only where a person changed it, its Nix is
rebuilt, and the commit says what changed in profile terms."""

from __future__ import annotations

import difflib
from pathlib import Path

from textual.widgets import Button, Input, Select, Switch

from homelab.tui.screens.commit import CommitDialog
from homelab.tui.screens.dialogs import Refused
from homelab.tui.widgets import fields as f
from tests.tui.conftest import git
from tests.tui.pilot import choose_host, field, focus, open_tab, run, running, settle, type_into

DEMO = "hosts/nixos-demo/profile.yaml"


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), n=0, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


def test_change_a_field_save_and_commit(lab: Path) -> None:
    before = (lab / DEMO).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            timezone = field(app, ("host", "timezone"), f.TextField)
            await type_into(pilot, timezone.control, "Europe/Paris")
            assert app.session.dirty() == ["nixos-demo"]
            # the preview follows the keystrokes, before anything is saved
            preview = app.main.query_one("#preview-nix").text  # type: ignore[attr-defined]
            assert 'time.timeZone = "Europe/Paris";' in preview
            assert (lab / DEMO).read_text() == before
            await pilot.press("ctrl+s")
            await settle(pilot)
            dialog = app.screen
            assert isinstance(dialog, CommitDialog)
            assert dialog.subject == "nixos-demo: host.timezone America/Los_Angeles -> Europe/Paris"
            await pilot.click("#commit")
            await settle(pilot)
            assert not app.session.dirty()

    run(scenario)
    after = (lab / DEMO).read_text()
    assert changed_lines(before, after) == (
        ["  timezone: America/Los_Angeles"],
        ["  timezone: Europe/Paris"],
    )
    assert "# The reference desktop this product was designed from" in after
    assert (
        'time.timeZone = "Europe/Paris";'
        in (lab / "hosts/nixos-demo/configuration.nix").read_text()
    )
    log = git(lab, "log", "--format=%s", "-1")
    assert log.strip() == "nixos-demo: host.timezone America/Los_Angeles -> Europe/Paris"
    assert git(lab, "status", "--porcelain", "--", "hosts/nixos-demo").strip() == ""


def test_not_now_saves_without_committing(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            allow = field(app, ("nix", "allowUnfree"), f.BoolField)
            await focus(pilot, allow.control)
            await pilot.press("enter")  # a switch toggles with enter
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            await pilot.click("#not-now")
            await settle(pilot)

    run(scenario)
    text = (lab / DEMO).read_text()
    assert "  allowUnfree: false   # discord and slack are unfree" in text
    assert "nixos-demo" in git(lab, "status", "--porcelain")
    assert git(lab, "log", "--format=%s").strip() == "the demo lab"


def test_enable_a_service_from_the_catalogue_and_set_it(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "services")
            services = app.main.query_one(".service-list")
            services.focus()
            services.highlighted = services.get_option_index("jellyfin")  # type: ignore[attr-defined]
            await settle(pilot)
            await pilot.press("space")
            await settle(pilot)
            # its settings form comes from its JSON Schema
            switch = field(app, ("services", "jellyfin", "openFirewall"), f.BoolField)
            await focus(pilot, switch.control)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            assert app.screen.subject == "nixos-demo: service jellyfin added"
            await pilot.click("#commit")
            await settle(pilot)

    run(scenario)
    text = (lab / DEMO).read_text()
    assert "  jellyfin: {openFirewall: true}\n" in text
    services_nix = (lab / "hosts/nixos-demo/services.nix").read_text()
    jellyfin = services_nix[services_nix.index("services.jellyfin = {") :]
    assert "openFirewall = true;" in jellyfin[: jellyfin.index("};")]


def test_a_settings_form_is_made_from_any_catalogue_schema(lab: Path) -> None:
    """A new catalogue entry gets its form with no new code."""
    (lab / "services" / "quiz.yaml").write_text(
        "description: A quiz server for the family\n"
        'nixpkgs: "25.05"\n'
        "settings:\n"
        "  type: object\n"
        "  additionalProperties: false\n"
        "  properties:\n"
        "    port: {type: integer, minimum: 1, maximum: 65535, default: 8123}\n"
        "    level: {enum: [easy, hard], default: easy}\n"
        "    public: {type: boolean, default: false}\n"
        "    players: {type: array, items: {type: string}}\n"
        "nixos:\n"
        "  services.quiz.enable: true\n"
        "  services.quiz.port: {setting: port}\n"
    )

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "services")
            services = app.main.query_one(".service-list")
            services.focus()
            services.highlighted = services.get_option_index("quiz")  # type: ignore[attr-defined]
            await settle(pilot)
            await pilot.press("space")
            await settle(pilot)
            assert isinstance(field(app, ("services", "quiz", "port"), f.TextField).control, Input)
            assert isinstance(
                field(app, ("services", "quiz", "level"), f.ChoiceField).control, Select
            )
            assert isinstance(
                field(app, ("services", "quiz", "public"), f.BoolField).control, Switch
            )
            players = field(app, ("services", "quiz", "players"), f.ListField)
            add = players.query_one(".list-add", Input)
            await type_into(pilot, add, "ada")
            await pilot.press("enter")
            await settle(pilot)
            port = field(app, ("services", "quiz", "port"), f.TextField)
            await type_into(pilot, port.control, "9000")
            app.main.flush_editors()
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.click("#not-now")
            await settle(pilot)

    run(scenario)
    text = (lab / DEMO).read_text()
    assert "  quiz: {players: [ada], port: 9000}\n" in text
    services_nix = (lab / "hosts/nixos-demo/services.nix").read_text()
    quiz = services_nix[services_nix.index("services.quiz = {") :]
    assert "port = 9000;" in quiz[: quiz.index("};")]


def test_add_a_user_with_a_home_manager_program(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "users")
            users = app.main.query_one(".entries-list")
            users.focus()
            await pilot.press("a")
            await pilot.press(*"alice", "enter")
            await settle(pilot)
            groups = field(app, ("users", "alice", "groups"), f.ListField)
            await type_into(pilot, groups.query_one(".list-add", Input), "wheel")
            await pilot.press("enter")
            await settle(pilot)
            await open_tab(pilot, "home")
            home_user = app.main.query_one(".home-user", Select)
            home_user.value = "alice"
            await settle(pilot)
            state = field(app, ("users", "alice", "home", "stateVersion"), f.TextField)
            await type_into(pilot, state.control, "24.11")
            add = app.main.query_one(".program-add", Input)
            await type_into(pilot, add, "git")
            await pilot.press("enter")
            await settle(pilot)
            area = app.main.query_one(".program-yaml")
            area.focus()
            area.insert("settings:\n  user.name: Alice\n")  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog), app.screen
            assert "user alice added" in app.screen.subject
            await pilot.click("#commit")
            await settle(pilot)

    run(scenario)
    text = (lab / DEMO).read_text()
    assert "  alice:" in text
    assert "groups: [wheel]" in text
    assert "user.name: Alice" in text
    home = (lab / "hosts/nixos-demo/home.nix").read_text()
    alice = home[home.index("alice = {") :]
    assert 'home.stateVersion = "24.11";' in alice
    assert "programs.git = {" in alice
    assert 'settings."user.name" = "Alice";' in alice
    assert "user alice added" in git(lab, "log", "--format=%s", "-1")


def test_an_invalid_value_shows_its_error_and_cannot_be_saved(lab: Path) -> None:
    before = (lab / DEMO).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "networking")
            port = field(app, ("deploy", "port"), f.TextField)
            await type_into(pilot, port.control, "70000")
            # next to the field, and in the problems panel
            assert port.has_class("-problem")
            assert "70000 is out of range: from 1 to 65535" in str(
                port.query_one(".field-error").render()
            )
            panel = app.main.query_one("#problems")
            assert any("deploy.port" in p.path for p in panel.problems)  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, Refused)
            assert any("out of range" in p.message for p in app.screen.problems)
            await pilot.press("enter")
            await settle(pilot)
            assert app.session.dirty() == ["nixos-demo"]

    run(scenario)
    assert (lab / DEMO).read_text() == before


def test_enter_on_a_problem_jumps_to_its_field(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "users")
            groups = field(app, ("users", "demouser", "groups"), f.ListField)
            await type_into(pilot, groups.query_one(".list-add", Input), "podman")
            await pilot.press("enter")
            await settle(pilot)
            await open_tab(pilot, "system")
            panel = app.main.query_one("#problems")
            panel.focus()
            problems = panel.problems  # type: ignore[attr-defined]
            index = next(i for i, p in enumerate(problems) if p.path == "users.demouser.groups[3]")
            panel.highlighted = index  # type: ignore[attr-defined]
            await pilot.press("enter")
            await settle(pilot)
            assert app.main.host_editor.active_tab == "users"
            focused = app.focused
            assert focused is not None
            assert groups in focused.ancestors_with_self

    run(scenario)


def test_raw_nix_that_does_not_parse_is_refused(lab: Path) -> None:
    before = (lab / DEMO).read_text()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "nix")
            area = app.main.query_one("#raw-nix")
            area.focus()
            area.insert("services.openssh.enable = ;\n")  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, Refused)
            assert any("extraConfig is not valid Nix" in p.message for p in app.screen.problems)

    run(scenario)
    assert (lab / DEMO).read_text() == before


def test_the_yaml_tab_edits_the_text_and_the_forms_follow(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await open_tab(pilot, "yaml")
            area = app.main.query_one("#yaml-text")
            text = area.text  # type: ignore[attr-defined]
            area.load_text(
                text.replace(
                    'stateVersion: "23.11"\n  timezone',
                    'stateVersion: "23.11"\n  keyboard: fr\n  timezone',
                    1,
                )
            )  # type: ignore[attr-defined]
            await settle(pilot)
            app.main.flush_editors()
            await open_tab(pilot, "system")
            keyboard = field(app, ("host", "keyboard"), f.TextField)
            assert keyboard.control.value == "fr"
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.click("#not-now")
            await settle(pilot)

    run(scenario)
    assert "  keyboard: fr\n" in (lab / DEMO).read_text()
    assert (
        'services.xserver.xkb.layout = "fr";'
        in (lab / "hosts/nixos-demo/configuration.nix").read_text()
    )


def test_buttons_exist_for_mouse_users(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "homeserver")
            removes = app.main.query(Button).filter(".map-remove")
            assert len(removes) == 2  # one per file system

    run(scenario)
