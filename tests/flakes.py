"""Evaluating a lab's ``flake.nix`` with the real Nix: flake inputs are local stand-ins.

`eval_flake(lab, {host: [attrs]})` reads ``nixosConfigurations.<host>.config.<attr>`` of
the lab's flake, for many hosts and attributes in one ``nix-instantiate`` run, and returns
``{host: {attr: value}}`` (attributes in homelab's option-path notation, e.g.
``networking.hostName`` or ``home-manager.users.me.programs.git.enable``; values as in
tests/modulesystem.py: derivations print as their name, ``"pkgs.htop"``; functions are
``"<lambda>"``; paths are strings).  An attribute ``PKGS.<attr>`` reads the host's
``pkgs.<attr>`` instead (``"PKGS.agenix"``: what the overlays made of pkgs).

How Nix 2.8 (Debian's nix-bin) evaluates a flake here, with no daemon and no network:

- the lab is copied (without .git) to a temporary folder; ``nix flake lock
  --override-input NAME path:STAND-IN`` writes its flake.lock there (the lab's own
  flake.lock pins GitHub sources: never read), then ``nix-instantiate --eval`` of
  ``builtins.getFlake "path:COPY"`` evaluates it;
- both run with ``--store`` a local store in a temporary folder (``dummy://``, which
  tests/nixtools.py uses, cannot hold the flake sources that getFlake copies), HOME,
  NIX_STATE_DIR and NIX_CONF_DIR in temporary folders, ``substituters`` empty and the
  flake registry off: an input without a stand-in fails with its name, not a download.
  The store lives as long as the test process (later runs reuse what is there).

The stand-in inputs (each a flake in a temporary folder; `inputs=` adds or replaces some,
as ``{name: flake.nix text}``):

- ``nixpkgs``: ``lib`` is nixpkgs' real lib from ``../shared/upstream`` (skipped, or failed
  under CI=true, where absent: tests/modulesystem.py's `upstream`) plus ``nixosSystem``,
  a small one on ``lib.evalModules`` (``_module.check = true``) with tests/nixos-options.nix,
  ``nixpkgs.overlays`` (as nixos/modules/misc/nixpkgs.nix declares it) and ``pkgs``: the
  stand-in tests/stand-in-nixpkgs with the overlays applied (``final: prev:``).  Every
  ``pkgs.a.b`` written in the lab's .nix files is faked, plus the names in ``packages=``.
  ``legacyPackages.<system>`` is that stand-in without overlays.  ``modulesPath`` is a
  folder of empty modules, one for each ``modulesPath + "/a/b.nix"`` the lab's files name
  (NixOS's own modules are not here).
- ``home-manager``: ``nixosModules.home-manager`` is home-manager's real NixOS module
  (``../shared/upstream/home-manager/nixos``) with its manuals off.
- ``agenix``: ``nixosModules.default`` (= ``.age``) declares ``age.secrets.<name>.{file,
  path, mode, owner, group}`` and ``age.identityPaths`` (types as in ryantm/agenix
  modules/age.nix); ``overlays.default`` adds ``pkgs.agenix``; ``homeManagerModules.default``
  declares ``age.secrets`` for a user.
- ``nixos-hardware``: ``nixosModules.{common-pc-ssd, common-cpu-intel, common-cpu-amd}``
  (``services.fstrim.enable``, ``hardware.cpu.*.updateMicrocode`` by default, as there).

The stand-ins for home-manager and agenix have an input ``nixpkgs`` (the stand-in), so a
lab's ``follows`` works both ways.  An evaluation error fails the test with Nix's message
(an AssertionError); each run prints nothing, its time is in `LAST_TIMES`.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from homelab.nix.render import render
from homelab.profile.options import parse_key
from tests.modulesystem import NORMALISE, STAND_IN_PKGS, TESTS, upstream
from tests.nixtools import TIMEOUT, nix_instantiate

__all__ = ["LAST_TIMES", "PKGS", "eval_flake", "nix_command"]

#: The prefix of an attribute read from the host's ``pkgs`` rather than its config.
PKGS = "PKGS"
#: Seconds spent by the last `eval_flake`: ``{"lock": ..., "eval": ...}``.
LAST_TIMES: dict[str, float] = {}

FLAGS = ("--extra-experimental-features", "nix-command flakes")
_MODULES_PATH = re.compile(r'modulesPath\s*\+\s*"(/[A-Za-z0-9_./-]+\.nix)"')
_PKGS_PATH = re.compile(r"(?<![A-Za-z0-9_'.-])pkgs((?:\.[A-Za-z_][A-Za-z0-9_'-]*)+)")
# not faked: the stand-in's own attributes, and agenix (only its overlay may bring it)
_BUILDERS = {"formats", "stdenv", "path", "lib", "system", "agenix"}

# lib.nixosSystem of the stand-in: the module system with the tests' NixOS declarations
_NIXPKGS = """\
{
  description = "stand-in nixpkgs: the real lib, a small nixosSystem, fake packages";
  outputs = { self }:
    let
      upstream = /. + UPSTREAM;
      tests = /. + TESTS;
      realLib = import (upstream + "/nixpkgs-lib/lib");
      basePkgs = import (tests + "/stand-in-nixpkgs") {
        lib = realLib;
        packages = PACKAGES;
        path = /. + LAYOUT;
      };
      nixosSystem = { modules ? [ ], specialArgs ? { }, system ? null, ... }:
        let
          evaluated = realLib.evalModules {
            class = "nixos";
            specialArgs = { modulesPath = /. + MODULES; } // specialArgs;
            modules = [
              (tests + "/nixos-options.nix")
              ({ lib, config, ... }: {
                # nixos/modules/misc/nixpkgs.nix: overlays applied to the host's pkgs
                options.nixpkgs.overlays = lib.mkOption {
                  type = lib.types.listOf (lib.mkOptionType {
                    name = "nixpkgs-overlay";
                    check = lib.isFunction;
                    merge = lib.mergeOneOption;
                  });
                  default = [ ];
                };
                # set by home-manager's NixOS module (declared by nixos/modules/system/
                # activation/activation-script.nix, system/boot/systemd/user.nix), not
                # in tests/nixos-options.nix
                options.system.userActivationScripts = lib.mkOption {
                  type = lib.types.attrsOf lib.types.unspecified;
                  default = { };
                };
                # read by home-manager's modules/misc/fontconfig.nix as nixosConfig
                options.fonts.fontconfig.enable = lib.mkOption {
                  type = lib.types.bool;
                  default = true;
                };
                options.systemd.user.services = lib.mkOption {
                  type = lib.types.attrsOf lib.types.unspecified;
                  default = { };
                };
                config._module.check = true;
                config._module.args.pkgs = lib.fix (final:
                  lib.foldl' (prev: overlay: prev // overlay final prev) basePkgs
                    config.nixpkgs.overlays);
                config._module.args.utils.escapeSystemdPath = s:
                  builtins.replaceStrings [ "/" "-" " " ] [ "-" "\\\\x2d" "\\\\x20" ]
                    (lib.removePrefix "/" s);
              })
            ] ++ modules;
          };
        in
        evaluated // { pkgs = evaluated._module.args.pkgs; };
    in
    {
      lib = realLib // { inherit nixosSystem; };
      legacyPackages = realLib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: basePkgs);
    };
}
"""

_HOME_MANAGER = """\
{
  description = "stand-in home-manager: its real NixOS module";
  inputs.nixpkgs.url = NIXPKGS;
  outputs = { self, nixpkgs }: {
    nixosModules = rec {
      home-manager = { lib, ... }: {
        imports = [ (/. + UPSTREAM + "/home-manager/nixos") ];
        # its manuals are not in the snapshot
        home-manager.sharedModules = [ { manual.manpages.enable = lib.mkDefault false; } ];
      };
      default = home-manager;
    };
  };
}
"""

# ryantm/agenix modules/age.nix (main, 2025): the options a lab sets, with their types
_AGENIX = """\
{
  description = "stand-in agenix: a module with age.secrets, an overlay";
  inputs.nixpkgs.url = NIXPKGS;
  outputs = { self, nixpkgs }:
    let
      secrets = { lib, config, ... }: {
        options.age = {
          identityPaths = lib.mkOption {
            type = lib.types.listOf lib.types.path;
            default = [ "/etc/ssh/ssh_host_ed25519_key" ];
          };
          secrets = lib.mkOption {
            default = { };
            type = lib.types.attrsOf (lib.types.submodule ({ name, ... }: {
              options = {
                name = lib.mkOption { type = lib.types.str; default = name; };
                file = lib.mkOption { type = lib.types.path; };
                path = lib.mkOption { type = lib.types.str; default = "/run/agenix/${name}"; };
                mode = lib.mkOption { type = lib.types.str; default = "0400"; };
                owner = lib.mkOption { type = lib.types.str; default = "0"; };
                group = lib.mkOption { type = lib.types.str; default = "0"; };
                symlink = lib.mkOption { type = lib.types.bool; default = true; };
              };
            }));
          };
        };
      };
    in
    {
      nixosModules = rec { age = secrets; default = age; };
      homeManagerModules = rec { age = secrets; default = age; };
      overlays.default = final: prev: {
        agenix = {
          type = "derivation";
          name = "agenix";
          outPath = "/nix/store/00000000000000000000000000000000-agenix";
        };
      };
    };
}
"""

# NixOS/nixos-hardware: three of its modules (common/pc/ssd, common/cpu/{intel,amd}/
# cpu-only.nix), with the settings they make
_NIXOS_HARDWARE = """\
{
  description = "stand-in nixos-hardware: a few of its modules";
  outputs = { self }: {
    nixosModules = {
      common-pc-ssd = { lib, ... }: { services.fstrim.enable = lib.mkDefault true; };
      common-cpu-intel = { lib, config, ... }: {
        hardware.cpu.intel.updateMicrocode =
          lib.mkDefault config.hardware.enableRedistributableFirmware;
      };
      common-cpu-amd = { lib, config, ... }: {
        hardware.cpu.amd.updateMicrocode =
          lib.mkDefault config.hardware.enableRedistributableFirmware;
      };
    };
  };
}
"""


@functools.cache
def _session() -> Path:
    """This test process's Nix folders: store, state, configuration, home."""
    root = Path(tempfile.mkdtemp(prefix="homelab-flake-")).resolve()
    atexit.register(_remove, root)
    for sub in ("store", "state", "conf", "home", "cache", "calls"):
        (root / sub).mkdir()
    # no registry (an unknown input is not looked up online), no substituters
    (root / "conf" / "nix.conf").write_text(
        "substituters =\nflake-registry =\nsandbox = false\n", encoding="utf-8"
    )
    return root


def _remove(root: Path) -> None:
    # the store's files are read-only: make them writable to delete them
    subprocess.run(["chmod", "-R", "u+w", str(root)], check=False, capture_output=True)
    shutil.rmtree(root, True)


def _env() -> dict[str, str]:
    root = _session()
    env = dict(os.environ)
    env.pop("NIX_PATH", None)
    env.pop("NIX_REMOTE", None)
    env.update(
        HOME=str(root / "home"),
        NIX_STATE_DIR=str(root / "state"),
        NIX_CONF_DIR=str(root / "conf"),
        NIX_USER_CONF_FILES=str(root / "conf" / "nix.conf"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_CONFIG_HOME=str(root / "conf"),
    )
    return env


def nix_command() -> str:
    """The path of ``nix`` (Debian's nix-bin ships it beside nix-instantiate)."""
    found = shutil.which("nix", path=str(Path(nix_instantiate()).parent))
    if found:
        return found
    message = "the nix command is missing beside nix-instantiate: install Debian's nix-bin"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _run(cmd: list[str], cwd: Path) -> str:
    store = ["--store", str(_session() / "store")]
    proc = subprocess.run(
        [cmd[0], *FLAGS, *store, *cmd[1:]],
        capture_output=True,
        env=_env(),
        cwd=cwd,
        timeout=TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{Path(cmd[0]).name} {' '.join(cmd[1:])} failed (exit {proc.returncode}):\n"
            + proc.stderr.decode("utf-8", "replace")
        )
    return proc.stdout.decode("utf-8")


def _stand_ins(
    base: Path, packages: Iterable[str], modules: Iterable[str], extra: Mapping[str, str]
) -> dict[str, Path]:
    """Write the stand-in flakes under `base`; ``{input name: folder}``."""
    root = upstream()
    # modulesPath: NixOS's own modules are not here; each one the lab imports is empty
    for rel in modules:
        module = base / "nixos-modules" / rel.lstrip("/")
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(f"# {rel} of NixOS: not part of the test\n{{ }}\n", encoding="utf-8")
    (base / "nixos-modules").mkdir(exist_ok=True)
    # pkgs.path: nixpkgs' layout as far as home-manager reads it (as tests/modulesystem.py)
    layout = base / "nixpkgs-layout"
    layout.mkdir()
    (layout / "lib").symlink_to(root / "nixpkgs-lib" / "lib")
    (layout / "nixos").symlink_to(STAND_IN_PKGS / "nixos")
    names = ("nixpkgs", "home-manager", "agenix", "nixos-hardware")
    folders = {name: base / "inputs" / name for name in names}
    nixpkgs_url = render(f"path:{folders['nixpkgs']}")
    texts = {
        "nixpkgs": _NIXPKGS.replace("UPSTREAM", render(str(root)))
        .replace("TESTS", render(str(TESTS)))
        .replace("LAYOUT", render(str(layout)))
        .replace("MODULES", render(str(base / "nixos-modules")))
        .replace("PACKAGES", render(sorted(set(packages)))),
        "home-manager": _HOME_MANAGER.replace("UPSTREAM", render(str(root))).replace(
            "NIXPKGS", nixpkgs_url
        ),
        "agenix": _AGENIX.replace("NIXPKGS", nixpkgs_url),
        "nixos-hardware": _NIXOS_HARDWARE,
    }
    for name, text in extra.items():
        folders[name] = base / "inputs" / name
        texts[name] = text.replace("NIXPKGS", nixpkgs_url)
    for name, folder in folders.items():
        folder.mkdir(parents=True)
        (folder / "flake.nix").write_text(texts[name], encoding="utf-8")
    return folders


def _lab_names(lab: Path) -> tuple[set[str], set[str]]:
    """Every ``pkgs.a.b`` written in the lab's .nix files (the stand-in fakes them) and
    every ``modulesPath + "/a/b.nix"`` (NixOS modules, empty here)."""
    packages: set[str] = set()
    modules: set[str] = set()
    for file in lab.rglob("*.nix"):
        text = file.read_text(encoding="utf-8")
        for m in _PKGS_PATH.finditer(text):
            name = m.group(1)[1:]
            if name.split(".")[0] not in _BUILDERS:
                packages.add(name)
        modules.update(m.group(1) for m in _MODULES_PATH.finditer(text))
    return packages, modules


def eval_flake(
    lab: Path,
    reads: Mapping[str, Sequence[str]],
    *,
    packages: Iterable[str] = (),
    inputs: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """``{host: {attr: value}}`` of the lab's flake, evaluated with the stand-in inputs.

    `reads`: ``{host: [option paths]}`` read from ``nixosConfigurations.<host>.config``
    (or from the host's ``pkgs``, for an attribute ``PKGS.<attr>``).
    `inputs`: extra stand-in flakes, ``{name: flake.nix text}`` (``NIXPKGS`` in the text is
    replaced by the stand-in nixpkgs' URL, for ``inputs.nixpkgs.url = NIXPKGS;``).
    """
    nix = nix_command()
    base = Path(tempfile.mkdtemp(dir=_session() / "calls"))
    copy = base / "lab"
    shutil.copytree(lab, copy, ignore=shutil.ignore_patterns(".git", "flake.lock"), symlinks=True)
    named, modules = _lab_names(copy)
    folders = _stand_ins(base, named | set(packages), modules, inputs or {})
    wanted = _inputs_of(copy)
    missing = sorted(set(wanted) - set(folders))
    assert not missing, f"no stand-in for the flake's inputs {missing}: pass inputs="
    overrides = [a for name in wanted for a in ("--override-input", name, f"path:{folders[name]}")]
    started = time.monotonic()
    _run([nix, "flake", "lock", *overrides, f"path:{copy}"], cwd=base)
    locked = time.monotonic()
    (base / "normalise.nix").write_text(NORMALISE, encoding="utf-8")
    main = (
        "let\n"
        "  normalise = import ./normalise.nix;\n"
        f"  flake = builtins.getFlake {render('path:' + str(copy))};\n"
        "  read = host: item:\n"
        "    let\n"
        "      system = flake.nixosConfigurations.${host}\n"
        '        or (throw "the flake has no nixosConfigurations.${host}");\n'
        "      path = item.pkgs or item.config;\n"
        '      shown = (if item ? pkgs then "pkgs." else "config.")\n'
        '        + builtins.concatStringsSep "." path;\n'
        "    in\n"
        "    normalise (builtins.foldl' (value: name: value.${name}\n"
        '      or (throw "nixosConfigurations.${host} has no ${shown}"))\n'
        "      (if item ? pkgs then system.pkgs else system.config) path);\n"
        "in\n"
        "builtins.mapAttrs (host: map (read host))\n"
        f"{render({host: _items(attrs) for host, attrs in reads.items()})}\n"
    )
    (base / "main.nix").write_text(main, encoding="utf-8")
    out = _run([nix_instantiate(), "--eval", "--json", "--strict", str(base / "main.nix")], base)
    LAST_TIMES.clear()
    LAST_TIMES.update(lock=locked - started, eval=time.monotonic() - locked)
    values = json.loads(out, strict=False)
    return {host: _answers(attrs, values[host]) for host, attrs in reads.items()}


def _items(attrs: Sequence[str]) -> list[dict[str, list[str]]]:
    items = []
    for attr in attrs:
        if attr.startswith(PKGS + "."):
            items.append({"pkgs": list(parse_key(attr[len(PKGS) + 1 :]))})
        else:
            items.append({"config": list(parse_key(attr))})
    return items


def _answers(attrs: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(attrs, values, strict=True))


def _inputs_of(lab: Path) -> list[str]:
    """The names of the flake's inputs (its flake.nix imported as a plain expression)."""
    out = _run(
        [
            nix_instantiate(),
            "--eval",
            "--json",
            "--strict",
            "-E",
            f"builtins.attrNames ((import {lab / 'flake.nix'}).inputs or {{ }})",
        ],
        lab,
    )
    return list(json.loads(out))
