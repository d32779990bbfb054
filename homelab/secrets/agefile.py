"""An age file's header, read without any key: who it is encrypted to.

The format (age-encryption.org/v1): a version line, one stanza per recipient
(`-> TYPE ARG...` and a wrapped body), then `--- MAC` and the payload. An ssh-ed25519 or
ssh-rsa stanza names its key by a tag (the first 4 bytes of SHA-256 of the key, base64);
an X25519 stanza only holds an ephemeral share, so it says that *an* age key can read the
file, never which one. Armored files (`-----BEGIN AGE ENCRYPTED FILE-----`) are read too.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

MAGIC = b"age-encryption.org/v1\n"
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"
HEADER_LIMIT = 1 << 20  # a header past this is not one homelab wrote or can trust


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: its type (`ssh-ed25519`, `ssh-rsa`, `X25519`, ...) and
    arguments (for the SSH types, the key's tag first)."""

    kind: str
    args: tuple[str, ...]

    @property
    def tag(self) -> str | None:
        """The SSH key tag, for the stanza types that name their key."""
        return self.args[0] if self.kind in ("ssh-ed25519", "ssh-rsa") and self.args else None


def _dearmor(data: bytes) -> bytes | None:
    text = data.strip()
    if not text.startswith(ARMOR_BEGIN) or not text.endswith(ARMOR_END):
        return None
    body = b"".join(text[len(ARMOR_BEGIN) : -len(ARMOR_END)].split())
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def is_age(data: bytes) -> bool:
    """Does this look like an age file (binary or armored)? A plaintext secret saved under
    a .age name by mistake does not."""
    return stanzas(data) is not None


def stanzas(data: bytes) -> tuple[Stanza, ...] | None:
    """The recipient stanzas of an age file, or None when it is not one."""
    if data.startswith(ARMOR_BEGIN) or data.lstrip().startswith(ARMOR_BEGIN):
        data = _dearmor(data) or b""
    if not data.startswith(MAGIC):
        return None
    end = data.find(b"\n---", 0, HEADER_LIMIT)
    if end < 0:
        return None
    try:
        lines = data[len(MAGIC) : end].decode("ascii").split("\n")
    except UnicodeDecodeError:
        return None
    found: list[Stanza] = []
    for line in lines:
        if line.startswith("-> "):
            words = line[3:].split(" ")
            if not words or not words[0]:
                return None
            found.append(Stanza(words[0], tuple(words[1:])))
        elif not found:
            return None  # a body line before any stanza
    return tuple(found) if found else None
