"""Generated files onto disk: only what changed, atomically, never over a person's edits."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homelab.compile import body_hash_matches, carries_header
from homelab.errors import InvalidInput, Place, Problem
from homelab.source import DiskSource, Source, Unreadable


@dataclass(frozen=True)
class Plan:
    """What a build would do."""

    write: dict[str, str] = field(default_factory=dict)  # new or changed
    delete: tuple[str, ...] = ()  # generated files that no longer belong
    edited: tuple[str, ...] = ()  # generated files a person changed by hand

    @property
    def stale(self) -> list[str]:
        return sorted([*self.write, *self.delete])


@dataclass(frozen=True)
class BuildResult:
    written: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()


def generated_files(source: Source, folder: str) -> dict[str, str]:
    """Files of ours (they carry the header) in a host folder of a source (the working
    tree, a git revision), by lab-relative path."""
    base = f"hosts/{folder}"
    try:
        names = source.listdir(base)
    except Unreadable:
        return {}  # nothing known to be ours: nothing will be deleted
    return _ours(source, base, names)


def _ours(source: Source, base: str, names: Iterable[str]) -> dict[str, str]:
    """generated_files of a folder whose names were listed."""
    out: dict[str, str] = {}
    for name in names:
        if not name.endswith(".nix"):
            continue
        try:
            text = source.read(f"{base}/{name}")
        except (OSError, UnicodeDecodeError, Unreadable):
            continue  # what cannot be read is never taken for ours, so never deleted
        if text is not None and carries_header(text):
            out[f"{base}/{name}"] = text
    return out


def plan(root: Path, wanted: Mapping[str, str], folders: Iterable[str]) -> Plan:
    """Compare what should be with what is, in the given host folders."""
    disk = DiskSource(root)
    existing: dict[str, str] = {}
    listed: dict[str, set[str]] = {}  # the names in each host folder, when it was listed
    for f in folders:
        base = f"hosts/{f}"
        try:
            names = disk.listdir(base)
        except Unreadable:
            continue  # nothing known to be ours: nothing will be deleted
        existing.update(_ours(disk, base, names))
        listed[base] = set(names)
    write: dict[str, str] = {}
    edited: list[str] = []
    for rel, text in sorted(wanted.items()):
        folder, _, name = rel.rpartition("/")
        there = listed.get(folder)
        if there is not None and name not in there:
            write[rel] = text  # not there (its folder's names say so): nothing to read
            continue
        try:
            # a file of ours was read just now: not twice
            current = existing[rel] if rel in existing else disk.read(rel)
        except (OSError, UnicodeDecodeError, Unreadable):
            current = None  # there, but not a file of ours that can be read
        else:
            if current is None:
                write[rel] = text
                continue
        if current == text:
            continue
        if current is None or body_hash_matches(current) is not True:
            edited.append(rel)  # a person's file or a hand-edited one: never silently replaced
        write[rel] = text
    delete = []
    for rel, text in existing.items():
        if rel in wanted:
            continue
        if body_hash_matches(text) is not True:
            edited.append(rel)
        delete.append(rel)
    return Plan(write, tuple(sorted(delete)), tuple(sorted(set(edited))))


def atomic_write(path: Path, text: str) -> None:
    """The file holds `text` whole, or is as it was: written beside it, then moved over it."""
    # plain os calls on the path's text: a build writes thousands of files, and a file
    # object and Path's parent and name each cost about as much as a system call
    where = os.fspath(path)
    fd, tmp = _beside(where)
    try:
        try:
            data = memoryview(text.encode("utf-8"))
            while data:
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)
        os.replace(tmp, where)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _beside(path: str) -> tuple[int, str]:
    """A new file for `path`'s text, in its folder (made if missing), readable by all.
    Named after this process (a build writes thousands: mkstemp's random names and a
    mkdir each cost more than the writing), else, when that name is taken (another
    thread, a leftover of a stopped build), a random one."""
    folder, name = os.path.split(path)
    folder = folder or "."  # a bare name is in the working folder
    tmp = f"{folder}/.{name}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return _beside(path)
    except FileExistsError:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.fchmod(fd, 0o644)  # as given, whatever the umask
    return fd, tmp


_EDITED_HINT = (
    "move your change into the profile (extraConfig for raw Nix), "
    "or run `homelab build --force` to overwrite it"
)
# the lab's flake.nix is generated from lab.yaml (homelab.labconfig) when the lab has one
_EDITED_HINTS = {
    "flake.nix": "move your change into lab.yaml (inputs, overlays), "
    "or run `homelab build --force` to overwrite it"
}


def apply_plan(root: Path, the_plan: Plan, *, force: bool = False) -> BuildResult:
    if the_plan.edited and not force:
        raise InvalidInput(
            [
                Problem(
                    Place(rel),
                    "this generated file was edited by hand; homelab will not overwrite it",
                    hint=_EDITED_HINTS.get(rel, _EDITED_HINT),
                )
                for rel in the_plan.edited
            ]
        )
    for rel, text in the_plan.write.items():
        atomic_write(root / rel, text)
    for rel in the_plan.delete:
        (root / rel).unlink(missing_ok=True)
    return BuildResult(tuple(the_plan.write), the_plan.delete, ())
