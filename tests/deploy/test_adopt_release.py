"""`homelab adopt` of a machine that does not tell its release: the new host's
stateVersion is the one the lab follows (lab.yaml's), not homelab's own."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.sshd.rig import Rig


def test_adopt_takes_lab_yamls_release_when_the_machine_does_not_tell(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("box", known=False)
    # no stateVersion in configuration.nix, no VERSION_ID, no nixos-version
    (machine.root / "etc" / "os-release").write_text("ID=nixos\n")
    configuration = machine.root / "etc" / "nixos" / "configuration.nix"
    configuration.write_text("{ ... }:\n{\n  imports = [ ./hardware-configuration.nix ];\n}\n")
    system = Path(os.path.realpath(machine.root / "run" / "current-system"))
    (system / "nixos-version").unlink()
    lab = make_lab(tmp_path / "lab", [])
    (lab / "lab.yaml").write_text('release: "26.11"\n')

    code, out, err = run_cli(
        "--lab", str(lab), "adopt", "newbox", f"root@127.0.0.1:{machine.port}", "--accept-new"
    )

    assert code == 0, out + err
    profile = (lab / "hosts" / "newbox" / "profile.yaml").read_text()
    assert 'stateVersion: "26.11"' in profile, profile
