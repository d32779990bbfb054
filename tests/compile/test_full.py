"""A lab that uses every profile section and every catalogue entry compiles to what it says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homelab.lab import Lab
from tests.compiled import copy_lab, evaluate_host, host_files
from tests.nixtools import nix_parse

FULL = Path(__file__).resolve().parents[1] / "labs" / "full"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(copy_lab(FULL, tmp_path_factory.mktemp("full") / "lab"))


@pytest.fixture(scope="module")
def alpha(lab: Lab) -> dict[str, Any]:
    return evaluate_host(lab, "alpha", config={"networking": {"hostName": "alpha"}})


@pytest.fixture(scope="module")
def beta(lab: Lab) -> dict[str, Any]:
    return evaluate_host(lab, "beta")


@pytest.fixture(scope="module")
def gamma(lab: Lab) -> dict[str, Any]:
    return evaluate_host(lab, "gamma")


def test_every_file_parses(lab: Lab) -> None:
    state = lab.load()
    for text in lab.generated(state).values():
        nix_parse(text)


def test_host_section(alpha: dict[str, Any]) -> None:
    assert alpha["networking"]["hostName"] == "alpha"
    assert alpha["nixpkgs"]["hostPlatform"] == "x86_64-linux"
    assert alpha["system"]["stateVersion"] == "25.11"
    assert alpha["time"]["timeZone"] == "Europe/Berlin"
    assert alpha["i18n"]["defaultLocale"] == "de_DE.UTF-8"
    assert alpha["services"]["xserver"]["xkb"]["layout"] == "de"
    assert alpha["console"]["useXkbConfig"] is True


def test_hardware_section(alpha: dict[str, Any]) -> None:
    boot = alpha["boot"]
    assert boot["loader"]["systemd-boot"] == {"enable": True, "configurationLimit": 10}
    assert boot["loader"]["efi"] == {"canTouchEfiVariables": True, "efiSysMountPoint": "/boot/efi"}
    assert boot["kernelPackages"] == "pkgs.linuxPackages_latest"
    assert boot["kernelModules"] == ["kvm-intel"]
    assert boot["initrd"]["availableKernelModules"] == ["nvme", "xhci_pci"]
    assert boot["kernelParams"] == ["quiet", "console=ttyS0,115200"]
    assert alpha["hardware"]["cpu"]["intel"]["updateMicrocode"] is True
    assert alpha["hardware"]["enableRedistributableFirmware"] is True
    assert alpha["fileSystems"]["/data"] == {
        "device": "/dev/disk/by-label/data",
        "fsType": "xfs",
        "options": ["noatime", "nofail"],
    }
    assert alpha["swapDevices"] == [{"device": "/swapfile", "size": 4096}]
    assert alpha["imports"][0] == "./hardware-configuration.nix"


def test_grub_with_efi_and_extlinux(beta: dict[str, Any], gamma: dict[str, Any]) -> None:
    grub = gamma["boot"]["loader"]["grub"]
    assert grub == {"enable": True, "device": "nodev", "efiSupport": True}
    assert gamma["hardware"]["cpu"]["amd"]["updateMicrocode"] is True
    assert beta["boot"]["loader"]["generic-extlinux-compatible"] == {
        "enable": True,
        "configurationLimit": 3,
    }
    assert beta["boot"]["loader"]["grub"]["enable"] is False


def test_networking_section(alpha: dict[str, Any], beta: dict[str, Any]) -> None:
    net = alpha["networking"]
    assert net["domain"] == "lab.example"
    assert net["networkmanager"]["enable"] is True
    fw = net["firewall"]
    assert fw["enable"] is True
    assert fw["allowedTCPPorts"] == [80, 443]
    assert fw["allowedUDPPorts"] == [51820]
    assert fw["trustedInterfaces"] == ["tailscale0"]
    end0 = beta["networking"]["interfaces"]["end0"]
    assert end0["ipv4"]["addresses"] == [{"address": "192.168.7.2", "prefixLength": 24}]
    assert end0["ipv6"]["addresses"] == [{"address": "fd00::2", "prefixLength": 64}]
    assert end0["useDHCP"] is False
    assert beta["networking"]["interfaces"]["wlan0"] == {"useDHCP": True}
    assert beta["networking"]["defaultGateway"] == "192.168.7.1"
    assert beta["networking"]["nameservers"] == ["192.168.7.1", "2606:4700:4700::1111"]


def test_users_section(alpha: dict[str, Any], beta: dict[str, Any]) -> None:
    alice = alpha["users"]["users"]["alice"]
    assert alice["description"] == "Alice Example"
    assert alice["extraGroups"] == ["docker", "video", "wheel"]
    assert alice["shell"] == "pkgs.zsh"
    assert alice["uid"] == 1001
    assert alice["packages"] == ["pkgs.firefox", "pkgs.python3Packages.requests"]
    assert alice["hashedPassword"].startswith("$y$")
    assert alice["openssh"]["authorizedKeys"]["keys"][0].endswith("alice@laptop")
    bob = alpha["users"]["users"]["bob"]
    assert bob["hashedPasswordFile"] == "/run/secrets/bob-password"
    assert bob["shell"] == "pkgs.nushell"
    # NixOS asserts programs.<shell>.enable for zsh and fish; nushell must be a login shell
    assert alpha["programs"]["zsh"]["enable"] is True
    assert "pkgs.nushell" in alpha["environment"]["shells"]
    assert beta["programs"]["fish"]["enable"] is True


def test_home_manager_section(alpha: dict[str, Any]) -> None:
    hm = alpha["home-manager"]
    assert hm["useGlobalPkgs"] is True and hm["useUserPackages"] is True
    alice = hm["users"]["alice"]
    assert alice["home"]["stateVersion"] == "25.11"
    assert alice["home"]["packages"] == ["pkgs.ripgrep", "pkgs.fd"]
    assert alice["home"]["sessionVariables"] == {
        "EDITOR": "nvim",
        "PAGER": "less",
        "HISTSIZE": 10000,
    }
    assert alice["home"]["file"][".config/hello.txt"] == {
        "text": "hello\nworld\n",
        "executable": False,
    }
    assert alice["home"]["file"][".inputrc"]["source"].path == "./files/inputrc"
    programs = alice["programs"]
    assert programs["git"] == {
        "enable": True,
        "settings": {"user": {"name": "Alice", "email": "alice@example.org"}},
    }
    assert programs["tmux"] == {"enable": True, "clock24": True}
    assert programs["neovim"] == {"enable": True, "defaultEditor": True}
    assert programs["fish"] == {"enable": False}
    bob = hm["users"]["bob"]
    # no home.stateVersion in the profile: the host's own
    assert bob["home"]["stateVersion"] == "25.11"
    assert bob["programs"]["starship"]["settings"] == {"add_newline": False}


def test_containers_section(alpha: dict[str, Any], beta: dict[str, Any]) -> None:
    oci = alpha["virtualisation"]["oci-containers"]
    assert oci["backend"] == "docker"
    assert oci["containers"]["uptime"] == {
        "image": "louislam/uptime-kuma:1",
        "ports": ["3101:3001"],
        "volumes": ["/var/lib/uptime:/app/data"],
        "environment": {"TZ": "Europe/Berlin", "DEBUG": "true", "WORKERS": "4"},
        "environmentFiles": ["/run/secrets/uptime.env"],
        "extraOptions": ["--network=host"],
        "cmd": ["--verbose"],
        "autoStart": False,
    }
    assert beta["virtualisation"]["oci-containers"]["backend"] == "podman"


def test_packages_and_nix_sections(alpha: dict[str, Any]) -> None:
    assert alpha["environment"]["systemPackages"] == ["pkgs.git", "pkgs.htop"]
    nix = alpha["nix"]
    assert nix["settings"]["experimental-features"] == ["nix-command", "flakes"]
    assert nix["settings"]["auto-optimise-store"] is True
    assert nix["settings"]["trusted-users"] == ["root", "@wheel"]
    assert nix["settings"]["substituters"] == ["https://cache.example.org"]
    assert len(nix["settings"]["trusted-public-keys"]) == 1
    assert nix["gc"] == {"automatic": True, "dates": "weekly", "options": "--delete-older-than 14d"}
    assert alpha["nixpkgs"]["config"]["allowUnfree"] is True


def test_services_are_configured_from_their_settings(
    alpha: dict[str, Any], beta: dict[str, Any], gamma: dict[str, Any]
) -> None:
    s = alpha["services"]
    assert s["tailscale"]["authKeyFile"] == "/var/lib/secrets/ts-key"
    assert s["tailscale"]["openFirewall"] is True
    assert s["openssh"]["enable"] is True
    assert s["jellyfin"]["openFirewall"] is True
    assert "home-assistant.lab.example" in s["caddy"]["virtualHosts"]
    assert s["home-assistant"]["config"]["http"]["use_x_forwarded_for"] is True
    b = beta["services"]
    assert b["adguardhome"]["enable"] is True
    assert b["grafana"]["settings"]["server"]["http_port"] == 3300
    assert b["prometheus"]["exporters"]["node"]["enabledCollectors"] == ["systemd"]
    assert b["uptime-kuma"]["enable"] is True
    assert b["vaultwarden"]["environmentFile"] == "/var/lib/secrets/vaultwarden.env"
    assert b["syncthing"]["enable"] is True
    assert beta["virtualisation"]["podman"]["dockerCompat"] is True
    assert gamma["services"]["dokuwiki"]["sites"]
    # a secret is a path string on the machine: never a Nix path (which would be copied
    # into the world-readable store) and never the secret's value
    assert "$__file{/var/lib/secrets/grafana-key}" in str(b["grafana"]["settings"])


def test_extra_config_module_and_bindings(
    lab: Lab, alpha: dict[str, Any], beta: dict[str, Any]
) -> None:
    assert alpha["services"]["fwupd"]["enable"] is True
    motd = alpha["environment"]["etc"]["motd"]["text"]
    assert motd == "Welcome to alpha\n"
    assert beta["networking"]["hostId"] == "8425e349"


def test_channels_method_imports_home_manager(lab: Lab) -> None:
    files = host_files(lab, "gamma")
    entry = files["hosts/gamma/configuration.nix"]
    assert "<home-manager/nixos>" in entry
    assert "<home-manager/nixos>" not in host_files(lab, "alpha")["hosts/alpha/configuration.nix"]
