"""A small lab that uses encrypted secrets, with real keys: one host `dns` whose profile
names four secrets (a Tailscale auth key, Grafana's secret key with an owner, a user's
hashed password, a `secrets:` entry without a source), an admin with an age key in
lab.yaml, and the four encrypted/NAME.age files made by the real `age` for the host's
ed25519 host key and the admin."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO
from tests.secrets.keyfiles import age, age_key, ssh_key

NAMES = ("grafana-key", "ops-password", "tailscale-authkey", "wifi")

PROFILE = """\
host: {stateVersion: "24.05"}
hardware:
  boot: {loader: systemd-boot, efi: true}
  fileSystems:
    /: {device: /dev/disk/by-label/nixos, fsType: ext4}
services:
  openssh: {}
  tailscale:
    authKeyFile: {secret: tailscale-authkey}
  grafana:
    secretKeyFile: {secret: grafana-key, owner: grafana}
users:
  ops:
    hashedPasswordFile: {secret: ops-password}
secrets:
  wifi:
    target: /var/lib/secrets/wifi.env
    owner: ops
    mode: "0440"
deploy:
  address: 192.168.1.2
  hostKey: HOSTKEY
"""
# where each use stands in PROFILE (line, column of its value)
AT = {
    "tailscale-authkey": "hosts/dns/profile.yaml:9:18",
    "grafana-key": "hosts/dns/profile.yaml:11:20",
    "ops-password": "hosts/dns/profile.yaml:14:25",
    "wifi": "hosts/dns/profile.yaml:16:3",
}

LAB_YAML = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
admins:
  alice: ADMIN
"""


@dataclass(frozen=True)
class SecretsLab:
    root: Path
    keys: Path  # the folder of the private keys, outside the lab
    host_key: Path  # the host's ed25519 private key
    host_pub: str  # its public key line
    admin: Path  # alice's age identity
    admin_pub: str

    @property
    def profile(self) -> Path:
        return self.root / "hosts/dns/profile.yaml"

    def value(self, name: str) -> bytes:
        return f"value of {name}, plaintext\n".encode()

    def encrypt(self, name: str, *recipients: str) -> None:
        """encrypted/NAME.age made by the age command for these public keys (default: the
        host's and alice's)."""
        args: list[str] = []
        for r in recipients or (self.host_pub, self.admin_pub):
            args += ["-r", r]
        data = age(*args, data=self.value(name))
        (self.root / "encrypted" / f"{name}.age").write_bytes(data)

    def edit(self, path: str, old: str, new: str) -> None:
        file = self.root / path
        text = file.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        file.write_text(text.replace(old, new, 1), encoding="utf-8")


def make(tmp_path: Path) -> SecretsLab:
    keys = tmp_path / "keys"
    keys.mkdir()
    host_key, host_line = ssh_key(keys, "ssh_host_ed25519_key")
    admin, admin_pub = age_key(keys, "alice")
    root = tmp_path / "lab"
    (root / "hosts/dns").mkdir(parents=True)
    (root / "encrypted").mkdir()
    shutil.copytree(REPO / "services", root / "services")
    host_pub = " ".join(host_line.split()[:2])
    (root / "hosts/dns/profile.yaml").write_text(PROFILE.replace("HOSTKEY", host_pub))
    (root / "lab.yaml").write_text(LAB_YAML.replace("ADMIN", admin_pub))
    lab = SecretsLab(root, keys, host_key, host_pub, admin, admin_pub)
    for name in NAMES:
        lab.encrypt(name)
    return lab
