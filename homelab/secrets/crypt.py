"""Encrypting and decrypting with age (pyrage, a binding of the rage implementation), and
the admin's identity: the private key that opens the lab's secrets.

The identity is an age identity file by default ($HOMELAB_AGE_IDENTITY, else
~/.config/homelab/age.key: `age-keygen -o` makes one); an SSH private key (ed25519 or
RSA) works too. age cannot ask ssh-agent, so a passphrase-protected SSH key is unlocked
here: homelab asks for its passphrase on the terminal and keeps the unlocked key in
memory only. Plaintext is only ever bytes in memory here; writing it is the caller's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage
from cryptography.hazmat.primitives import serialization

from homelab.secrets.keys import Recipient, parse_recipient

IDENTITY_ENV = "HOMELAB_AGE_IDENTITY"


class SecretsError(Exception):
    """Why a secret could not be encrypted or opened, and what to do (exit code 2 when
    it is the person's input, e.g. a missing identity)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return self.message + (f"\n    hint: {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class AdminKey:
    """An admin's identity, opened: where it was read from and the public key it is."""

    path: Path
    identity: Any = None  # a pyrage identity; never shown, never written
    public: Recipient | None = None


def default_identity_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(IDENTITY_ENV):
        return Path(env[IDENTITY_ENV]).expanduser()
    config = Path(env.get("XDG_CONFIG_HOME") or Path(env.get("HOME", "~")) / ".config")
    return config.expanduser() / "homelab" / "age.key"


NO_IDENTITY_HINT = (
    "make one with `age-keygen -o ~/.config/homelab/age.key` and list its public key under "
    "admins: in lab.yaml (then `homelab secrets rekey` from an admin who has a key), or point "
    f"{IDENTITY_ENV} (or --identity) at your age identity or SSH private key"
)


def load_identity(
    path: Path | None = None,
    ask_passphrase: Callable[[str], str | None] | None = None,
    env: Mapping[str, str] | None = None,
) -> AdminKey:
    """The admin's identity from `path` (else the default). SecretsError when it cannot be
    read; a passphrase-protected SSH key is unlocked with `ask_passphrase(prompt)` (None:
    no terminal to ask on)."""
    path = path or default_identity_path(env)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SecretsError(f"no age identity at {path}", NO_IDENTITY_HINT) from None
    except OSError as err:
        raise SecretsError(f"cannot read the identity {path}: {err.strerror or err}") from None
    text = data.decode("utf-8", "replace")
    if "AGE-SECRET-KEY-" in text:
        return _age_identity(path, text)
    if b"PRIVATE KEY-----" in data:
        return _ssh_identity(path, data, ask_passphrase)
    if b"BEGIN AGE ENCRYPTED FILE" in data or data.startswith(b"age-encryption.org/v1"):
        raise SecretsError(
            f"{path} is a passphrase-encrypted age identity, which homelab cannot open",
            f"decrypt it to a private file (age -d {path} > key; chmod 600 key) and use that",
        )
    raise SecretsError(
        f"{path} is not an age identity (AGE-SECRET-KEY-...) or an SSH private key",
        NO_IDENTITY_HINT,
    )


def _age_identity(path: Path, text: str) -> AdminKey:
    lines = [w for w in text.split() if w.startswith("AGE-SECRET-KEY-")]
    try:
        identity = pyrage.x25519.Identity.from_str(lines[0])
    except Exception:  # pyrage raises its own ValueError-like types
        raise SecretsError(f"{path}: the AGE-SECRET-KEY line is damaged") from None
    public = parse_recipient(str(identity.to_public()))
    assert not isinstance(public, str)
    return AdminKey(path, identity, public)


def _ssh_identity(
    path: Path, data: bytes, ask_passphrase: Callable[[str], str | None] | None
) -> AdminKey:
    password: bytes | None = None
    while True:
        try:
            key = serialization.load_ssh_private_key(data, password)
            break
        except TypeError:  # protected, and no (or no right) passphrase yet
            said = ask_passphrase(f"passphrase for {path}: ") if ask_passphrase else None
            if said is None:
                raise SecretsError(
                    f"{path} is protected by a passphrase and there is no terminal to ask it on",
                    "run the command in a terminal, or use an age identity (age-keygen -o FILE)",
                ) from None
            password = said.encode()
        except ValueError as err:
            # a wrong passphrase decrypts to garbage: cryptography says "broken checksum"
            if password is not None:
                raise SecretsError(f"wrong passphrase for {path}") from None
            raise SecretsError(
                f"{path} is not an SSH private key homelab can read: {err}"
            ) from None
        except Exception as err:  # unsupported key types
            raise SecretsError(f"{path}: {err}") from None
    public_text = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    public = parse_recipient(public_text.decode())
    if isinstance(public, str):
        raise SecretsError(f"{path}: {public}")
    unlocked = key.private_bytes(  # in memory only: rage cannot take a protected key
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    try:
        identity = pyrage.ssh.Identity.from_buffer(unlocked)
    except Exception as err:
        raise SecretsError(f"{path}: age cannot use this key: {err}") from None
    return AdminKey(path, identity, public)


def _age_recipient(r: Recipient) -> Any:
    if r.kind == "X25519":
        return pyrage.x25519.Recipient.from_str(r.text)
    return pyrage.ssh.Recipient.from_str(r.text)


def encrypt(plaintext: bytes, recipients: Sequence[Recipient]) -> bytes:
    """The plaintext as an age file that exactly these keys can open."""
    if not recipients:
        raise SecretsError(
            "nobody to encrypt to: no host uses this secret and lab.yaml lists no admins",
            "list your public key under admins: in lab.yaml",
        )
    try:
        data: bytes = pyrage.encrypt(plaintext, [_age_recipient(r) for r in recipients])
    except Exception as err:
        raise SecretsError(f"age could not encrypt: {err}") from None
    return data


def decrypt(ciphertext: bytes, key: AdminKey, name: str = "the secret") -> bytes:
    """The plaintext of an age file, opened with the admin's key."""
    try:
        data: bytes = pyrage.decrypt(ciphertext, [key.identity])
    except Exception:
        raise SecretsError(
            f"your key ({key.path}) cannot open {name}",
            "an admin whose key can open it runs `homelab secrets rekey` after adding your "
            "public key under admins: in lab.yaml",
        ) from None
    return data
