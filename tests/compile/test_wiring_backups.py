"""The lab's backups (lab.yaml wiring: backups), on the three hosts of tests/labs/proxied
with the NAS as the backup host: built by homelab and evaluated as a flake with the real
module system and agenix, against option declarations written from nixpkgs' restic and
restic REST server modules (tests/nixos-options/restic.nix, with their assertions). Each
host with state backs it up to its own repository on the NAS; the NAS opens the
repository's port to those hosts alone; the password is a secret only they can open."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from homelab import cli
from homelab.lab import Lab
from homelab.secrets import crypt
from homelab.secrets.store import write_encrypted
from tests.compiled import copy_lab
from tests.conftest import RunCli
from tests.flakes import eval_flake
from tests.secrets.keyfiles import age_key, recipient, ssh_key

PROXIED = Path(__file__).resolve().parents[1] / "labs" / "proxied"
NAS = "192.168.1.30"
HA = "192.168.1.40"

LAB_YAML = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
admins:
  alice: ADMIN
domain:
  name: home.example.org
  email: admin@example.org
  public: true
  challenge: http
proxy: {host: gateway}
wiring:
  backups:
    host: nas
    schedule: "*-*-* 03:00:00"
    keep: {daily: 7, weekly: 4}
    password: {secret: restic}
"""

# the state folders each backing-up host's services name (services/*.yaml state:)
NAS_STATE = ["/var/lib/grafana", "/var/lib/vaultwarden", "/var/lib/jellyfin"]
# home-assistant's, node-red's and uptime-kuma's (not the catalogue restic job's cache,
# which its repository rebuilds)
HA_STATE = ["/var/lib/hass", "/var/lib/node-red", "/var/lib/private/uptime-kuma"]
# ha also runs the catalogue's own restic job (`main`), beside the lab's
OFFSITE = """\
  restic:
    paths: [/var/lib/hass]
    repository: /mnt/offsite
    passwordFile: /var/lib/secrets/offsite-password
"""

FIREWALL = ["networking.firewall.extraCommands", "networking.firewall.extraInputRules"]
READS = [
    "services.restic.backups",
    "services.restic.server",
    "networking.firewall.extraCommands",
    "networking.firewall.allowedTCPPorts",
    "age.secrets",
    "assertions",
]


def give_host_key(lab: Lab, host: str, keys: Path) -> str:
    _, line = ssh_key(keys, f"{host}_host_ed25519_key")
    public = " ".join(line.split()[:2])
    profile = lab.root / f"hosts/{host}/profile.yaml"
    text = profile.read_text(encoding="utf-8")
    old = "deploy:\n"
    assert old in text
    profile.write_text(text.replace(old, f"{old}  hostKey: {public}\n", 1), encoding="utf-8")
    return public


def backups_lab(tmp_path: Path) -> Lab:
    """The proxied lab with backups to nas; restic.age encrypted to nas, ha and alice."""
    keys = tmp_path / "keys"
    keys.mkdir()
    _, admin = age_key(keys, "alice")
    root = copy_lab(PROXIED, tmp_path / "lab")
    (root / "lab.yaml").write_text(LAB_YAML.replace("ADMIN", admin), encoding="utf-8")
    ha = root / "hosts/ha/profile.yaml"
    text = ha.read_text(encoding="utf-8")
    ha.write_text(text.replace("  uptime-kuma: {}\n", "  uptime-kuma: {}\n" + OFFSITE), "utf-8")
    # the gateway keeps nothing: its openssh (whose host keys are state) left out
    gateway = root / "hosts/gateway/profile.yaml"
    text = gateway.read_text(encoding="utf-8")
    assert "services:\n  openssh: {}\n" in text
    gateway.write_text(text.replace("services:\n  openssh: {}\n", "services: {}\n"), "utf-8")
    lab = Lab(root)
    readers = [recipient(give_host_key(lab, h, keys)) for h in ("nas", "ha")]
    write_encrypted(
        root, "restic", crypt.encrypt(b"not-a-real-password\n", [*readers, recipient(admin)])
    )
    return lab


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lab, dict[str, dict[str, Any]]]:
    lab = backups_lab(tmp_path_factory.mktemp("backups"))
    assert cli.main(["--lab", str(lab.root), "build"]) == 0
    # the gateway has no secret, so no agenix module and no age.secrets to read
    reads = {"gateway": READS[:-2] + READS[-1:], "nas": READS, "ha": READS}
    got = eval_flake(lab.root, reads, packages=["rage"])
    return lab, got


def failed(host: dict[str, Any]) -> list[str]:
    return [a["message"] for a in host["assertions"] if not a["assertion"]]


def test_each_host_with_state_backs_it_up_to_its_own_repository_on_the_nas(
    built: tuple[Lab, dict[str, dict[str, Any]]],
) -> None:
    _, got = built
    for host, server, paths in (
        ("nas", "127.0.0.1", NAS_STATE),
        ("ha", NAS, HA_STATE),
    ):
        job = got[host]["services.restic.backups"]["lab"]
        assert job["repository"] == f"rest:http://{server}:8000/{host}", host
        assert sorted(job["paths"]) == sorted(paths), host
        assert job["passwordFile"] == "/run/agenix/restic", host
        assert job["timerConfig"] == {"OnCalendar": "*-*-* 03:00:00", "Persistent": True}
        assert job["pruneOpts"] == ["--keep-daily 7", "--keep-weekly 4"]
        assert job["initialize"] is True
        assert failed(got[host]) == [], host


def test_the_catalogues_restic_job_keeps_its_own_name_beside_the_labs(
    built: tuple[Lab, dict[str, dict[str, Any]]],
) -> None:
    _, got = built
    jobs = got["ha"]["services.restic.backups"]
    assert sorted(jobs) == ["lab", "main"]
    assert jobs["main"]["repository"] == "/mnt/offsite"
    assert jobs["main"]["passwordFile"] == "/var/lib/secrets/offsite-password"
    assert jobs["lab"]["repository"].startswith("rest:http://")


def test_a_host_without_state_gets_no_job_and_no_password(
    built: tuple[Lab, dict[str, dict[str, Any]]],
) -> None:
    lab, got = built
    gateway = got["gateway"]
    assert gateway["services.restic.backups"] == {}
    assert gateway["services.restic.server"]["enable"] is False
    assert failed(gateway) == []
    for rel in ("wiring.nix", "encrypted-secrets.nix"):
        path = lab.root / "hosts/gateway" / rel
        assert not path.exists() or "restic" not in path.read_text(encoding="utf-8"), rel


def test_the_nas_serves_the_repository_to_the_backing_up_hosts_alone(
    built: tuple[Lab, dict[str, dict[str, Any]]],
) -> None:
    _, got = built
    nas = got["nas"]
    server = nas["services.restic.server"]
    assert server["enable"] is True
    # a port alone: the module asserts that the address does not start with ":"
    assert server["listenAddress"] == "8000"
    assert server["extraFlags"] == ["--no-auth"]
    assert server["appendOnly"] is False  # the clients prune by the lab's keep rules
    assert failed(nas) == []
    rules = [r for r in nas["networking.firewall.extraCommands"].splitlines() if "8000" in r]
    assert rules == [f"iptables -A nixos-fw -p tcp -s {HA} --dport 8000 -j nixos-fw-accept"]
    assert 8000 not in nas["networking.firewall.allowedTCPPorts"]
    for host in ("gateway", "ha"):
        assert got[host]["services.restic.server"]["enable"] is False, host


def test_the_password_is_encrypted_to_exactly_the_backing_up_hosts(
    built: tuple[Lab, dict[str, dict[str, Any]]], run_cli: RunCli
) -> None:
    lab, got = built
    for host in ("nas", "ha"):
        assert got[host]["age.secrets"]["restic"]["file"].endswith("/encrypted/restic.age")
    (state,) = [s for n, s in lab.secrets_state().secrets.items() if n == "restic"]
    assert state.hosts == ("ha", "nas")
    assert not state.stale
    code, out, err = run_cli("--lab", str(lab.root), "secrets", "list")
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if line.startswith("restic")]
    assert re.split(r"\s{2,}", row)[1] == "ha, nas", row
    assert "lab.yaml" in row  # where it is used: wiring.backups.password


def test_with_nftables_the_repository_port_opens_in_its_input_chain(tmp_path: Path) -> None:
    lab = backups_lab(tmp_path)
    nas = lab.root / "hosts/nas/profile.yaml"
    text = nas.read_text(encoding="utf-8")
    nas.write_text(text + "options:\n  networking.nftables.enable: true\n", encoding="utf-8")
    assert cli.main(["--lab", str(lab.root), "build"]) == 0
    got = eval_flake(lab.root, {"nas": FIREWALL}, packages=["rage"])["nas"]
    assert got["networking.firewall.extraCommands"] == ""
    rules = [r for r in got["networking.firewall.extraInputRules"].splitlines() if "8000" in r]
    assert rules == [f"ip saddr {HA} tcp dport 8000 accept"]
