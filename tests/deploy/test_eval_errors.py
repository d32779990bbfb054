"""When the machine's Nix refuses the configuration, `homelab apply` names the profile line
that wrote what Nix refused, then shows Nix's own words.

The machine is the SSH rig; its stand-in nixos-rebuild prints Nix's real error text for
the very files the lab uploads (evaluated here by the real module system: tests/nixerrors.py)
and fails, as the machine's own nixos-rebuild would."""

from __future__ import annotations

from pathlib import Path

from homelab.compile import compile_host
from homelab.labfiles import LabFiles
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.nixerrors import real_error
from tests.sshd.rig import Rig

OPTIONS = """\
options:
  services.fwupd.enable: "yes"
"""


def test_apply_names_the_profile_line_before_nixs_error(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": OPTIONS})
    state = LabFiles(lab).load()
    profile = state.hosts["web"].profile
    assert profile is not None
    said = real_error(compile_host(profile, state.catalog))
    assert "-source/hosts/web/options.nix" in said  # a generated file of the uploaded lab
    machine.fault("eval-error", said)

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 1, out + err
    text = (lab / "hosts/web/profile.yaml").read_text().split("\n")
    line = next(i for i, t in enumerate(text, 1) if "services.fwupd.enable" in t)
    report = out[out.index("\nweb:\n") :]  # after the table: what went wrong, per host
    place = f"hosts/web/profile.yaml:{line}:3: services.fwupd.enable: "
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
