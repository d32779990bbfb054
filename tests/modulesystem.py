"""Evaluating generated Nix through the REAL module system (nixpkgs' ``lib.evalModules``).

Unlike tests/compiled.py (a tiny merge written in Python), these helpers hand the host's
modules to nixpkgs' own ``lib`` and home-manager's own modules, as found in
``../shared/upstream`` beside the repository (see its README), with ``_module.check = true``:
an option that is not declared, or a value of the wrong type, fails the test with the
module system's own message (an AssertionError holding Nix's error).

- `upstream()`: the path of ``../shared/upstream``; skips the test where it is absent
  (fails when ``CI=true``).
- `eval_nixos(files, attrs)`: evaluate one host's compiled files (``{lab-relative path:
  text}``, e.g. from ``Lab.generated`` or ``homelab.compile.compile_host``) and return
  ``{attr: value}`` for each requested option path, e.g. ``"services.fwupd.enable"`` or
  ``'fileSystems."/srv/media".device'`` (homelab's option-path notation).
- `eval_home(source, user, attrs)`: the same for one home-manager user; `attrs` are paths
  inside the user's configuration (``"programs.git.enable"``, ``"home.packages"``).
  `source` is a host's compiled files (home.nix writes ``home-manager.users.<user>``) or
  the text of the user's home-manager module alone.
- `eval_many(cases)`: many `Case`s in ONE nix-instantiate run (each run costs ~0.3 s of
  start-up and reading lib): batch where you can.

How the evaluation is made (one ``lib.evalModules { class = "nixos"; }`` a host):

- modules: tests/nixos-options.nix (NixOS option declarations with nixpkgs' types: NixOS's
  own modules are too large to bring in; declare there what a test sets), home-manager's
  real ``nixos/common.nix`` (declares ``home-manager.*``; each user is a submodule of
  home-manager's real modules), the host's ``configuration.nix`` (it imports the other
  files, written beside it in a temporary folder), and `declarations` (extra module text
  a test may add).  A ``hardware-configuration.nix`` that the files import but do not
  hold is an empty module: it comes from the machine; ``<home-manager/nixos>`` (the
  channels method) is an empty module too, since common.nix is there already.
- ``pkgs``: tests/stand-in-nixpkgs (fake derivations, builders, ``pkgs.formats``).  Every
  ``pkgs.a.b`` written in the files is faked, plus the names given in ``packages=``.  A
  package comes back as the string ``"pkgs.a.b"`` (derivations print as their name).
  An error "X cannot be found in pkgs" means home-manager forces a package the stand-in
  lacks: pass it in ``packages=`` (or add it to the stand-in's list).
- home-manager users get ``manual.manpages.enable = mkDefault false`` (its docs are not in
  the snapshot).

``DEFINED`` (``"*"``) among the attributes reads every option that the host's files
define, merged and type-checked: ``{"services.fwupd.enable": True, ...}`` (for `eval_home`,
the user's own definitions, with paths inside the user's configuration).  Reading single
options checks only those (the module system is lazy): use ``DEFINED`` to check them all.

Values come back as ``json.loads`` of Nix's JSON: functions are ``"<lambda>"``, paths are
strings.  An attribute that the configuration does not have fails with the path named.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from homelab.nix.render import render
from homelab.profile.options import key_text, parse_key
from tests.nixtools import _call_dir, _run

__all__ = ["DEFINED", "Case", "eval_home", "eval_many", "eval_nixos", "home_case", "upstream"]

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
STAND_IN_PKGS = TESTS / "stand-in-nixpkgs"
#: An attribute that reads every option the host's files define: ``{option path: value}``
#: (for `eval_nixos`: all but ``home-manager.users``; for `eval_home`: the user's options).
DEFINED = "*"
MISSING = (
    "../shared/upstream (nixpkgs' lib and home-manager's modules) is absent beside the repository"
)

_PKGS_PATH = re.compile(r"(?<![A-Za-z0-9_'.-])pkgs((?:\.[A-Za-z_][A-Za-z0-9_'-]*)+)")
_BUILDERS = {"formats", "stdenv", "path", "lib", "system"}

NORMALISE = """\
let
  norm = v:
    let t = builtins.typeOf v; in
    if t == "set" && (v.type or null) == "derivation" then v.name
    else if t == "path" then toString v
    else if t == "lambda" then "<lambda>"
    else if t == "list" then map norm v
    else if t == "set" then builtins.mapAttrs (_: norm) v
    else v;
in
norm
"""

# the module system at work for one host: ROOT is the folder of its configuration.nix
_EVAL = """\
{ upstream, tests, packages }:
let
  upstreamDir = /. + upstream;
  testsDir = /. + tests;
  lib = import (upstreamDir + "/nixpkgs-lib/lib");
  pkgs = import (testsDir + "/stand-in-nixpkgs") { inherit lib packages; path = ./nixpkgs; };
  normalise = import ./normalise.nix;
  get = config: path:
    lib.attrByPath path
      (throw "the configuration has no ${lib.showOption path}")
      config;
in
{ configuration, declarations, attrs, dir }:
let
  evaluated = lib.evalModules {
    class = "nixos";
    specialArgs = { inherit pkgs; };
    modules = [
      (testsDir + "/nixos-options.nix")
      (upstreamDir + "/home-manager/nixos/common.nix")
      {
        _module.check = true;
        home-manager.sharedModules = [ { manual.manpages.enable = lib.mkDefault false; } ];
      }
      declarations
      configuration
    ];
  };
  # every option that the host's files define (all but home-manager.users), merged and
  # type-checked; finding out forces each option's default where no file defines it, and
  # a default may throw: such an option is not the host's
  mentions = o:
    let found = builtins.tryEval (builtins.any (lib.hasPrefix dir) o.files); in
    found.success && found.value;
  nixosDefined = builtins.filter
    (o: o.loc != [ "home-manager" "users" ] && mentions o)
    (lib.collect lib.isOption evaluated.options);
  # a home-manager user's options that the host's files define: the user's definitions are
  # walked beside the user's options (home-manager has thousands, with package defaults
  # the stand-in lacks); a module given as a function is not walked
  walk = options: value:
    if !(builtins.isAttrs value) then [ ]
    else if value._type or null == "merge" then lib.concatMap (walk options) value.contents
    else if builtins.elem (value._type or null) [ "if" "override" "order" ] then
      walk options value.content
    else if value ? _type then [ ]
    else lib.concatLists (lib.mapAttrsToList (name: v:
      let o = options.${name} or null; in
      if o == null then [ ] else if lib.isOption o then [ o ] else walk o v) value);
  homeDefined = user:
    let
      users = evaluated.options.home-manager.users;
      options = users.valueMeta.attrs.${user}.configuration.options;
      mine = builtins.filter (d: lib.hasPrefix dir d.file) users.definitionsWithLocations;
    in
    lib.unique (lib.concatMap (d: walk options (d.value.${user} or { })) mine);
  defined = prefix:
    builtins.listToAttrs (map
      (o: lib.nameValuePair
        (lib.showOption (lib.drop (builtins.length prefix) o.loc))
        (normalise o.value))
      (if prefix == [ ] then nixosDefined else homeDefined (lib.last prefix)));
in
map (a: if builtins.isList a then normalise (get evaluated.config a) else defined a.definedBy) attrs
"""


def upstream() -> Path:
    """``../shared/upstream`` beside the repository; skips (fails when CI=true) if absent."""
    found = REPO.parent / "shared" / "upstream"
    if (found / "nixpkgs-lib" / "lib").is_dir() and (found / "home-manager" / "modules").is_dir():
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(MISSING)
    pytest.skip(MISSING)


@dataclass(frozen=True)
class Case:
    """One host to evaluate: its compiled files and the option paths to read back."""

    files: Mapping[str, str]
    attrs: Sequence[str]
    declarations: str = "{ }"
    packages: Iterable[str] = field(default=())


def eval_nixos(
    files: Mapping[str, str],
    attrs: Sequence[str],
    *,
    declarations: str = "{ }",
    packages: Iterable[str] = (),
) -> dict[str, Any]:
    """``{attr: value}`` of a host's configuration evaluated by the real module system.

    `declarations`: the text of an extra module (options a test declares for itself).
    """
    return eval_many([Case(files, attrs, declarations, tuple(packages))])[0]


def home_case(
    source: Mapping[str, str] | str,
    user: str,
    attrs: Sequence[str],
    *,
    packages: Iterable[str] = (),
) -> Case:
    """The `Case` of `eval_home` (to batch it with others in `eval_many`, whose answer is
    keyed by the full paths: ``home-manager.users.<user>.programs.git.enable``)."""
    prefix = ("home-manager", "users", user)
    paths = [
        render_path(prefix) + "." + DEFINED if a == DEFINED else render_path(prefix + parse_key(a))
        for a in attrs
    ]
    if isinstance(source, str):
        files = {
            "hosts/home/configuration.nix": _HOME_ALONE.replace("USER", render(user)),
            "hosts/home/user.nix": source,
        }
        return Case(files, paths, packages=tuple(packages))
    return Case(source, paths, packages=tuple(packages))


def eval_home(
    source: Mapping[str, str] | str,
    user: str,
    attrs: Sequence[str],
    *,
    packages: Iterable[str] = (),
) -> dict[str, Any]:
    """``{attr: value}`` of one home-manager user, evaluated by home-manager's real modules.

    `source`: a host's compiled files, or the text of the user's home-manager module (a
    NixOS user of that name and ``home.stateVersion`` get defaults then).  ``DEFINED``
    walks the user's definitions where they are attribute sets (a module written as a
    function is checked for options that do not exist, but its values are not listed and
    their types are checked only where read: name its options).
    """
    case = home_case(source, user, attrs, packages=packages)
    values = eval_many([case])[0]
    return dict(zip(attrs, values.values(), strict=True))


# a host for a home-manager module given alone
_HOME_ALONE = """\
{ lib, ... }:
{
  users.users.USER.isNormalUser = true;
  home-manager = {
    useGlobalPkgs = true;
    useUserPackages = true;
    users.USER = lib.mkMerge [
      (import ./user.nix)
      { home.stateVersion = lib.mkDefault "24.05"; }
    ];
  };
}
"""


def render_path(parts: Sequence[str]) -> str:
    """Option path parts -> homelab's notation (the same as Nix's attribute paths)."""
    return key_text(list(parts))


def eval_many(cases: Sequence[Case]) -> list[dict[str, Any]]:
    """Each case evaluated (see `eval_nixos`), all in one nix-instantiate run."""
    if not cases:
        return []
    root = upstream()
    base = _call_dir()
    (base / "normalise.nix").write_text(NORMALISE, encoding="utf-8")
    (base / "eval.nix").write_text(_EVAL, encoding="utf-8")
    # pkgs.path: nixpkgs' layout, as far as home-manager reads it (lib/, nixos/modules/misc)
    (base / "nixpkgs").mkdir()
    (base / "nixpkgs" / "lib").symlink_to(root / "nixpkgs-lib" / "lib")
    (base / "nixpkgs" / "nixos").symlink_to(STAND_IN_PKGS / "nixos")
    # <home-manager/nixos> (a host of the channels method imports it): home-manager's
    # common.nix is among the modules already
    (base / "home-manager" / "nixos").mkdir(parents=True)
    (base / "home-manager" / "nixos" / "default.nix").write_text("{ }\n", encoding="utf-8")
    packages: set[str] = set()
    calls = []
    for i, case in enumerate(cases):
        folder = base / str(i)
        configuration = _write_host(case.files, folder)
        (folder / "declarations.nix").write_text(case.declarations + "\n", encoding="utf-8")
        packages.update(case.packages)
        for text in case.files.values():
            packages.update(
                m.group(1)[1:]
                for m in _PKGS_PATH.finditer(text)
                if m.group(1)[1:].split(".")[0] not in _BUILDERS
            )
        attrs = [_attr(a) for a in case.attrs]
        calls.append(
            f"(eval {{ configuration = ./{configuration.relative_to(base).as_posix()};"
            f" declarations = ./{i}/declarations.nix; attrs = {render(attrs)};"
            f" dir = {render(str(folder) + '/')}; }})"
        )
    main = (
        f"let eval = import ./eval.nix {{ upstream = {render(str(root))};"
        f" tests = {render(str(TESTS))}; packages = {render(sorted(packages))}; }}; in\n"
        "[\n" + "\n".join(calls) + "\n]\n"
    )
    (base / "main.nix").write_text(main, encoding="utf-8")
    try:
        search = f"home-manager={base / 'home-manager'}"
        out = _run(["--eval", "--json", "--strict", "-I", search, str(base / "main.nix")], cwd=base)
    except AssertionError:
        if len(cases) > 1:  # say which one
            for i, case in enumerate(cases):
                try:
                    eval_many([case])
                except AssertionError as err:
                    raise AssertionError(f"case {i} of {len(cases)}: {err}") from None
        raise
    values = json.loads(out, strict=False)
    return [dict(zip(c.attrs, v, strict=True)) for c, v in zip(cases, values, strict=True)]


def _attr(attr: str) -> Any:
    """An attribute as the Nix side reads it: a path, or every option defined (DEFINED)."""
    if attr == DEFINED:
        return {"definedBy": []}
    if attr.endswith("." + DEFINED):
        return {"definedBy": list(parse_key(attr[: -len(DEFINED) - 1]))}
    return list(parse_key(attr))


def _write_host(files: Mapping[str, str], folder: Path) -> Path:
    """Write a host's files under `folder`; the path of its configuration.nix."""
    configurations = [
        p for p in files if p.endswith("/configuration.nix") or p == "configuration.nix"
    ]
    assert len(configurations) == 1, (
        f"one host's files, with one configuration.nix: {sorted(files)}"
    )
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    configuration = folder / configurations[0]
    hardware = configuration.parent / "hardware-configuration.nix"
    if "./hardware-configuration.nix" in files[configurations[0]] and not hardware.exists():
        hardware.write_text("# from the machine: not part of the test\n{ }\n", encoding="utf-8")
    return configuration
