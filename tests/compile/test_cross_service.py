"""What one service needs from the rest of the machine, and what two services on one
host share: groups a setting names, databases, ports."""

from __future__ import annotations

from pathlib import Path

from homelab.lab import Lab
from tests.hosts import BASE, problems_of, with_host
from tests.modulesystem import eval_nixos

# an entry whose service runs in a group the person chooses, as the *arr modules' do
DOWNLOADER = """\
description: A downloader that writes into a shared folder
nixpkgs: "26.05"
settings:
  type: object
  additionalProperties: false
  properties:
    group: {type: string, default: downloader}
nixos:
  systemd.services.downloader.serviceConfig.Group: {setting: group}
groups: [{setting: group}]
"""


def _lab(lab: Path) -> Path:
    (lab / "services" / "downloader.yaml").write_text(DOWNLOADER)
    return lab


def test_a_group_the_person_gives_a_service_is_created_and_users_may_join_it(
    basic_lab: Path,
) -> None:
    lab = _lab(basic_lab)
    text = BASE + (
        "services:\n  downloader: {group: media}\nusers:\n  bob: {groups: [media], sshKeys: []}\n"
    )
    assert problems_of(lab, text) == []
    state = with_host(lab, text)
    files = Lab(lab).generated(state, ["gamma"])
    found = eval_nixos(files, ["users.groups", "users.users.bob.extraGroups"])
    assert "media" in found["users.groups"]
    assert found["users.users.bob.extraGroups"] == ["media"]


def test_a_group_no_service_of_the_host_brings_is_not_taken_for_created(
    basic_lab: Path,
) -> None:
    lab = _lab(basic_lab)
    text = BASE + "services:\n  downloader: {}\nusers:\n  bob: {groups: [media], sshKeys: []}\n"
    state = with_host(lab, text)
    files = Lab(lab).generated(state, ["gamma"])
    assert "media" not in eval_nixos(files, ["users.groups"])["users.groups"]


def _needs_database(name: str) -> str:
    """An entry whose service needs its own PostgreSQL database, as services/README.md
    says to write one whose NixOS module does not create it."""
    return f"""\
description: {name}, with its data in PostgreSQL
nixpkgs: "26.05"
nixos:
  systemd.services.{name}.after: [postgresql.service]
  services.postgresql.enable: true
  services.postgresql.ensureDatabases: [{name}]
  services.postgresql.ensureUsers: [{{name: {name}, ensureDBOwnership: true}}]
merges:
  - systemd.services.{name}.after
  - services.postgresql.ensureDatabases
  - services.postgresql.ensureUsers
"""


def test_two_services_needing_postgresql_get_one_server_with_both_databases(
    basic_lab: Path,
) -> None:
    for name in ("recipes", "papers"):
        (basic_lab / "services" / f"{name}.yaml").write_text(_needs_database(name))
    # the person's own database, beside the services' ones
    text = BASE + (
        "services:\n  recipes: {}\n  papers: {}\n"
        "options:\n  services.postgresql.ensureDatabases: [notes]\n"
    )
    assert problems_of(basic_lab, text) == []
    files = Lab(basic_lab).generated(with_host(basic_lab, text), ["gamma"])
    found = eval_nixos(
        files,
        [
            "services.postgresql.enable",
            "services.postgresql.ensureDatabases",
            "services.postgresql.ensureUsers",
        ],
    )
    assert found["services.postgresql.enable"] is True
    assert sorted(found["services.postgresql.ensureDatabases"]) == ["notes", "papers", "recipes"]
    owners = {u["name"] for u in found["services.postgresql.ensureUsers"] if u["ensureDBOwnership"]}
    assert owners == {"papers", "recipes"}


PASSTHROUGH = """\
description: A resolver with its config.yml as a passthrough beside a named port
nixpkgs: "26.05"
settings:
  type: object
  additionalProperties: false
  properties:
    port: {type: integer, default: 53}
    settings: {type: object, default: {}}
nixos:
  services.resolver.enable: true
  services.resolver.settings: {setting: settings}
  services.resolver.settings.ports.dns: {setting: port}
"""


def test_an_empty_passthrough_sets_nothing_and_the_named_settings_still_apply(
    basic_lab: Path,
) -> None:
    (basic_lab / "services" / "resolver.yaml").write_text(PASSTHROUGH)
    for written in ("{}", "{port: 5353}", "{settings: {}, port: 5353}"):
        text = BASE + f"services:\n  resolver: {written}\n"
        assert problems_of(basic_lab, text) == []
        files = Lab(basic_lab).generated(with_host(basic_lab, text), ["gamma"])
        services = files["hosts/gamma/services.nix"]
        assert "settings = lib.mkDefault { }" not in services
        port = "5353" if "5353" in written else "lib.mkDefault 53"
        assert f"settings.ports.dns = {port};" in services, services
