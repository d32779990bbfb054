"""flake.nix finds its hosts from hosts/*/configuration.nix: adding a host needs no edit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from homelab.cli import main
from homelab.nix.expr import NixPath
from tests.compiled import REPO
from tests.nixtools import nix_eval, nix_parse

# nixpkgs and home-manager stand-ins: nixosSystem returns its arguments, so the test sees
# which modules each machine gets
INPUTS = """
let
  lib = {
    filterAttrs = pred: set: builtins.listToAttrs (builtins.concatMap
      (n: if pred n set.${n} then [ { name = n; value = set.${n}; } ] else [ ])
      (builtins.attrNames set));
    mapAttrs = builtins.mapAttrs;
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    nixosSystem = args: args;
  };
  nixpkgs = { inherit lib; legacyPackages = { x86_64-linux = { }; aarch64-linux = { }; }; };
  home-manager = { nixosModules.home-manager = "home-manager module"; };
  flake = import FLAKE;
  outputs = flake.outputs { self = { }; inherit nixpkgs home-manager; };
in
"""


def evaluate(flake: Path, body: str) -> Any:
    text = INPUTS.replace("FLAKE", str(flake)) + body
    return nix_eval(text)


def test_a_new_labs_flake_finds_every_host(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    assert main(["init", str(lab)]) == 0
    assert main(["--lab", str(lab), "build"]) == 0
    nix_parse((lab / "flake.nix").read_text())
    inputs = evaluate(lab / "flake.nix", "flake.inputs")
    assert inputs["home-manager"]["inputs"]["nixpkgs"]["follows"] == "nixpkgs"
    assert inputs["nixpkgs"]["url"].startswith("github:NixOS/nixpkgs/")
    assert evaluate(lab / "flake.nix", "builtins.attrNames outputs.nixosConfigurations") == [
        "example"
    ]
    # a second host: no edit to flake.nix
    shutil.copytree(lab / "hosts/example", lab / "hosts/second")
    for generated in (lab / "hosts/second").glob("*.nix"):
        generated.unlink()
    before = (lab / "flake.nix").read_bytes()
    assert main(["--lab", str(lab), "build"]) == 0
    assert (lab / "flake.nix").read_bytes() == before
    systems = evaluate(lab / "flake.nix", "outputs.nixosConfigurations")
    assert sorted(systems) == ["example", "second"]
    modules = systems["second"]["modules"]
    assert modules[0] == "home-manager module"
    assert isinstance(modules[1], NixPath)
    assert modules[1].path.endswith("/hosts/second/configuration.nix")


def test_a_host_without_generated_files_is_not_a_machine_yet(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    assert main(["init", str(lab)]) == 0
    # not built yet: no configuration.nix, no nixosConfiguration to build from
    assert evaluate(lab / "flake.nix", "builtins.attrNames outputs.nixosConfigurations") == []


def test_the_product_flake_serves_the_demo_lab_a_dev_shell_and_the_app() -> None:
    flake = REPO / "flake.nix"
    nix_parse(flake.read_text())
    names = evaluate(flake, "builtins.attrNames outputs.nixosConfigurations")
    assert names == ["homeserver", "nixos-demo", "pi"]
    shape = evaluate(
        flake,
        "{ dev = builtins.mapAttrs (_: builtins.attrNames) outputs.devShells;"
        " pkg = builtins.mapAttrs (_: builtins.attrNames) outputs.packages; }",
    )
    both = {"x86_64-linux": ["default"], "aarch64-linux": ["default"]}
    assert shape == {"dev": both, "pkg": both}


@pytest.mark.parametrize("flake", ["flake.nix", "homelab/skeleton/flake.nix"])
def test_flakes_pin_the_release_the_catalogue_was_written_for(flake: str) -> None:
    text = (REPO / flake).read_text()
    release = json.dumps("github:NixOS/nixpkgs/nixos-26.05")
    assert release in text
    assert json.dumps("github:nix-community/home-manager/release-26.05") in text
