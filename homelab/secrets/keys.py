"""Recipient keys: what a secret is encrypted to, as lab.yaml and profiles write them.

age takes three kinds: its own X25519 keys (`age1...`), and SSH ed25519 and RSA public
keys. A machine's recipient is its SSH host key (agenix decrypts with
/etc/ssh/ssh_host_ed25519_key); an admin's is either. ECDSA keys cannot be recipients.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from homelab.secrets.agefile import Stanza

SSH_KINDS = ("ssh-ed25519", "ssh-rsa")
# bech32 with the `age` prefix: 58 data characters for a 32-byte key
_AGE = re.compile(r"age1[02-9ac-hj-np-z]{58}")


@dataclass(frozen=True)
class Recipient:
    """A public key a secret can be encrypted to."""

    kind: str  # ssh-ed25519, ssh-rsa or X25519
    text: str  # as age takes it: `age1...`, or `ssh-ed25519 AAAA...` without a comment

    @property
    def tag(self) -> str | None:
        """The tag an SSH key's stanza carries (None for an age key: its stanza has none)."""
        if self.kind not in SSH_KINDS:
            return None
        blob = base64.b64decode(self.text.split()[1])
        return base64.b64encode(hashlib.sha256(blob).digest()[:4]).decode().rstrip("=")

    def reads(self, stanza: Stanza) -> bool:
        """Is this stanza addressed to this key? (Never known for X25519: see agefile.)"""
        return self.tag is not None and stanza.kind == self.kind and stanza.tag == self.tag

    @property
    def short(self) -> str:
        """A short form to show: the type and the key's last characters."""
        body = self.text if self.kind == "X25519" else self.text.split()[1]
        return f"{self.kind} …{body[-12:]}"


def _ssh_blob_kind(blob: bytes) -> str | None:
    try:
        (n,) = struct.unpack(">I", blob[:4])
        return blob[4 : 4 + n].decode("ascii")
    except (struct.error, UnicodeDecodeError):
        return None


def parse_recipient(text: str) -> Recipient | str:
    """A recipient key from its text (an SSH key may carry a comment), or why it cannot
    be one, said so a person can fix it."""
    words = text.strip().split()
    if len(words) == 1 and _AGE.fullmatch(words[0]):
        return Recipient("X25519", words[0])
    if not words:
        return "is empty: give an age key (age1...) or an SSH public key (ssh-ed25519 AAAA...)"
    kind = words[0]
    if kind.startswith("age1"):
        return f"'{shorten(kind)}' is not an age public key (age1 and 58 letters and digits)"
    if kind.startswith("AGE-SECRET-KEY-"):
        return "is an age *secret* key: give its public key (age-keygen -y FILE prints it)"
    if kind.startswith(("ecdsa-", "sk-", "ssh-dss")):
        article = "an" if kind[0] in "aeiou" else "a"
        return (
            f"is {article} {kind} key: age can only encrypt to ssh-ed25519 and ssh-rsa keys "
            "(or age1...)"
        )
    if kind not in SSH_KINDS:
        return f"'{shorten(text)}' is not an age key (age1...) or an SSH public key"
    if len(words) < 2:
        return f"the {kind} key has no key data after its type"
    try:
        blob = base64.b64decode(words[1], validate=True)
    except (binascii.Error, ValueError):
        return f"the {kind} key's data is not base64"
    if _ssh_blob_kind(blob) != kind:
        return f"the {kind} key's data is not a {kind} key"
    return Recipient(kind, f"{kind} {words[1]}")


def shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
