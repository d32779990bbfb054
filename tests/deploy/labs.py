"""Labs for the deploy tests: real lab folders (flake, catalogue, profiles, git) whose
hosts are machines of the SSH test rig."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.sshd.rig import Machine

REPO = Path(__file__).resolve().parents[2]

HARDWARE = """\
# hardware of {name} (a simulated machine){markers}
{{ ... }}:
{{
  boot.initrd.availableKernelModules = [ "ahci" "nvme" ];
}}
"""

PROFILE = """\
# {name}: a simulated machine of the test rig
host:
  stateVersion: "24.05"
hardware:
  boot: {{loader: systemd-boot, efi: true}}
  configuration: hardware-configuration.nix
packages: [hello]
deploy:
  address: {name}
  tags: [{tags}]
{extra}"""


def make_lab(
    root: Path,
    machines: Sequence[Machine],
    *,
    tags: Mapping[str, Sequence[str]] | None = None,
    extra: Mapping[str, str] | None = None,
    commit: bool = True,
) -> Path:
    """A lab with one host per machine (address = the machine's ssh_config alias)."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "homelab" / "skeleton" / "flake.nix", root / "flake.nix")
    shutil.copytree(REPO / "services", root / "services")
    (root / "hosts").mkdir()
    for machine in machines:
        write_host(root, machine.name, tags=(tags or {}).get(machine.name, ["lab"]),
                   extra=(extra or {}).get(machine.name, ""))  # fmt: skip
    if commit:
        import git

        repo = git.Repo.init(root)
        with repo.config_writer() as config:
            config.set_value("user", "name", "Test")
            config.set_value("user", "email", "test@example.org")
        repo.git.add("--all")
        repo.index.commit("a lab for the deploy tests")
    return root


def write_host(
    root: Path, name: str, *, tags: Sequence[str] = ("lab",), extra: str = "", markers: str = ""
) -> None:
    folder = root / "hosts" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profile.yaml").write_text(
        PROFILE.format(name=name, tags=", ".join(tags), extra=extra)
    )
    set_markers(root, name, markers)


def set_markers(root: Path, name: str, markers: str) -> None:
    """Marker comments (`rig: fail-build`, ...) in the host's hardware-configuration.nix:
    the stand-in nixos-rebuild reads them from the uploaded configuration."""
    text = "".join(f"\n# rig: {m}" for m in markers.split()) if markers else ""
    (root / "hosts" / name / "hardware-configuration.nix").write_text(
        HARDWARE.format(name=name, markers=text)
    )
