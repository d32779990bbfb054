"""Evaluating a host's generated modules with the real nix-instantiate, as data.

Each generated module is called with the lib/pkgs double of tests/nixtools.py; then the
modules are merged here the way the NixOS module system would for what homelab emits
(attribute sets merge, lists concatenate, mkDefault loses to a plain value, mkMerge and
mkIf are unfolded), so a test can read `config["users"]["users"]["demouser"]`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from homelab.lab import Lab
from homelab.nix.expr import NixPath
from tests.nixtools import nix_eval_modules, nix_parse

REPO = Path(__file__).resolve().parent.parent


def copy_lab(fixture: Path, dest: Path) -> Path:
    """A fixture lab in `dest` with the repository's catalogue as its services/."""
    shutil.copytree(fixture, dest)
    if not (dest / "services").exists():
        shutil.copytree(REPO / "services", dest / "services")
    return dest


def _unfold(value: Any, priority: int = 100) -> list[tuple[int, Any]]:
    """A definition -> [(priority, plain value)] with mkMerge/mkIf/mkOverride resolved."""
    if isinstance(value, dict):
        kind = value.get("_type")
        if kind == "merge":
            return [d for item in value["contents"] for d in _unfold(item, priority)]
        if kind == "if":
            return _unfold(value["content"], priority) if value["condition"] else []
        if kind == "override":
            return _unfold(value["content"], value["priority"])
        if kind == "order":
            return _unfold(value["content"], priority)
    return [(priority, value)]


def merge(defs: list[Any]) -> Any:
    """Merge module definitions of one option path (a tiny module system)."""
    unfolded = [d for value in defs for d in _unfold(value)]
    if not unfolded:
        return None
    best = min(p for p, _ in unfolded)
    values = [v for p, v in unfolded if p == best]
    if all(isinstance(v, dict) for v in values):
        keys: dict[str, list[Any]] = {}
        for p, v in unfolded:
            if isinstance(v, dict):
                for k, sub in v.items():
                    keys.setdefault(k, []).append(
                        {"_type": "override", "priority": p, "content": sub}
                    )
        return {k: merge(subs) for k, subs in sorted(keys.items())}
    if all(isinstance(v, list) for v in values):
        return [item for v in values for item in v]
    first = values[0]
    for other in values[1:]:
        if other != first:
            raise AssertionError(f"conflicting definitions: {first!r} and {other!r}")
    return first


def host_files(lab: Lab, folder: str) -> dict[str, str]:
    state = lab.load()
    assert not state.all_problems(), state.all_problems()
    return lab.generated(state, [folder])


def evaluate_host(lab: Lab, folder: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The merged configuration of a host's generated modules (not hardware-configuration);
    `config` is what the modules see as `config` (raw Nix may read it)."""
    files = host_files(lab, folder)
    names = sorted(files)
    for name in names:
        nix_parse(files[name])
    # the channels method imports <home-manager/nixos>: give the search path a stand-in
    stand_in = Path(tempfile.mkdtemp(prefix="homelab-hm-"))
    (stand_in / "nixos").mkdir()
    (stand_in / "nixos" / "default.nix").write_text("{ }\n")
    old = os.environ.get("HOMELAB_TEST_NIX_PATH")
    os.environ["HOMELAB_TEST_NIX_PATH"] = f"home-manager={stand_in}"
    try:
        values = nix_eval_modules([files[n] for n in names], config=config)
    finally:
        if old is None:
            del os.environ["HOMELAB_TEST_NIX_PATH"]
        else:
            os.environ["HOMELAB_TEST_NIX_PATH"] = old
        shutil.rmtree(stand_in)
    modules = []
    for name, value in zip(names, values, strict=True):
        assert isinstance(value, dict), f"{name} is not a module: {value!r}"
        modules.append({k: v for k, v in value.items() if k != "imports"})
        if name.endswith("/configuration.nix"):
            imports = value.get("imports", [])
    config = merge(modules)
    config["imports"] = [i.path if isinstance(i, NixPath) else i for i in imports]
    if "config" in config:  # services.nix: { config = lib.mkMerge [...]; }
        inner = config.pop("config")
        config = merge([config, inner])
    return config
