"""The editor's tabs, one module each: forms over parts of a profile, made from the
profile schema or a catalogue entry's settings schema. `base` says what every editor
does; `listdetail` is the list/detail editor that users, containers, services and
home-manager programs share; `options` is any NixOS option as YAML."""

from homelab.tui.widgets.editors.base import Editor
from homelab.tui.widgets.editors.entries import ContainersEditor, EntriesEditor, UsersEditor
from homelab.tui.widgets.editors.form import FormEditor, NetworkEditor, SystemEditor
from homelab.tui.widgets.editors.home import HomeEditor
from homelab.tui.widgets.editors.listdetail import EntryList, ListDetail
from homelab.tui.widgets.editors.options import OptionsEditor
from homelab.tui.widgets.editors.raw_nix import RawNixEditor
from homelab.tui.widgets.editors.services import ServicesEditor
from homelab.tui.widgets.editors.yaml import YamlEditor

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
