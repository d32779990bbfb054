"""Adding and removing hosts; a host's history, and reverting it from there."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import OptionList
from textual.widgets._header import HeaderTitle  # what the header shows

from homelab.lab import Lab, NewProfile
from homelab.tui.screens.commit import CommitDialog
from homelab.tui.screens.dialogs import Confirm, Refused
from homelab.tui.screens.history import HistoryScreen
from homelab.tui.screens.newhost import NewHostDialog
from homelab.tui.widgets import fields as f
from tests.tui.conftest import git
from tests.tui.pilot import choose_host, field, run, running, settle, type_into

DEMO = "hosts/nixos-demo/profile.yaml"


def test_the_new_host_wizard_makes_a_valid_host(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert isinstance(app.screen, NewHostDialog)
            await type_into(pilot, app.screen.query_one("#new-name"), "nas")
            root = app.screen.query_one("#new-root-device")
            await type_into(pilot, root, "/dev/disk/by-label/nixos")
            await type_into(pilot, app.screen.query_one("#new-address"), "192.168.1.40")
            await pilot.click("#add")
            await settle(pilot)
            assert app.main.folder == "nas"
            assert app.session.dirty() == ["nas"]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, CommitDialog)
            assert app.screen.subject == "nas: new host"
            await pilot.click("#commit")
            await settle(pilot)

    run(scenario)
    state = Lab(lab).load()
    assert state.hosts["nas"].valid, state.hosts["nas"].problems
    profile = (lab / "hosts/nas/profile.yaml").read_text()
    assert "address: 192.168.1.40" in profile
    assert "include: [../common/base.yaml]" in profile
    # the profile every front end makes for these inputs, of the release the lab follows
    start = NewProfile(
        "nas",
        loader="systemd-boot",
        root_device="/dev/disk/by-label/nixos",
        root_fs_type="ext4",
        address="192.168.1.40",
        includes=["../common/base.yaml"],
    )
    assert profile == Lab.new_profile(start)
    assert 'stateVersion: "26.05"' in profile
    assert (lab / "hosts/nas/configuration.nix").exists()
    assert git(lab, "log", "--format=%s", "-1").strip() == "nas: new host"


def test_the_wizard_refuses_a_bad_or_taken_name(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("ctrl+n")
            await settle(pilot)
            dialog = app.screen
            for name, why in [("Big_Name", "lower-case"), ("pi", "already a host")]:
                await type_into(pilot, dialog.query_one("#new-name"), name)
                await pilot.click("#add")
                await settle(pilot)
                assert app.screen is dialog
                assert why in str(dialog.query_one("#new-error").render())
            await pilot.press("escape")
            await settle(pilot)
            assert app.session.folders() == ["homeserver", "nixos-demo", "pi"]

    run(scenario)
    assert not (lab / "hosts/Big_Name").exists()


def test_the_wizard_refuses_an_address_that_cannot_be_in_a_profile(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await pilot.press("ctrl+n")
            await settle(pilot)
            dialog = app.screen
            await type_into(pilot, dialog.query_one("#new-name"), "nas")
            await type_into(pilot, dialog.query_one("#new-root-device"), "/dev/sda2")
            await type_into(pilot, dialog.query_one("#new-address"), "nas.lan; reboot")
            await pilot.click("#add")
            await settle(pilot)
            assert app.screen is dialog  # said in the wizard, beside the address
            assert "'nas.lan; reboot' is not valid" in str(dialog.query_one("#new-error").render())
            assert dialog.focused is dialog.query_one("#new-address")
            await pilot.press("escape")
            await settle(pilot)
            assert app.session.folders() == ["homeserver", "nixos-demo", "pi"]
            assert app.session.dirty() == []

    run(scenario)
    assert not (lab / "hosts/nas").exists()


def test_removing_a_host_deletes_its_profile_and_nix_but_not_hand_written_files(
    lab: Path,
) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            app.main.action_remove_host()
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.click("#answer-remove")
            await settle(pilot)
            assert "nixos-demo" not in app.session.folders()

    run(scenario)
    folder = lab / "hosts/nixos-demo"
    assert not (folder / "profile.yaml").exists()
    assert not (folder / "configuration.nix").exists()
    assert (folder / "hardware-configuration.nix").exists()


def test_history_lists_commits_and_reverts_to_one(lab: Path) -> None:
    original = (lab / DEMO).read_text()
    first = git(lab, "rev-parse", "HEAD").strip()
    back = f"Back to {first[:7]} on nixos-demo: host.timezone UTC -> America/Los_Angeles"

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.click("#commit")
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            history = app.screen
            assert isinstance(history, HistoryScreen)
            commits = history.query_one("#commits", OptionList)
            assert [e.subject for e in history.entries] == [
                "nixos-demo: host.timezone America/Los_Angeles -> UTC",
                "the demo lab",
            ]
            summary = str(history.query_one("#commit-summary").render())
            assert "host.timezone America/Los_Angeles -> UTC" in summary
            diff = str(history.query_one("#commit-diff").render())
            assert '+  time.timeZone = "UTC";' in diff
            commits.highlighted = 1
            await settle(pilot)
            await pilot.press("b")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.click("#answer-back")
            await settle(pilot)
            assert history.entries[0].subject == back
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is app.main
            # the editor shows the reverted profile
            zone = field(app, ("host", "timezone"), f.TextField)
            assert zone.control.value == "America/Los_Angeles"

    run(scenario)
    assert (lab / DEMO).read_text() == original
    assert git(lab, "log", "--format=%s", "-1").strip() == back
    assert (
        'time.timeZone = "America/Los_Angeles";'
        in (lab / "hosts/nixos-demo/configuration.nix").read_text()
    )


def test_revert_waits_for_unsaved_edits(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            await pilot.press("f3")
            await settle(pilot)
            await pilot.press("b")
            await settle(pilot)
            assert isinstance(app.screen, HistoryScreen)  # no confirmation: refused first

    run(scenario)
    assert git(lab, "log", "--format=%s").strip() == "the demo lab"


def test_removing_a_host_with_a_hand_edited_nix_file_is_refused(lab: Path) -> None:
    edited = lab / "hosts/nixos-demo/users.nix"
    edited.write_text(edited.read_text() + "# my own line\n")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            app.main.action_remove_host()
            await settle(pilot)
            await pilot.click("#answer-remove")
            await settle(pilot)
            assert isinstance(app.screen, Refused)
            assert any("edited by hand" in p.message for p in app.screen.problems)
            await pilot.press("enter")
            await settle(pilot)
            assert "nixos-demo" in app.session.folders()

    run(scenario)
    assert (lab / DEMO).exists()
    assert (lab / "hosts/nixos-demo/boot.nix").exists()
    assert edited.read_text().endswith("# my own line\n")


def test_marks_and_history_say_what_is_deployed_where(lab: Path) -> None:
    from datetime import UTC, datetime

    from homelab.history.records import record_deploy
    from homelab.tui.widgets.hostlist import HostList

    head = git(lab, "rev-parse", "HEAD").strip()
    moment = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    record_deploy(lab, "nixos-demo", head, "switch", "ok", moment, moment)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            hosts = app.main.query_one(HostList)
            assert hosts.row("nixos-demo").deploy == ""  # deployed as it is
            assert hosts.row("homeserver").deploy == "never"
            await choose_host(pilot, "nixos-demo")
            await type_into(pilot, field(app, ("host", "timezone"), f.TextField).control, "UTC")
            assert hosts.row("nixos-demo").unsaved
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.click("#commit")
            await settle(pilot)
            assert hosts.row("nixos-demo").deploy == "ahead"  # a commit not deployed yet
            assert not hosts.row("nixos-demo").unsaved
            await pilot.press("f3")
            await settle(pilot)
            history = app.screen
            assert isinstance(history, HistoryScreen)
            assert [e.deployed for e in history.entries] == [(), ("nixos-demo",)]
            commits = history.query_one("#commits", OptionList)
            assert "▲ nixos-demo" in str(commits.get_option_at_index(1).prompt)

    run(scenario)


def test_leaving_the_history_screen_puts_the_labs_name_back_in_the_title(lab: Path) -> None:
    def title(app: App[None]) -> str:
        return str(app.screen.query_one(HeaderTitle).render())

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await pilot.press("f3")
            await settle(pilot)
            assert "history of nixos-demo" in title(app)
            await pilot.press("escape")
            await settle(pilot)
            assert "history of" not in title(app)
            assert lab.name in title(app)

    run(scenario)
