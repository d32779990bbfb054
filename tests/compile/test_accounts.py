"""Root, system users and groups with fixed ids compile to what NixOS's users-groups.nix
accepts: root with its keys, password hash and shell but no isNormalUser (its uid is 0);
a system user with isSystemUser and the group NixOS requires; users.groups with gids.
The Nix parses with the real nix-instantiate and is evaluated as a module."""

from __future__ import annotations

from pathlib import Path

from homelab.lab import Lab
from tests.compiled import evaluate_host, host_files
from tests.hosts import with_host

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b"
HASH = "$y$j9T$abcdefghijklmnop$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"

PROFILE = f"""\
host: {{stateVersion: "24.05"}}
hardware: {{fileSystems: {{/: {{device: /dev/sda1, fsType: ext4}}}}}}
groups:
  media: {{gid: 2000}}
  backup: {{}}
users:
  root:
    sshKeys: ["{KEY}"]
    hashedPassword: "{HASH}"
    shell: zsh
    groups: [backup]
  jellyfin:
    system: true
    group: media
    uid: 900
  alice:
    admin: true
    group: media
    uid: 2001
"""


def test_root_system_users_and_groups(basic_lab: Path) -> None:
    with_host(basic_lab, PROFILE)
    lab = Lab(basic_lab)
    assert "users.users.root" in host_files(lab, "gamma")["hosts/gamma/users.nix"]
    config = evaluate_host(lab, "gamma")
    users = config["users"]["users"]
    assert users["root"] == {
        "extraGroups": ["backup"],
        "hashedPassword": HASH,
        "openssh": {"authorizedKeys": {"keys": [KEY]}},
        "shell": "pkgs.zsh",
    }  # no isNormalUser (NixOS asserts a normal user's uid is 1000 or more), no wheel
    assert users["jellyfin"] == {"isSystemUser": True, "group": "media", "uid": 900}
    assert users["alice"]["isNormalUser"] is True
    assert users["alice"]["group"] == "media"
    assert users["alice"]["extraGroups"] == ["wheel"]
    assert config["users"]["groups"] == {"media": {"gid": 2000}, "backup": {}}
    assert config["programs"]["zsh"]["enable"] is True  # root's shell, as for anyone


def test_root_gets_home_manager_only_when_asked(basic_lab: Path) -> None:
    plain = PROFILE
    with_host(basic_lab, plain)
    assert "hosts/gamma/home.nix" not in host_files(Lab(basic_lab), "gamma")
    asked = PROFILE.replace(
        "    groups: [backup]\n", "    groups: [backup]\n    home: {programs: {git: {}}}\n"
    )
    with_host(basic_lab, asked)
    config = evaluate_host(Lab(basic_lab), "gamma")
    assert config["home-manager"]["users"]["root"]["programs"]["git"] == {"enable": True}


def test_groups_alone_make_users_nix(basic_lab: Path) -> None:
    with_host(
        basic_lab,
        'host: {stateVersion: "24.05"}\n'
        "hardware: {fileSystems: {/: {device: /dev/sda1, fsType: ext4}}}\n"
        "groups: {media: {gid: 2000}}\n",
    )
    config = evaluate_host(Lab(basic_lab), "gamma")
    assert config["users"] == {"groups": {"media": {"gid": 2000}}}
