"""The demo lab compiles to NixOS modules that real Nix parses and evaluates as designed."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from homelab.lab import Lab
from tests.compiled import REPO, evaluate_host, host_files
from tests.nixtools import nix_parse


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    root = tmp_path_factory.mktemp("demo") / "lab"
    root.mkdir()
    for name in ("hosts", "services", "secrets", "flake.nix"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("*.nix"))
        else:
            shutil.copy(src, root / name)
    # hardware-configuration.nix comes from the machine and is imported as it is
    shutil.copy(
        REPO / "hosts/nixos-demo/hardware-configuration.nix",
        root / "hosts/nixos-demo/hardware-configuration.nix",
    )
    return Lab(root)


@pytest.fixture(scope="module")
def nixos_demo(demo: Lab) -> dict[str, Any]:
    return evaluate_host(demo, "nixos-demo")


def test_every_generated_file_of_the_demo_lab_parses(demo: Lab) -> None:
    state = demo.load()
    files = demo.generated(state)
    assert {p.split("/")[1] for p in files} == {"nixos-demo", "pi", "homeserver"}
    for text in files.values():
        nix_parse(text)


def test_the_committed_demo_files_are_up_to_date() -> None:
    lab = Lab(REPO)
    state = lab.load()
    assert not state.all_problems()
    assert lab.build(state, sorted(state.hosts), check=True).stale == ()


def test_nixos_demo_boot_and_identity(nixos_demo: dict[str, Any]) -> None:
    c = nixos_demo
    assert c["boot"]["loader"]["systemd-boot"]["enable"] is True
    assert c["boot"]["loader"]["efi"]["canTouchEfiVariables"] is True
    assert c["networking"]["hostName"] == "nixos-demo"
    assert c["networking"]["networkmanager"]["enable"] is True
    assert c["time"]["timeZone"] == "America/Los_Angeles"
    assert c["system"]["stateVersion"] == "23.11"
    assert c["nixpkgs"]["hostPlatform"] == "x86_64-linux"
    assert "./hardware-configuration.nix" in c["imports"]


def test_nixos_demo_services(nixos_demo: dict[str, Any]) -> None:
    s = nixos_demo["services"]
    assert s["tailscale"]["enable"] is True
    assert s["flatpak"]["enable"] is True
    assert s["home-assistant"]["enable"] is True
    assert s["pihole-ftl"]["enable"] is True
    assert s["wiki-js"]["enable"] is True
    assert nixos_demo["virtualisation"]["docker"]["enable"] is True
    # flatpak needs xdg portals with at least one portal
    assert nixos_demo["xdg"]["portal"]["enable"] is True
    assert nixos_demo["xdg"]["portal"]["extraPortals"] == ["pkgs.xdg-desktop-portal-gtk"]
    # pihole answers DNS on 53: systemd-resolved's stub listener must step aside
    resolve = s["resolved"]["settings"]["Resolve"]
    assert resolve["DNSStubListener"] is False
    assert s["fwupd"]["enable"] is True  # from options:


def test_nixos_demo_user(nixos_demo: dict[str, Any]) -> None:
    u = nixos_demo["users"]["users"]["demouser"]
    assert u["isNormalUser"] is True
    assert u["description"] == "demouser"
    assert u["extraGroups"] == ["networkmanager", "wheel", "docker"]
    assert u["packages"] == [
        "pkgs.discord",
        "pkgs.slack",
        "pkgs.signal-desktop",
        "pkgs.element-desktop",
        "pkgs.hyper",
    ]
    assert nixos_demo["nixpkgs"]["config"]["allowUnfree"] is True


def test_nixos_demo_home_manager(nixos_demo: dict[str, Any]) -> None:
    hm = nixos_demo["home-manager"]
    assert hm["useGlobalPkgs"] is True
    assert hm["useUserPackages"] is True
    home = hm["users"]["demouser"]
    assert home["home"]["packages"] == ["pkgs.atool", "pkgs.httpie"]
    assert home["home"]["stateVersion"] == "23.11"
    programs = home["programs"]
    assert programs["bash"]["enable"] is True
    assert programs["nushell"]["enable"] is True
    assert programs["starship"]["enable"] is True
    assert programs["starship"]["settings"] == {
        "username": {
            "show_always": True,
            "style_user": "bg:purple",
            "style_root": "bg:purple",
            "format": "[ ✨ ]($style)",
        },
        "directory": {
            "style": "bg:red",
            "format": "[ $path ]($style)",
            "truncation_length": 3,
            "truncation_symbol": ".../",
        },
    }


def test_nixos_demo_options_are_their_own_module_and_no_raw_nix_is_left(demo: Lab) -> None:
    files = host_files(demo, "nixos-demo")
    options = files["hosts/nixos-demo/options.nix"]
    assert "services.fwupd.enable = true;" in options
    assert "./options.nix" in files["hosts/nixos-demo/configuration.nix"]
    assert "hosts/nixos-demo/extra.nix" not in files


def test_pi_is_an_aarch64_board_with_a_static_address(demo: Lab) -> None:
    c = evaluate_host(demo, "pi")
    assert c["nixpkgs"]["hostPlatform"] == "aarch64-linux"
    assert c["boot"]["loader"]["generic-extlinux-compatible"]["enable"] is True
    assert c["boot"]["loader"]["grub"]["enable"] is False
    assert c["networking"]["interfaces"]["end0"]["ipv4"]["addresses"] == [
        {"address": "192.168.1.2", "prefixLength": 24}
    ]
    assert c["networking"]["defaultGateway"] == "192.168.1.1"
    assert c["services"]["pihole-ftl"]["enable"] is True
    assert c["services"]["tailscale"]["enable"] is True
    # the auth key is a path on the machine, a string: never copied into the Nix store
    assert c["services"]["tailscale"]["authKeyFile"] == "/var/lib/secrets/tailscale-authkey"


def test_homeserver_has_caddy_in_front_of_its_services(demo: Lab) -> None:
    c = evaluate_host(demo, "homeserver")
    assert c["boot"]["loader"]["grub"]["device"] == "/dev/sda"
    vhosts = c["services"]["caddy"]["virtualHosts"]
    assert set(vhosts) >= {
        "home-assistant.home.arpa",
        "wikijs.home.arpa",
        "jellyfin.home.arpa",
        "syncthing.home.arpa",
    }
    assert "reverse_proxy 127.0.0.1:8096" in vhosts["jellyfin.home.arpa"]["extraConfig"]
    containers = c["virtualisation"]["oci-containers"]
    assert containers["backend"] == "docker"
    assert set(containers["containers"]) == {"uptime-kuma", "whoami"}
    for name in ("home-assistant", "wiki-js", "jellyfin", "syncthing"):
        assert c["services"][name]["enable"] is True
