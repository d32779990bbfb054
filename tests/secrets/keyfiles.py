"""Real keys and the real `age` for the secrets tests: age-keygen and ssh-keygen make the
keys, the `age` command (Debian's, the reference implementation) encrypts and decrypts.

A missing tool skips the test with what to install (fails under CI=true), as
scripts/ensure-tools says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from homelab.secrets.keys import Recipient, parse_recipient

TIMEOUT = 60


def need(tool: str, package: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    reason = f"`{tool}` is not installed (Debian package {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def run(args: list[str], data: bytes = b"") -> bytes:
    """A tool's output; a failure fails the test with what it said."""
    done = subprocess.run(args, input=data, capture_output=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr.decode(errors='replace')}"
    return done.stdout


def age(*args: str, data: bytes = b"") -> bytes:
    """The real `age` with these arguments, `data` on its stdin."""
    return run([need("age", "age"), *args], data)


def age_fails(*args: str, data: bytes = b"") -> str:
    """What the real `age` says when it refuses (it must refuse)."""
    done = subprocess.run(
        [need("age", "age"), *args], input=data, capture_output=True, timeout=TIMEOUT
    )
    assert done.returncode != 0, "age opened what it must not"
    return done.stderr.decode(errors="replace")


def age_key(folder: Path, name: str) -> tuple[Path, str]:
    """A new age identity file and its public key (age1...)."""
    path = folder / f"{name}.key"
    run([need("age-keygen", "age"), "-o", str(path)])
    public = run([need("age-keygen", "age"), "-y", str(path)]).decode().strip()
    return path, public


def ssh_key(
    folder: Path, name: str, kind: str = "ed25519", passphrase: str = ""
) -> tuple[Path, str]:
    """A new SSH private key and its public key line (with its comment)."""
    path = folder / name
    args = [need("ssh-keygen", "openssh-client"), "-q", "-t", kind, "-N", passphrase]
    if kind == "rsa":
        args += ["-b", "2048"]
    run([*args, "-C", f"{name}@test", "-f", str(path)])
    return path, (folder / f"{name}.pub").read_text(encoding="utf-8").strip()


def recipient(text: str) -> Recipient:
    """A public key line (age or SSH) as an age recipient; fails the test when it is none."""
    found = parse_recipient(text)
    assert isinstance(found, Recipient), found
    return found
