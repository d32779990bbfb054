"""The checks of files of the lab that a profile names (the hardware configuration,
secrets' and home files' sources): never one outside the lab, never a secret that would
travel inside the flake, and one that is there."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from homelab.errors import Place, Problem, format_path
from homelab.profile import secretrefs
from homelab.profile.schema import as_map as _map
from homelab.profile.schema import shown
from homelab.yamlfile import Document, Path_

# what a Nix path literal can hold (nix/expr.py NixPath), for files the Nix names
_NIX_PATH = re.compile(r"[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*")

# what goes to the machine inside the flake, and so into its world-readable Nix store
_FLAKE_FOLDERS = ("hosts/",)
_FLAKE_FILES = ("flake.nix", "flake.lock")


def _in_flake(rel: str) -> str | None:
    """The part of the flake a lab path lies in, or None. Compared without case: a Mac's
    disk reads Hosts/ as hosts/, and the upload would carry the file all the same."""
    low = rel.lower()
    if low in _FLAKE_FILES:
        return rel
    if low.startswith(_FLAKE_FOLDERS):
        return rel.split("/", 1)[0] + "/"
    return None


def plain_path(text: str) -> str | None:
    """A relative path written plainly (`./a/../b` is `b`), or None when it is absolute
    or climbs out of where it starts."""
    if text.startswith("/"):
        return None
    plain = posixpath.normpath(text)
    return None if plain == ".." or plain.startswith("../") else plain


def _leaves_lab(place: Place, path: Path_, rel: str) -> Problem:
    return Problem(
        place,
        f"{rel} is a link to a file outside the lab",
        path=format_path(path),
        hint="homelab reads no file outside the lab: copy the file in instead of linking to it",
    )


def hardware_file_problems(
    doc: Document,
    data: Mapping[str, Any],
    folder: str,
    exists: Callable[[str], bool],
    real_path: Callable[[str], str | None],
) -> list[Problem]:
    """hardware.configuration names a file of the host folder that is there."""
    top = Place(doc.file)
    problems: list[Problem] = []

    def at(path: Path_) -> Place:
        return doc.marks.value(path, top)

    hw = _map(data.get("hardware"))
    conf = hw.get("configuration")
    # (a NUL is reported on its own, and no file name can hold one)
    if isinstance(conf, str) and "\x00" not in conf:
        where: Path_ = ("hardware", "configuration")
        if real_path(f"hosts/{folder}/{conf}") is None:
            problems.append(_leaves_lab(at(where), where, f"hosts/{folder}/{conf}"))
        elif not exists(f"hosts/{folder}/{conf}"):
            problems.append(
                Problem(
                    at(where),
                    f"hosts/{folder}/{conf} does not exist",
                    path="hardware.configuration",
                    hint="copy /etc/nixos/hardware-configuration.nix from the machine "
                    "(homelab adopt does it), or remove this key",
                )
            )
    return problems


def file_problems(
    doc: Document,
    folder: str,
    exists: Callable[[str], bool],
    real_path: Callable[[str], str | None],
) -> Iterator[Problem]:
    """Secrets and home files name files of the lab: never one outside it (a profile
    that looks harmless in review must not send ~/.ssh/id_ed25519 to a machine), and never
    a secret that would travel inside the flake."""
    top = Place(doc.file)
    for name, spec in _map(doc.data.get("secrets")).items():
        src = spec.get("source") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and "source" not in spec and not secretrefs.NAME.fullmatch(name):
            # without a source, the name is the file: encrypted/NAME.age, never another
            yield Problem(
                doc.marks.key(("secrets", name), top),
                f"'{shown(name)}' is not a secret's name",
                path=format_path(("secrets", name)),
                hint=secretrefs.NAME_HINT,
            )
        if not isinstance(src, str) or "\x00" in src:  # a NUL is reported on its own
            continue
        path: Path_ = ("secrets", name, "source")
        place = doc.marks.value(path, top)
        rel = plain_path(src)
        base = posixpath.basename(posixpath.normpath(src))
        moved = f"secrets/{base if base not in ('', '.', '..') else name}"
        if rel is None:
            yield Problem(
                place,
                f"secret source '{shown(src)}' is outside the lab",
                path=format_path(path),
                hint="homelab reads secrets only from inside the lab: "
                f"copy the file into secrets/ and write `source: {moved}`",
            )
        elif rel == ".":
            yield Problem(
                place,
                "a secret's source must name a file",
                path=format_path(path),
                hint=f"e.g. source: secrets/{name}",
            )
        elif (real := real_path(rel)) is None:
            yield _leaves_lab(place, path, rel)
        elif inside := _in_flake(rel) or _in_flake(real):
            link = f"a link to {real}, " if _in_flake(rel) is None else ""
            yield Problem(
                place,
                f"secret source '{shown(src)}' is {link}inside {inside}, which goes to the "
                "machine with the flake and so into its world-readable Nix store",
                path=format_path(path),
                hint=f"move the file into secrets/ and write `source: {moved}`",
            )
        elif not exists(rel):
            yield Problem(
                place,
                f"{rel} does not exist",
                path=format_path(path),
                hint="the source is a file on this computer, relative to the lab",
            )
    host_folder = f"hosts/{folder}"
    for user, spec in _map(doc.data.get("users")).items():
        files = _map(_map(_map(spec).get("home")).get("files"))
        for target, file in files.items():
            src = file.get("source") if isinstance(file, dict) else None
            if not isinstance(src, str) or "\x00" in src:
                continue
            path = ("users", user, "home", "files", target, "source")
            place = doc.marks.value(path, top)
            rel = plain_path(src)
            if rel is None or rel == ".":
                yield Problem(
                    place,
                    f"home file source '{shown(src)}' is not a file in the host folder",
                    path=format_path(path),
                    hint=f"put the file in {host_folder}/ (e.g. {host_folder}/files/) and "
                    "name it relative to that folder, e.g. files/inputrc",
                )
            elif not _NIX_PATH.fullmatch(rel):
                yield Problem(
                    place,
                    f"home file source '{shown(src)}' has characters a Nix path cannot hold",
                    path=format_path(path),
                    hint="rename the file: letters, digits and . _ + - / only",
                )
            elif real_path(f"{host_folder}/{rel}") is None:
                yield _leaves_lab(place, path, f"{host_folder}/{rel}")
