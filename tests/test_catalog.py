"""A catalogue entry a person wrote: mistakes in it are reported at their place."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.catalog import (
    OMIT,
    Service,
    TemplateError,
    resolve,
    service_state,
    setting_clashes,
    template_settings,
)
from homelab.nix.expr import Pkg, Raw
from tests.conftest import RunCli, tree_hash


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("type: object", "type: objekt", "settings is not a valid JSON Schema"),
        ("description:", "descripton:", "'descripton' was unexpected"),
        ("nixpkgs:", "nixpkgz:", "'nixpkgs' is a required property"),
        ("services.jellyfin.enable:", "services..jellyfin.enable:", "has an empty part"),
    ],
)
def test_a_broken_entry_is_named_with_its_line(
    basic_lab: Path, run_cli: RunCli, old: str, new: str, message: str
) -> None:
    entry = basic_lab / "services/jellyfin.yaml"
    _edit(entry, old, new)
    before = tree_hash(basic_lab)
    code, _, err = run_cli("--lab", str(basic_lab), "build")
    assert code == 2
    assert "services/jellyfin.yaml:" in err
    assert message in err
    assert tree_hash(basic_lab) == before


def test_a_template_naming_no_setting_stops_the_build_with_the_entry_named(
    basic_lab: Path, run_cli: RunCli
) -> None:
    entry = basic_lab / "services/openssh.yaml"
    entry.write_text(entry.read_text() + "requires:\n  services.fail2ban.enable: {setting: nope}\n")
    before = tree_hash(basic_lab)
    code, _, err = run_cli("--lab", str(basic_lab), "build")
    assert code == 2
    assert "services/openssh.yaml" in err and "nope" in err
    assert tree_hash(basic_lab) == before


def test_a_new_entry_is_a_service_without_any_code(basic_lab: Path, run_cli: RunCli) -> None:
    (basic_lab / "services/fwupd.yaml").write_text(
        "description: Firmware updates\n"
        'nixpkgs: "26.05"\n'
        "settings:\n"
        "  type: object\n"
        "  additionalProperties: false\n"
        "  properties:\n"
        "    enable: {type: boolean, default: true}\n"
        "nixos:\n"
        "  services.fwupd.enable: {setting: enable}\n"
    )
    profile = basic_lab / "hosts/alpha/profile.yaml"
    _edit(profile, "services:\n", "services:\n  fwupd: {}\n")
    code, _, err = run_cli("--lab", str(basic_lab), "build", "alpha")
    assert code == 0, err
    services = (basic_lab / "hosts/alpha/services.nix").read_text()
    # the setting's default, not written in the profile: a person's value elsewhere wins
    assert "      services.fwupd = {\n        enable = lib.mkDefault true;\n      };\n" in services


@pytest.mark.parametrize(
    ("setting", "where", "message"),
    [
        # Python's end of text: no editor and no JSON Schema validator reads it
        (
            "{type: string, pattern: 'a\\Z'}",
            "9:34: settings.properties.odd.pattern",
            '"a\\\\Z" is not a "regex"',
        ),
        ("{$ref: '#/$defs/missing'}", "6:3: settings", "Pointer '/$defs/missing' does not exist"),
    ],
)
def test_a_settings_schema_homelab_cannot_check_is_refused_at_its_entry(
    basic_lab: Path, run_cli: RunCli, setting: str, where: str, message: str
) -> None:
    entry = basic_lab / "services/jellyfin.yaml"
    _edit(entry, "  properties:\n", f"  properties:\n    odd: {setting}\n")
    before = tree_hash(basic_lab)
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2, out + err
    # alpha enables jellyfin, whose settings were checked as if the schema were right
    assert "jellyfin" in (basic_lab / "hosts/alpha/profile.yaml").read_text()
    assert (
        f"error: services/jellyfin.yaml:{where}: settings is not a valid JSON Schema: {message}"
    ) in err
    assert "Traceback" not in err
    assert tree_hash(basic_lab) == before


def test_a_settings_ref_to_a_file_outside_the_lab_is_refused_without_reading_it(
    basic_lab: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"type": "integer"}')  # a schema that would compile, were it read
    entry = basic_lab / "services/jellyfin.yaml"
    _edit(entry, "  properties:\n", f"  properties:\n    odd: {{$ref: 'file://{outside}'}}\n")
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2, out + err
    assert (
        "error: services/jellyfin.yaml:6:3: settings: settings is not a valid JSON Schema: "
        f"Resource 'file://{outside}' is not present in a registry and retrieving it failed: "
        f"Retrieval is disabled, cannot fetch file://{outside}\n"
        "    hint: a $ref leads only within the entry, e.g. #/$defs/port"
    ) in err


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "  services.jellyfin.user: jellyfin\n",
            "  services.jellyfin.usr: jellyfin\n",
            '3: nixosDefaults."services.jellyfin.usr": not an option that nixos: sets',
        ),
        (
            "\nports:",
            "\nmerges: [services.jellyfin.users]\n\nports:",
            "10: merges[0]: services.jellyfin.users is not an option that nixos: sets",
        ),
    ],
)
def test_a_nixos_default_or_merge_that_names_no_option_of_the_entry_is_refused(
    basic_lab: Path, run_cli: RunCli, old: str, new: str, said: str
) -> None:
    entry = basic_lab / "services/jellyfin.yaml"
    _edit(entry, old, new)
    # the line the edit wrote (said gives the column and the rest)
    written = new.strip().splitlines()[0].strip()
    line = 1 + next(i for i, t in enumerate(entry.read_text().splitlines()) if written in t)
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2, out + err
    assert f"error: services/jellyfin.yaml:{line}:{said}\n" in err
    assert "hint: name an option of nixos: as it is written there" in err
    assert "Traceback" not in err


def test_an_entrys_state_folders_follow_its_settings() -> None:
    service = Service(
        name="mealie",
        file="services/mealie.yaml",
        description="Recipes",
        nixpkgs="26.05",
        settings_schema={},
        nixos={},
        state=("/var/lib/mealie", {"setting": "mediaDir"}, {"template": "{root}/backups"}),
    )
    assert service_state(service, {"mediaDir": "/srv/media", "root": "/srv"}) == (
        "/var/lib/mealie",
        "/srv/media",
        "/srv/backups",
    )
    # a folder the person did not set is not one to back up
    assert service_state(service, {"mediaDir": None, "root": "/srv"}) == (
        "/var/lib/mealie",
        "/srv/backups",
    )


def test_a_passthrough_key_clashes_with_a_named_setting_only_when_the_values_differ() -> None:
    service = Service(
        name="blocky",
        file="services/blocky.yaml",
        description="DNS",
        nixpkgs="26.05",
        settings_schema={},
        nixos={
            "services.blocky.settings": {"setting": "settings"},
            'services.blocky.settings.ports."dns.port"': {"setting": "port"},
            "services.blocky.enable": True,
        },
    )
    same = {"settings": {"ports": {"dns.port": 53}}, "port": 53}
    assert setting_clashes(service, same) == []
    other = {"settings": {"ports": {"dns.port": 5353}, "upstreams": ["9.9.9.9"]}, "port": 53}
    (clash,) = setting_clashes(service, other)
    assert (clash.setting, clash.key, clash.other) == ("settings", ("ports", "dns.port"), "port")


def test_a_package_a_setting_chooses_is_a_package_name_or_refused() -> None:
    template = {"pkgs": {"template": "postgresql_{version}"}}
    assert resolve(template, {"version": "17"}) == Pkg("postgresql_17")
    with pytest.raises(TemplateError):
        resolve(template, {"version": '17"; rm -rf /; "'})
    assert resolve({"pkgs": {"setting": "package"}}, {"package": None}) is OMIT
    assert template_settings(template) == frozenset({"version"})
    # unset, the option is left out: the module chooses (never pkgs.postgresql_None)
    assert resolve(template, {"version": None}) is OMIT


def test_a_list_of_package_names_becomes_packages_or_a_package_set_function() -> None:
    under = {"packages": "cards", "under": "home-assistant-custom-lovelace-modules"}
    assert resolve(under, {"cards": ["mini-graph-card"]}) == [
        Pkg("home-assistant-custom-lovelace-modules.mini-graph-card")
    ]
    function = {"packages": "python", "function": True}
    assert resolve(function, {"python": ["psycopg2", "numpy"]}) == Raw(
        "ps: [ ps.psycopg2 ps.numpy ]"
    )
    assert resolve(function, {"python": None}) is OMIT
    assert template_settings(function) == frozenset({"python"})
    # a name is one Nix identifier: never code
    for bad in (["numpy ]; x = [ 1"], ["a b"], [1]):
        with pytest.raises(TemplateError):
            resolve(function, {"python": bad})
