"""`modules:` entries (a profile's NixOS modules, a user's home-manager modules): what
an entry names, and where the lists are in a profile.

An entry starting with `./` or `../` is a .nix file of the lab, relative to the file that
names it (a fragment's `./tlp.nix` is in the fragment's folder); anything else is
`INPUT.attr.path`, an attribute of a flake input (`agenix.nixosModules.default`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from typing import Any

from homelab.nix.names import is_identifier
from homelab.yamlfile import Path_

SECTION = "modules"

# inputs every lab's flake has, with or without lab.yaml
BUILT_IN_INPUTS = frozenset({"nixpkgs", "home-manager"})


def is_file_entry(entry: str) -> bool:
    return entry.startswith(("./", "../"))


def attribute_path(entry: str) -> tuple[str, ...] | None:
    """`agenix.nixosModules.default` as its names; None when it is not INPUT.attr.path."""
    parts = tuple(entry.split("."))
    if len(parts) < 2 or not all(is_identifier(p) for p in parts):
        return None
    return parts


def lab_path(entry: str, named_in: str) -> str | None:
    """The lab-relative file a file entry names, written in `named_in` (a lab-relative
    file); None when it climbs out of the lab."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(named_in), entry))
    return None if path == ".." or path.startswith("../") or path.startswith("/") else path


def lists(data: Any) -> Iterator[Path_]:
    """Where a merged profile document has modules: lists: its own, each user's home."""
    if not isinstance(data, dict):
        return
    if SECTION in data:
        yield (SECTION,)
    users = data.get("users")
    for name, user in users.items() if isinstance(users, dict) else ():
        home = user.get("home") if isinstance(user, dict) else None
        if isinstance(home, dict) and SECTION in home:
            yield ("users", name, "home", SECTION)


def is_list_path(path: Path_) -> bool:
    """Is this the path of a modules: list (for the merge, which compares files)?"""
    return path == (SECTION,) or (
        len(path) == 4 and path[0] == "users" and path[2] == "home" and path[3] == SECTION
    )


def files(data: Any, named_in: Callable[[Path_], str]) -> set[str]:
    """The lab-relative module files a merged document names (those inside the lab);
    `named_in(path)` is the file that wrote the value at path."""
    found: set[str] = set()
    for where in lists(data):
        node: Any = data
        for part in where:
            node = node[part]
        for i, entry in enumerate(node if isinstance(node, list) else ()):
            if isinstance(entry, str) and is_file_entry(entry) and "\x00" not in entry:
                path = lab_path(entry, named_in((*where, i)))
                if path is not None:
                    found.add(path)
    return found
