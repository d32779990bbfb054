"""Applying from the TUI against the SSH test rig: every host's output in its own pane,
its state and time, the summary, and the deploy records."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from textual.pilot import Pilot
from textual.widgets import Checkbox, Log
from textual.worker import WorkerFailed

from homelab.history.records import deployed
from homelab.tui.app import HomelabApp
from homelab.tui.screens.apply import ApplyScreen, Asked, HostPane
from homelab.tui.screens.asks import SudoPassword, TrustHostKey
from homelab.tui.screens.dialogs import Confirm
from tests.deploy.buildlabs import make_build_lab
from tests.deploy.labs import make_lab, set_markers
from tests.deploy.secretlabs import admin_identity, need_age
from tests.sshd.rig import Machine, Rig
from tests.tui.conftest import commit_all, git
from tests.tui.pilot import open_apply, run, running, settle


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    made = Rig(tmp_path / "rig")
    monkeypatch.setenv("HOME", str(made.home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    try:
        yield made
    finally:
        made.close()


@pytest.mark.sshd
def test_apply_streams_each_hosts_output_and_ends_with_the_summary(
    rig: Rig, tmp_path: Path, git_env: None
) -> None:
    machines = [rig.add("web"), rig.add("nas")]
    lab = make_lab(tmp_path / "lab", machines, commit=False)
    set_markers(lab, "nas", "fail-build")
    git(lab, "init", "-q", "-b", "main")
    commit_all(lab, "two machines")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await open_apply(app, pilot, every=True)
            await pilot.press("f5")  # review what goes out
            await settle(pilot)
            review = str(screen.query_one("#apply-changes").render())
            assert "web: never deployed: everything is new" in review
            assert "+++ b/hosts/web/configuration.nix" in review
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.click("#answer-apply")
            await settle(pilot)
            panes = {pane.host: pane for pane in screen.query(HostPane)}
            assert set(panes) == {"web", "nas"}
            assert panes["web"].state == "done"
            assert panes["nas"].state == "failed"
            web_log = "\n".join(panes["web"].query_one(Log).lines)
            nas_log = "\n".join(panes["nas"].query_one(Log).lines)
            assert "activating the configuration..." in web_log
            assert "builder for '/nix/store/0000-nixos-system.drv' failed" in nas_log
            assert panes["web"].border_title == "web · done"
            assert panes["web"].border_subtitle.endswith("s")  # its elapsed time
            summary = str(screen.query_one("#apply-summary").render())
            assert "web   ok" in summary
            assert "nas   FAILED" in summary
            assert not screen.running

    run(scenario)
    records = deployed(lab)
    assert records["web"].result == "ok"
    assert "nas" not in records  # a failed build leaves the machine as it was
    assert machines[0].generation() == 2 and machines[1].generation() == 1


@pytest.mark.sshd
def test_apply_can_be_cancelled_and_the_screen_stays_responsive(
    rig: Rig, tmp_path: Path, git_env: None
) -> None:
    machines = [rig.add("slow")]
    lab = make_lab(tmp_path / "lab", machines, commit=False)
    set_markers(lab, "slow", "hang")
    git(lab, "init", "-q", "-b", "main")
    commit_all(lab, "a slow machine")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await open_apply(app, pilot, every=True)
            await pilot.press("ctrl+r")
            await pilot.pause(0.2)
            await pilot.click("#answer-apply")
            pane = None
            for _ in range(200):  # the build hangs; the UI keeps answering meanwhile
                await pilot.pause(0.05)
                panes = list(screen.query(HostPane))
                if panes and panes[0].state == "building":
                    pane = panes[0]
                    break
            assert pane is not None, "the host never started building"
            await pilot.press("ctrl+x")
            await settle(pilot)
            assert pane.state in ("cancelled", "failed")
            assert not screen.running

    run(scenario)
    assert machines[0].generation() == 1


@pytest.mark.sshd
def test_a_failed_host_says_why_and_what_next_in_its_pane(
    rig: Rig, tmp_path: Path, git_env: None
) -> None:
    machines = [rig.add("down"), rig.add("nas")]
    lab = make_lab(tmp_path / "lab", machines, commit=False)
    set_markers(lab, "nas", "fail-build")
    machines[0].stop()  # nothing answers: no output at all comes from this host
    git(lab, "init", "-q", "-b", "main")
    commit_all(lab, "two machines")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await open_apply(app, pilot)
            await pilot.press("down", "space")  # "down" is picked already; pick nas too
            assert screen.chosen() == ["down", "nas"]
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.press("enter")  # the focused answer: apply
            await settle(pilot)
            panes = {
                pane.host: "\n".join(pane.query_one(Log).lines) for pane in screen.query(HostPane)
            }
            assert "── failed: connection refused" in panes["down"]
            assert "next: the machine was not reached or not ready" in panes["down"]
            assert "── failed: build failed (exit" in panes["nas"]
            assert "next: the machine runs what it ran; read the output above" in panes["nas"]

    run(scenario)


# ---- what the command line's apply has: accept-new and the sudo password -------------------


def _fingerprint(machine: Machine) -> str:
    """The machine's host key fingerprint, as ssh-keygen reads it from the key file."""
    pub = machine.folder / "ssh_host_ed25519_key.pub"
    done = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()[1]


def _pinned(lab: Path, host: str) -> object:
    data = yaml.safe_load((lab / "hosts" / host / "profile.yaml").read_text())
    return (data.get("deploy") or {}).get("hostKey")


async def _apply_all(app: HomelabApp, pilot: Pilot[None], *, sudo: bool = False) -> ApplyScreen:
    """Open the apply screen, choose every host, and answer the first question: apply."""
    screen = await open_apply(app, pilot, every=True)
    if sudo:
        screen.query_one("#apply-sudo", Checkbox).value = True
    await pilot.press("ctrl+r")
    await settle(pilot)
    assert isinstance(app.screen, Confirm)
    await pilot.click("#answer-apply")
    await settle(pilot)
    return screen


@pytest.mark.sshd
def test_an_unknown_host_key_is_shown_by_its_fingerprint_and_pinned_once_trusted(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web", known=False)
    lab = make_lab(tmp_path / "lab", [machine])  # committed, never built
    before = git(lab, "rev-parse", "HEAD").strip()
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await _apply_all(app, pilot)
            # the first apply committed what goes out, then met a key nobody checked
            asked = app.screen
            assert isinstance(asked, TrustHostKey)
            assert _fingerprint(machine) in asked.text
            assert "deploy.hostKey" in asked.text
            assert "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" in asked.text
            seen["sent"] = git(lab, "rev-parse", "HEAD").strip()
            assert seen["sent"] != before
            assert _pinned(lab, "web") is None  # nothing pinned before the person says so
            assert machine.generation() == 1
            [pane] = list(screen.query(HostPane))
            assert pane.state == "failed"
            await pilot.click("#answer-trust")
            await settle(pilot)
            assert not isinstance(app.screen, TrustHostKey)
            [pane] = list(screen.query(HostPane))
            assert pane.state == "done"
            summary = str(screen.query_one("#apply-summary").render())
            assert f"pinned the host key of web ({_fingerprint(machine)})" in summary

    run(scenario)
    assert machine.generation() == 2
    assert _pinned(lab, "web") == machine.host_key  # exactly the key that was shown
    # the pin is a commit of its own, after the commit that was sent
    assert git(lab, "rev-parse", "HEAD~1").strip() == seen["sent"]
    assert git(lab, "log", "-1", "--format=%s").strip() == "web: host key pinned"
    assert git(lab, "status", "--porcelain").strip() == ""
    assert deployed(lab)["web"].commit == seen["sent"]  # the record names what was sent


@pytest.mark.sshd
def test_a_host_key_not_trusted_is_not_pinned_and_nothing_more_is_sent(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web", known=False)
    lab = make_lab(tmp_path / "lab", [machine])
    sent: list[str] = []

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await _apply_all(app, pilot)
            assert isinstance(app.screen, TrustHostKey)
            sent.append(git(lab, "rev-parse", "HEAD").strip())
            await pilot.press("enter")  # the focus is on "Not now": a glance trusts nothing
            await settle(pilot)
            assert not isinstance(app.screen, TrustHostKey)

    run(scenario)
    assert _pinned(lab, "web") is None
    assert git(lab, "rev-parse", "HEAD").strip() == sent[0]
    assert machine.generation() == 1
    assert "web" not in deployed(lab)


@pytest.mark.sshd
def test_trusting_a_shown_key_accepts_that_key_and_no_other(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web", known=False)
    lab = make_lab(tmp_path / "lab", [machine])
    sent: list[str] = []

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await _apply_all(app, pilot)
            asked = app.screen
            assert isinstance(asked, TrustHostKey)
            shown = _fingerprint(machine)
            assert shown in asked.text
            sent.append(git(lab, "rev-parse", "HEAD").strip())
            machine.new_host_key()  # between the look and the yes, another key answers
            await pilot.click("#answer-trust")
            await settle(pilot)
            again = app.screen
            assert isinstance(again, TrustHostKey)  # refused, and the new key is shown
            assert _fingerprint(machine) in again.text
            assert shown not in again.text
            await pilot.click("#answer-cancel")
            await settle(pilot)

    run(scenario)
    assert _pinned(lab, "web") is None
    assert git(lab, "rev-parse", "HEAD").strip() == sent[0]
    assert machine.generation() == 1


PASSWORD = "correct horse battery"


def _with_sudo(rig: Rig, tmp_path: Path) -> tuple[Machine, Path]:
    machine = rig.add("web")
    machine.fault("sudo-password", PASSWORD)
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": "  sudo: true\n"})
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [vim]"))
    return machine, lab


@pytest.mark.sshd
def test_the_sudo_password_is_asked_before_the_commit_and_never_shown_or_written(
    rig: Rig, tmp_path: Path
) -> None:
    machine, lab = _with_sudo(rig, tmp_path)
    before = git(lab, "rev-parse", "HEAD").strip()
    shown: list[str] = []

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await _apply_all(app, pilot, sudo=True)
            assert isinstance(app.screen, SudoPassword)
            assert git(lab, "rev-parse", "HEAD").strip() == before  # asked before the commit
            assert machine.lines("commands.log") == []
            await pilot.press(*("space" if c == " " else c for c in PASSWORD))
            shown.append(app.export_screenshot())
            await pilot.press("enter")
            await settle(pilot)
            [pane] = list(screen.query(HostPane))
            assert pane.state == "done", "\n".join(pane.query_one(Log).lines)
            shown.append("\n".join(pane.query_one(Log).lines))
            shown.append(str(screen.query_one("#apply-summary").render()))
            shown.append(app.export_screenshot())
            assert screen.sensitive() == []  # not held once the apply is over

    run(scenario)
    assert machine.generation() == 2
    assert git(lab, "rev-parse", "HEAD").strip() != before
    calls = [json.loads(line) for line in machine.lines("sudo.log")]
    assert ["-S", "systemd-run"] in [call[:2] for call in calls]
    assert all(PASSWORD not in arg for call in calls for arg in call)
    assert all(PASSWORD not in text for text in shown)
    assert shown[0].count("•") >= len(PASSWORD)  # the dialog showed dots, not the password
    records = git(lab, "for-each-ref", "--format=%(contents)", "refs/tags", "refs/homelab")
    assert "web" in records and PASSWORD not in records
    assert PASSWORD not in git(lab, "log", "--all", "--format=%B")
    for path in [*lab.rglob("*"), *machine.root.rglob("*")]:
        if path.is_file() and not {".git", ".rig"} & set(path.parts):
            assert PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.sshd
def test_no_sudo_password_given_means_nothing_committed_or_applied(
    rig: Rig, tmp_path: Path
) -> None:
    machine, lab = _with_sudo(rig, tmp_path)
    before = git(lab, "rev-parse", "HEAD").strip()

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await _apply_all(app, pilot, sudo=True)
            assert isinstance(app.screen, SudoPassword)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ApplyScreen)

    run(scenario)
    assert git(lab, "rev-parse", "HEAD").strip() == before
    assert machine.lines("commands.log") == []
    assert machine.generation() == 1


@pytest.mark.sshd
def test_a_wrong_sudo_password_leaves_the_machine_as_it_was(rig: Rig, tmp_path: Path) -> None:
    machine, lab = _with_sudo(rig, tmp_path)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await _apply_all(app, pilot, sudo=True)
            await pilot.press(*"wrong", "enter")
            await settle(pilot)
            [pane] = list(screen.query(HostPane))
            assert pane.state == "failed"
            summary = str(screen.query_one("#apply-summary").render())
            assert "sudo refused the password; not touched" in summary

    run(scenario)
    assert machine.generation() == 1


@pytest.mark.sshd
def test_an_activation_that_fails_is_rolled_back_and_its_pane_says_so(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    set_markers(lab, "web", "fail-activation")

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await _apply_all(app, pilot)
            [pane] = list(screen.query(HostPane))  # it was "rolling back" on the way
            assert pane.state == "failed"
            assert pane.has_class("-failed") and not pane.has_class("-rolling-back")
            summary = str(screen.query_one("#apply-summary").render())
            assert "switched back to generation 1" in summary

    run(scenario)
    assert machine.current() == machine.system_of(1)  # switched back


@pytest.mark.sshd
def test_an_unexpected_error_during_an_apply_reports_without_the_sudo_password(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine, lab = _with_sudo(rig, tmp_path)

    async def broken(self: ApplyScreen, asked: Asked, applied: object) -> None:
        raise RuntimeError(f"sudo on web wanted {asked.sudo_password}")

    monkeypatch.setattr(ApplyScreen, "trust_keys", broken)
    reports: list[Path | None] = []

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await _apply_all(app, pilot, sudo=True)
            await pilot.press(*"hunter22", "enter")
            await settle(pilot)
            reports.append(app.crash_report)

    with pytest.raises(WorkerFailed):  # the error, from the apply's worker
        run(scenario)
    assert machine.generation() == 1  # the password was wrong; nothing changed
    report = reports[0]
    assert report is not None
    text = report.read_text()
    assert "sudo on web wanted [hidden]" in text
    assert "hunter22" not in text


@pytest.mark.sshd
def test_a_second_apply_leaves_an_up_to_date_machine_alone_unless_told_to_rebuild(
    rig: Rig, tmp_path: Path, git_env: None
) -> None:
    from tests.deploy.test_apply import rebuilds

    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine], commit=False)
    git(lab, "init", "-q", "-b", "main")
    commit_all(lab, "one machine")

    async def apply_once(pilot: Pilot[None], screen: ApplyScreen) -> str:
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.click("#answer-apply")
        await settle(pilot)
        assert not screen.running
        return str(screen.query_one("#apply-summary").render())

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await open_apply(app, pilot, every=True)
            assert "web   ok" in await apply_once(pilot, screen)
            assert len(rebuilds(machine)) == 1

            summary = await apply_once(pilot, screen)

            assert "web   up to date" in summary
            assert len(rebuilds(machine)) == 1
            pane = next(iter(screen.query(HostPane)))
            assert "up to date: it runs what its last deploy switched to" in "\n".join(
                pane.query_one(Log).lines
            )
            await pilot.click("#apply-force")
            summary = await apply_once(pilot, screen)
            assert "web   ok" in summary
            assert len(rebuilds(machine)) == 2

    run(scenario)


@pytest.mark.sshd
def test_the_review_says_which_host_is_built_on_which_machine(rig: Rig, tmp_path: Path) -> None:
    need_age()
    _, public = admin_identity(tmp_path / "admin")
    (tmp_path / "admin.pub").write_text(public + "\n")
    lab = make_build_lab(tmp_path / "lab", rig.add("nuc"), [rig.add("pi")])

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await open_apply(app, pilot, every=True)
            await pilot.press("f5")
            await settle(pilot)
            review = str(screen.query_one("#apply-changes").render())
            assert "pi: built on nuc" in review
            assert "nuc: built on" not in review  # nuc builds its own

    run(scenario)
