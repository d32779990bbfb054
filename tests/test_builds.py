"""Where the lab's systems are built (homelab/builds.py, lab.yaml's builds:): a good lab's
plan, and every mistake said at its line of lab.yaml or of the profile, with a hint."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Mapping
from pathlib import Path

from homelab.builds import RECEIVE_ONLY
from homelab.errors import Problem
from homelab.lab import Lab
from homelab.labfiles import LabState
from tests.conftest import REPO, RunCli
from tests.history.tools import git, identify

# real keys: ssh-keygen -t ed25519, nix-store --generate-binary-cache-key, a host's key
BUILD_PUB = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILFolt9u+70sd51zZVk4JmpF1mu7E3iIOKJeTm4sEOh+ homelab-build"
)
SIGNING_PUB = "lab-builds-1:2qHYHw9JHqVcd5buJlpmVNdLxLhbzROhTvJxT8GKMTE="
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMG7nHvZFTdfMasWCR4dlnrmmVIPHs518BdM94gZSX4K"

HEAD = """\
host: {name: NAME, stateVersion: "26.05", system: SYSTEM}
hardware: {fileSystems: {/: {device: /dev/vda1}}}
networking: {interfaces: {eth0: {addresses: [ADDRESS/24]}}}
"""

KEYS = f"""\
  sshKey: {{secret: build-ssh-key, public: "{BUILD_PUB}"}}
  signingKey: {{secret: build-signing-key, public: "{SIGNING_PUB}"}}
"""

GOOD = f"""\
release: "26.05"
inputs: {{agenix: {{url: "github:ryantm/agenix"}}}}
builds:
{KEYS}  builders:
    nuc: {{systems: [x86_64-linux, aarch64-linux], maxJobs: 4, speedFactor: 2,
           features: [big-parallel]}}
  cache: {{host: nas}}
"""

PINNED = f"deploy: {{hostKey: {HOST_KEY}}}\n"


def load(tmp_path: Path, lab_yaml: str | None, hosts: Mapping[str, str]) -> LabState:
    """A lab of these hosts ({name: "SYSTEM ADDRESS" then profile YAML lines})."""
    root = tmp_path / "lab"
    shutil.copytree(REPO / "services", root / "services")
    if lab_yaml is not None:
        (root / "lab.yaml").write_text(lab_yaml, encoding="utf-8")
    for name, spec in hosts.items():
        first, _, rest = spec.partition("\n")
        system, address = first.split()
        text = HEAD.replace("NAME", name).replace("SYSTEM", system).replace("ADDRESS", address)
        (root / "hosts" / name).mkdir(parents=True)
        (root / "hosts" / name / "profile.yaml").write_text(text + rest, encoding="utf-8")
    return Lab(root).load()


def good_hosts(pi: str = "deploy: {buildOn: nuc, hostKey: HOSTKEY, user: deployer}\n") -> dict:
    return {
        "nuc": "x86_64-linux 192.168.1.10\n" + PINNED,
        "nas": "x86_64-linux 192.168.1.30\n" + PINNED,
        "pi": "aarch64-linux 192.168.1.20\n" + pi.replace("HOSTKEY", HOST_KEY),
    }


def said(state: LabState, words: str) -> Problem:
    found = [p for p in state.all_problems() if words in p.message]
    assert len(found) == 1, [str(p) for p in state.all_problems()]
    return found[0]


def test_a_good_labs_plan(tmp_path: Path) -> None:
    state = load(tmp_path, GOOD, good_hosts())
    # only the keys' encrypted files are missing (the lab's secret checks see them)
    assert [(p.place.line, p.message.split(":")[0]) for p in state.all_problems()] == [
        (4, "secret build-ssh-key does not exist"),
        (5, "secret build-signing-key does not exist"),
    ]
    b = state.builds
    assert b is not None
    pi, nuc, nas = b.of("pi"), b.of("nuc"), b.of("nas")
    assert pi.built_on == "nuc" and nuc.builds_for == ("pi",)
    assert nuc.remote_builder and not nas.remote_builder
    assert pi.remote_builders == ("nuc",) and nas.remote_builders == ("nuc",)
    assert nuc.remote_builders == ()  # it builds its own
    assert nas.serves_cache and nas.cache is None
    assert pi.cache == nuc.cache == "http://192.168.1.30:5000"
    # x86_64 builds aarch64 for pi, and for the others as a remote builder: by emulation
    assert nuc.emulated == ("aarch64-linux",) and pi.emulated == ()
    on = b.build_on["pi"]
    assert (on.copy.address, on.copy.port, on.copy.user) == ("pi", 22, "deployer")
    assert on.copy.host_key == HOST_KEY
    assert on.ssh_key == "/run/agenix/build-ssh-key"
    assert on.signing_key == "/run/agenix/build-signing-key"
    assert on.ssh_public == BUILD_PUB
    assert sorted(b.links()) == [
        ("nas", "nuc", "remote build"),
        ("nuc", "nas", "cache"),
        ("nuc", "pi", "builds"),
        ("pi", "nas", "cache"),
        ("pi", "nuc", "remote build"),
    ]
    assert base64.b64decode(b.builders["nuc"].public_host_key).decode() == HOST_KEY


def test_the_keys_go_to_the_hosts_that_use_them_alone(tmp_path: Path) -> None:
    state = load(tmp_path, GOOD, good_hosts())
    uses = {
        f: sorted((u.name, u.owner, u.mode) for u in h.profile.lab_secrets)
        for f, h in state.hosts.items()
        if h.profile is not None
    }
    ssh = ("build-ssh-key", "root", "0400")
    signing = ("build-signing-key", "root", "0400")
    assert uses["nuc"] == [signing, ssh]  # builds pi: copies over SSH, signs
    assert uses["nas"] == [signing, ssh]  # serves the cache; sends builds to nuc
    assert uses["pi"] == [ssh]  # sends builds to nuc


def test_build_on_a_host_that_is_not_there(tmp_path: Path) -> None:
    state = load(tmp_path, GOOD, good_hosts("deploy: {buildOn: big, hostKey: HOSTKEY}\n"))
    p = said(state, "no host named 'big'")
    assert (p.place.file, p.place.line, p.path) == ("hosts/pi/profile.yaml", 4, "deploy.buildOn")
    assert "nas" in p.hint and "nuc" in p.hint


def test_build_on_itself(tmp_path: Path) -> None:
    state = load(tmp_path, GOOD, good_hosts("deploy: {buildOn: pi, hostKey: HOSTKEY}\n"))
    p = said(state, "on itself")
    assert (p.place.file, p.place.line) == ("hosts/pi/profile.yaml", 4)


def test_build_on_a_host_built_elsewhere_itself(tmp_path: Path) -> None:
    hosts = good_hosts()
    hosts["nas"] = (
        "x86_64-linux 192.168.1.30\n" + f"deploy: {{buildOn: nuc, hostKey: {HOST_KEY}}}\n"
    )
    hosts["pi"] = (
        "aarch64-linux 192.168.1.20\n" + f"deploy: {{buildOn: nas, hostKey: {HOST_KEY}}}\n"
    )
    state = load(tmp_path, GOOD, hosts)
    p = said(state, "itself built on nuc")
    assert p.place.file == "hosts/pi/profile.yaml" and "buildOn: nuc" in p.hint


def test_build_on_without_the_labs_keys(tmp_path: Path) -> None:
    for lab_yaml in (None, 'release: "26.05"\n', 'release: "26.05"\nbuilds: {}\n'):
        state = load(tmp_path / str(len(lab_yaml or "")), lab_yaml, good_hosts())
        p = said(state, "lacks builds.sshKey and builds.signingKey")
        assert (p.place.file, p.place.line) == ("hosts/pi/profile.yaml", 4)
        assert "README" in p.hint


def test_build_on_without_the_targets_pinned_host_key_builds_it_on_itself_until_pinned(
    tmp_path: Path,
) -> None:
    state = load(tmp_path, GOOD, good_hosts("deploy: {buildOn: nuc}\n"))
    # a warning, not an error: the apply that pins the key can run
    assert not [e for e in state.all_problems() if "pinned host key" in e.message]
    found = [w for w in state.all_warnings() if "no pinned host key" in w.message]
    assert len(found) == 1, [str(w) for w in state.all_warnings()]
    p = found[0]
    assert p.place.file == "hosts/pi/profile.yaml" and p.place.line == 4
    assert "builds its own system until one is pinned" in p.message
    assert "--accept-new" in p.hint and "homelab adopt" in p.hint
    builds = state.builds
    assert builds is not None
    assert builds.build_on["pi"].copy.host_key == ""  # apply builds it on pi, this once


def test_build_on_a_host_deployed_with_channels(tmp_path: Path) -> None:
    state = load(
        tmp_path, GOOD, good_hosts("deploy: {buildOn: nuc, hostKey: HOSTKEY, method: channels}\n")
    )
    p = said(state, "deployed with channels")
    assert p.place.file == "hosts/pi/profile.yaml" and "flake" in p.hint


def _lab_said(tmp_path: Path, lab_yaml: str, words: str, hosts: dict | None = None) -> Problem:
    state = load(tmp_path, lab_yaml, hosts if hosts is not None else good_hosts())
    p = said(state, words)
    assert p.place.file == "lab.yaml", p
    assert p.hint, p
    return p


def test_a_remote_builder_that_is_no_host(tmp_path: Path) -> None:
    lab = GOOD.replace("    nuc: {systems", "    big: {systems")
    p = _lab_said(tmp_path, lab, "no host named 'big' to be a remote builder")
    assert p.place.line == 7


def test_a_cache_on_a_host_that_is_not_there(tmp_path: Path) -> None:
    p = _lab_said(tmp_path, GOOD.replace("{host: nas}", "{host: nope}"), "'nope' to serve")
    assert p.place.line == 9


def test_a_cache_with_both_or_neither_host_and_url(tmp_path: Path) -> None:
    both = GOOD.replace("{host: nas}", '{host: nas, url: "https://c.example.org"}')
    _lab_said(tmp_path / "a", both, "give one of host and url")
    _lab_said(tmp_path / "b", GOOD.replace("{host: nas}", "{}"), "give one of host and url")


def test_an_outside_cache_without_its_public_key(tmp_path: Path) -> None:
    lab = GOOD.replace("{host: nas}", '{url: "https://c.example.org"}')
    p = _lab_said(tmp_path, lab, "needs its public key")
    assert p.path == "builds.cache.publicKey"


def test_a_lab_cache_without_a_signing_key(tmp_path: Path) -> None:
    lab = GOOD.replace(
        f'  signingKey: {{secret: build-signing-key, public: "{SIGNING_PUB}"}}\n', ""
    )
    hosts = good_hosts("deploy: {hostKey: HOSTKEY}\n")
    p = _lab_said(tmp_path, lab, "lab.yaml lacks (builds.signingKey)", hosts)
    assert "generate-binary-cache-key" in p.hint


def test_a_remote_builder_without_a_pinned_host_key(tmp_path: Path) -> None:
    hosts = good_hosts("deploy: {hostKey: HOSTKEY}\n")
    hosts["nuc"] = "x86_64-linux 192.168.1.10\n"
    p = _lab_said(tmp_path, GOOD, "nuc has no pinned host key", hosts)
    assert p.place.line == 7 and "--accept-new" in p.hint


def test_public_keys_are_checked(tmp_path: Path) -> None:
    cases = [
        (BUILD_PUB, "ssh-dss AAAA", "is no SSH public key line"),
        (BUILD_PUB, "ssh-ed25519 not+base64!", "not base64"),
        # an RSA key's blob said to be ed25519
        (BUILD_PUB, "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB", "holds another type"),
        (SIGNING_PUB, "lab-builds-1", "is no Nix public key"),
        (SIGNING_PUB, "lab-builds-1:" + base64.b64encode(b"short").decode(), "5 bytes, not 32"),
    ]
    for i, (old, new, words) in enumerate(cases):
        state = load(tmp_path / str(i), GOOD.replace(old, new), good_hosts())
        p = said(state, words)
        assert p.place.file == "lab.yaml" and p.hint, p
        assert p.place.line == (4 if old == BUILD_PUB else 5), p


def test_every_builds_key_has_a_hint() -> None:
    from homelab.labconfig import SCHEMA

    def walk(node: dict, at: str) -> list[str]:
        missing = [] if "x-hint" in node or at == "" else [at]
        for name, sub in (node.get("properties") or {}).items():
            missing += walk(sub, f"{at}.{name}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            missing += walk(extra, f"{at}.*")
        if isinstance(node.get("items"), dict):
            missing += walk(node["items"], f"{at}[]")
        return missing

    assert walk(SCHEMA["properties"]["builds"], "builds") == []


def test_receive_only_restricts_the_build_key() -> None:
    assert RECEIVE_ONLY.startswith("restrict,")
    assert 'command="nix-store --serve --write"' in RECEIVE_ONLY


def test_status_says_where_each_host_is_built(tmp_path: Path, run_cli: RunCli) -> None:
    load(tmp_path, GOOD, good_hosts())
    root = tmp_path / "lab"
    git(root, "init", "-q", "-b", "main")
    identify(root)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "a lab")
    code, out, err = run_cli("--lab", str(root), "status")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[-1] == "BUILT"
    rows = {line.split()[0]: line for line in lines[1:]}
    cache = "cache: http://192.168.1.30:5000"
    assert rows["pi"].endswith(f"built on nuc; remote builders: nuc; {cache}")
    assert rows["nuc"].endswith(f"builds pi; a remote builder; emulates aarch64-linux; {cache}")
    assert rows["nas"].endswith("remote builders: nuc; serves the cache on port 5000")
    # a lab that builds nowhere else says nothing of it
    plain = tmp_path / "plain"
    load(plain, 'release: "26.05"\n', {"solo": "x86_64-linux 192.168.1.5\n"})
    git(plain / "lab", "init", "-q", "-b", "main")
    code, out, err = run_cli("--lab", str(plain / "lab"), "status")
    assert code == 0, err
    assert "BUILT" not in out.splitlines()[0]


def test_a_remote_builder_for_a_system_nixos_cannot_emulate(tmp_path: Path) -> None:
    lab = GOOD.replace("[x86_64-linux, aarch64-linux]", "[x86_64-linux, vax-vms]")
    p = _lab_said(tmp_path, lab, "cannot build for vax-vms")
    assert p.place.line == 7 and "emulate" in p.message
