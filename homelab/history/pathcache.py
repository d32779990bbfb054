"""The paths a host's history follows (host_pathspec), remembered between runs.

Finding them means reading the host's profile and the fragments it includes as YAML, and
loading the YAML parser alone costs `homelab history HOST` more than git's own log. They
depend on nothing but the bytes of those files (and on homelab's code that reads them), so
`.homelab/history/<folder>` keeps those bytes beside the paths, and the paths are used
again only while every one of those files reads the same, byte for byte. Anything else
(no entry, a file changed, added or gone, other code, an entry that cannot be read) means
the host is sketched again, and its entry rewritten.

The entry is plain bytes split by NUL (no JSON: its import costs more than the check):
the format's name, the code's key, the number of paths, the paths, then each file read
with its state: "-" when it was missing, else "+" and its bytes. A file holding a NUL, or
one that could not be read, is never remembered.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from pathlib import Path

from homelab.localstate import LOCAL, local_folder
from homelab.source import DiskSource, Unreadable, read_file

FORMAT = b"homelab history paths 1"
FOLDER = "history"  # in .homelab/
# the code that decides which paths a host's files give: other code (a newer homelab, or
# an edit in a checkout) must not reuse what this code found
_CODE = (
    "history/sketch.py",
    "history/pathcache.py",
    "profile/include.py",
    "profile/modules.py",
    "profile/options.py",
    "yamlfile.py",
)


def _code_key() -> bytes:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    crc = 0
    try:
        for name in _CODE:
            with open(os.path.join(here, name), "rb") as handle:
                crc = zlib.crc32(handle.read(), crc)
    except OSError:
        from homelab import __version__

        return __version__.encode()
    return b"%08x" % crc


class _Recorded(DiskSource):
    """The working tree, noting the bytes of every file read (None: missing; Unreadable
    is noted as such, and such an entry is never kept)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.read_files: dict[str, bytes | Unreadable | None] = {}

    def read(self, rel: str) -> str | None:
        try:
            data = read_file(self.root, rel)
        except Unreadable as unreadable:
            self.read_files[rel] = unreadable
            raise
        self.read_files[rel] = data
        return None if data is None else data.decode("utf-8")


def host_paths(root: Path, folder: str) -> list[str]:
    """host_pathspec of the host in `folder` of the lab's working tree, sketched only
    when what was remembered no longer holds (see the module's words)."""
    key = _code_key()
    paths = recall(root, folder, key)
    if paths is not None:
        return paths
    from homelab.history.sketch import host_pathspec, sketch_hosts  # deferred: what this spares

    source = _Recorded(Path(root))
    paths = host_pathspec(sketch_hosts(source, only=folder), folder)
    _remember(root, folder, key, paths, source.read_files)
    return paths


def recall(root: Path, folder: str, key: bytes | None = None) -> list[str] | None:
    """The remembered paths, when the entry is for this code and each file it names
    reads as it did; else None. Writes nothing."""
    try:
        fields = (Path(root) / LOCAL / FOLDER / folder).read_bytes().split(b"\0")
        if fields[:2] != [FORMAT, key or _code_key()]:
            return None
        count = int(fields[2])
        paths, files = fields[3 : 3 + count], fields[3 + count :]
        if len(paths) != count or len(files) % 2 or not files:
            return None
        for rel, state in zip(files[::2], files[1::2], strict=True):
            data = read_file(root, rel.decode())
            if state != (b"-" if data is None else b"+" + data):
                return None
        return [p.decode() for p in paths]
    except (OSError, ValueError, Unreadable):
        return None


def _remember(
    root: Path,
    folder: str,
    key: bytes,
    paths: list[str],
    read: dict[str, bytes | Unreadable | None],
) -> None:
    """Write the entry (whole, or not at all); a lab where it cannot be written (read-only)
    is only slower next time."""
    states = []
    try:
        for rel, data in read.items():
            if isinstance(data, Unreadable) or (data is not None and b"\0" in data):
                return
            states += [rel.encode(), b"-" if data is None else b"+" + data]
        named = [p.encode() for p in paths]
    except UnicodeEncodeError:  # a name YAML escapes could give, and no file has
        return
    if any(b"\0" in p for p in [*named, *states[::2]]) or "/" in folder or folder[:1] == ".":
        return
    text = b"\0".join([FORMAT, key, b"%d" % len(named), *named, *states])
    try:
        where = local_folder(Path(root), FOLDER)
        part = where / f".{folder}.{os.getpid()}"
    except OSError:
        return
    try:
        part.write_bytes(text)
        os.replace(part, where / folder)
    except OSError:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
