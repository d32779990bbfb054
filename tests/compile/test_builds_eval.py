"""Where the lab's systems are built (lab.yaml builds:, deploy.buildOn), on a lab of three
hosts: nuc (x86_64, a remote builder on SSH port 2222 that also builds pi's system), nas
(serves the lab's binary cache) and pi (aarch64, built on nuc). Built by homelab and
evaluated as a flake with nixpkgs' real lib and module system and agenix, against option
declarations written from nixpkgs' modules (tests/nixos-options/builds.nix), which also
define cache.nixos.org as nixpkgs' nix.nix does: the lab's cache and key join it."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import pytest

from homelab import cli
from homelab.builds import DAEMON_ONLY, RECEIVE_ONLY
from homelab.lab import Lab
from homelab.secrets import crypt
from homelab.secrets.store import write_encrypted
from tests.conftest import REPO
from tests.flakes import eval_flake
from tests.secrets.keyfiles import age_key, recipient, ssh_key

NIXOS_KEY = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="
NIXOS_CACHE = "https://cache.nixos.org/"
SIGNING_PUB = "lab-builds-1:2qHYHw9JHqVcd5buJlpmVNdLxLhbzROhTvJxT8GKMTE="
NUC, NAS, PI = "192.168.1.10", "192.168.1.30", "192.168.1.20"

LAB_YAML = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
admins:
  alice: ADMIN
builds:
  sshKey: {secret: build-ssh-key, public: "BUILD_PUB"}
  signingKey: {secret: build-signing-key, public: "SIGNING_PUB"}
  builders:
    nuc: {systems: [x86_64-linux, aarch64-linux], maxJobs: 4, speedFactor: 2,
          features: [big-parallel]}
  cache: {host: nas}
"""

PROFILE = """\
host: {name: NAME, stateVersion: "26.05", system: SYSTEM}
hardware:
  boot: {loader: systemd-boot, efi: true}
  fileSystems:
    /: {device: /dev/disk/by-label/nixos, fsType: ext4}
networking:
  interfaces:
    eth0: {addresses: [ADDRESS/24]}
"""

HOSTS = {
    "nuc": ("x86_64-linux", NUC, "deploy:\n  address: 192.168.1.10\n  port: 2222\n"),
    "nas": ("x86_64-linux", NAS, "deploy:\n  address: 192.168.1.30\n"),
    "pi": (
        "aarch64-linux",
        PI,
        "users:\n  deployer: {admin: true}\n"
        "deploy:\n  address: 192.168.1.20\n  user: deployer\n  buildOn: nuc\n",
    ),
}
READS = [
    "nix.settings",
    "nix.buildMachines",
    "nix.distributedBuilds",
    "boot.binfmt.emulatedSystems",
    "programs.ssh.extraConfig",
    "programs.ssh.knownHosts",
    "services.harmonia",
    "users.users",
    "users.groups",
    "networking.firewall.extraCommands",
    "age.secrets",
    "assertions",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lab, dict[str, str], dict[str, Any]]:
    base = tmp_path_factory.mktemp("builds")
    keys = base / "keys"
    keys.mkdir()
    _, admin = age_key(keys, "alice")
    _, build_pub = ssh_key(keys, "build-key")
    root = base / "lab"
    text = LAB_YAML.replace("ADMIN", admin).replace("BUILD_PUB", build_pub)
    (root / "hosts").mkdir(parents=True)
    (root / "lab.yaml").write_text(text.replace("SIGNING_PUB", SIGNING_PUB), encoding="utf-8")
    shutil.copytree(REPO / "services", root / "services")
    host_keys: dict[str, str] = {}
    for name, (system, address, deploy) in HOSTS.items():
        _, line = ssh_key(keys, f"{name}_host_ed25519_key")
        host_keys[name] = " ".join(line.split()[:2])
        profile = PROFILE.replace("NAME", name).replace("SYSTEM", system)
        profile = profile.replace("ADDRESS", address) + deploy
        profile = profile.replace("deploy:\n", f"deploy:\n  hostKey: {host_keys[name]}\n")
        (root / "hosts" / name).mkdir()
        (root / "hosts" / name / "profile.yaml").write_text(profile, encoding="utf-8")
    hosts = {n: recipient(k) for n, k in host_keys.items()}
    for name, readers in (
        ("build-ssh-key", ["nuc", "nas", "pi"]),
        ("build-signing-key", ["nuc", "nas"]),
    ):
        to = [*(hosts[r] for r in readers), recipient(admin)]
        write_encrypted(root, name, crypt.encrypt(f"not-a-real-{name}\n".encode(), to))
    lab = Lab(root)
    assert cli.main(["--lab", str(root), "build"]) == 0
    got = eval_flake(root, {h: READS for h in HOSTS}, packages=["rage"])
    return lab, {**host_keys, "build": build_pub}, got


def failed(host: dict[str, Any]) -> list[str]:
    return [a["message"] for a in host["assertions"] if not a["assertion"]]


def test_no_assertion_fails(built: tuple[Lab, dict[str, str], dict[str, Any]]) -> None:
    _, _, got = built
    for host in HOSTS:
        assert failed(got[host]) == [], host


def test_every_host_trusts_the_labs_key_beside_cache_nixos_org(
    built: tuple[Lab, dict[str, str], dict[str, Any]],
) -> None:
    _, _, got = built
    for host in HOSTS:
        assert sorted(got[host]["nix.settings"]["trusted-public-keys"]) == sorted(
            [NIXOS_KEY, SIGNING_PUB]
        ), host


def test_the_others_substitute_from_the_nas_and_cache_nixos_org_stays_last(
    built: tuple[Lab, dict[str, str], dict[str, Any]],
) -> None:
    _, _, got = built
    for host in ("nuc", "pi"):
        assert got[host]["nix.settings"]["substituters"] == [
            f"http://{NAS}:5000",
            NIXOS_CACHE,
        ], host
    assert got["nas"]["nix.settings"]["substituters"] == [NIXOS_CACHE]


def test_the_nas_serves_its_store_signed_to_the_labs_hosts_alone(
    built: tuple[Lab, dict[str, str], dict[str, Any]],
) -> None:
    _, _, got = built
    harmonia = got["nas"]["services.harmonia"]
    assert harmonia["enable"] is True
    assert harmonia["signKeyPaths"] == ["/run/agenix/build-signing-key"]
    assert harmonia["settings"]["bind"] == "[::]:5000"
    rules = [r for r in got["nas"]["networking.firewall.extraCommands"].splitlines() if "5000" in r]
    assert rules == [
        f"iptables -A nixos-fw -p tcp -s {ip} --dport 5000 -j nixos-fw-accept" for ip in (NUC, PI)
    ]
    for host in ("nuc", "pi"):
        assert got[host]["services.harmonia"]["enable"] is False


def test_the_hosts_send_builds_to_nuc_on_its_port_with_its_pinned_key(
    built: tuple[Lab, dict[str, str], dict[str, Any]],
) -> None:
    _, keys, got = built
    for host in ("nas", "pi"):
        assert got[host]["nix.distributedBuilds"] is True, host
        (machine,) = got[host]["nix.buildMachines"]
        assert machine["hostName"] == NUC
        assert machine["protocol"] == "ssh-ng"
        assert machine["sshUser"] == "nixremote"
        assert machine["sshKey"] == "/run/agenix/build-ssh-key"
        assert base64.b64decode(machine["publicHostKey"]).decode() == keys["nuc"]
        assert machine["systems"] == ["x86_64-linux", "aarch64-linux"]
        assert (machine["maxJobs"], machine["speedFactor"]) == (4, 2)
        assert machine["supportedFeatures"] == ["big-parallel"]
        assert got[host]["nix.settings"]["builders-use-substitutes"] is True
        # buildMachines has no port: ssh's configuration and known hosts give it
        assert f"Host {NUC}\n  Port 2222\n" in got[host]["programs.ssh.extraConfig"]
        known = got[host]["programs.ssh.knownHosts"]["nuc"]
        assert known["hostNames"] == [f"[{NUC}]:2222"] and known["publicKey"] == keys["nuc"]
    assert got["nuc"]["nix.distributedBuilds"] is False  # it builds its own
    assert got["nuc"]["nix.buildMachines"] == []


def test_nuc_lets_the_build_key_in_as_a_trusted_builder_user(
    built: tuple[Lab, dict[str, str], dict[str, Any]],
) -> None:
    _, keys, got = built
    user = got["nuc"]["users.users"]["nixremote"]
    assert user["isSystemUser"] is True and user["group"] == "nixremote"
    assert user["useDefaultShell"] is True
    # the build key may only speak to the Nix daemon there: no shell
    assert user["openssh"]["authorizedKeys"]["keys"] == [f"{DAEMON_ONLY} {keys['build']}"]
    assert "nixremote" in got["nuc"]["users.groups"]
    assert sorted(got["nuc"]["nix.settings"]["trusted-users"]) == ["nixremote", "root"]
    for host in ("nas", "pi"):
        assert "nixremote" not in got[host]["users.users"], host
        assert got[host]["nix.settings"]["trusted-users"] == ["root"], host


def test_nuc_signs_what_it_builds_and_emulates_aarch64(
    built: tuple[Lab, dict[str, str], dict[str, Any]],
) -> None:
    _, keys, got = built
    nuc = got["nuc"]
    assert nuc["nix.settings"]["secret-key-files"] == "/run/agenix/build-signing-key"
    assert nuc["boot.binfmt.emulatedSystems"] == ["aarch64-linux"]
    # the target it copies pi's system to, known by its pinned key
    assert nuc["programs.ssh.knownHosts"]["pi"]["hostNames"] == [PI]
    assert nuc["programs.ssh.knownHosts"]["pi"]["publicKey"] == keys["pi"]
    for host in ("nas", "pi"):
        assert got[host]["boot.binfmt.emulatedSystems"] == [], host
        assert "secret-key-files" not in got[host]["nix.settings"], host


def test_pi_lets_the_build_key_only_receive_store_paths(
    built: tuple[Lab, dict[str, str], dict[str, Any]],
) -> None:
    _, keys, got = built
    keys_of = got["pi"]["users.users"]["deployer"]["openssh"]["authorizedKeys"]["keys"]
    assert f"{RECEIVE_ONLY} {keys['build']}" in keys_of
    assert 'restrict,command="nix-store --serve --write" ssh-ed25519 ' in keys_of[-1]


def test_the_keys_are_secrets_of_the_hosts_that_use_them(
    built: tuple[Lab, dict[str, str], dict[str, Any]],
) -> None:
    lab, _, got = built
    assert sorted(got["nuc"]["age.secrets"]) == ["build-signing-key", "build-ssh-key"]
    assert sorted(got["nas"]["age.secrets"]) == ["build-signing-key", "build-ssh-key"]
    assert sorted(got["pi"]["age.secrets"]) == ["build-ssh-key"]
    secret = got["pi"]["age.secrets"]["build-ssh-key"]
    assert (secret["owner"], secret["mode"]) == ("root", "0400")
    states = lab.secrets_state().secrets
    assert states["build-ssh-key"].hosts == ("nas", "nuc", "pi")
    assert states["build-signing-key"].hosts == ("nas", "nuc")
    assert not states["build-ssh-key"].stale and not states["build-signing-key"].stale
    header = (lab.root / "hosts/pi/builds.nix").read_text(encoding="utf-8").splitlines()[0]
    assert "generated by homelab from lab.yaml and hosts/pi/profile.yaml" in header


HOSTILE = [
    '"; users.users.root.password = "x',
    '${builtins.abort "x"}',
    "''${x}'' \\ $${ '''",
    'a" + builtins.readFile /etc/shadow + "',
]


def test_hostile_keys_and_urls_come_back_as_written(tmp_path: Path) -> None:
    """Strings from lab.yaml reach builds.nix through the renderer alone: whatever they
    hold, Nix reads back exactly them (the schema refuses newlines in them first)."""
    from homelab import builds as plan_builds
    from homelab.builds import BuildsSpec, CacheSpec, KeyRef
    from homelab.compile import compile_host
    from homelab.errors import Place
    from tests.modulesystem import eval_nixos
    from tests.test_builds import PINNED, load

    hosts = {
        "nuc": "x86_64-linux 192.168.1.10\n" + PINNED,
        "pi": "x86_64-linux 192.168.1.20\n" + PINNED.replace("{", "{buildOn: nuc, user: root, "),
    }
    state = load(tmp_path, None, hosts)
    profiles = {f: h.profile for f, h in state.hosts.items() if h.profile is not None}
    for text in HOSTILE:
        spec = BuildsSpec(
            ssh_key=KeyRef("build-ssh-key", "ssh-ed25519 " + text),
            signing_key=KeyRef("build-signing-key", "k:" + text),
            cache=CacheSpec(url="https://" + text, public_key="c:" + text),
        )
        found, problems = plan_builds.plan(spec, profiles, lambda f, p: Place("x"))
        assert problems == [] and found is not None
        files = compile_host(profiles["pi"], state.catalog, builds=found)
        got = eval_nixos(
            files,
            [
                "nix.settings.substituters",
                "nix.settings.trusted-public-keys",
                "users.users.root.openssh.authorizedKeys.keys",
            ],
        )
        assert got["nix.settings.substituters"] == ["https://" + text, NIXOS_CACHE]
        assert sorted(got["nix.settings.trusted-public-keys"]) == sorted(
            [NIXOS_KEY, "k:" + text, "c:" + text]
        )
        assert got["users.users.root.openssh.authorizedKeys.keys"] == [
            f"{RECEIVE_ONLY} ssh-ed25519 {text}"
        ]
