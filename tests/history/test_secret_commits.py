"""An encrypted secret a host uses is committed with the host, like its module files; a
file under a .age name that is not age (a plaintext secret saved by mistake) never is."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from homelab.secrets.crypt import encrypt
from homelab.secrets.keys import parse_recipient
from homelab.secrets.store import write_encrypted
from tests.history.tools import edit, files_in, touched, write

RunCli = Callable[..., tuple[int, str, str]]

# a host key of the test's own (ssh-keygen): the secret must be encrypted to someone
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC7zrdszlfQKQrL/tWSaYrPC5owGa6GwiCkTQwH7TJFf"


def _use_secret(lab: Path) -> None:
    edit(
        lab,
        "hosts/pi/profile.yaml",
        "services:",
        "users:\n  root:\n    hashedPasswordFile: {secret: root-password}\n"
        f'deploy:\n  hostKey: "{HOST_KEY}"\nservices:',
    )
    # lab.yaml with the agenix input encrypted secrets need (homelab writes flake.nix from it)
    (lab / "flake.nix").unlink()
    write(lab, "lab.yaml", 'release: "26.05"\ninputs:\n  agenix: {url: "github:ryantm/agenix"}\n')


def test_a_hosts_commit_takes_the_encrypted_secrets_it_uses(lab: Path, run_cli: RunCli) -> None:
    _use_secret(lab)
    key = parse_recipient(HOST_KEY)
    assert not isinstance(key, str)
    write_encrypted(lab, "root-password", encrypt(b"$y$j9T$not-a-real-hash", [key]))
    write_encrypted(lab, "unused", encrypt(b"nobody names me", [key]))

    code, _, err = run_cli("--lab", str(lab), "build", "--commit", "pi")

    assert code == 0, err
    assert "encrypted/root-password.age" in touched(lab, "HEAD")
    assert "encrypted/unused.age" not in files_in(lab, "HEAD")  # no host uses it


def test_a_plaintext_file_under_an_age_name_is_never_committed(lab: Path, run_cli: RunCli) -> None:
    _use_secret(lab)
    write(lab, "encrypted/root-password.age", "hunter2\n")

    code, _, err = run_cli("--lab", str(lab), "build", "--commit", "pi")

    assert code == 2
    assert "encrypted/root-password.age:1:1: is not an age file" in err
    assert "encrypted/root-password.age" not in files_in(lab, "HEAD")
    objects = subprocess.run(
        ["git", "-C", str(lab), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout
    assert b"hunter2" not in objects
