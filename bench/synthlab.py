"""A synthetic lab for benchmarks: N hosts that are all valid, the same every time.

Each host includes two fragments (hosts/common/base.yaml and hosts/common/people.yaml),
and has, once merged, 5 users, 8 services from the repository's catalogue (no two on one
port, no two that conflict) and 10 containers. Every other host has a few lines of
extraConfig. With `options=True` each host also has an `options:` section of 20 entries
(OPTIONS: dotted and nested keys, quoted names, the four tags).

    python bench/synthlab.py DIR [N] [--options]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmD5m8nY3Zt1m0eQd7T1sQ4kq9m6fG7qJ3vQ2c0Gm3a"

# Services a host picks from, with settings that keep their ports apart: grafana,
# wikijs and adguardhome all default to port 3000. "dns" is adguardhome on even hosts
# and pihole on odd ones (the two conflict). openssh comes from the base fragment.
POOL: list[tuple[str, dict[str, Any]]] = [
    ("docker", {}),
    ("caddy", {"domain": "lab.home.arpa"}),
    ("dokuwiki", {"title": "Wiki"}),
    ("home-assistant", {"openFirewall": True}),
    ("jellyfin", {}),
    ("prometheus-node-exporter", {"enabledCollectors": ["systemd"]}),
    ("syncthing", {"guiHost": "0.0.0.0"}),
    ("tailscale", {"authKeyFile": "/var/lib/secrets/tailscale-authkey"}),
    ("uptime-kuma", {}),
    ("vaultwarden", {"signupsAllowed": False}),
    ("wikijs", {}),
    ("grafana", {"port": 3300, "secretKeyFile": "/var/lib/secrets/grafana-key"}),
    ("dns", {}),
]
OWN_SERVICES = 7  # plus openssh from the base fragment: 8
CONTAINERS = 10
OWN_USERS = 3  # plus two from the people fragment: 5

BASE = {
    "host": {"timezone": "Europe/Berlin", "locale": "en_US.UTF-8", "keyboard": "de"},
    "nix": {"gc": {"automatic": True, "dates": "weekly"}, "autoOptimise": True},
    "services": {"openssh": {"passwordAuthentication": False}},
    "packages": ["git", "htop", "vim"],
    "deploy": {"user": "root", "tags": ["lab"]},
}
PEOPLE = {
    "users": {
        name: {
            "description": name.capitalize(),
            "admin": True,
            "shell": "bash",
            "sshKeys": [f"{KEY} {name}@laptop"],
        }
        for name in ("alice", "bob")
    }
}


def _services(index: int) -> dict[str, Any]:
    chosen = [POOL[(index + k) % len(POOL)] for k in range(OWN_SERVICES)]
    out: dict[str, Any] = {}
    for name, settings in chosen:
        if name == "dns":
            name, settings = ("adguardhome", {"port": 3100}) if index % 2 == 0 else ("pihole", {})
        out[name] = dict(settings)
    return out


def profile(index: int) -> dict[str, Any]:
    services = _services(index)
    groups = ["wheel", "docker"] if "docker" in services else ["wheel"]
    users = {
        f"user{index}x{u}": {
            "description": f"User {u} of host {index}",
            "groups": groups if u == 0 else ["users"],
            "sshKeys": [f"{KEY} user{u}@host{index}"],
            "packages": ["ripgrep", "python3Packages.requests"],
            "home": {
                "stateVersion": "24.05",
                "packages": ["jq"],
                "programs": {"git": {"enable": True}, "bash": {"enable": True}},
            },
        }
        for u in range(OWN_USERS)
    }
    containers = {
        f"app{c}": {
            "image": f"ghcr.io/example/app{c}:1.{index % 7}",
            "ports": [f"127.0.0.1:{20000 + c}:80", f"{21000 + c}:8080/udp"],
            "volumes": [f"/srv/app{c}:/data"],
            "environment": {"TZ": "Europe/Berlin", "WORKERS": 2, "DEBUG": False},
            "extraOptions": ["--memory=256m"],
        }
        for c in range(CONTAINERS)
    }
    data: dict[str, Any] = {
        "include": ["../common/base.yaml", "../common/people.yaml"],
        "host": {
            "system": "aarch64-linux" if index % 5 == 0 else "x86_64-linux",
            "stateVersion": "24.05",
        },
        "hardware": {
            "boot": {"loader": "systemd-boot", "efi": True},
            "cpu": "amd" if index % 2 else "intel",
            "kernel": {"initrdModules": ["ahci", "xhci_pci", "nvme"], "params": ["quiet"]},
            "fileSystems": {
                "/": {"device": "/dev/disk/by-label/nixos", "fsType": "ext4"},
                "/boot": {"device": "/dev/disk/by-label/boot", "fsType": "vfat"},
            },
            "swap": [{"device": "/dev/disk/by-label/swap"}],
        },
        "networking": {
            "interfaces": {"eth0": {"addresses": [f"10.{index // 250}.{index % 250}.10/16"]}},
            "gateway": "10.0.0.1",
            "nameservers": ["10.0.0.2", "1.1.1.1"],
            "firewall": {"tcp": [8000 + index % 100], "trustedInterfaces": ["tailscale0"]},
        },
        "services": services,
        "users": users,
        "containers": containers,
        "packages": ["curl", "tmux", "smartmontools"],
        "deploy": {
            "address": f"10.{index // 250}.{index % 250}.10",
            "tags": ["synth", f"rack{index % 4}"],
            "checks": {"units": ["sshd.service"]},
        },
    }
    if index % 2:
        data["extraConfig"] = (
            "services.fwupd.enable = true;\n"
            'boot.kernel.sysctl."vm.swappiness" = 10;\n'
            'environment.variables = { EDITOR = "vim"; PAGER = "less"; };\n'
        )
    return data


# 20 entries of an options: section, as a person writes them (tags cannot come from
# yaml.safe_dump, so this is text). None of them is set by a section of the profile.
OPTIONS = """\
options:
  services.irqbalance.enable: true
  services.fstrim.enable: true
  zramSwap: {{enable: true, memoryPercent: 25}}
  boot.kernel.sysctl."net.core.rmem_max": 4194304
  boot.kernelPackages: !nix pkgs.linuxPackages_latest
  systemd.services.backup:
    description: Nightly copy of /srv
    script: rsync -a /srv/ /mnt/backup/
    serviceConfig: {{Type: oneshot, Nice: 19}}
    startAt: daily
  systemd.services.backup.path: [!pkg rsync, !pkg restic]
  systemd.tmpfiles.rules: ["d /srv/data 0775 root users -", "d /srv/app{index} 0750 root root -"]
  fileSystems."/srv/data": {{device: /dev/disk/by-label/data, fsType: ext4, options: [noatime]}}
  networking.hosts."10.0.0.2": [nas.lan, nas]
  services.samba.enable: true
  services.samba.settings."Host {index} media":
    path: /srv/data
    '"read only"': "yes"
    '"guest ok"': "no"
  time.hardwareClockInLocalTime: !default false
  documentation.man.generateCaches: !force false
  services.journald.extraConfig: |
    SystemMaxUse=500M
  services.logrotate.enable: true
  services.avahi: {{enable: true, nssmdns4: true, publish: {{enable: true, addresses: true}}}}
  users.groups.media.gid: {gid}
  services.smartd: {{enable: true, autodetect: true}}
  programs.mtr.enable: true
"""


def options_text(index: int) -> str:
    """The options: section of host `index` (20 entries)."""
    return OPTIONS.format(index=index, gid=2000 + index % 100)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)


def make_lab(root: Path, hosts: int = 200, options: bool = False) -> Path:
    """Write the lab into root (which must not exist) with the repository's catalogue;
    with `options`, each host has an options: section of 20 entries too."""
    (root / "hosts" / "common").mkdir(parents=True)
    shutil.copytree(REPO / "services", root / "services")
    (root / "hosts" / "common" / "base.yaml").write_text(_dump(BASE))
    (root / "hosts" / "common" / "people.yaml").write_text(_dump(PEOPLE))
    for index in range(hosts):
        folder = root / "hosts" / f"host{index:03d}"
        folder.mkdir()
        text = _dump(profile(index))
        if options:
            text += options_text(index)
        (folder / "profile.yaml").write_text(text)
    return root


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--options"]
    if len(args) not in (1, 2):
        sys.exit(__doc__)
    made = make_lab(
        Path(args[0]), int(args[1]) if len(args) == 2 else 200, "--options" in sys.argv[1:]
    )
    print(f"made {made}")
