"""When the machine's Nix refuses the configuration, `homelab apply` names the profile line
that wrote what Nix refused, then shows Nix's own words.

The machine is the SSH rig; its stand-in nixos-rebuild prints Nix's real error text for
the very files the lab uploads (evaluated here by the real module system: tests/nixerrors.py)
and fails, as the machine's own nixos-rebuild would."""

from __future__ import annotations

import re
from pathlib import Path

from homelab.compile import compile_host
from homelab.deploy.evalerrors import with_origins
from homelab.deploy.models import ApplyState, HostResult, Method
from homelab.deploy.plan import HostPlan
from homelab.deploy.ssh import Endpoint
from homelab.labfiles import LabFiles
from homelab.tui.screens.dialogs import Confirm
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.nixerrors import real_error
from tests.sshd.rig import Machine, Rig
from tests.tui.pilot import open_apply, run, running, settle

OPTIONS = """\
options:
  services.fwupd.enable: "yes"
"""


def _refusing_machine(rig: Rig, tmp_path: Path) -> tuple[Machine, Path, str]:
    """A lab whose host sets a bool option to a string, its machine's Nix refusing it with
    Nix's real words; and the profile place those words are about."""
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": OPTIONS})
    state = LabFiles(lab).load()
    profile = state.hosts["web"].profile
    assert profile is not None
    said = real_error(compile_host(profile, state.catalog))
    assert "-source/hosts/web/options.nix" in said  # a generated file of the uploaded lab
    machine.fault("eval-error", said)
    text = (lab / "hosts/web/profile.yaml").read_text().split("\n")
    line = next(i for i, t in enumerate(text, 1) if "services.fwupd.enable" in t)
    return machine, lab, f"hosts/web/profile.yaml:{line}:3: services.fwupd.enable: "


def test_apply_names_the_profile_line_before_nixs_error(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    _, lab, place = _refusing_machine(rig, tmp_path)
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 1, out + err
    # the table's row names the profile place too, and stays one line
    row = next(line for line in out.split("\n") if line.startswith("web ") and "FAILED" in line)
    assert f"build failed (exit 1): {place}A definition for option" in row, row
    assert row.endswith("; still on generation 1"), row
    report = out[out.index("\nweb:\n") :]  # after the table: what went wrong, per host
    assert f"  {place}A definition for option `services.fwupd.enable' is not of type" in report
    nix = report.index("error: A definition for option `services.fwupd.enable'")
    assert report.index(place) < report.index("what Nix said:") < nix, report
    assert '-source/hosts/web/options.nix\': "yes"' in report  # Nix's words, whole


def test_a_failure_without_nix_error_is_reported_as_before(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    machine.fault("eval-error", "error: builder for '/nix/store/x.drv' failed with exit code 1\n")
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 1, out + err
    assert "builder for '/nix/store/x.drv' failed" in out
    assert "profile.yaml:" not in out


def test_the_editors_apply_screen_names_the_profile_line_too(
    rig: Rig, tmp_path: Path, home: Path
) -> None:
    _, lab, place = _refusing_machine(rig, tmp_path)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            screen = await open_apply(app, pilot, every=True)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.screen, Confirm)
            await pilot.click("#answer-apply")
            await settle(pilot)
            summary = str(screen.query_one("#apply-summary").render())
            assert place in summary, summary
            assert summary.index(place) < summary.index("what Nix said:"), summary

    run(scenario)


def test_a_channels_host_whose_nix_names_etc_nixos(tmp_path: Path) -> None:
    """The channels method puts the host's files in /etc/nixos, and Nix names them there
    (the apply's result made here, without the rig: only the mapping is new)."""
    lab = make_lab(tmp_path / "lab", [_Named("web")], extra={"web": OPTIONS}, commit=False)  # type: ignore[list-item]
    path = lab / "hosts/web/profile.yaml"
    path.write_text(path.read_text().replace("deploy:\n", "deploy:\n  method: channels\n"))
    text = path.read_text()
    state = LabFiles(lab).load()
    profile = state.hosts["web"].profile
    assert profile is not None and profile.deploy.method == "channels"
    files = compile_host(profile, state.catalog)
    said = re.sub(r"/nix/store/\w+-source/hosts/web/", "/etc/nixos/", real_error(files))
    assert "In `/etc/nixos/options.nix'" in said
    plan = HostPlan(
        folder="web",
        name="web",
        endpoint=Endpoint("web"),
        files={rel.removeprefix("hosts/web/"): t.encode() for rel, t in files.items()},
        method=Method.CHANNELS,
    )
    failed = HostResult(
        "web", "web", ApplyState.FAILED, "build failed (exit 1): error: x; still on generation 1",
        details=("last lines from the machine:", "  error: x"), nix_error=said,
    )  # fmt: skip
    [shown] = with_origins([failed], [plan], state)
    line = next(i for i, t in enumerate(text.split("\n"), 1) if "services.fwupd.enable" in t)
    assert shown.details[0].startswith(f"hosts/web/profile.yaml:{line}:3: services.fwupd.enable: ")
    assert shown.details[1:3] == ("what Nix said:", "  " + said.split("\n")[0])
    assert "last lines from the machine:" not in shown.details  # Nix's words, once
    assert shown.summary.startswith(f"build failed (exit 1): hosts/web/profile.yaml:{line}:3: ")
    assert shown.summary.endswith("; still on generation 1")


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name
