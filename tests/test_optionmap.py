"""Which NixOS option a field sets (the editor's help line): the map follows the schema and
the compiler, and a service setting's options come from its catalogue entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homelab.compile import compile_host
from homelab.lab import Lab
from homelab.optionmap import PROFILE, nixos_options
from homelab.profile.schema import profile_schema
from homelab.tui.schema import resolve

REPO = Path(__file__).resolve().parent.parent


def _below(schema: dict[str, Any], part: str, root: dict[str, Any]) -> dict[str, Any] | None:
    schema = resolve(schema, root)
    if part == "*":
        extra = schema.get("additionalProperties")
        return resolve(extra, root) if isinstance(extra, dict) and extra else None
    sub = (schema.get("properties") or {}).get(part)
    return resolve(sub, root) if isinstance(sub, dict) else None


def test_every_mapped_path_is_a_field_of_the_profile_schema() -> None:
    root = profile_schema()
    for pattern in PROFILE:
        schema: dict[str, Any] | None = root
        for part in pattern.split("."):
            assert schema is not None, pattern
            schema = _below(schema, part, root)
        assert schema is not None, f"{pattern} is not in the profile schema"


def test_the_options_named_are_in_the_generated_nix() -> None:
    lab = Lab(REPO)
    state = lab.load()
    profile = state.hosts["nixos-demo"].profile
    assert profile is not None
    nix = "\n".join(compile_host(profile, state.catalog).values())
    for path in [("host", "timezone"), ("networking", "firewall", "tcp"), ("packages",)]:
        for option in nixos_options(path):
            assert option.rsplit(".", 1)[-1] in nix, (path, option)


def test_names_and_service_settings() -> None:
    catalog = Lab(REPO).load().catalog
    assert nixos_options(("users", "ada", "groups")) == ["users.users.ada.extraGroups"]
    assert nixos_options(("hardware", "fileSystems", "/boot", "device")) == [
        'fileSystems."/boot".device'
    ]
    assert nixos_options(("services", "syncthing", "guiPort"), catalog) == [
        "services.syncthing.guiAddress"
    ]
    assert nixos_options(("services", "syncthing"), catalog) == ["services.syncthing.enable"]
    assert nixos_options(("deploy", "port"), catalog) == []


def test_an_options_key_names_its_own_option_for_the_help_line() -> None:
    assert nixos_options(("options", "services.fwupd", "enable")) == ["services.fwupd.enable"]
    assert nixos_options(("options", 'fileSystems."/srv/media"', "device")) == [
        'fileSystems."/srv/media".device'
    ]
    assert nixos_options(("options", "environment.systemPackages", 0)) == [
        "environment.systemPackages"
    ]
    assert nixos_options(("users", "alice", "home", "options", "programs.bat.enable")) == [
        "home-manager.users.alice.programs.bat.enable"
    ]
    assert nixos_options(("options", "networking.hosts.10.0.0.2")) == []
