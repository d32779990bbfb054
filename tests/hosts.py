"""One more host in a lab: loaded, and its problems as a person reads them."""

from __future__ import annotations

from pathlib import Path

from homelab.lab import Lab, LabState

PROFILE = "hosts/gamma/profile.yaml"

# the least a host needs to be valid: a boot loader and a root file system
BASE = """\
host: {stateVersion: "24.05"}
hardware:
  boot: {loader: systemd-boot, efi: true}
  fileSystems:
    /: {device: /dev/disk/by-label/nixos, fsType: ext4}
"""


def with_host(lab: Path, text: str, folder: str = "gamma") -> LabState:
    """The lab loaded with one more host whose profile is `text`."""
    (lab / "hosts" / folder).mkdir(exist_ok=True)
    (lab / "hosts" / folder / "profile.yaml").write_text(text)
    return Lab(lab).load()


def problems_of(lab: Path, text: str) -> list[tuple[str, str, str]]:
    """(place, message, hint) of every problem of a new host gamma."""
    state = with_host(lab, text)
    return [(str(p.place), p.message, p.hint) for p in state.hosts["gamma"].problems]
