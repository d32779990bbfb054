"""The encrypted files on disk: written whole or not at all, and encrypted anew to the
readers they should have (a rekey)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from homelab.profile import secretrefs
from homelab.secrets.crypt import AdminKey, SecretsError, decrypt, encrypt
from homelab.secrets.keys import Recipient
from homelab.secrets.view import Reader, SecretState


def recipients(readers: Sequence[Reader]) -> list[Recipient]:
    """The keys to encrypt to: every reader that has one, each once, in order."""
    out: list[Recipient] = []
    for r in readers:
        if r.key is not None and r.key not in out:
            out.append(r.key)
    return out


def write_encrypted(root: Path, name: str, data: bytes) -> str:
    """Put an age file in the lab as encrypted/NAME.age, all at once (a temporary file
    beside it, then a rename): never half a file. Returns its lab-relative path. The
    bytes must be age's: plaintext never comes here."""
    from homelab.secrets.agefile import is_age

    if not is_age(data):
        raise SecretsError(f"refusing to write {name}: the data is not an age file")
    rel = secretrefs.file_of(name)
    path = Path(root) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # ciphertext: it is committed and goes into the Nix store anyway
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return rel


def rekeyed(ciphertext: bytes, state: SecretState, key: AdminKey) -> bytes:
    """The same value encrypted anew to exactly the readers it should have now."""
    plaintext = decrypt(ciphertext, key, state.file)
    return encrypt(plaintext, recipients(state.wanted))
