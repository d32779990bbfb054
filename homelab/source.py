"""Where a lab's files come from: the working tree, a git revision, unsaved edits.

Reading the working tree opens nothing but regular files inside the lab, of a sane size:
a FIFO would block for ever, a device never ends, a link may point at the operator's own
secrets outside the lab. Such a file is there but cannot be read, which is not the same
as missing: `Unreadable` says why, and the lab turns it into a problem with its place.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Protocol

MAX_BYTES = 1 << 20  # profiles, fragments, catalogue entries, generated modules: all text


class Source(Protocol):
    """Where a lab's files come from: the working tree, a git revision, unsaved edits."""

    def read(self, rel: str) -> str | None:
        """The text of a lab-relative file, or None when there is none (raises
        Unreadable when it is there but cannot be read, UnicodeDecodeError when it is
        not UTF-8)."""

    def listdir(self, rel: str) -> list[str]:
        """Names in a lab-relative folder (empty when there is none)."""


class Unreadable(Exception):
    """A file that is there but cannot be read, with the reason in words."""

    def __init__(self, rel: str, reason: str, hint: str = "") -> None:
        super().__init__(f"{rel}: {reason}")
        self.rel, self.reason, self.hint = rel, reason, hint


def too_large(size: int) -> tuple[str, str]:
    """(reason, hint) for a file over MAX_BYTES."""
    return (
        f"the file is {size:,} bytes; homelab reads files of up to 1 MiB ({MAX_BYTES:,} bytes)",
        "profiles and fragments are a few KiB: is this the right file? "
        "Split a large one into fragments with include:",
    )


def read_bytes(source: Source, rel: str) -> bytes | None:
    """A file's bytes from a source that can give them (the working tree), else its text
    as UTF-8: a revision's encrypted secrets are only ever looked at, never opened."""
    reader = getattr(source, "read_bytes", None)
    if reader is not None:
        data: bytes | None = reader(rel)
        return data
    try:
        text = source.read(rel)
    except (Unreadable, UnicodeDecodeError):
        return None
    return None if text is None else text.encode("utf-8", "surrogateescape")


def present(source: Source, rel: str) -> bool:
    """Whether the file is there, readable or not (a secret may be any bytes; a profile
    that cannot be read is still a host, whose problem is then reported)."""
    has = getattr(source, "has", None)
    if has is not None:  # the working tree and a git revision know without reading it
        return bool(has(rel))
    try:
        return source.read(rel) is not None
    except (UnicodeDecodeError, Unreadable):
        return True


def _why(err: OSError) -> tuple[str, str]:
    if err.errno in (errno.EACCES, errno.EPERM):
        return (
            "the file cannot be read: permission denied",
            "give yourself read access (chmod u+r), or run homelab as the lab's owner",
        )
    if err.errno == errno.ELOOP:
        return (
            "the file is a symbolic link that loops back on itself",
            "point the link at a real file, or put the file itself here",
        )
    return (f"the file cannot be read: {err.strerror or err}", "")


def read_file(root: Path, rel: str, limit: int = MAX_BYTES) -> bytes | None:
    """The bytes of a lab-relative regular file inside the lab (None when there is none);
    raises Unreadable when the file is there but is not one homelab will open."""
    path = os.path.join(root, rel)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(path):
            raise Unreadable(
                rel,
                f"the file is a symbolic link to {os.readlink(path)}, which does not exist",
                "point the link at the file, or put the file itself here",
            ) from None
        return None
    except OSError as err:
        raise Unreadable(rel, *_why(err)) from None
    real, lab = os.path.realpath(path), os.path.realpath(root)
    if os.path.commonpath([real, lab]) != lab:
        raise Unreadable(
            rel,
            f"the file is a link to {real}, outside the lab",
            "homelab reads only files inside the lab: copy the file into the lab",
        )
    _check_kind(rel, info)
    if info.st_size > limit:
        raise Unreadable(rel, *too_large(info.st_size))
    try:
        # O_NONBLOCK: should the file have been swapped for a FIFO since the stat, the
        # open does not wait for a writer (fstat below then refuses it)
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise Unreadable(rel, *_why(err)) from None
    with os.fdopen(fd, "rb") as handle:
        _check_kind(rel, os.fstat(fd))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(rel, *too_large(len(data)))
    return data


def _check_kind(rel: str, info: os.stat_result) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    if stat.S_ISDIR(info.st_mode):
        raise Unreadable(
            rel, "this is a folder, not a file", "remove the folder and write the file here"
        )
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
    raise Unreadable(
        rel, f"the file is {kind}, not a regular file", "put a regular file here instead"
    )


class DiskSource:
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, rel: str) -> str | None:
        data = read_file(self.root, rel)
        return None if data is None else data.decode("utf-8")

    def read_bytes(self, rel: str) -> bytes | None:
        """A file as it is (an encrypted secret is not text)."""
        return read_file(self.root, rel)

    def has(self, rel: str) -> bool:
        """Whether the file is there, readable or not, as read_file judges it, without
        reading it (a lab of 1000 hosts is listed by its profiles being there)."""
        path = os.path.join(self.root, rel)
        try:
            os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return os.path.islink(path)  # a link to nothing: there, and unreadable
        except OSError:
            return True
        return True

    def listdir(self, rel: str) -> list[str]:
        try:
            return sorted(os.listdir(self.root / rel))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as err:
            reason, hint = _why(err)
            raise Unreadable(rel, reason.replace("the file", "the folder"), hint) from None


class Overlay:
    """Unsaved texts on top of another source."""

    def __init__(self, base: Source, texts: dict[str, str]) -> None:
        self.base, self.texts = base, texts

    def read(self, rel: str) -> str | None:
        return self.texts[rel] if rel in self.texts else self.base.read(rel)

    def read_bytes(self, rel: str) -> bytes | None:
        if rel in self.texts:
            return self.texts[rel].encode()
        return read_bytes(self.base, rel)

    def listdir(self, rel: str) -> list[str]:
        names = set(self.base.listdir(rel))
        prefix = rel.rstrip("/") + "/"
        for path in self.texts:
            if path.startswith(prefix):
                names.add(path[len(prefix) :].split("/", 1)[0])
        return sorted(names)


class OnlyHosts:
    """Another source showing only some host folders (and the shared fragments of
    hosts/common): one host checks without reading all the others."""

    partial = True  # what needs every host (the lab's names) waits for the whole lab

    def __init__(self, base: Source, keep: set[str]) -> None:
        self.base, self.keep = base, keep

    def read(self, rel: str) -> str | None:
        return self.base.read(rel)

    def read_bytes(self, rel: str) -> bytes | None:
        return read_bytes(self.base, rel)

    def has(self, rel: str) -> bool:
        return present(self.base, rel)

    def listdir(self, rel: str) -> list[str]:
        names = self.base.listdir(rel)
        if rel.strip("/") == "hosts":
            return [n for n in names if n in self.keep or n == "common"]
        return names
