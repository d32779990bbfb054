"""`homelab catalogue list` and `catalogue show`: finding a service and what it takes."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunCli


def test_list_keeps_the_entries_holding_every_word(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, _ = run_cli("--lab", str(basic_lab), "catalogue", "list", "dns", "pi-hole")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("pihole  ") and "(web 8080)" in lines[0]
    assert len(lines) == 2
    assert lines[-1].startswith("1 of ") and "homelab catalogue show NAME" in lines[-1]


def test_list_says_when_nothing_matches(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "catalogue", "list", "mainframe")
    assert code == 1
    assert out == ""
    assert "no entry of the catalogue matches 'mainframe'" in err


def test_show_gives_settings_with_defaults_and_what_the_service_brings(
    basic_lab: Path, run_cli: RunCli
) -> None:
    code, out, _ = run_cli("--lab", str(basic_lab), "catalogue", "show", "pihole")
    assert code == 0, out
    assert "  NixOS module nixos/modules/services/networking/pihole-ftl.nix" in out
    assert "  webPort: integer 1-65535, default 8080" in out
    assert "  environmentFile: a secret's file (an absolute path, or {secret: NAME})" in out
    assert "ports: 53/udp, 53/tcp, 8080/tcp" in out
    assert "checked after apply: unit pihole-ftl.service; port 53; port 8080;" in out
    assert "not beside adguardhome: both answer DNS on port 53" in out
    # a description is wrapped whole words at a time, a dotted option name never cut
    assert "services.pihole-ftl.openFirewallWebserver" in out


def test_show_of_an_entry_the_catalogue_lacks_names_the_nearest(
    basic_lab: Path, run_cli: RunCli
) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "catalogue", "show", "piholes")
    assert code == 2
    assert out == ""
    assert "the catalogue has no entry 'piholes'; did you mean pihole?" in err


def test_a_broken_entry_is_named_at_its_line_and_the_others_still_listed(
    basic_lab: Path, run_cli: RunCli
) -> None:
    (basic_lab / "services" / "broken.yaml").write_text("description: [unclosed\n")
    code, out, err = run_cli("--lab", str(basic_lab), "catalogue", "list", "jellyfin")
    assert code == 2
    assert out.startswith("jellyfin  ")
    assert "services/broken.yaml:" in err
