"""Labs whose hosts are built on another rig machine (deploy.buildOn): the lab's build key
(an SSH key) and signing key (a Nix key) made here, encrypted to the builder's host key
and an admin, named in lab.yaml's `builds:`."""

from __future__ import annotations

import base64
import getpass
from collections.abc import Sequence
from pathlib import Path

import git
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.deploy.labs import make_lab
from tests.deploy.secretlabs import encrypt_to, fake_lock, lab_yaml
from tests.sshd.rig import Machine, keygen

SSH_KEY = "build-ssh-key"
SIGNING_KEY = "build-signing-key"


def nix_signing_key(name: str) -> tuple[str, str]:
    """A Nix signing key pair as nix-store --generate-binary-cache-key writes it: the
    secret `NAME:base64(seed + public)`, the public `NAME:base64(public)`."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return (
        f"{name}:{base64.b64encode(seed + public).decode()}",
        f"{name}:{base64.b64encode(public).decode()}",
    )


def make_build_lab(
    root: Path,
    builder: Machine,
    targets: Sequence[Machine],
    others: Sequence[Machine] = (),
    *,
    pin_targets: bool = True,
) -> Path:
    """A lab where `builder` builds every one of `targets` (reached by its address and
    port, as the builder reaches it); `others` build their own. Every host pins its host
    key (the targets too, with `pin_targets`). The build keys are encrypted to the builder
    and to the admin whose public key is in admin.pub beside `root`."""
    admin = (root.parent / "admin.pub").read_text().strip()
    user = getpass.getuser()
    machines = [builder, *targets, *others]
    lab = make_lab(
        root,
        machines,
        extra={
            m.name: f"  hostKey: {m.host_key}\n"
            for m in machines
            if pin_targets or m not in targets
        },
        commit=False,
    )
    for t in targets:
        profile = lab / "hosts" / t.name / "profile.yaml"
        text = profile.read_text().replace(
            f"  address: {t.name}\n",
            f"  address: 127.0.0.1\n  port: {t.port}\n  user: {user}\n  buildOn: {builder.name}\n",
        )
        profile.write_text(text)
    keys = root.parent / "build-keys"
    keys.mkdir(exist_ok=True)
    ssh_public = keygen(keys / "build", "homelab-build")
    ssh_private = (keys / "build").read_bytes()
    secret, public = nix_signing_key("lab-builds-1")
    (lab / "flake.nix").unlink()  # lab.yaml's is generated instead
    text = (
        lab_yaml(admin)
        + "builds:\n"
        + f'  sshKey: {{secret: {SSH_KEY}, public: "{ssh_public} homelab-build"}}\n'
        + f'  signingKey: {{secret: {SIGNING_KEY}, public: "{public}"}}\n'
    )
    (lab / "lab.yaml").write_text(text)
    (lab / "flake.lock").write_text(fake_lock(text))
    encrypt_to(lab, SSH_KEY, ssh_private, [builder.host_key, admin])
    encrypt_to(lab, SIGNING_KEY, secret.encode(), [builder.host_key, admin])
    repo = git.Repo.init(lab)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.org")
    repo.git.add("--all")
    repo.index.commit("a lab whose pi is built on another machine")
    return lab


def change(lab: Path, host: str, package: str) -> None:
    """A change to a host's profile (one more package), committed by the apply."""
    profile = lab / "hosts" / host / "profile.yaml"
    text = profile.read_text().replace("packages: [", f"packages: [{package}, ", 1)
    profile.write_text(text)
