"""The editor's tabs, one module each: forms over parts of a profile, made from the
profile schema or a catalogue entry's settings schema. `base` says what every editor
does; `listdetail` is the list/detail editor that users, containers, services and
home-manager programs share; `options` is any NixOS option as YAML.

Each module loads when one of its names is first asked for: the first screen shows the
System tab only, and the others' imports would delay it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homelab.tui.widgets.editors.base import Editor
    from homelab.tui.widgets.editors.entries import ContainersEditor, EntriesEditor, UsersEditor
    from homelab.tui.widgets.editors.form import FormEditor, NetworkEditor, SystemEditor
    from homelab.tui.widgets.editors.home import HomeEditor
    from homelab.tui.widgets.editors.listdetail import EntryList, ListDetail
    from homelab.tui.widgets.editors.options import OptionsEditor
    from homelab.tui.widgets.editors.raw_nix import RawNixEditor
    from homelab.tui.widgets.editors.services import ServicesEditor
    from homelab.tui.widgets.editors.yaml import YamlEditor

_MODULES = {
    "Editor": "base",
    "ContainersEditor": "entries",
    "EntriesEditor": "entries",
    "UsersEditor": "entries",
    "FormEditor": "form",
    "NetworkEditor": "form",
    "SystemEditor": "form",
    "HomeEditor": "home",
    "EntryList": "listdetail",
    "ListDetail": "listdetail",
    "OptionsEditor": "options",
    "RawNixEditor": "raw_nix",
    "ServicesEditor": "services",
    "YamlEditor": "yaml",
}


def load_all() -> None:
    """Every tab's module, for what must know them all (the help lists every list's
    keys, whether or not its tab was shown yet)."""
    for module in sorted(set(_MODULES.values())):
        importlib.import_module(f"{__name__}.{module}")


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # asked for once
    return value


__all__ = [
    "ContainersEditor",
    "Editor",
    "EntriesEditor",
    "EntryList",
    "FormEditor",
    "HomeEditor",
    "ListDetail",
    "NetworkEditor",
    "OptionsEditor",
    "RawNixEditor",
    "ServicesEditor",
    "SystemEditor",
    "UsersEditor",
    "YamlEditor",
]
