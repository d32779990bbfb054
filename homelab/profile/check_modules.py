"""The checks of `modules:` (and each user's `home.modules:`): an input's attribute path
written as one, a module file that stays inside the lab, is there, is not a file homelab
generates, and parses as a NixOS module (its problems at its own line and column).

Module files are trusted like extraConfig: they run as Nix on the machine. They are
parsed before use, never overwritten, uploaded with the host and committed with it."""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from homelab.errors import Place, Problem, format_path
from homelab.nix.attrs import plaintext_passwords
from homelab.nix.syntax import check_module_body
from homelab.profile.check_users import PASSWORD_HINT
from homelab.profile.modules import (
    BUILT_IN_INPUTS,
    attribute_path,
    is_file_entry,
    lab_path,
    lists,
)
from homelab.profile.schema import shown
from homelab.yamlfile import Document, Path_

# The files homelab writes into a host folder and the mark of their header (homelab.compile,
# which this layer may not import; tests/profile/test_modules.py keeps them in step).
GENERATED_NAMES = frozenset(
    {
        "configuration.nix",
        "boot.nix",
        "networking.nix",
        "users.nix",
        "home.nix",
        "services.nix",
        "containers.nix",
        "encrypted-secrets.nix",
        "system.nix",
        "options.nix",
        "extra.nix",
    }
)
HEADER_MARK = "homelab-hash:"

# what a Nix path literal can hold (nix/expr.py NixPath)
_NIX_PATH = re.compile(r"[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*")
_FILE_HINT = "write a module file of the lab relative to this file, e.g. ./tlp.nix"
_MODULE_SHAPE = "a module is `{ config, lib, pkgs, ... }: { ... }` or `{ ... }`"


def module_problems(
    doc: Document,
    folder: str,
    exists: Callable[[str], bool],
    read: Callable[[str], str | None],
    real_path: Callable[[str], str | None],
) -> list[Problem]:
    """Every problem of the modules: lists of one host's merged profile (inputs aside:
    whether an input is in lab.yaml is `input_problems`)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    deploy = data.get("deploy")
    channels = isinstance(deploy, dict) and deploy.get("method") == "channels"
    problems: list[Problem] = []
    checked: set[str] = set()  # a file named twice (by a fragment and a user) is read once
    for where, i, entry in _entries(doc):
        at = (*where, i)
        place = doc.marks.value(at, Place(doc.file))
        path = format_path(at)
        if is_file_entry(entry):
            problems.extend(
                _file_problems(
                    entry, place, path, folder, channels, exists, read, real_path, checked
                )
            )
        else:
            problems.extend(_attribute_problems(entry, place, path, channels))
    return problems


def input_problems(doc: Document, inputs: Iterable[str]) -> list[Problem]:
    """Input entries whose input the lab's flake does not have: `inputs` are the names of
    lab.yaml's inputs (nixpkgs and home-manager are always there). Used when the lab has
    a lab.yaml; without one its hand-kept flake.nix is not read."""
    known = sorted({*inputs, *BUILT_IN_INPUTS})
    problems: list[Problem] = []
    for where, i, entry in _entries(doc):
        parts = None if is_file_entry(entry) else attribute_path(entry)
        if parts is None or parts[0] in known:
            continue
        close = difflib.get_close_matches(parts[0], known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            Problem(
                doc.marks.value((*where, i), Place(doc.file)),
                f"module '{shown(entry)}' names the input '{parts[0]}', which lab.yaml does "
                "not have",
                path=format_path((*where, i)),
                hint=hint
                + f"add it to lab.yaml: `inputs: {{{parts[0]}: {{url: ...}}}}`; inputs now: "
                + ", ".join(known),
            )
        )
    return problems


def _entries(doc: Document) -> Iterator[tuple[Path_, int, str]]:
    """(list path, index, entry) of each text entry (the schema reports the rest)."""
    for where in lists(doc.data):
        node: Any = doc.data
        for part in where:
            node = node[part]
        for i, entry in enumerate(node if isinstance(node, list) else ()):
            # a NUL is reported on its own, and no file or attribute name holds one
            if isinstance(entry, str) and entry and "\x00" not in entry:
                yield where, i, entry


def _attribute_problems(entry: str, place: Place, path: str, channels: bool) -> Iterator[Problem]:
    text = shown(entry)
    if entry.startswith(("/", "~")):
        yield Problem(
            place,
            f"module '{text}' is outside the lab",
            path=path,
            hint="copy the file into the lab (beside the profile, or in hosts/common/) and "
            f"name it relative to this file, e.g. ./{posixpath.basename(entry) or 'x.nix'}",
        )
    elif entry.endswith(".nix"):
        yield Problem(
            place,
            f"module '{text}' reads as an attribute of a flake input, not as a file",
            path=path,
            hint=f"a file is written with ./ in front: ./{entry}",
        )
    elif attribute_path(entry) is None:
        yield Problem(
            place,
            f"module '{text}' is neither a file (./name.nix) nor an attribute of a flake "
            "input (INPUT.attr.path)",
            path=path,
            hint="e.g. agenix.nixosModules.default: Nix names (letters, digits, _ ' -) "
            "joined by dots; or ./tlp.nix for a file beside this one",
        )
    elif channels:
        yield Problem(
            place,
            f"module '{text}' comes from a flake input, and this host deploys with channels, "
            "which has none",
            path=path,
            hint="set deploy.method: flake (the default), or use a module file of the host",
        )


def _file_problems(
    entry: str,
    place: Place,
    path: str,
    folder: str,
    channels: bool,
    exists: Callable[[str], bool],
    read: Callable[[str], str | None],
    real_path: Callable[[str], str | None],
    checked: set[str],
) -> Iterator[Problem]:
    text = shown(entry)
    rel = lab_path(entry, place.file)
    host = f"hosts/{folder}"

    def problem(message: str, hint: str) -> Problem:
        return Problem(place, f"module '{text}': {message}", path=path, hint=hint)

    if rel is None:
        yield problem("it climbs out of the lab", _FILE_HINT)
        return
    if rel == "secrets" or rel.startswith("secrets/"):
        yield problem(
            f"{rel} is under secrets/, which never goes into the flake",
            "a module is configuration, not a secret: keep it beside the profile",
        )
        return
    if not rel.endswith(".nix"):
        yield problem(f"{rel} is not a .nix file", _FILE_HINT)
        return
    if not _NIX_PATH.fullmatch(rel):
        yield problem(
            f"{rel} has characters a Nix path cannot hold",
            "rename the file: letters, digits and . _ + - / only",
        )
        return
    if channels and not rel.startswith(f"{host}/"):
        yield problem(
            f"{rel} is outside the host folder, and this host deploys with channels, which "
            f"sends only {host}/",
            f"move the file into {host}/, or set deploy.method: flake (the default)",
        )
        return
    if posixpath.dirname(rel) == host and posixpath.basename(rel) in GENERATED_NAMES:
        yield problem(
            f"{rel} is a file homelab generates, and a build would write over it",
            "rename the module file, e.g. " + rel.removesuffix(".nix") + "-extra.nix",
        )
        return
    real = real_path(rel)
    if real is None:
        yield problem(
            f"{rel} is a link to a file outside the lab",
            "homelab reads no file outside the lab: copy the file in instead of linking to it",
        )
        return
    if real == "secrets" or real.startswith("secrets/"):
        yield problem(
            f"{rel} is a link into secrets/, which never goes into the flake",
            "a module is configuration, not a secret: put the file itself beside the profile",
        )
        return
    if not exists(rel):
        yield problem(
            f"{rel} does not exist",
            "write the module there, or correct the name (relative to the file that names "
            "it: a fragment's modules are beside the fragment)",
        )
        return
    if rel in checked:
        return
    checked.add(rel)
    source = read(rel)
    if source is None:
        yield problem(f"{rel} cannot be read as text", "save the file as UTF-8 text")
        return
    yield from _text_problems(rel, source, path)


def _text_problems(rel: str, source: str, path: str) -> Iterator[Problem]:
    """A module file's own problems, at its own lines and columns."""
    if any(HEADER_MARK in line for line in source.split("\n", 6)[:6]):
        yield Problem(
            Place(rel, 1, 1),
            "this module file carries homelab's generated-file header, so a build would "
            "take it for its own and delete it",
            path=path,
            hint=f"remove the header comment from {rel}: a module file is yours",
        )
        return
    if not source.strip():
        yield Problem(Place(rel), "module file is empty", path=path, hint=_MODULE_SHAPE)
        return
    kind, errors = check_module_body(source)
    for e in errors:
        yield Problem(
            Place(rel, e.line, e.column),
            f"module file is not valid Nix: {e.message}",
            path=path,
            hint=e.hint or _MODULE_SHAPE,
        )
    if errors:
        return
    if kind == "bindings":
        yield Problem(
            Place(rel, 1, 1),
            "module file holds option bindings, not a whole module",
            path=path,
            hint="wrap them: { config, lib, pkgs, ... }: { <the bindings> }",
        )
        return
    if path.startswith("modules"):  # a NixOS module (home-manager has no users.users)
        for line, column, option in plaintext_passwords(source, kind):
            yield Problem(
                Place(rel, line, column),
                f"a plaintext password in {option} is not allowed: it would be stored in "
                "the world-readable Nix store",
                path=path,
                hint=PASSWORD_HINT,
            )
