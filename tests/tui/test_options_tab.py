"""The Options tab: a host's `options:` entries (one row per key as written) and a form
for the highlighted one (path, type, value), driven by keys; what it writes is the
profile as a person would write it, tags and all, and the YAML tab shows that."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TextArea

from homelab.tui.plain import Static
from tests.tui.pilot import choose_host, run, running, screen_text, settle

DEMO = "hosts/nixos-demo/profile.yaml"
OPTIONS = """\
options:
  services.fwupd.enable: true   # firmware updates
  environment.systemPackages: [!pkg htop]
  boot.kernelPackages: !nix "pkgs.linuxPackages_latest"
"""


def with_options(lab: Path) -> Path:
    """The demo host with an options: section (its extraConfig moved there)."""
    profile = lab / DEMO
    text = profile.read_text().replace("extraConfig: |\n  services.fwupd.enable = true;\n", "")
    profile.write_text(text + OPTIONS)
    return profile


async def keys(pilot, *pressed: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*pressed)
    await pilot.pause(0.4)  # the typing pause
    await settle(pilot)


def test_the_tab_lists_each_entry_with_its_value_and_type(lab: Path) -> None:
    with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7")
            text = screen_text(app)
            rows = [line for line in text.splitlines() if "│ │" in line and "  " in line]
            assert any("services.fwupd.enable" in r and "true/false" in r for r in rows), text
            assert any(
                "environment.systemPackages" in r and "[!pkg htop]" in r and "list" in r
                for r in rows
            )
            assert any(
                "boot.kernelPackages" in r and "!nix pkgs.linuxPackages_latest" in r and "Nix" in r
                for r in rows
            )
            assert "path   services.fwupd.enable" in text
            assert "type   true/false" in text
            assert "value  ▏" in text or "true  (space switches it)" in text

    run(scenario)


def focused_id(app) -> str | None:  # type: ignore[no-untyped-def]
    return app.focused.id if app.focused is not None else None


def test_add_a_package_by_keys_writes_it_with_its_tag(lab: Path) -> None:
    profile = with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab")  # the tab, its bar, its list
            assert "option" in str(app.focused.__class__).lower() or app.focused.has_class(
                "options-list"
            ), app.focused
            await keys(pilot, "a")
            assert focused_id(app) == "option-new"
            await keys(pilot, *"programs.git.package", "enter")
            assert focused_id(app) == "option-kind"
            await keys(pilot, "enter", *["down"] * 5, "enter")  # text … package (!pkg)
            await keys(pilot, "tab", *"gitFull")
            text = screen_text(app)
            assert "programs.git.package" in text and "!pkg gitFull" in text, text
            await keys(pilot, "ctrl+s")

    run(scenario)
    written = profile.read_text()
    assert written.endswith(OPTIONS + "  programs.git.package: !pkg gitFull\n"), written


def test_a_path_is_checked_as_it_is_typed(lab: Path) -> None:
    profile = with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab", "a", *"fileSystems./srv/media.device")
            text = screen_text(app)
            assert "is not a Nix name" in text, text
            said = " ".join(str(app.main.query_one("#option-new-says", Static).render()).split())
            assert 'put such a name in double quotes, e.g. fileSystems."/srv/media.device"' in said
            await keys(pilot, "enter")  # refused: nothing is added
            assert app.main.query_one("#option-new", Input).value == "fileSystems./srv/media.device"
            await keys(pilot, "ctrl+u", *'fileSystems."/srv/media".device')
            assert "is not a Nix name" not in screen_text(app)
            await keys(pilot, "enter", "ctrl+s")

    run(scenario)
    assert profile.read_text().endswith('  fileSystems."/srv/media".device: ""\n')


def test_edit_a_nix_value_keeps_its_quotes_and_the_yaml_tab_shows_it(lab: Path) -> None:
    profile = with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab", "down", "down", "enter")  # boot.kernelPackages
            assert focused_id(app) == "option-path"
            await keys(pilot, "tab", "tab")  # the type, the value's box
            assert focused_id(app) == "option-box"
            box = app.main.query_one("#option-box", TextArea)
            assert box.text == "pkgs.linuxPackages_latest"
            await keys(pilot, "end", *["backspace"] * len("latest"), *"6_6")
            await keys(pilot, "escape", "escape", "9")  # out of the box, the YAML tab
            yaml_text = app.main.query_one("#yaml-text", TextArea).text
            assert '  boot.kernelPackages: !nix "pkgs.linuxPackages_6_6"\n' in yaml_text
            assert "  environment.systemPackages: [!pkg htop]\n" in yaml_text
            await keys(pilot, "ctrl+s")

    run(scenario)
    assert profile.read_text().endswith(
        OPTIONS.replace("linuxPackages_latest", "linuxPackages_6_6")
    )


def test_change_the_type_rename_and_remove_by_keys(lab: Path) -> None:
    profile = with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab", "enter")  # services.fwupd.enable
            await keys(pilot, "tab", "enter", *["down"] * 5, "enter")  # true/false -> forced
            assert app.main.query_one("#option-box", TextArea).text == "true"
            await keys(pilot, "shift+tab", "end", "ctrl+u", *"services.fwupd.enable.x")
            assert focused_id(app) == "option-path"
            await keys(pilot, "ctrl+u", *"hardware.enableAllFirmware", "enter")
            await keys(pilot, "escape")  # back to the list
            assert app.focused is not None and app.focused.has_class("options-list")
            await keys(pilot, "down", "delete")  # environment.systemPackages
            text = screen_text(app)
            assert "hardware.enableAllFirmware" in text and "forced" in text, text
            assert "environment.systemPackages" not in text
            await keys(pilot, "ctrl+s")

    run(scenario)
    assert profile.read_text().endswith(
        "options:\n"
        "  hardware.enableAllFirmware: !force true   # firmware updates\n"
        '  boot.kernelPackages: !nix "pkgs.linuxPackages_latest"\n'
    )


def test_a_value_that_does_not_read_is_said_under_it_and_not_written(lab: Path) -> None:
    profile = with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab", "down", "enter", "tab", "tab")  # the packages' box
            await keys(pilot, "end", "backspace", *", git")  # the ] is gone
            assert "not YAML" in screen_text(app)
            await keys(pilot, "]")
            assert "not YAML" not in screen_text(app)
            await keys(pilot, "ctrl+s")

    run(scenario)
    assert "  environment.systemPackages: [!pkg htop, git]\n" in profile.read_text()


def test_a_problem_of_the_value_shows_under_it_and_a_jump_lands_there(lab: Path) -> None:
    with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab", "a", *"programs.git.package", "enter")
            await keys(pilot, "enter", *["down"] * 5, "enter", "tab", *"not a path!")
            said = str(app.main.query_one("#option-value-says", Static).render())
            assert "is not a package attribute path" in said, said
            await keys(pilot, "escape", "escape", "1", "f6", "home", "enter")  # from another tab
            assert "option programs.git.package" in screen_text(app), screen_text(app)
            assert focused_id(app) == "option-value"

    run(scenario)


def test_home_manager_options_of_a_user_in_the_home_tab(lab: Path) -> None:
    profile = lab / DEMO
    text = profile.read_text()
    profile.write_text(
        text.replace(
            "      programs:\n",
            "      options:\n        programs.bat.config.theme: TwoDark\n      programs:\n",
            1,
        )
    )

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "4")
            home = app.main.query_one("#ed-home")
            home.query_one(".options-list").focus()  # below the programs
            await settle(pilot)
            shown = screen_text(app)
            assert "home-manager options" in shown
            assert "programs.bat.config.theme" in shown and "TwoDark" in shown, shown
            await keys(pilot, "a", *"services.gpg-agent.enableSshSupport", "enter")
            await keys(pilot, "ctrl+s")

    run(scenario)
    written = profile.read_text()
    assert (
        "      options:\n"
        "        programs.bat.config.theme: TwoDark\n"
        "        services.gpg-agent.enableSshSupport: true\n"
    ) in written, written


def test_moving_on_before_the_typing_pause_keeps_the_edit_and_the_new_row(lab: Path) -> None:
    with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab", "down", "enter", "tab", "tab")  # packages
            await pilot.press("end", "left", *", git", "escape", "down")  # to the list, on
            await settle(pilot)
            text = screen_text(app)
            assert "option boot.kernelPackages" in text, text
            marked = [line for line in text.splitlines() if "▶" in line]
            assert len(marked) == 1 and "boot.kernelPackages" in marked[0], marked
            assert "[!pkg htop, git]" in text
            session = app.session.text("nixos-demo")
            assert "  environment.systemPackages: [!pkg htop, git]\n" in session

    run(scenario)


def test_a_key_that_does_not_read_says_so_under_its_path(lab: Path) -> None:
    profile = with_options(lab)
    profile.write_text(profile.read_text() + "  fileSystems./srv.device: /dev/sdb1\n")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab", "end")
            said = " ".join(str(app.main.query_one("#option-path-says", Static).render()).split())
            assert "'/srv' is not a Nix name" in said, said
            assert 'e.g. fileSystems."/srv.device"' in said
            text = screen_text(app)
            assert "Problems (1)" in text  # the panel says it too, but not the value again
            assert str(app.main.query_one("#option-value-says", Static).render()) == ""
            await keys(pilot, "enter", "end", "ctrl+u", *'fileSystems."/srv".device', "enter")
            assert "is not a Nix name" not in screen_text(app)
            await keys(pilot, "ctrl+s")

    run(scenario)
    assert profile.read_text().endswith('  fileSystems."/srv".device: /dev/sdb1\n')


def test_the_focused_line_of_the_form_is_marked_without_colour(lab: Path) -> None:
    with_options(lab)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await keys(pilot, "7", "tab", "tab", "a", *"services.tlp.enable", "enter")
            assert focused_id(app) == "option-kind"
            lines = screen_text(app).splitlines()
            assert any("type  ▌" in line for line in lines), "\n".join(lines)
            assert not any("path  ▌" in line for line in lines)
            await keys(pilot, "shift+tab")
            assert any("path  ▌" in line for line in screen_text(app).splitlines())

    run(scenario)
