"""The editor's first check reads one host only: secrets another host uses are not called
unused then (the whole lab's load says what is)."""

from __future__ import annotations

from pathlib import Path

from homelab.lab import Lab
from homelab.source import DiskSource, OnlyHosts
from tests.secrets import seclab

OTHER = """\
host: {stateVersion: "24.05"}
hardware:
  boot: {loader: systemd-boot, efi: true}
  fileSystems:
    /: {device: /dev/disk/by-label/nixos, fsType: ext4}
"""


def test_one_host_read_alone_calls_no_other_hosts_secret_unused(tmp_path: Path) -> None:
    made = seclab.make(tmp_path)
    (made.root / "hosts/box").mkdir()
    (made.root / "hosts/box/profile.yaml").write_text(OTHER, encoding="utf-8")
    lab = Lab(made.root)
    alone = lab.load(source=OnlyHosts(DiskSource(made.root), {"box"}))
    assert not [w for w in alone.all_warnings() if "no host uses" in w.message]
    # the whole lab: dns uses all four; one file nobody names is said
    seclab.SecretsLab.encrypt(made, "spare")
    whole = lab.load()
    unused = [w for w in whole.all_warnings() if "no host uses" in w.message]
    assert [w.place.file for w in unused] == ["encrypted/spare.age"]
