"""`options:`: any NixOS option (and, under `users.NAME.home.options:`, any home-manager
option) written as YAML.

A key is an option path written as Nix writes one: names separated by dots, a name that
is not a Nix identifier in double quotes (`fileSystems."/srv/media".device`,
`networking.hosts."10.0.0.2"`). Every key is read that way, at every depth, so a map
nested under a key means the same as the dotted keys (`services: {fwupd: {enable: true}}`
is `services.fwupd.enable: true`). A name with a dot or a slash that is not in quotes
cannot be read two ways: it is refused, with the quoted spelling as the hint.

Values are YAML values, rendered like everything else (a string is always a string);
four tags say more (yamlfile.TAGS, read as a one-key map {tag: value}):

- `!pkg NAME`: the package `pkgs.NAME`;
- `!nix EXPR`: a Nix expression, trusted like extraConfig (parsed before use);
- `!force VALUE` / `!default VALUE`: the value at `lib.mkForce` / `lib.mkDefault`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from homelab.nix.expr import NixValue, NixValueError, Pkg, Raw, mk_default, mk_force
from homelab.nix.names import is_identifier
from homelab.yamlfile import TAGS, Path_

SECTION = "options"

PACKAGE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*")


def tags_allowed(path: Path_) -> bool:
    """Where a profile may tag values: under options: and users.NAME.home.options:."""
    return bool(path) and (
        path[0] == SECTION
        or (len(path) >= 4 and path[0] == "users" and path[2] == "home" and path[3] == SECTION)
    )


class NotAnOptionPath(ValueError):
    """A key that is not an option path; `hint` says how to write it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def quote_part(name: str) -> str:
    """One name of an option path as written in a key: quoted unless an identifier."""
    return name if is_identifier(name) else f'"{name}"'


def key_text(parts: tuple[str, ...] | list[str]) -> str:
    """The key that reads back as these names."""
    return ".".join(quote_part(p) for p in parts)


@functools.lru_cache(maxsize=4096)  # the same keys come back in every host of a lab
def parse_key(text: str) -> tuple[str, ...]:
    """'fileSystems."/srv/media".device' -> ('fileSystems', '/srv/media', 'device')."""
    if not isinstance(text, str) or not text:
        raise NotAnOptionPath("an empty key is not an option path", "name an option")
    parts: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise NotAnOptionPath(
                    f"the quote in '{text}' is never closed", 'close the name with a "'
                )
            name = text[i + 1 : end]
            if "\\" in name or "${" in name:
                raise NotAnOptionPath(
                    f"a quoted name cannot hold \\ or ${{ (in '{text}')",
                    "option names never need them: write the name as it is",
                )
            parts.append(name)
            i = end + 1
            if i < n and text[i] != ".":
                raise NotAnOptionPath(
                    f"'{text}': a quoted name must be followed by a dot or end the key",
                    'separate names with dots: a."b.c".d',
                )
        else:
            end = text.find(".", i)
            end = n if end < 0 else end
            name = text[i:end]
            if '"' in name:
                raise NotAnOptionPath(
                    f"'{text}': a quote may only start a name",
                    f'quote the whole name: "{name.replace(chr(34), "")}"',
                )
            if not is_identifier(name):
                raise NotAnOptionPath(*_unquoted(text, name))
            parts.append(name)
            i = end
        if i >= n:
            return tuple(parts)
        i += 1  # the dot
        if i >= n:
            raise NotAnOptionPath(f"'{text}' ends with a dot", "remove the last dot")


def _unquoted(text: str, name: str) -> tuple[str, str]:
    if not name:
        return f"'{text}' has an empty name (two dots, or a dot at the start)", "remove a dot"
    start = text.find(name)
    prefix = text[:start]
    guess = f'{prefix}"{text[start:]}"'
    return (
        f"'{text}' cannot be read as an option path: '{name}' is not a Nix name, and a "
        "name with dots or slashes is ambiguous without quotes",
        f"put such a name in double quotes, e.g. {guess}",
    )


def tag_of(value: Any) -> str | None:
    """The tag of a tagged value ({tag: value}), None for any other value."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in TAGS:
            return str(key)
    return None


@dataclass(frozen=True)
class Setting:
    """One option the person set: the option's names, the YAML value (tags as {tag: v})
    and where the value stands in the profile document."""

    option: tuple[str, ...]
    value: Any
    where: Path_

    @property
    def name(self) -> str:
        return key_text(self.option)


@dataclass(frozen=True)
class OptionProblem:
    """A mistake in an options section, at a path of the document."""

    where: Path_
    message: str
    hint: str
    other: Path_ | None = None  # the other place, for "set twice"


def settings(section: Any, base: Path_) -> tuple[list[Setting], list[OptionProblem]]:
    """The settings of one options section (at `base` in the document), flattened to one
    per option, and the problems of its keys (unreadable, or an option given twice)."""
    found: list[Setting] = []
    problems: list[OptionProblem] = []
    if not isinstance(section, dict):
        return found, problems
    _flatten(section, (), base, found, problems)
    problems.extend(_collisions(found))
    return found, problems


def sections(data: dict[str, Any]) -> Iterator[tuple[Path_, Any]]:
    """Each options section of a profile document: the host's, then each user's."""
    if SECTION in data:
        yield (SECTION,), data[SECTION]
    users = data.get("users")
    for name, spec in (users or {}).items() if isinstance(users, dict) else ():
        home = spec.get("home") if isinstance(spec, dict) else None
        if isinstance(home, dict) and SECTION in home:
            yield ("users", name, "home", SECTION), home[SECTION]


def overruled(section: Any, base: Path_, mine: Callable[[Path_], bool]) -> list[Path_]:
    """The values of a merged options section that the profile overrules: a fragment's
    option that the profile itself (`mine(path)`) sets again in another spelling
    (`services.x.enable` under `services: {x: ...}`). The merge of includes gives the
    including file the last word on a single value; spelled alike, it already did."""
    found, problems = settings(section, base)
    by_path = {s.where: s for s in found}
    losers: list[Path_] = []
    for m in problems:
        if m.other is None or m.other not in by_path or m.where not in by_path:
            continue
        a, b = by_path[m.where], by_path[m.other]
        if mine(a.where) != mine(b.where):
            loser = b if mine(a.where) else a
            # a whole value beside a part of it: the fragment's side goes, whichever it is
            losers.append(loser.where)
    return losers


def _flatten(
    node: Mapping[str, Any],
    prefix: tuple[str, ...],
    where: Path_,
    out: list[Setting],
    problems: list[OptionProblem],
) -> None:
    for key, value in node.items():
        here = (*where, key)
        try:
            parts = parse_key(str(key))
        except NotAnOptionPath as err:
            problems.append(OptionProblem(here, err.message, err.hint))
            continue
        option = (*prefix, *parts)
        if isinstance(value, dict) and value and tag_of(value) is None:
            _flatten(value, option, here, out, problems)
        else:
            out.append(Setting(option, value, here))


def _collisions(found: list[Setting]) -> Iterator[OptionProblem]:
    seen: dict[tuple[str, ...], Setting] = {}
    under: dict[tuple[str, ...], Setting] = {}  # each proper prefix of a seen option -> one
    for s in found:
        for depth in range(1, len(s.option) + 1):
            earlier = seen.get(s.option[:depth])
            if earlier is None:
                continue
            if depth == len(s.option):
                what = f"{s.name} is set twice"
            else:
                what = f"{s.name} is part of {earlier.name}, which is given a whole value"
            yield OptionProblem(s.where, what, "keep one of the two", earlier.where)
            break
        else:
            other = under.get(s.option)
            if other is not None:
                yield OptionProblem(
                    s.where,
                    f"{s.name} is given a whole value, but {other.name} sets a part of it",
                    "keep one of the two",
                    other.where,
                )
            seen[s.option] = s
            for depth in range(1, len(s.option)):
                under.setdefault(s.option[:depth], s)


# ---- values ---------------------------------------------------------------------------


def nix_value(value: Any) -> NixValue:
    """A YAML value of an options section as a Nix value (raises NixValueError)."""
    tag = tag_of(value)
    if tag is not None:
        inner = value[tag]
        if tag == "!pkg":
            if not isinstance(inner, str) or not PACKAGE_PATH.fullmatch(inner):
                raise NixValueError(f"!pkg {inner!r} is not a package attribute path")
            return Pkg(inner)
        if tag == "!nix":
            if not isinstance(inner, str):
                raise NixValueError("!nix takes a Nix expression as text")
            return Raw(inner.strip())
        wrap = mk_force if tag == "!force" else mk_default
        return wrap(nix_value(inner))
    if isinstance(value, dict):
        return tree({parse_key(str(k)): nix_value(v) for k, v in value.items()})
    if isinstance(value, list):
        return [nix_value(v) for v in value]
    return value  # type: ignore[no-any-return]


def tree(entries: Mapping[tuple[str, ...], NixValue]) -> dict[str, Any]:
    """{('a','b'): 1, ('a','c'): 2} -> {'a': {'b': 1, 'c': 2}} (the renderer writes it
    back as dotted paths); callers have refused collisions first."""
    out: dict[str, Any] = {}
    for option, value in entries.items():
        node = out
        for part in option[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise NixValueError(f"{key_text(option)} is part of a value given whole")
            node = nxt
        if option[-1] in node:
            raise NixValueError(f"{key_text(option)} is set twice")
        node[option[-1]] = value
    return out


def module_tree(found: list[Setting] | tuple[Setting, ...]) -> dict[str, Any]:
    """The settings as one attribute set of a module."""
    return tree({s.option: nix_value(s.value) for s in found})
