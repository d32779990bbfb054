"""A realistic NAS and home server written with `options:` and no extraConfig
(tests/labs/nas): it validates without a problem or a warning, builds an options.nix that
real Nix parses, and every value arrives at the option path the profile names: through
the test double of tests/compiled.py, and through nixpkgs' real module system with every
option declared and typed (tests/modulesystem.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homelab.lab import Lab
from tests.compiled import copy_lab, evaluate_host, host_files
from tests.conftest import RunCli
from tests.modulesystem import DEFINED, eval_nixos
from tests.nixtools import nix_parse_all

NAS = Path(__file__).resolve().parents[1] / "labs" / "nas"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(copy_lab(NAS, tmp_path_factory.mktemp("nas") / "lab"))


@pytest.fixture(scope="module")
def nas(lab: Lab) -> dict[str, Any]:
    return evaluate_host(lab, "nas")


def test_the_lab_has_no_raw_nix() -> None:
    for profile in (NAS / "hosts").rglob("*.yaml"):
        assert "extraConfig" not in profile.read_text(encoding="utf-8"), profile


def test_it_validates_without_a_problem_or_a_warning(lab: Lab, run_cli: RunCli) -> None:
    state = lab.load()
    assert state.all_problems() == []
    assert state.all_warnings() == []
    code, out, err = run_cli("--lab", str(lab.root), "validate")
    # without an option index, one note (neither a problem nor a warning) says so
    assert code == 0 and err.startswith("note: ") and err.count("\n") == 1, err
    assert "1 host valid: nas" in out


def test_build_writes_options_nix_and_nix_parses_every_file(
    tmp_path: Path, run_cli: RunCli
) -> None:
    root = copy_lab(NAS, tmp_path / "lab")
    code, out, _ = run_cli("--lab", str(root), "build")
    assert code == 0
    assert "wrote hosts/nas/options.nix" in out
    folder = root / "hosts" / "nas"
    assert not (folder / "extra.nix").exists()
    assert "./options.nix" in (folder / "configuration.nix").read_text()
    options = (folder / "options.nix").read_text()
    # names with slashes, dots and spaces are quoted as Nix writes them
    assert 'fileSystems."/mnt/backup.disk".fsType = "ext4";' in options
    assert 'services.samba.settings."Time Machine"."fruit:time machine" = "yes";' in options
    assert 'services.samba.settings."scans.inbox".path = "/srv/scans";' in options
    # !force and !default are the module system's priorities
    assert "services.samba.nmbd.enable = lib.mkForce false;" in options
    assert "networking.firewall.logRefusedConnections = lib.mkDefault false;" in options
    written = sorted(folder.glob("*.nix"))
    assert nix_parse_all([p.read_text() for p in written]) == [None] * len(written)


def test_file_systems_with_slashes_and_dots_in_their_names(nas: dict[str, Any]) -> None:
    fs = nas["fileSystems"]
    # written as a dotted key ...
    assert fs["/srv/media"] == {
        "device": "/dev/disk/by-label/media",
        "fsType": "ext4",
        "options": ["noatime"],
    }
    # ... and as quoted names in a nested map: the same thing
    assert fs["/srv/timemachine"] == {"device": "/dev/disk/by-label/timemachine", "fsType": "ext4"}
    assert fs["/mnt/backup.disk"]["options"] == [
        "nofail",
        "noauto",
        "x-systemd.automount",
        "x-systemd.idle-timeout=10min",
    ]
    # the profile's own hardware section still writes its file systems beside them
    assert fs["/"] == {"device": "/dev/disk/by-label/nixos", "fsType": "ext4"}


def test_samba_shares(nas: dict[str, Any]) -> None:
    samba = nas["services"]["samba"]
    assert samba["enable"] is True and samba["openFirewall"] is True
    assert samba["nmbd"]["enable"] is False
    settings = samba["settings"]
    assert settings["global"]["server string"] == "nas"
    assert settings["global"]["hosts allow"] == "192.168.1. 127.0.0.1 localhost"
    assert settings["global"]["security"] == "user"
    assert set(settings) == {"global", "media", "Time Machine", "scans.inbox"}
    assert settings["Time Machine"] == {
        "path": "/srv/timemachine",
        "valid users": "ada",
        "read only": "no",
        "vfs objects": "catia fruit streams_xattr",
        "fruit:time machine": "yes",
        "fruit:time machine max size": "1T",
    }
    assert settings["scans.inbox"]["force group"] == "media"
    assert settings["media"]["valid users"] == "@media"
    assert nas["services"]["samba-wsdd"] == {"enable": True, "openFirewall": True}


def test_nfs_exports_and_fixed_ports(nas: dict[str, Any]) -> None:
    nfs = nas["services"]["nfs"]["server"]
    assert nfs["enable"] is True
    assert nfs["exports"] == "/srv/media 192.168.1.0/24(ro,all_squash,anonuid=2000,anongid=2000)\n"
    assert (nfs["statdPort"], nfs["lockdPort"], nfs["mountdPort"]) == (4000, 4001, 4002)
    firewall = nas["networking"]["firewall"]
    assert firewall["allowedTCPPorts"][:5] == [111, 2049, 4000, 4001, 4002]


def test_the_ups(nas: dict[str, Any]) -> None:
    ups = nas["power"]["ups"]
    assert ups["enable"] is True and ups["mode"] == "standalone"
    assert ups["ups"]["eaton"] == {
        "driver": "usbhid-ups",
        "port": "auto",
        "description": "Eaton 5E 850i",
    }
    # the password is a path on the machine, a string: never copied into the Nix store
    assert ups["users"]["upsmon"] == {
        "passwordFile": "/var/lib/secrets/upsmon-password",
        "upsmon": "primary",
    }
    assert ups["upsmon"]["monitor"]["eaton"] == {"user": "upsmon"}
    assert ups["upsmon"]["settings"] == {
        "MINSUPPLIES": 1,
        "NOTIFYFLAG": [["ONBATT", "SYSLOG+WALL"], ["LOWBATT", "SYSLOG+WALL"]],
    }


def test_tmpfiles_and_the_owner_of_the_media(nas: dict[str, Any]) -> None:
    assert nas["systemd"]["tmpfiles"]["rules"] == [
        "d /srv/media 0775 media media -",
        "d /srv/timemachine 0750 ada users -",
        "d /srv/scans 0770 media media -",
    ]
    # written in the profile's groups: and users: (system: true), not in options:
    assert nas["users"]["groups"]["media"] == {"gid": 2000}
    media = nas["users"]["users"]["media"]
    assert media == {
        "isSystemUser": True,
        "uid": 2000,
        "group": "media",
        "description": "Owner of /srv/media",
    }
    assert "media" in nas["users"]["users"]["ada"]["extraGroups"]


def test_the_backup_service_and_the_timers(nas: dict[str, Any]) -> None:
    services = nas["systemd"]["services"]
    backup = services["backup-media"]
    assert backup["path"] == ["pkgs.rsync"]  # !pkg
    assert backup["startAt"] == "*-*-* 03:00:00"
    assert backup["script"] == "rsync -a --delete /srv/media/ /mnt/backup.disk/media/"
    assert backup["serviceConfig"] == {"Type": "oneshot", "Nice": 19, "IOSchedulingClass": "idle"}
    assert backup["unitConfig"] == {"RequiresMountsFor": "/mnt/backup.disk"}
    # !nix: a Nix string that names a package
    assert services["smart-report"]["script"] == "pkgs.smartmontools/bin/smartctl --scan-open\n"
    assert nas["systemd"]["timers"]["smart-report"] == {
        "wantedBy": ["timers.target"],
        "timerConfig": {"OnCalendar": "weekly", "Persistent": True},
    }


def test_tagged_values(nas: dict[str, Any]) -> None:
    assert nas["boot"]["kernelPackages"] == "pkgs.linuxPackages_6_12"  # !nix
    assert nas["services"]["smartd"]["devices"] == [{"device": "/dev/sda"}, {"device": "/dev/sdb"}]
    assert nas["environment"]["systemPackages"] == [
        "pkgs.smartmontools",
        "pkgs.hdparm",
        "pkgs.python3Packages.rich",
    ]
    # !default: below what any other module writes at normal priority
    assert nas["networking"]["firewall"]["logRefusedConnections"] is False


def test_options_of_a_fragment_are_merged(nas: dict[str, Any]) -> None:
    assert nas["services"]["fstrim"]["enable"] is True
    assert nas["zramSwap"] == {"enable": True, "memoryPercent": 25}


# ---- through the real module system (nixpkgs' lib, option declarations with their types)

REAL = [
    DEFINED,
    'fileSystems."/srv/media".device',
    'fileSystems."/mnt/backup.disk".options',
    'services.samba.settings."Time Machine"."fruit:time machine"',
    'services.samba.settings."scans.inbox".path',
    "services.samba.settings.global.security",
    "services.samba.nmbd.enable",
    "systemd.services.backup-media.startAt",
    "power.ups.upsmon.monitor.eaton.passwordFile",
]


@pytest.fixture(scope="module")
def real(lab: Lab) -> dict[str, Any]:
    return eval_nixos(host_files(lab, "nas"), REAL)


def test_every_option_is_declared_and_of_its_type(real: dict[str, Any]) -> None:
    defined = real[DEFINED]
    assert defined["services.samba.enable"] is True
    assert defined["power.ups.mode"] == "standalone"
    assert defined["services.nfs.server.lockdPort"] == 4001
    assert defined["users.groups"]["media"]["gid"] == 2000
    media = defined["users.users"]["media"]
    assert (media["isSystemUser"], media["uid"], media["group"]) == (True, 2000, "media")
    assert defined["users.users"]["ada"]["extraGroups"] == ["media", "wheel"]
    assert defined["systemd.tmpfiles.rules"][0] == "d /srv/media 0775 media media -"
    assert defined["systemd.timers"]["smart-report"]["timerConfig"] == {
        "OnCalendar": "weekly",
        "Persistent": True,
    }
    assert defined["services.smartd.devices"][1]["device"] == "/dev/sdb"  # !nix
    assert defined["environment.systemPackages"] == [
        "pkgs.smartmontools",
        "pkgs.hdparm",
        "pkgs.python3Packages.rich",
    ]


def test_values_arrive_at_paths_with_quoted_names(real: dict[str, Any]) -> None:
    assert real['fileSystems."/srv/media".device'] == "/dev/disk/by-label/media"
    assert "x-systemd.automount" in real['fileSystems."/mnt/backup.disk".options']
    assert real['services.samba.settings."Time Machine"."fruit:time machine"'] == "yes"
    assert real['services.samba.settings."scans.inbox".path'] == "/srv/scans"


def test_priorities_and_what_the_modules_derive(real: dict[str, Any]) -> None:
    # !force beats the module's own default (nmbd on) without a conflict
    assert real["services.samba.nmbd.enable"] is False
    assert real["services.samba.settings.global.security"] == "user"
    # startAt: a string, which the module turns into a list
    assert real["systemd.services.backup-media.startAt"] == ["*-*-* 03:00:00"]
    # the monitor's password file comes from its user's, as ups.nix derives it
    assert real["power.ups.upsmon.monitor.eaton.passwordFile"] == "/var/lib/secrets/upsmon-password"
