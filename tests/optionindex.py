"""Real option indexes for tests, made by the product's own expression
(homelab/optionindex/index.nix, the one `homelab options update` runs) with the real
nix-instantiate over the real module system in ../shared/upstream.

- `home_manager_index()`: home-manager's real per-user options (every module of the
  snapshot), as a NixOS with home-manager imported has them
  (``options.home-manager.users.type.getSubOptions []``). Made once a test process
  (about 2 s) and kept under the session's temporary folder; skips where
  ../shared/upstream is absent (fails when ``CI=true``). Its NixOS side holds the options
  of tests/nixos-options.nix and home-manager's NixOS module.
- `home_manager_raw()`: the same, as the JSON index.nix printed (a dict).
- `nixos_index(module_text)`: the index of a small NixOS-like module tree (the text of
  one module, which may import others), evaluated with the real lib.evalModules.
- `HOME_MANAGER_REVISION`: the snapshot's commit (../shared/upstream/README.md).

Where evaluation meets a package the stand-in pkgs lacks (an error "attribute 'x'
missing": a default that names a package without defaultText), add its path to
`HOME_MANAGER_PACKAGES`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from homelab.nix.render import render
from homelab.optionindex.model import OptionIndex
from homelab.optionindex.read import read_index
from tests.modulesystem import STAND_IN_PKGS, TESTS, upstream
from tests.nixtools import _call_dir, _run

__all__ = [
    "HOME_MANAGER_PACKAGES",
    "HOME_MANAGER_REVISION",
    "INDEX_NIX",
    "home_manager_index",
    "home_manager_raw",
    "nixos_index",
    "nixos_raw",
    "use_stand_in_inputs",
    "write_nixpkgs_stand_in",
]

INDEX_NIX = TESTS.parent / "homelab" / "optionindex" / "index.nix"
HOME_MANAGER_REVISION = "ec1a8fdf74ed3f276148ee106299a2ba0e65d51f"
NIXPKGS_LIB_REVISION = "de42d44212d207476489bce163375d8306a26d59"

# packages that home-manager's option declarations read (defaults without defaultText,
# descriptions made from a package's meta): the stand-in pkgs fakes them
HOME_MANAGER_PACKAGES = (
    "qt6Packages.fcitx5-with-addons",
    "equibop",
    "vesktop",
    "vimPlugins.vim-sensible",
    "hicolor-icon-theme",
    "skopeo.policy",
    "eog",
    "evince",
)

# nixpkgs files that home-manager imports through pkgs.path beyond lib/ and
# nixos/modules/misc (the stand-in's): the options they declare, with nixpkgs' types
# (modules/generic/meta-maintainers.nix, nixos/modules/system/service/systemd/service.nix
# of nixpkgs; only what home-manager's modular services read)
_META_MAINTAINERS = """\
{ lib, ... }:
{
  options.meta.maintainers = lib.mkOption {
    type = lib.types.listOf lib.types.raw;
    internal = true;
    default = [ ];
  };
}
"""
_SYSTEMD_SERVICE = """\
{ lib, ... }:
let
  unit = lib.types.attrsOf (lib.types.submodule {
    freeformType = lib.types.attrsOf lib.types.anything;
  });
in
{
  options.systemd = {
    services = lib.mkOption { type = unit; default = { }; };
    sockets = lib.mkOption { type = unit; default = { }; };
  };
}
"""

_HOME_MANAGER = """\
{ upstream, tests, index, packages }:
let
  upstreamDir = /. + upstream;
  lib = import (upstreamDir + "/nixpkgs-lib/lib");
  base = import ((/. + tests) + "/stand-in-nixpkgs") { inherit lib packages; path = ./nixpkgs; };
  pkgs = base // {
    formats = base.formats // { plist = _: base.formats.json { }; };
  };
  evaluated = lib.evalModules {
    class = "nixos";
    specialArgs = { inherit pkgs; };
    modules = [
      ((/. + tests) + "/nixos-options.nix")
      (upstreamDir + "/home-manager/nixos/common.nix")
      {
        home-manager.useGlobalPkgs = true;
        # a user: the reasons of removed home-manager options are in a user's assertions
        users.users.alice.isNormalUser = true;
        home-manager.users.alice.home.stateVersion = "25.05";
      }
    ];
  };
in
import (/. + index) {
  inherit lib;
  inherit (evaluated) options config;
  home = evaluated.options.home-manager.users.type.getSubOptions [ ];
  homeConfig = evaluated.config.home-manager.users.alice;
}
"""

_NIXOS = """\
{ upstream, tests, index }:
let
  lib = import ((/. + upstream) + "/nixpkgs-lib/lib");
  evaluated = lib.evalModules {
    class = "nixos";
    modules = [
      ((/. + tests) + "/stand-in-nixpkgs/nixos/modules/misc/assertions.nix")
      ./module.nix
    ];
  };
in
import (/. + index) { inherit lib; inherit (evaluated) options config; }
"""


def write_nixpkgs_stand_in(folder: Path, root: Path) -> Path:
    """A folder laid out like nixpkgs where home-manager reads it (pkgs.path)."""
    nixpkgs = folder / "nixpkgs"
    (nixpkgs / "nixos" / "modules" / "system" / "service" / "systemd").mkdir(parents=True)
    (nixpkgs / "modules" / "generic").mkdir(parents=True)
    (nixpkgs / "lib").symlink_to(root / "nixpkgs-lib" / "lib")
    (nixpkgs / "nixos" / "modules" / "misc").symlink_to(
        STAND_IN_PKGS / "nixos" / "modules" / "misc"
    )
    (nixpkgs / "modules" / "generic" / "meta-maintainers.nix").write_text(_META_MAINTAINERS)
    (nixpkgs / "nixos" / "modules" / "system" / "service" / "systemd" / "service.nix").write_text(
        _SYSTEMD_SERVICE
    )
    return nixpkgs


def home_manager_driver(folder: Path, index: Path = INDEX_NIX) -> Path:
    """The expression (main.nix in `folder`) that indexes home-manager's real options."""
    root = upstream()
    write_nixpkgs_stand_in(folder, root)
    (folder / "driver.nix").write_text(_HOME_MANAGER, encoding="utf-8")
    args = {
        "upstream": str(root),
        "tests": str(TESTS),
        "index": str(index),
        "packages": list(HOME_MANAGER_PACKAGES),
    }
    main = folder / "main.nix"
    main.write_text(f"import ./driver.nix {render(args)}\n", encoding="utf-8")
    return main


@functools.cache
def home_manager_raw() -> dict[str, Any]:
    """What index.nix prints for home-manager's real options (made once a process)."""
    folder = _call_dir()
    main = home_manager_driver(folder)
    out = _run(["--eval", "--strict", "--json", str(main)], cwd=folder)
    (folder / "index.json").write_text(out, encoding="utf-8")
    return dict(json.loads(out))


def _roots() -> tuple[str, ...]:
    root = upstream()
    return (str(root / "home-manager"), str(root / "nixpkgs-lib"), str(TESTS))


@functools.cache
def home_manager_index() -> OptionIndex:
    """The real home-manager option index (see the module's words); shared by every test
    of the process, so never change it."""
    return read_index(
        home_manager_raw(),
        nixpkgs=NIXPKGS_LIB_REVISION,
        home_manager=HOME_MANAGER_REVISION,
        roots=_roots(),
    )


def nixos_raw(module_text: str) -> dict[str, Any]:
    """What index.nix prints for a module tree evaluated by the real lib.evalModules."""
    return _nixos(module_text)[0]


def _nixos(module_text: str) -> tuple[dict[str, Any], Path]:
    root = upstream()
    folder = _call_dir()
    (folder / "module.nix").write_text(module_text + "\n", encoding="utf-8")
    (folder / "driver.nix").write_text(_NIXOS, encoding="utf-8")
    args = {"upstream": str(root), "tests": str(TESTS), "index": str(INDEX_NIX)}
    (folder / "main.nix").write_text(f"import ./driver.nix {render(args)}\n", encoding="utf-8")
    out = _run(["--eval", "--strict", "--json", str(folder / "main.nix")], cwd=folder)
    return dict(json.loads(out)), folder


def nixos_index(module_text: str) -> OptionIndex:
    """The index of a small NixOS-like module tree (its NixOS side; no home options)."""
    raw, folder = _nixos(module_text)
    return read_index(raw, nixpkgs="test", home_manager="test", roots=(str(folder), *_roots()))


# ---- a lab whose flake inputs are stand-ins over ../shared/upstream ---------------------

_NIXPKGS_FLAKE = """\
# a stand-in for nixpkgs' flake: nixpkgs' real lib, and a nixosSystem that evaluates the
# host's modules with tests/nixos-options.nix (NixOS's own modules are not at hand)
{
  outputs = { self }:
    let
      lib = import (/. + UPSTREAM + "/nixpkgs-lib/lib");
      base = import (/. + TESTS + "/stand-in-nixpkgs") {
        inherit lib;
        path = /. + NIXPKGS;
        packages = PACKAGES;
      };
      pkgs = base // { formats = base.formats // { plist = _: base.formats.json { }; }; };
    in
    {
      lib = lib // {
        nixosSystem = { modules, specialArgs ? { }, ... }:
          lib.evalModules {
            class = "nixos";
            specialArgs = { inherit pkgs; } // specialArgs;
            modules = [
              (/. + TESTS + "/nixos-options.nix")
              { home-manager.useGlobalPkgs = lib.mkDefault true; }
            ] ++ modules;
          };
      };
    };
}
"""

_HOME_MANAGER_FLAKE = """\
# a stand-in for home-manager's flake: its real NixOS module (nixos/common.nix)
{
  outputs = { self }: {
    nixosModules.home-manager = /. + UPSTREAM + "/home-manager/nixos/common.nix";
  };
}
"""


def use_stand_in_inputs(lab: Path, folder: Path) -> None:
    """Point the lab's flake.nix (homelab's skeleton) at stand-in nixpkgs and
    home-manager flakes made in `folder` over ../shared/upstream. The lab's flake.lock is
    then made by the real `nix flake lock` (homelab lock)."""
    root = upstream()
    nixpkgs = write_nixpkgs_stand_in(folder, root)
    values = {
        "UPSTREAM": render(str(root)),
        "TESTS": render(str(TESTS)),
        "NIXPKGS": render(str(nixpkgs)),
        "PACKAGES": render(["hello", *HOME_MANAGER_PACKAGES]),
    }
    for name, text in (
        ("nixpkgs-flake", _NIXPKGS_FLAKE),
        ("home-manager-flake", _HOME_MANAGER_FLAKE),
    ):
        (folder / name).mkdir()
        for key, value in values.items():
            text = text.replace(key, value)
        (folder / name / "flake.nix").write_text(text, encoding="utf-8")
    flake = (lab / "flake.nix").read_text(encoding="utf-8")
    lines = [
        line
        for line in flake.splitlines(keepends=True)
        if "inputs.nixpkgs.follows" not in line  # the stand-in has no inputs
    ]
    flake = "".join(lines)
    flake = flake.replace(
        '"github:NixOS/nixpkgs/nixos-26.05"', render(f"path:{folder / 'nixpkgs-flake'}")
    )
    flake = flake.replace(
        '"github:nix-community/home-manager/release-26.05"',
        render(f"path:{folder / 'home-manager-flake'}"),
    )
    assert "github:" not in flake, "the skeleton's flake.nix changed: follow it here"
    (lab / "flake.nix").write_text(flake, encoding="utf-8")
