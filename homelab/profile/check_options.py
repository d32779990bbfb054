"""The checks of `options:` sections: keys that are option paths, an option given once,
tags that hold what they say, no plaintext password, no file outside the lab.

`!nix` values are trusted like extraConfig (they run as Nix on the machine), but they are
parsed first, and their path literals may only name files of the lab that are not
secrets: a path literal copies its file into the world-readable Nix store.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from typing import Any

from homelab.errors import Place, Problem, format_path
from homelab.nix.attrs import plaintext_passwords
from homelab.nix.paths import path_literals
from homelab.nix.syntax import check_expression
from homelab.optionindex.check import Checked, check
from homelab.optionindex.model import OptionIndex
from homelab.profile.options import (
    PACKAGE_PATH,
    SECTION,
    NotAnOptionPath,
    Setting,
    key_text,
    parse_key,
    sections,
    settings,
    tag_of,
)
from homelab.yamlfile import TAGS, Document, Path_

_PASSWORDS = ("password", "initialPassword")
_PASSWORD_HINT = "use hashedPassword (make one with `mkpasswd -m yescrypt`) or hashedPasswordFile"


def option_problems(
    doc: Document,
    folder: str,
    real_path: Callable[[str], str | None],
    index: OptionIndex | None = None,
    tally: Checked | None = None,
) -> list[Problem]:
    """The problems of every options section; with the lab's option index, each value is
    also checked against its option (the host's against NixOS, a user's against
    home-manager), and counted in `tally` (checked, or not checkable)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    top = Place(doc.file)
    problems: list[Problem] = []
    for base, section in sections(data):
        found, mistakes = settings(section, base)
        for m in mistakes:
            hint = m.hint
            if m.other is not None:
                here, other = doc.marks.key(m.where, top), doc.marks.key(m.other, top)
                hint += (
                    f" (the other is on line {other.line})"
                    if other.file == here.file
                    else f" (the other is in {other.file}, line {other.line})"
                )
            problems.append(Problem(doc.marks.key(m.where, top), m.message, _shown(m.where), hint))
        nixos = base == (SECTION,)
        for s in found:
            if nixos and s.option[:2] == ("home-manager", "users") and len(s.option) > 2:
                yield_at = doc.marks.key(s.where, top)
                problems.append(
                    Problem(
                        yield_at,
                        f"a user's home-manager options go under users.{s.option[2]}.home.options",
                        _shown(s.where),
                        f"move it there as {key_text(s.option[3:]) or '…'}",
                    )
                )
                continue
            problems.extend(_value_problems(doc, s.value, s.where, folder, real_path))
            if nixos:
                problems.extend(_password_problems(doc, s))
            if index is not None:
                problems.extend(_index_problems(doc, index, s, nixos, tally))
            elif tally is not None:
                tally.unchecked += 1  # one setting no index checked
    return problems


def _index_problems(
    doc: Document, index: OptionIndex, s: Setting, nixos: bool, tally: Checked | None
) -> Iterator[Problem]:
    """What the option index says of one setting, at the key or value it is about."""
    top = Place(doc.file)
    found = check(index.nixos if nixos else index.home, s.option, s.value, parse_key)
    if tally is not None:
        tally.checked += found.checked
        tally.unchecked += found.unchecked
    for e in found.problems:
        where = (*s.where, *e.at)
        place = doc.marks.key(where, top) if e.key else doc.marks.value(where, top)
        yield Problem(place, e.message, _shown(where), e.hint, warning=e.warning)


def _shown(where: Path_) -> str:
    """The path of a value as the person wrote it (the tags are not keys they typed)."""
    return format_path(p for p in where if p not in TAGS)


def _value_problems(
    doc: Document, value: Any, where: Path_, folder: str, real_path: Callable[[str], str | None]
) -> Iterator[Problem]:
    top = Place(doc.file)
    tag = tag_of(value)
    if tag is not None:
        inner = value[tag]
        at = (*where, tag)
        if tag == "!pkg":
            if not isinstance(inner, str) or not PACKAGE_PATH.fullmatch(inner):
                yield Problem(
                    doc.marks.value(at, top),
                    f"!pkg {inner!r} is not a package attribute path",
                    _shown(where),
                    "name a package as nixpkgs does: htop, python3Packages.requests"
                    + (
                        f"; an expression that makes one is !nix: !nix pkgs.{inner.strip()}"
                        if isinstance(inner, str) and "(" in inner and "\n" not in inner
                        else ""
                    ),
                )
        elif tag == "!nix":
            if isinstance(inner, str):
                yield from _nix_problems(doc, inner, where, at, folder, real_path)
        else:
            yield from _value_problems(doc, inner, at, folder, real_path)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*where, key)
            try:
                parse_key(str(key))
            except NotAnOptionPath as err:
                yield Problem(doc.marks.key(here, top), err.message, _shown(here), err.hint)
                continue
            yield from _value_problems(doc, item, here, folder, real_path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _value_problems(doc, item, (*where, i), folder, real_path)


def _nix_problems(
    doc: Document,
    text: str,
    where: Path_,
    at: Path_,
    folder: str,
    real_path: Callable[[str], str | None],
) -> Iterator[Problem]:
    top = Place(doc.file)
    block = doc.marks.blocks.get(at)

    def place(line: int, column: int) -> tuple[Place, str]:
        if block:
            return Place(top.file, block[0] + line - 1, block[1] + column), ""
        return doc.marks.value(at, top), f" (line {line}, column {column} of the text)"

    if not text.strip():
        yield Problem(
            doc.marks.value(at, top),
            "!nix is empty",
            _shown(where),
            "write a Nix expression after it, e.g. !nix pkgs.linuxPackages_latest",
        )
        return
    errors = check_expression(text)
    for e in errors:
        p, in_text = place(e.line, e.column)
        yield Problem(
            p,
            f"!nix value is not one Nix expression{in_text}: {e.message}",
            _shown(where),
            e.hint or "write one expression, e.g. !nix pkgs.linuxPackages_latest",
        )
    if errors:
        return
    if where[:1] == (SECTION,):
        option = _option_of(where)
        # no password without the word: most texts are spared a second parse
        if "assword" in text and option is not None and not _is_password(option):
            # the text as the binding it makes, so that nested sets are read as options
            head = f"{key_text(option)} = "
            for line, column, name in plaintext_passwords(f"{head}{text};"):
                # a binding the head makes itself (`!nix "x"` as the password) is at 1:1
                p, in_text = place(line, max(column - len(head), 1) if line == 1 else column)
                yield Problem(
                    p,
                    f"a plaintext password ({name}) is not allowed{in_text}: "
                    "it would be stored in the world-readable Nix store",
                    _shown(where),
                    _PASSWORD_HINT,
                )
    host = f"hosts/{folder}"
    for lit in path_literals(text) if "/" in text else ():  # every path has a slash
        p, in_text = place(lit.line, lit.column)
        why = _path_problem(host, lit.text, lit.home, lit.interpolated, real_path)
        if why is not None:
            yield Problem(p, f"!nix path {lit.text}{in_text}: {why[0]}", _shown(where), why[1])


def _option_of(where: Path_) -> tuple[str, ...] | None:
    """The option a value of the host's options: section stands for (keys read as paths)."""
    option: list[str] = []
    for part in where[1:]:
        if isinstance(part, int):
            return None  # inside a list: not an option of its own
        if part in TAGS:
            continue
        try:
            option.extend(parse_key(part))
        except NotAnOptionPath:
            return None
    return tuple(option)


def _path_problem(
    host: str, text: str, home: bool, interpolated: bool, real_path: Callable[[str], str | None]
) -> tuple[str, str] | None:
    inside = "name a file of the lab relative to this host's folder, e.g. ./files/x.conf"
    if home:
        return "a file in a home folder of this computer is outside the lab", inside
    if interpolated:
        return "homelab cannot tell where a path with ${...} points", (
            "write the whole path, or the text as a string if the machine should read it"
        )
    if text.startswith("/"):
        return "an absolute path is outside the lab", (
            inside + '; a file that is already on the machine is a string: "/etc/x"'
        )
    rel = posixpath.normpath(posixpath.join(host, text))
    if rel == ".." or rel.startswith("../"):
        return "it climbs out of the lab", inside
    if rel == "secrets" or rel.startswith("secrets/"):
        return "a secret named by a path would be copied into the world-readable Nix store", (
            "give it to the machine with secrets: and name its target as a string"
        )
    if real_path(rel) is None:
        return "it is a link to a file outside the lab", "copy the file in instead of linking to it"
    return None


def _is_password(option: tuple[str, ...]) -> bool:
    return (
        len(option) == 4
        and option[0] == "users"
        and option[1] in ("users", "extraUsers")
        and option[3] in _PASSWORDS
    )


def _password_problems(doc: Document, s: Setting) -> Iterator[Problem]:
    top = Place(doc.file)
    for option, where in _leaves(s.option, s.value, s.where):
        if _is_password(option):
            yield Problem(
                doc.marks.key(where, top),
                f"a plaintext {option[3]} is not allowed: "
                "it would be stored in the world-readable Nix store",
                _shown(where),
                _PASSWORD_HINT,
            )


def _leaves(
    option: tuple[str, ...], value: Any, where: Path_
) -> Iterator[tuple[tuple[str, ...], Path_]]:
    """Each option path under a value (map keys read as option paths), with its place."""
    yield option, where
    tag = tag_of(value)
    if tag in ("!force", "!default"):
        yield from _leaves(option, value[tag], (*where, tag))
    elif tag is None and isinstance(value, dict):
        for key, item in value.items():
            try:
                parts = parse_key(str(key))
            except NotAnOptionPath:
                continue  # reported on its own
            yield from _leaves((*option, *parts), item, (*where, key))
