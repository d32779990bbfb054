"""`homelab secrets import` (an agenix secrets.nix and its .age files) and `homelab secrets
migrate` (copy-at-apply secrets into encrypted files), with real parts: the agenix tree is
made by the real `age`, its secrets.nix (let-bound keys) read by the real nix-instantiate,
and what lands in the lab opened by the real `age -d -i` with each key; the migrated demo
lab validates, and its generated agenix settings evaluate with nix-instantiate. Every
refusal exits 2 and writes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from homelab.nix.expr import NixPath
from tests.conftest import REPO, RunCli, tree_hash
from tests.nixtools import nix_eval_module, nix_instantiate
from tests.secrets.keyfiles import age, age_fails, age_key, ssh_key

PROFILE = """\
host: {stateVersion: "24.05"}
hardware:
  boot: {loader: systemd-boot, efi: true}
  fileSystems:
    /: {device: /dev/disk/by-label/nixos, fsType: ext4}
secrets:
  wifi:
    target: /var/lib/secrets/wifi.env
deploy:
  address: 192.168.1.2
  hostKey: HOSTKEY
"""

SECRETS_NIX = """\
# agenix's rules file: who may open each secret
let
  alice = "ALICE";
  bob = "BOB";
  dns = "DNS";
  oldbox = "OLDBOX";
  people = [ alice bob ];
in
{
  "wifi.age".publicKeys = people ++ [ dns oldbox ];
  "grafana-key.age".publicKeys = [ alice dns ];
}
"""

GIT = shutil.which("git") or "git"  # found before a test empties PATH
WIFI = b"psk=correct horse battery staple\n"
GRAFANA = b"grafana secret key\n"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        [GIT, "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.fixture(autouse=True)
def quiet_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A git identity of the test's own, and no admin key unless a test names one."""
    if shutil.which("git") is None:
        pytest.fail("git is not installed")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HOMELAB_AGE_IDENTITY", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in (("NAME", "Ada Lovelace"), ("EMAIL", "ada@example.org")):
        monkeypatch.setenv(f"GIT_AUTHOR_{name}", value)
        monkeypatch.setenv(f"GIT_COMMITTER_{name}", value)


def commit_all(root: Path, message: str) -> None:
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", message)


# ---- import --------------------------------------------------------------------------------


@dataclass
class Agenix:
    lab: Path
    tree: Path  # the agenix folder: secrets.nix and the .age files
    keys: dict[str, Path]  # private keys: alice, bob, dns, oldbox
    public: dict[str, str]

    @property
    def secrets_nix(self) -> Path:
        return self.tree / "secrets.nix"


@pytest.fixture
def agenix(tmp_path: Path) -> Agenix:
    """A lab (host dns, its ed25519 host key pinned, using secret wifi; admin alice;
    lab.yaml without the agenix input) committed in git, and beside it an agenix tree
    whose .age files the real `age` encrypted to alice, bob (a person the lab does not
    know), dns and oldbox (a machine the lab does not have)."""
    nix_instantiate()
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    keys: dict[str, Path] = {}
    public: dict[str, str] = {}
    for person in ("alice", "bob"):
        keys[person], public[person] = age_key(keys_dir, person)
    for machine in ("dns", "oldbox"):
        keys[machine], line = ssh_key(keys_dir, machine)
        public[machine] = line  # with its comment, as people paste them into secrets.nix
    lab = tmp_path / "lab"
    (lab / "hosts/dns").mkdir(parents=True)
    shutil.copytree(REPO / "services", lab / "services")
    dns_key = " ".join(public["dns"].split()[:2])
    (lab / "hosts/dns/profile.yaml").write_text(PROFILE.replace("HOSTKEY", dns_key))
    (lab / "lab.yaml").write_text(f'release: "26.05"\nadmins:\n  alice: {public["alice"]}\n')
    commit_all(lab, "the lab")
    tree = tmp_path / "agenix"
    tree.mkdir()
    text = SECRETS_NIX
    for who, key in public.items():
        text = text.replace(who.upper(), key)
    (tree / "secrets.nix").write_text(text)

    def encrypt(value: bytes, *who: str) -> bytes:
        args = [a for w in who for a in ("-r", " ".join(public[w].split()[:2]))]
        return age(*args, data=value)

    (tree / "wifi.age").write_bytes(encrypt(WIFI, "alice", "bob", "dns", "oldbox"))
    (tree / "grafana-key.age").write_bytes(encrypt(GRAFANA, "alice", "dns"))
    return Agenix(lab, tree, keys, public)


def opens(path: Path, key: Path) -> bytes:
    return age("-d", "-i", str(key), str(path))


def test_import_with_the_admins_key_rekeys_to_the_labs_readers(
    agenix: Agenix, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(agenix.keys["alice"]))
    head = git(agenix.lab, "rev-parse", "HEAD").strip()
    code, out, err = run_cli("--lab", str(agenix.lab), "secrets", "import", str(agenix.secrets_nix))
    assert code == 0, err
    lab = agenix.lab
    wifi, grafana = lab / "encrypted/wifi.age", lab / "encrypted/grafana-key.age"
    # wifi: the host that uses it and the admin; nobody else of secrets.nix any more
    assert opens(wifi, agenix.keys["dns"]) == WIFI
    assert opens(wifi, agenix.keys["alice"]) == WIFI
    age_fails("-d", "-i", str(agenix.keys["bob"]), str(wifi))
    age_fails("-d", "-i", str(agenix.keys["oldbox"]), str(wifi))
    # grafana-key: no host uses it yet, so only the admin
    assert opens(grafana, agenix.keys["alice"]) == GRAFANA
    age_fails("-d", "-i", str(agenix.keys["dns"]), str(grafana))
    assert "wifi: readable by dns and admin alice" in out
    assert "grafana-key: readable by admin alice" in out
    # the keys that are neither a host nor an admin of the lab are named, with what to do
    assert f"{agenix.public['bob']} (in secrets.nix for wifi) is no host or admin" in out
    assert "admins: in lab.yaml" in out
    oldbox_short = "ssh-ed25519 …" + agenix.public["oldbox"].split()[1][-12:]
    assert f"{oldbox_short} (oldbox@test) (in secrets.nix for wifi)" in out
    # dns had grafana-key in secrets.nix; the lab's dns does not use it, and is told so
    assert "grafana-key: dns had it in secrets.nix, but its profile does not use it" in out
    assert "stale" not in out
    # one commit: the two files, lab.yaml with the agenix input and the flake.nix it makes
    assert git(lab, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    changed = git(lab, "show", "--name-only", "--format=%s", "HEAD").split()
    assert "encrypted/wifi.age" in changed and "encrypted/grafana-key.age" in changed
    assert {"lab.yaml", "flake.nix"} <= set(changed)
    assert "agenix" in (lab / "lab.yaml").read_text()
    assert git(lab, "status", "--porcelain", "--", "encrypted", "lab.yaml", "flake.nix") == ""
    assert run_cli("--lab", str(lab), "validate")[0] == 0


def test_import_without_a_key_copies_the_files_and_says_they_are_stale(
    agenix: Agenix, run_cli: RunCli
) -> None:
    code, out, err = run_cli("--lab", str(agenix.lab), "secrets", "import", str(agenix.tree))
    assert code == 0, err
    lab = agenix.lab
    for name in ("wifi", "grafana-key"):
        assert (lab / f"encrypted/{name}.age").read_bytes() == (
            agenix.tree / f"{name}.age"
        ).read_bytes()
    assert opens(lab / "encrypted/wifi.age", agenix.keys["dns"]) == WIFI
    assert "stale, imported as they were: grafana-key and wifi" in out
    assert "had it in secrets.nix" not in out  # as they were: dns still opens grafana-key
    assert opens(lab / "encrypted/grafana-key.age", agenix.keys["dns"]) == GRAFANA
    assert "homelab secrets rekey" in out
    # imported again: the same files are there, nothing to do, nothing overwritten
    code, out, _ = run_cli("--lab", str(lab), "secrets", "import", str(agenix.secrets_nix))
    assert code == 0 and "nothing to import" in out


def test_import_keeps_as_it_is_a_file_the_admins_key_cannot_open(
    agenix: Agenix, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(agenix.keys["alice"]))
    text = agenix.secrets_nix.read_text()
    agenix.secrets_nix.write_text(
        text.replace("in\n{", 'in\n{\n  "mqtt.age".publicKeys = [ bob ];')
    )
    mqtt = age("-r", agenix.public["bob"], data=b"mqtt password\n")
    (agenix.tree / "mqtt.age").write_bytes(mqtt)
    code, out, err = run_cli("--lab", str(agenix.lab), "secrets", "import", str(agenix.tree))
    assert code == 0, err
    assert (agenix.lab / "encrypted/mqtt.age").read_bytes() == mqtt
    assert "mqtt: readable by none of the lab's hosts or admins" in out
    assert f"your key ({agenix.keys['alice']}) cannot open it" in out
    assert "stale, imported as they were: mqtt;" in out
    assert (
        opens(agenix.lab / "encrypted/wifi.age", agenix.keys["alice"]) == WIFI
    )  # the others go on


def refused(run_cli: RunCli, lab: Path, *args: str) -> str:
    """The command exits 2 and writes nothing in the lab (nor commits)."""
    before, head = tree_hash(lab), git(lab, "rev-parse", "HEAD")
    code, out, err = run_cli("--lab", str(lab), "secrets", *args)
    assert code == 2, out + err
    assert tree_hash(lab) == before, "a refusal wrote to the lab"
    assert git(lab, "rev-parse", "HEAD") == head
    assert "Traceback" not in err
    return err


def test_import_refuses_a_secrets_nix_that_does_not_evaluate(
    agenix: Agenix, run_cli: RunCli
) -> None:
    agenix.secrets_nix.write_text('let a = "x"; in { "wifi.age".publicKeys = [ a b ]; }\n')
    err = refused(run_cli, agenix.lab, "import", str(agenix.secrets_nix))
    assert f"error: {agenix.secrets_nix}: does not evaluate" in err
    assert "undefined variable 'b'" in err  # Nix's own words


def test_import_reads_secrets_nix_in_restricted_mode(agenix: Agenix, run_cli: RunCli) -> None:
    """No file outside its folder, no network: secrets.nix is a list of keys."""
    outside = agenix.lab / "hosts/dns/profile.yaml"
    agenix.secrets_nix.write_text(
        f'{{ "wifi.age".publicKeys = [ (builtins.readFile {outside}) ]; }}\n'
    )
    err = refused(run_cli, agenix.lab, "import", str(agenix.secrets_nix))
    assert "forbidden in restricted mode" in err
    agenix.secrets_nix.write_text(
        '{ "wifi.age".publicKeys = [ (builtins.readFile (builtins.fetchurl '
        '"http://127.0.0.1:9/keys")) ]; }\n'
    )
    err = refused(run_cli, agenix.lab, "import", str(agenix.secrets_nix))
    assert "forbidden in restricted mode" in err


def test_import_refuses_a_missing_file_and_a_plaintext_one(agenix: Agenix, run_cli: RunCli) -> None:
    (agenix.tree / "grafana-key.age").unlink()
    (agenix.tree / "wifi.age").write_bytes(WIFI)  # saved in plaintext by mistake
    err = refused(run_cli, agenix.lab, "import", str(agenix.secrets_nix))
    assert f'{agenix.tree / "grafana-key.age"}: the file of "grafana-key.age" is missing' in err
    assert f"{agenix.tree / 'wifi.age'}: is not an age file" in err
    assert WIFI.decode().strip() not in err


def test_import_refuses_a_name_the_lab_cannot_have(agenix: Agenix, run_cli: RunCli) -> None:
    text = agenix.secrets_nix.read_text().replace('"wifi.age"', '"wifi key.age"')
    agenix.secrets_nix.write_text(text)
    (agenix.tree / "wifi.age").rename(agenix.tree / "wifi key.age")
    err = refused(run_cli, agenix.lab, "import", str(agenix.secrets_nix))
    assert "'wifi key' cannot be a secret's name" in err
    assert "hint: a secret's name is letters, digits" in err and "wifi-key.age" in err


def test_import_never_overwrites_another_value(
    agenix: Agenix, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (agenix.lab / "encrypted").mkdir()
    other = age("-r", agenix.public["alice"], data=b"another value\n")
    (agenix.lab / "encrypted/wifi.age").write_bytes(other)
    commit_all(agenix.lab, "wifi")
    err = refused(run_cli, agenix.lab, "import", str(agenix.secrets_nix))
    assert "encrypted/wifi.age: the lab already has secret wifi" in err
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(agenix.keys["alice"]))
    err = refused(run_cli, agenix.lab, "import", str(agenix.secrets_nix))
    assert "it does not hold the same value as" in err
    assert (agenix.lab / "encrypted/wifi.age").read_bytes() == other


def test_import_without_nix_says_what_to_install(
    agenix: Agenix, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    err = refused(run_cli, agenix.lab, "import", str(agenix.secrets_nix))
    assert "nix-instantiate is not installed" in err and "nix-bin" in err


# ---- migrate -------------------------------------------------------------------------------

PI = "hosts/pi/profile.yaml"
SOURCE_LINE = "    source: secrets/tailscale-authkey.example\n"
TARGET = "/var/lib/secrets/tailscale-authkey"


@dataclass
class Demo:
    root: Path
    host_key: Path
    admin: Path

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    """The demo lab (its pi copies a Tailscale auth key at apply) with the pi's ed25519
    host key pinned, a comment beside its secret, and lab.yaml naming admin alice (no
    agenix input yet), all committed."""
    nix_instantiate()
    root = tmp_path / "lab"
    subprocess.run(
        [sys.executable, str(REPO / "scripts/demo-lab"), str(root)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    keys = tmp_path / "keys"
    keys.mkdir()
    host_key, line = ssh_key(keys, "ssh_host_ed25519_key")
    admin, admin_pub = age_key(keys, "alice")
    d = Demo(root, host_key, admin)
    pinned = " ".join(line.split()[:2])  # as homelab pins it: no comment
    d.edit(PI, "  tags: [dns, pi]\n", f"  tags: [dns, pi]\n  hostKey: {pinned}\n")
    d.edit(PI, SOURCE_LINE, "    # the auth key from the Tailscale admin console\n" + SOURCE_LINE)
    d.edit(PI, f"    target: {TARGET}\n", f"    target: {TARGET}  # tailscale reads it here\n")
    (root / "lab.yaml").write_text(f'release: "26.05"\nadmins:\n  alice: {admin_pub}\n')
    (root / "flake.nix").unlink()  # the skeleton's: lab.yaml makes it now
    commit_all(root, "the pi's host key, lab.yaml")
    return d


def test_migrate_encrypts_the_copied_secret_and_keeps_the_rest_of_the_profile(
    demo: Demo, run_cli: RunCli
) -> None:
    root = demo.root
    before = (root / PI).read_text()
    plaintext = (root / "secrets/tailscale-authkey.example").read_bytes()
    head = git(root, "rev-parse", "HEAD").strip()
    code, out, err = run_cli("--lab", str(root), "secrets", "migrate")
    assert code == 0, err
    # the profile lost its source: line and nothing else (comments kept)
    assert (root / PI).read_text() == before.replace(SOURCE_LINE, "")
    # the real age opens the file with the machine's host key, and with the admin's
    secret = root / "encrypted/tailscale-authkey.age"
    assert opens(secret, demo.host_key) == plaintext
    assert opens(secret, demo.admin) == plaintext
    assert (root / "secrets/tailscale-authkey.example").read_bytes() == plaintext  # untouched
    assert "tailscale-authkey: readable by pi and admin alice" in out
    assert "secrets/tailscale-authkey.example is untouched" in out
    assert plaintext.decode().strip() not in out + err
    # one commit naming the secret, with every file it changed
    assert git(root, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    subject, *files = git(root, "show", "--name-only", "--format=%s", "HEAD").splitlines()
    assert "tailscale-authkey" in subject
    body = git(root, "show", "-s", "--format=%b", "HEAD")
    assert "secrets.tailscale-authkey.source: removed" in body
    assert {
        "encrypted/tailscale-authkey.age",
        PI,
        "hosts/pi/encrypted-secrets.nix",
        "lab.yaml",
        "flake.nix",
    } <= set(files)
    assert not any(f.startswith("secrets/") for f in files), "plaintext committed"
    assert git(root, "status", "--porcelain", "--", "hosts/pi", "encrypted", "lab.yaml") == ""
    # the lab validates, and agenix installs the file where the setting reads it
    code, _, err = run_cli("--lab", str(root), "validate")
    assert code == 0, err
    module = nix_eval_module((root / "hosts/pi/encrypted-secrets.nix").read_text())
    installed = module["age"]["secrets"]["tailscale-authkey"]
    assert installed["path"] == TARGET
    assert installed["file"] == NixPath("../../encrypted/tailscale-authkey.age")
    assert "inputs.agenix.nixosModules.default" in (root / "hosts/pi/configuration.nix").read_text()
    # nothing left to migrate
    code, out, _ = run_cli("--lab", str(root), "secrets", "migrate")
    assert code == 0 and "nothing to migrate" in out


def test_migrate_refuses_one_name_with_two_sources(demo: Demo, run_cli: RunCli) -> None:
    root = demo.root
    (root / "secrets/other-authkey").write_text("tskey-auth-OTHER\n")
    demo.edit(
        "hosts/nixos-demo/profile.yaml",
        "deploy:\n",
        "secrets:\n  tailscale-authkey:\n    source: secrets/other-authkey\n"
        f"    target: {TARGET}\ndeploy:\n",
    )
    commit_all(root, "another auth key")
    err = refused(run_cli, root, "migrate")
    assert "secret tailscale-authkey is copied from" in err
    assert "secrets/other-authkey" in err and "secrets/tailscale-authkey.example" in err
    assert f"{PI}:" in err and "hosts/nixos-demo/profile.yaml:" in err


def test_migrate_refuses_a_source_it_cannot_read(demo: Demo, run_cli: RunCli) -> None:
    root = demo.root
    source = root / "secrets/tailscale-authkey.example"
    source.unlink()
    os.mkfifo(source)  # there, but not a file: reading it would never end
    err = refused(run_cli, root, "migrate")
    assert "secrets/tailscale-authkey.example" in err and f"{PI}:" in err


def test_migrate_refuses_a_missing_source(demo: Demo, run_cli: RunCli) -> None:
    (demo.root / "secrets/tailscale-authkey.example").unlink()
    err = refused(run_cli, demo.root, "migrate")
    assert "secrets/tailscale-authkey.example" in err


def test_migrate_never_changes_a_profile_with_changes_not_committed(
    demo: Demo, run_cli: RunCli
) -> None:
    demo.edit(PI, "  tags: [dns, pi]\n", "  tags: [dns, pi, edge]\n")
    err = refused(run_cli, demo.root, "migrate")
    assert f"{PI}: has changes that are not committed" in err


def test_migrate_never_changes_a_profile_with_unsaved_edits(demo: Demo, run_cli: RunCli) -> None:
    drafts = demo.root / ".homelab/drafts"
    drafts.mkdir(parents=True)
    (drafts / "pi.json").write_text("{}")
    err = refused(run_cli, demo.root, "migrate")
    assert f"{PI}: has unsaved changes in the editor" in err


def test_migrate_refuses_while_a_host_with_a_copied_secret_has_problems(
    demo: Demo, run_cli: RunCli
) -> None:
    """Never 'nothing to migrate' for a host it could not check: its problem is said."""
    demo.edit(PI, "  address: 192.168.1.2\n", "  address: 192.168.1.2\n  sudo: maybe\n")
    commit_all(demo.root, "a mistake")
    err = refused(run_cli, demo.root, "migrate")
    assert f"{PI}:" in err and "deploy.sudo" in err


def test_migrate_takes_the_source_out_of_a_fragment_shared_by_two_hosts(
    demo: Demo, run_cli: RunCli, tmp_path: Path
) -> None:
    """The entry is written once, in hosts/common/admin.yaml, which pi and homeserver
    include: one encrypted file both machines open, the fragment edited once."""
    root = demo.root
    entry = (
        "secrets:\n  tailscale-authkey:\n    # the auth key from the Tailscale admin console\n"
        + SOURCE_LINE
        + f"    target: {TARGET}  # tailscale reads it here\n"
    )
    demo.edit(PI, entry, "")
    fragment = root / "hosts/common/admin.yaml"
    fragment.write_text(fragment.read_text() + entry)
    server_key, line = ssh_key(tmp_path / "keys", "server_host_key")
    demo.edit(
        "hosts/homeserver/profile.yaml",
        "  tags: [server]\n",
        f"  tags: [server]\n  hostKey: {' '.join(line.split()[:2])}\n",
    )
    commit_all(root, "the auth key for both")
    before = fragment.read_text()
    code, out, err = run_cli("--lab", str(root), "secrets", "migrate")
    assert code == 0, err
    assert fragment.read_text() == before.replace(SOURCE_LINE, "")
    secret = root / "encrypted/tailscale-authkey.age"
    plaintext = (root / "secrets/tailscale-authkey.example").read_bytes()
    assert opens(secret, demo.host_key) == plaintext
    assert opens(secret, server_key) == plaintext
    assert "readable by homeserver, pi and admin alice" in out
    for host in ("homeserver", "pi"):
        assert (root / f"hosts/{host}/encrypted-secrets.nix").is_file()
    assert run_cli("--lab", str(root), "validate")[0] == 0
