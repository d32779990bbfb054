"""Priorities of what homelab writes: the person's values win without lib.mkForce.

What the person wrote (a service's setting, a profile section, `options:`) is written at
normal priority; what comes only from the catalogue or from homelab's own derivations at
`lib.mkDefault`; what only restates a NixOS module default is not written at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homelab.lab import Lab
from tests.hosts import BASE, PROFILE, problems_of, with_host
from tests.modulesystem import Case, eval_many
from tests.nixtools import nix_eval_modules

DEFAULT = 1000  # lib.mkDefault


def _files(lab: Path, text: str) -> dict[str, str]:
    state = with_host(lab, text)
    assert not state.hosts["gamma"].problems, state.hosts["gamma"].problems
    return Lab(lab).generated(state, ["gamma"])


def _modules(lab: Path, text: str, *names: str) -> list[Any]:
    """The named generated modules of host gamma, called with the lib double (as data)."""
    files = _files(lab, text)
    return nix_eval_modules([files[f"hosts/gamma/{name}"] for name in names])


def _services(module: Any) -> dict[str, Any]:
    """services.nix's `config = lib.mkMerge [ ... ]` as one set (its blocks do not overlap)."""
    merged: dict[str, Any] = {}
    for block in module["config"]["contents"]:
        for top, sub in block.items():
            for name, value in sub.items():
                merged.setdefault(top, {}).setdefault(name, {}).update(value)
    return merged


def _default(value: Any) -> dict[str, Any]:
    return {"_type": "override", "priority": DEFAULT, "content": value}


def test_catalogue_values_the_person_did_not_write_give_way(basic_lab: Path) -> None:
    profile = BASE + "services:\n  tailscale: {}\n  syncthing: {}\n  openssh: {}\n"
    (module,) = _modules(basic_lab, profile, "services.nix")
    services = _services(module)["services"]
    # naming the service is what the person wrote
    assert services["tailscale"] == {"enable": True}
    # catalogue constants give way to a person's value
    assert services["syncthing"] == {
        "enable": True,
        "overrideDevices": _default(False),
        "overrideFolders": _default(False),
    }
    # ports [ 22 ], openFirewall and PermitRootLogin are NixOS's own defaults: not written
    assert services["openssh"] == {
        "enable": True,
        "settings": {
            "KbdInteractiveAuthentication": _default(False),
            "PasswordAuthentication": _default(False),
        },
    }


def test_settings_the_person_wrote_are_written_at_normal_priority(basic_lab: Path) -> None:
    profile = BASE + (
        "services:\n"
        "  tailscale: {port: 41641, openFirewall: true}\n"
        "  openssh: {port: 2222, passwordAuthentication: false}\n"
        "  syncthing: {guiPort: 8385}\n"
    )
    (module,) = _modules(basic_lab, profile, "services.nix")
    services = _services(module)["services"]
    # even a value equal to NixOS's default: the person wrote it
    assert services["tailscale"] == {"enable": True, "openFirewall": True, "port": 41641}
    assert services["openssh"]["ports"] == [2222]
    assert services["openssh"]["settings"]["PasswordAuthentication"] is False
    # a template reads the setting the person wrote (guiPort) and one they did not (guiHost)
    assert services["syncthing"]["guiAddress"] == "127.0.0.1:8385"


def test_a_set_of_options_in_an_entry_gives_way_attribute_by_attribute(basic_lab: Path) -> None:
    profile = BASE + "services:\n  home-assistant: {}\n  wikijs: {}\n"
    (module,) = _modules(basic_lab, profile, "services.nix")
    merged = _services(module)
    # the setting `config` (a map) gives way leaf by leaf; server_port 8123 is NixOS's own
    config = merged["services"]["home-assistant"]["config"]
    assert config == {"default_config": _default({})}
    # lists that join other modules' stay at normal priority; NixOS defaults are left out
    assert merged["services"]["postgresql"]["ensureDatabases"] == ["wiki-js"]
    assert merged["systemd"]["services"]["wiki-js"]["after"] == ["postgresql.target"]
    assert merged["services"]["postgresql"]["enable"] == _default(True)
    assert "port" not in merged["services"]["wiki-js"]["settings"]


def test_homelab_s_own_derivations_give_way(basic_lab: Path) -> None:
    profile = """\
host: {stateVersion: "24.05", keyboard: de}
hardware:
  boot: {loader: grub, efi: true}
  fileSystems:
    /: {device: /dev/disk/by-label/nixos, fsType: ext4}
users:
  bob: {shell: zsh, home: {stateVersion: "24.05"}}
  carol: {shell: nushell}
services:
  docker: {}
containers:
  web: {image: "nginx:1.27"}
"""
    boot, users, home, containers, entry = _modules(
        basic_lab,
        profile,
        "boot.nix",
        "users.nix",
        "home.nix",
        "containers.nix",
        "configuration.nix",
    )
    loader = boot["boot"]["loader"]
    assert loader["efi"]["canTouchEfiVariables"] == _default(True)
    assert loader["grub"]["device"] == _default("nodev")
    assert loader["grub"]["efiSupport"] is True  # the person wrote efi: true
    assert users["programs"]["zsh"]["enable"] == _default(True)
    assert users["environment"]["shells"] == ["pkgs.nushell"]  # a list that must merge
    assert home["home-manager"]["useGlobalPkgs"] == _default(True)
    assert home["home-manager"]["useUserPackages"] == _default(True)
    assert containers["virtualisation"]["oci-containers"]["backend"] == _default("docker")
    assert entry["console"]["useXkbConfig"] == _default(True)
    assert entry["services"]["xserver"]["xkb"]["layout"] == "de"


def test_an_extlinux_board_turns_grub_off_at_default_priority(basic_lab: Path) -> None:
    profile = BASE.replace("{loader: systemd-boot, efi: true}", "{loader: extlinux}")
    (boot,) = _modules(basic_lab, profile, "boot.nix")
    assert boot["boot"]["loader"]["grub"]["enable"] == _default(False)
    assert boot["boot"]["loader"]["generic-extlinux-compatible"]["enable"] is True


# ---- through nixpkgs' real module system ------------------------------------------

SERVICES = "services:\n  tailscale: {}\n  openssh: {}\n  syncthing: {}\n"
OPTIONS = """\
options:
  services.tailscale.port: 1234
  services.openssh.ports: [2222]
  services.openssh.settings.PasswordAuthentication: true
  services.syncthing.overrideDevices: true
"""
EXTRA = """\
extraConfig: |
  services.tailscale.port = 1234;
  services.openssh.ports = [ 2222 ];
  services.openssh.settings.PasswordAuthentication = true;
  services.syncthing.overrideDevices = true;
"""
PERSON = {
    "services.tailscale.port": 1234,
    "services.openssh.ports": [2222],
    "services.openssh.settings.PasswordAuthentication": True,
    "services.syncthing.overrideDevices": True,
}


def test_a_person_s_options_beat_the_catalogue_without_mk_force(basic_lab: Path) -> None:
    """modules: the compiled host (services.nix among them) and the person's options.nix
    or extra.nix, both at normal priority, through nixpkgs' own lib.evalModules."""
    attrs = [*PERSON, "services.syncthing.overrideFolders", "services.openssh.openFirewall"]
    profiles = (BASE + SERVICES + OPTIONS, BASE + SERVICES + EXTRA, BASE + SERVICES)
    written, raw, alone = eval_many([Case(_files(basic_lab, p), attrs) for p in profiles])
    for values in (written, raw):
        # no conflicting definitions; the list replaces NixOS's [ 22 ] instead of joining it
        assert values == {
            **PERSON,
            "services.syncthing.overrideFolders": False,
            "services.openssh.openFirewall": True,
        }
    assert alone == {
        "services.tailscale.port": 41641,
        "services.openssh.ports": [22],
        "services.openssh.settings.PasswordAuthentication": False,
        "services.syncthing.overrideDevices": False,
        "services.syncthing.overrideFolders": False,
        "services.openssh.openFirewall": True,
    }


def test_a_service_setting_the_person_wrote_and_options_that_differ_name_both_places(
    basic_lab: Path,
) -> None:
    text = BASE + (
        "services:\n  openssh: {openFirewall: false}\n  tailscale: {}\n"
        "options:\n"
        "  services.openssh.openFirewall: true\n"
        "  services.tailscale.openFirewall: true\n"
    )
    found = problems_of(basic_lab, text)
    # tailscale's openFirewall is the catalogue's default, not the person's: no problem
    assert found == [
        (
            f"{PROFILE}:10:3",
            "services.openssh.openFirewall is set twice with different values: here and by "
            "services.openssh.openFirewall (line 7)",
            "keep one of the two; to override on purpose, write the value here with !force",
        )
    ]
