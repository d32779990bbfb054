"""A lab's flake, evaluated by the real Nix with stand-in inputs (tests/flakes.py).

Each test is one `nix flake lock` and one nix-instantiate run (about 0.4 s on the CI
machine): read several hosts and attributes per call.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from homelab.cli import main
from tests.compiled import REPO
from tests.conftest import copy_lab
from tests.flakes import eval_flake

HOME = """\
    home:
      stateVersion: "26.05"
      packages: [htop]
      programs: {git: {enable: true}}
"""


def new_lab(tmp_path: Path) -> Path:
    """`homelab init`'s lab, its user `me` with a home-manager configuration."""
    lab = tmp_path / "lab"
    assert main(["init", str(lab)]) == 0
    profile = lab / "hosts/example/profile.yaml"
    text = profile.read_text(encoding="utf-8")
    assert "    sshKeys: []\n" in text
    profile.write_text(text.replace("    sshKeys: []\n", "    sshKeys: []\n" + HOME, 1))
    return lab


def test_a_new_labs_flake_evaluates_every_host_with_home_manager(tmp_path: Path) -> None:
    lab = new_lab(tmp_path)
    # a second host, renamed: no edit to flake.nix
    shutil.copytree(lab / "hosts/example", lab / "hosts/second")
    profile = lab / "hosts/second/profile.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace("example.lan", "second.lan"))
    for generated in (lab / "hosts/second").glob("*.nix"):
        generated.unlink()
    assert main(["--lab", str(lab), "build"]) == 0
    got = eval_flake(
        lab,
        {
            "example": [
                "networking.hostName",
                "users.users.me.isNormalUser",
                "home-manager.users.me.programs.git.enable",
                "home-manager.users.me.home.stateVersion",
                "PKGS.htop",
            ],
            "second": ["networking.hostName", "home-manager.users.me.home.username"],
        },
    )
    assert got == {
        "example": {
            "networking.hostName": "example",
            "users.users.me.isNormalUser": True,
            "home-manager.users.me.programs.git.enable": True,
            "home-manager.users.me.home.stateVersion": "26.05",
            "PKGS.htop": "pkgs.htop",
        },
        "second": {"networking.hostName": "second", "home-manager.users.me.home.username": "me"},
    }


def test_the_product_flake_evaluates_the_demo_hosts(tmp_path: Path) -> None:
    # its flake.nix and hosts/ only: the rest of the repository is not the lab's
    demo = tmp_path / "demo"
    demo.mkdir()
    shutil.copy(REPO / "flake.nix", demo / "flake.nix")
    shutil.copytree(REPO / "hosts", demo / "hosts")
    got = eval_flake(
        demo,
        {
            "homeserver": ["networking.hostName"],
            "pi": ["networking.hostName"],
            "nixos-demo": [
                "networking.hostName",
                "home-manager.users.demouser.programs.starship.settings.username.show_always",
                "home-manager.users.demouser.home.packages",
            ],
        },
    )
    assert {host: values["networking.hostName"] for host, values in got.items()} == {
        "homeserver": "homeserver",
        "pi": "pi",
        "nixos-demo": "nixos-demo",
    }
    demo_host = got["nixos-demo"]
    assert demo_host["home-manager.users.demouser.programs.starship.settings.username.show_always"]
    assert "pkgs.httpie" in demo_host["home-manager.users.demouser.home.packages"]


def test_a_wrong_value_or_an_unknown_input_fails_with_its_name(tmp_path: Path) -> None:
    lab = new_lab(tmp_path)
    assert main(["--lab", str(lab), "build"]) == 0
    # the module system checks the host's definitions: an option nobody declares
    (lab / "hosts/example/system.nix").write_text(
        "{ ... }: { no.such.option = true; }\n", encoding="utf-8"
    )
    with pytest.raises(AssertionError, match="The option `no' does not exist"):
        eval_flake(lab, {"example": ["networking.hostName"]})
    flake = lab / "flake.nix"
    flake.write_text(
        flake.read_text(encoding="utf-8").replace(
            "inputs = {", 'inputs = {\n    sops-nix.url = "github:Mic92/sops-nix";', 1
        )
    )
    with pytest.raises(AssertionError, match=r"no stand-in for the flake's inputs \['sops-nix'\]"):
        eval_flake(lab, {"example": ["networking.hostName"]})


# an input whose nixpkgs does not follow the lab's: its own (the stand-in too) is locked
HARDWARE = """\
{
  inputs.nixpkgs.url = NIXPKGS;
  outputs = { self, nixpkgs }: {
    nixosModules.laptop = { lib, ... }: {
      services.fwupd.enable = lib.mkDefault true;
      time.timeZone = lib.mkDefault "Europe/Paris";
    };
  };
}
"""

LAB_YAML = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
  hardware: {url: "github:NixOS/nixos-hardware", follows: false}
overlays:
  - agenix.overlays.default
  - ./overlays/tools.nix
"""

# a local overlay after agenix's: it sees agenix's package in prev
TOOLS = """\
final: prev: {
  tools = prev.agenix // { name = "tools, after agenix"; };
}
"""


# a module file of the lab beside the profile: it sets what the input's module declares
SECRETS = """\
{ ... }:
{
  age.secrets.wifi = {
    file = ./wifi.age;
    owner = "me";
  };
}
"""

MODULES = """\
modules: [agenix.nixosModules.default, hardware.nixosModules.laptop, ./secrets.nix]
"""


def test_lab_yaml_inputs_modules_and_overlays_reach_every_host(tmp_path: Path) -> None:
    lab = new_lab(tmp_path)
    (lab / "lab.yaml").write_text(LAB_YAML, encoding="utf-8")
    (lab / "overlays").mkdir()
    (lab / "overlays/tools.nix").write_text(TOOLS, encoding="utf-8")
    host = lab / "hosts/example"
    (host / "secrets.nix").write_text(SECRETS, encoding="utf-8")
    profile = host / "profile.yaml"
    text = profile.read_text(encoding="utf-8").replace(
        "packages: [git, vim]", "packages: [git, tools]"
    )
    text = text.replace(HOME, HOME + "      modules: [agenix.homeManagerModules.default]\n")
    profile.write_text(text + MODULES, encoding="utf-8")
    assert main(["--lab", str(lab), "build"]) == 0
    flake = (lab / "flake.nix").read_text(encoding="utf-8")
    assert "generated by homelab from lab.yaml" in flake
    assert "extraConfig" not in profile.read_text(encoding="utf-8")
    got = eval_flake(
        lab,
        {
            "example": [
                "PKGS.agenix",
                "PKGS.tools",
                "environment.systemPackages",
                "age.secrets.wifi.owner",
                "age.secrets.wifi.path",
                "age.secrets.wifi.file",
                "home-manager.users.me.age.secrets",
                "services.fwupd.enable",
                "time.timeZone",
            ]
        },
        inputs={"hardware": HARDWARE},
    )["example"]
    # the overlays, in order: agenix's, then the lab's file (which sees agenix's package)
    assert got["PKGS.agenix"] == "agenix"
    assert got["PKGS.tools"] == "tools, after agenix"
    # the host's own pkgs: the overlays' package, not the stand-in's fake one
    assert "tools, after agenix" in got["environment.systemPackages"]
    assert "pkgs.tools" not in got["environment.systemPackages"]
    # the input's module declares age.secrets; the lab's module file sets it
    assert got["age.secrets.wifi.owner"] == "me"
    assert got["age.secrets.wifi.path"] == "/run/agenix/wifi"
    assert got["age.secrets.wifi.file"].endswith("/hosts/example/wifi.age")
    # a user's home-manager module from an input
    assert got["home-manager.users.me.age.secrets"] == {}
    # an input that does not follow the lab's nixpkgs: its module applies, and its
    # defaults give way to the profile's settings
    assert got["services.fwupd.enable"] is True
    assert got["time.timeZone"] == "Etc/UTC"


def test_the_flaked_test_lab_evaluates_with_its_inputs_modules_and_overlays(
    tmp_path: Path,
) -> None:
    """tests/labs/flaked: lab.yaml's inputs and overlays, modules from inputs and module
    files of the lab, no extraConfig."""
    lab = copy_lab("flaked", tmp_path / "lab")
    assert "extraConfig" not in (lab / "hosts/box/profile.yaml").read_text(encoding="utf-8")
    assert main(["--lab", str(lab), "build"]) == 0
    got = eval_flake(
        lab,
        {
            "box": [
                "networking.hostName",
                "PKGS.agenix",
                "PKGS.hello-lab",
                "environment.systemPackages",
                "age.secrets.wifi.owner",
                "age.secrets.wifi.path",
                "services.fstrim.enable",
                "home-manager.users.ops.age.secrets.mail.path",
            ]
        },
        packages=["hello"],  # what the lab's overlay takes from prev
    )["box"]
    assert got["networking.hostName"] == "box"
    assert got["PKGS.agenix"] == "agenix"
    assert got["PKGS.hello-lab"] == "pkgs.hello"
    assert "pkgs.hello" in got["environment.systemPackages"]
    assert got["age.secrets.wifi.owner"] == "ops"
    assert got["age.secrets.wifi.path"] == "/run/agenix/wifi"
    # nixos-hardware does not follow the lab's nixpkgs: its module applies all the same
    assert got["services.fstrim.enable"] is True
    assert got["home-manager.users.ops.age.secrets.mail.path"] == "/run/agenix/mail"
