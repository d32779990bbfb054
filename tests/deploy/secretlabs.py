"""Labs with encrypted secrets for the deploy tests: lab.yaml with an admin and the agenix
input (pinned in a flake.lock written here: nothing is fetched), hosts that use secrets,
and `.age` files encrypted with homelab's own age (pyrage) to the rig machines' host keys
and the admin's key. The real `age` CLI opens them in the tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import git
import pytest

from homelab.labconfig import as_written
from homelab.secrets import crypt, store
from homelab.secrets.keys import parse_recipient
from tests.deploy.labs import make_lab
from tests.sshd.rig import Machine

AGE = "/usr/bin/age"


def need_age() -> None:
    """The real age CLI (Debian: age) is the oracle: skip (fail under CI=true) without it."""
    import os

    if shutil.which("age") is None or shutil.which("age-keygen") is None:
        message = "the age CLI is missing (Debian: age): it opens the files in these tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def admin_identity(folder: Path) -> tuple[Path, str]:
    """A new age identity (age-keygen -o): its file and its public key."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "age.key"
    path.unlink(missing_ok=True)
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    path.chmod(0o600)
    public = next(
        line.split(":", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.startswith("# public key:")
    )
    return path, public


def lab_yaml(admin: str) -> str:
    agenix = 'inputs:\n  agenix: {url: "github:ryantm/agenix"}\n'
    return f'release: "24.05"\n{agenix}admins:\n  me: {admin}\n'


def fake_lock(yaml_text: str) -> str:
    """A flake.lock that pins every input lab.yaml has (revisions made up: the rig's
    stand-in nixos-rebuild fetches nothing)."""
    written = as_written(yaml_text)
    assert written is not None
    names = list(written.inputs)
    nodes: dict[str, object] = {
        name: {"locked": {"rev": f"{i:040x}", "type": "github"}, "original": {}}
        for i, name in enumerate(names, 1)
    }
    nodes["root"] = {"inputs": {n: n for n in names}}
    return json.dumps({"nodes": nodes, "root": "root", "version": 7}, indent=2) + "\n"


def secret_lines(names: Sequence[str]) -> str:
    """A profile's secrets: section installing these encrypted secrets (no source:)."""
    if not names:
        return ""
    lines = ["secrets:"]
    lines += [f"  {n}: {{target: /run/keys/{n}, mode: '0400'}}" for n in names]
    return "\n".join(lines) + "\n"


def encrypt_to(lab: Path, name: str, value: bytes, keys: Sequence[str]) -> None:
    """encrypted/NAME.age: `value` encrypted to these public keys (host keys, admins)."""
    recipients = []
    for text in keys:
        key = parse_recipient(text)
        assert not isinstance(key, str), key
        recipients.append(key)
    store.write_encrypted(lab, name, crypt.encrypt(value, recipients))


def make_secret_lab(
    root: Path,
    machines: Sequence[Machine],
    uses: Mapping[str, Sequence[str]],
    values: Mapping[str, bytes],
    admin: str,
    *,
    pinned: bool = True,
    extra: Mapping[str, str] | None = None,
) -> Path:
    """A lab with one host per machine, each using the secrets `uses` names; every
    secret encrypted to the host keys of the hosts that use it and to the admin. With
    `pinned`, each profile pins its machine's host key (deploy.hostKey); without, the
    secrets are encrypted to the admin alone (no host key is known)."""
    more = {}
    for m in machines:
        text = (extra or {}).get(m.name, "")
        if pinned:
            text = f"  hostKey: {m.host_key}\n" + text
        more[m.name] = text
    lab = make_lab(root, machines, extra=more, commit=False)
    for m in machines:
        profile = lab / "hosts" / m.name / "profile.yaml"
        profile.write_text(profile.read_text() + secret_lines(uses.get(m.name, ())))
    (lab / "flake.nix").unlink()  # lab.yaml's is generated instead
    text = lab_yaml(admin)
    (lab / "lab.yaml").write_text(text)
    (lab / "flake.lock").write_text(fake_lock(text))
    keys = {m.name: m.host_key for m in machines} if pinned else {}  # no pin: admin only
    for name, value in values.items():
        readers = [keys[h] for h, used in uses.items() if name in used and h in keys]
        readers = [k for k in readers if not isinstance(parse_recipient(k), str)]  # no ECDSA
        encrypt_to(lab, name, value, [*readers, admin])
    repo = git.Repo.init(lab)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.org")
    repo.git.add("--all")
    repo.index.commit("a lab with encrypted secrets")
    return lab


def age_open(path: Path, identity: Path) -> bytes | None:
    """The real age CLI opens `path` with `identity` (None: it cannot)."""
    ran = subprocess.run(
        [AGE, "-d", "-i", str(identity), str(path)], capture_output=True, check=False
    )
    return ran.stdout if ran.returncode == 0 else None
