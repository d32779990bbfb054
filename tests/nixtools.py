"""Running the real ``nix-instantiate`` from tests.

- `nix_instantiate()`: its path; skips the test when it is missing (fails when ``CI=true``).
- `nix_parse(text)`: ``nix-instantiate --parse``; AssertionError with Nix's message.
- `nix_parse_all(texts)`: Nix's error for each text, or None where it parses.
- `nix_eval(text)` / `nix_eval_many(texts)`: ``--eval --json --strict`` of expressions,
  many files in ONE process (each start of nix-instantiate costs time).
- `nix_eval_module(text)` / `nix_eval_modules(texts)`: call NixOS modules with a test
  double of ``lib`` and ``pkgs`` (below) and return what they evaluate to.

Values come back as ``json.loads`` of Nix's output, with two changes so that any value
can be printed: a path becomes a `homelab.nix.expr.NixPath` (relative to the file's folder,
e.g. ``NixPath("./hardware-configuration.nix")``; absolute when outside the temporary
folder) and a function becomes the string ``"<lambda>"``.  Note that Nix 2.8 prints floats
with 6 significant digits and integral floats as integers (``1.0`` -> ``1``).

Nix runs with a temporary HOME and state folder and ``--store dummy://``, so it works for
any user, root or not, without a daemon; nothing can be built or copied to the store
(``builtins.toFile``, ``"${./file}"`` and derivations fail).  ``NIX_PATH`` is taken
from the environment variable ``HOMELAB_TEST_NIX_PATH`` only (unset: no search path), so
``<name>`` lookups find just what a test sets up, e.g. ``home-manager=/tmp/stand-in``.

The module double
-----------------
`nix_eval_module` imports the module; when it is a function it is called with the subset
of these arguments that it names (all of them for ``args: ...``):

- ``lib``: ``builtins`` plus functions shaped like nixpkgs' own, returning the same marker
  sets, so compiled output can be compared as data::

      mkOverride p x   -> { _type = "override"; priority = p; content = x; }
      mkDefault x      -> mkOverride 1000 x      mkForce x -> mkOverride 50 x
      mkOptionDefault  -> mkOverride 1500        mkVMOverride -> mkOverride 10
      mkImageMediaOverride -> mkOverride 60
      mkIf c x         -> { _type = "if"; condition = c; content = x; }
      mkMerge xs       -> { _type = "merge"; contents = xs; }
      mkOrder p x      -> { _type = "order"; priority = p; content = x; }
      mkBefore = mkOrder 500; mkAfter = mkOrder 1500
      optional, optionals, optionalString, optionalAttrs, concatMapStringsSep,
      concatLines, mapAttrsToList, filterAttrs, versionAtLeast, versionOlder,
      escapeShellArg, getExe (pkg -> "<pkg>/bin/<name>")

- ``pkgs``: a set holding every ``pkgs.a.b.c`` path written in the module texts (found by
  a regular expression) plus the names passed in ``pkgs=``; each node is a set with
  ``outPath = "pkgs.a.b.c"``, so it prints as that string in JSON, ``"${pkgs.hello}"`` is
  ``"pkgs.hello"`` and ``pkgs.a`` still has ``.b``.  ``with pkgs; [ git ]`` only works
  for names given in ``pkgs=``.
- ``config``: the ``config=`` mapping (default ``{}``), rendered with homelab's renderer.
- ``options = { }``; ``modulesPath = "/nixpkgs/nixos/modules"`` (a string).
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
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from homelab.nix.expr import Apply, Let, NixPath, NixValue, Raw, Ref
from homelab.nix.render import render

__all__ = [
    "LIB_DOUBLE",
    "nix_eval",
    "nix_eval_many",
    "nix_eval_module",
    "nix_eval_modules",
    "nix_instantiate",
    "nix_parse",
    "nix_parse_all",
]

MISSING = "nix-instantiate is missing: install Debian's nix-bin"
TIMEOUT = 300

#: Turns what JSON cannot hold into markers: paths (tagged, turned into NixPath in Python)
#: and functions.  Sets with outPath/__toString still print as strings, as Nix does.
_NORMALISE = """\
let
  norm = v:
    let t = builtins.typeOf v; in
    if t == "path" then { __nixtoolsPath = toString v; }
    else if t == "lambda" then "<lambda>"
    else if t == "list" then map norm v
    else if t == "set" then builtins.mapAttrs (_: norm) v
    else v;
in
norm
"""

LIB_DOUBLE = """\
let
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkOrder = priority: content: { _type = "order"; inherit priority content; };
  names = builtins.attrNames;
in
builtins // {
  inherit mkOverride mkOrder;
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;
  mkImageMediaOverride = mkOverride 60;
  mkForce = mkOverride 50;
  mkVMOverride = mkOverride 10;
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;
  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
  optionalString = cond: s: if cond then s else "";
  optionalAttrs = cond: as: if cond then as else { };
  concatMapStringsSep = sep: f: xs: builtins.concatStringsSep sep (map f xs);
  concatLines = xs: builtins.concatStringsSep "" (map (x: x + "\\n") xs);
  mapAttrsToList = f: as: map (n: f n as.${n}) (names as);
  filterAttrs = pred: as:
    builtins.listToAttrs (builtins.concatMap
      (n: if pred n as.${n} then [ { name = n; value = as.${n}; } ] else [ ])
      (names as));
  versionAtLeast = a: b: builtins.compareVersions a b >= 0;
  versionOlder = a: b: builtins.compareVersions a b < 0;
  escapeShellArg = arg: "'" + builtins.replaceStrings [ "'" ] [ "'\\\\''" ] (toString arg) + "'";
  getExe = pkg: "${pkg}/bin/${pkg.meta.mainProgram or (builtins.baseNameOf (toString pkg))}";
}
"""

_CALL = """\
{ lib, pkgs, config }:
let
  args = {
    inherit lib pkgs config;
    options = { };
    modulesPath = "/nixpkgs/nixos/modules";
  };
  call = m:
    if builtins.isFunction m then
      let wanted = builtins.functionArgs m; in
      m (if wanted == { } then args else builtins.intersectAttrs wanted args)
    else m;
in
call
"""

_PKGS_PATH = re.compile(r"(?<![A-Za-z0-9_'.-])pkgs((?:\.[A-Za-z_][A-Za-z0-9_'-]*)+)")


# ---- running ---------------------------------------------------------------------------


def nix_instantiate() -> str:
    """The path of nix-instantiate; skips (or fails when CI=true) when it is missing."""
    found = shutil.which("nix-instantiate")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(MISSING)
    pytest.skip(MISSING)


@functools.cache
def _session() -> Path:
    """A folder for this test process: Nix's HOME and state, and the files evaluated."""
    root = Path(tempfile.mkdtemp(prefix="homelab-nix-")).resolve()
    atexit.register(shutil.rmtree, root, True)
    for sub in ("home", "state", "log", "cache", "config", "data", "calls"):
        (root / sub).mkdir()
    (root / "lib.nix").write_text(LIB_DOUBLE)
    (root / "normalise.nix").write_text(_NORMALISE)
    (root / "call.nix").write_text(_CALL)
    return root


def _env() -> dict[str, str]:
    root = _session()
    env = dict(os.environ)
    env.update(
        HOME=str(root / "home"),
        NIX_STATE_DIR=str(root / "state"),
        NIX_LOG_DIR=str(root / "log"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_STATE_HOME=str(root / "state"),
    )
    env.pop("NIX_PATH", None)
    if os.environ.get("HOMELAB_TEST_NIX_PATH"):  # a test's own search path, e.g. home-manager=...
        env["NIX_PATH"] = os.environ["HOMELAB_TEST_NIX_PATH"]
    return env


def _run(args: list[str], stdin: str | None = None, cwd: Path | None = None) -> str:
    cmd = [nix_instantiate(), "--store", "dummy://", *args]
    proc = subprocess.run(
        cmd,
        input=stdin.encode("utf-8") if stdin is not None else None,
        capture_output=True,
        env=_env(),
        cwd=cwd,
        timeout=TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"nix-instantiate {' '.join(args)} failed (exit {proc.returncode}):\n"
            + proc.stderr.decode("utf-8", "replace")
        )
    return proc.stdout.decode("utf-8")


def _call_dir() -> Path:
    return Path(tempfile.mkdtemp(dir=_session() / "calls"))


def nix_parse(text: str) -> None:
    """Parse `text` with ``nix-instantiate --parse -``; AssertionError with Nix's message.

    Nix resolves variables while parsing: free variables (``pkgs`` outside a module
    function) are errors too.
    """
    _run(["--parse", "-"], stdin=text, cwd=_call_dir())


def nix_parse_all(texts: Sequence[str]) -> list[str | None]:
    """Nix's error for each text (None when ``nix-instantiate --parse`` reads it).

    The texts go to Nix together as files (one run, when they all parse); each that
    fails is then parsed alone, a few at a time, for its own answer.
    """
    if not texts:
        return []
    folder = _call_dir()
    files = []
    for i, text in enumerate(texts):
        files.append(folder / f"{i}.nix")
        files[-1].write_text(text, encoding="utf-8")
    try:
        _run(["--parse", *map(str, files)], cwd=folder)
        return [None] * len(texts)
    except AssertionError:
        pass

    def alone(file: Path) -> str | None:
        try:
            _run(["--parse", str(file)], cwd=folder)
            return None
        except AssertionError as err:
            return str(err)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(alone, files))


def _from_json(value: Any, folder: Path) -> Any:
    if isinstance(value, list):
        return [_from_json(v, folder) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__nixtoolsPath"}:
            return _nix_path(str(value["__nixtoolsPath"]), folder)
        return {k: _from_json(v, folder) for k, v in value.items()}
    return value


def _nix_path(path: str, folder: Path) -> NixPath:
    p = Path(path)
    if p == folder or folder in p.parents:
        return NixPath("./" + p.relative_to(folder).as_posix())
    if _session() in p.parents:
        return NixPath(os.path.relpath(p, folder))
    return NixPath(path)


def _evaluate(texts: Sequence[str], wrap: str) -> list[Any]:
    """Write each text to its own file and evaluate `wrap` applied to each, in one call."""
    base = _call_dir()
    folders: list[Path] = []
    imports: list[NixValue] = []
    for i, text in enumerate(texts):
        folder = base / str(i)
        folder.mkdir()
        (folder / "expr.nix").write_text(text, encoding="utf-8")
        folders.append(folder)
        imports.append(Apply(Ref("import"), (NixPath(f"./{i}/expr.nix"),)))
    main = Let(
        {
            "normalise": Apply(Ref("import"), (NixPath("../../normalise.nix"),)),
            "wrap": Raw(wrap),
        },
        Apply(Ref("map"), (Raw("e: normalise (wrap e)"), imports)),
    )
    (base / "main.nix").write_text(render(main) + "\n", encoding="utf-8")
    try:
        out = _run(["--eval", "--json", "--strict", str(base / "main.nix")], cwd=base)
    except AssertionError:
        if len(texts) > 1:  # say which one
            for i, text in enumerate(texts):
                try:
                    _evaluate([text], wrap)
                except AssertionError as err:
                    raise AssertionError(f"text {i} of {len(texts)}: {err}") from None
        raise
    values = json.loads(out, strict=False)
    return [_from_json(v, folder) for v, folder in zip(values, folders, strict=True)]


def nix_eval(text: str) -> Any:
    """``nix-instantiate --eval --json --strict`` of the expression `text`."""
    return nix_eval_many([text])[0]


def nix_eval_many(texts: Sequence[str]) -> list[Any]:
    """`nix_eval` of each text, all in one nix-instantiate run (one file per text)."""
    if not texts:
        return []
    return _evaluate(texts, "e: e")


def nix_eval_module(
    module_text: str,
    lib_pkgs_double: bool = True,
    *,
    config: Mapping[str, Any] | None = None,
    pkgs: Iterable[str] = (),
) -> Any:
    """What the module in `module_text` evaluates to, called with the test double.

    With ``lib_pkgs_double=False`` the text is evaluated as it is, not called (a module
    that is a function comes back as ``"<lambda>"``).
    """
    if not lib_pkgs_double:
        return nix_eval(module_text)
    return nix_eval_modules([module_text], config=config, pkgs=pkgs)[0]


def nix_eval_modules(
    module_texts: Sequence[str],
    *,
    config: Mapping[str, Any] | None = None,
    pkgs: Iterable[str] = (),
) -> list[Any]:
    """`nix_eval_module` of many modules in one nix-instantiate run."""
    if not module_texts:
        return []
    names = set(pkgs)
    for text in module_texts:
        names.update(m.group(1)[1:] for m in _PKGS_PATH.finditer(text))
    call = Apply(
        Ref("import"),
        (
            NixPath("../../call.nix"),
            {
                "lib": Apply(Ref("import"), (NixPath("../../lib.nix"),)),
                "pkgs": _pkgs_double(names),
                "config": dict(config or {}),
            },
        ),
    )
    return _evaluate(module_texts, render(call))


def _pkgs_double(names: Iterable[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name in sorted(names):
        node = tree
        parts = name.split(".")
        for i, part in enumerate(parts):
            node = node.setdefault(part, {"outPath": "pkgs." + ".".join(parts[: i + 1])})
    return tree
