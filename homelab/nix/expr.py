"""Nix values: the only things the renderer turns into Nix text.

A Nix value (`NixValue`) is one of

- Python ``str``, ``int``, ``bool``, ``float``, ``None``: a Nix string, integer, bool,
  float or ``null``;
- a ``list`` or ``tuple`` (any ``Sequence`` but ``str``/``bytes``) of values: a Nix list;
- a ``dict[str, NixValue]`` (any ``Mapping``): an attribute set.  Every key is ONE
  attribute name, never parsed: the key ``"a.b"`` is the attribute named ``a.b``
  (written ``"a.b"``);
- the frozen dataclasses below: package and variable references, path literals, ``<...>``
  search paths, function applications, user-written raw Nix, comments, blocks, modules and
  ``let`` expressions.

Constructors check their arguments and raise `NixValueError`, so a value that exists can be
rendered (the renderer still refuses what only shows at render time: NUL characters,
NaN, integers beyond 64 bits, subnormal floats).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from homelab.nix.names import is_identifier as is_identifier


class NixValueError(ValueError):
    """A value that cannot be written as Nix (bad name, bad path, NUL character, NaN...)."""


_PATH_CHARS = re.compile(r"[A-Za-z0-9._+/-]+")
_SEARCH_PATH = re.compile(r"[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*")


def _check_dotted(kind: str, name: str) -> None:
    if not isinstance(name, str):
        raise NixValueError(f"{kind} name must be a string, not {type(name).__name__}")
    parts = name.split(".")
    for part in parts:
        if not is_identifier(part):
            raise NixValueError(
                f"{kind} {name!r}: {part!r} is not a Nix identifier"
                " (letters, digits, _, ' and -, not starting with a digit, not a keyword)"
            )


@dataclass(frozen=True)
class Pkg:
    """``pkgs.<attr>``: ``Pkg("python3Packages.requests")``, ``Pkg("nerd-fonts.fira-code")``."""

    attr: str

    def __post_init__(self) -> None:
        _check_dotted("package", self.attr)


@dataclass(frozen=True)
class Ref:
    """A variable or a selection from one: ``Ref("config.services.docker.enable")``."""

    name: str

    def __post_init__(self) -> None:
        _check_dotted("reference", self.name)


@dataclass(frozen=True)
class NixPath:
    """A path literal: ``./hardware-configuration.nix``, ``../x.nix``, ``/etc/nixos/x.nix``.

    Only ``[A-Za-z0-9._+/-]`` characters, starting with ``./``, ``../`` or ``/``, no ``//``,
    no trailing ``/``: exactly the paths Nix reads as one path token.
    """

    path: str

    def __post_init__(self) -> None:
        p = self.path
        if not isinstance(p, str):
            raise NixValueError(f"path must be a string, not {type(p).__name__}")
        if not p.startswith(("./", "../", "/")):
            raise NixValueError(f"path {p!r} must start with ./, ../ or /")
        if not _PATH_CHARS.fullmatch(p):
            raise NixValueError(f"path {p!r} may only contain letters, digits and . _ + - /")
        if "//" in p or p.endswith("/"):
            raise NixValueError(f"path {p!r} has an empty segment or a trailing /")


@dataclass(frozen=True)
class SearchPath:
    """A search path lookup ``<path>``, e.g. ``SearchPath("home-manager/nixos")``.

    Segments of ``[A-Za-z0-9._+-]`` separated by single ``/``: what Nix reads as ``<...>``.
    """

    path: str

    def __post_init__(self) -> None:
        p = self.path
        if not isinstance(p, str) or not _SEARCH_PATH.fullmatch(p):
            raise NixValueError(
                f"search path {p!r} must be segments of letters, digits and . _ + - separated by /"
            )


@dataclass(frozen=True)
class Apply:
    """Function application ``fn arg1 arg2``; arguments are parenthesised when needed."""

    fn: Ref
    args: tuple[NixValue, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.fn, Ref):
            raise NixValueError(f"the function of an application must be a Ref, not {self.fn!r}")
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))


@dataclass(frozen=True)
class Raw:
    """A Nix expression written by a user, emitted as is (re-indented when multi-line).

    The text must parse as exactly one Nix expression (checked here with tree-sitter-nix,
    `NixValueError` otherwise), so it cannot close the surrounding set or add bindings.
    """

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise NixValueError(f"raw Nix must be a string, not {type(self.text).__name__}")
        # deferred: the parser costs ~35 ms to import, and most commands never make Raw
        from homelab.nix.syntax import check_expression

        errors = check_expression(self.text)
        if errors:
            e = errors[0]
            raise NixValueError(f"raw Nix does not parse: {e.line}:{e.column}: {e.message}")


@dataclass(frozen=True)
class Comment:
    """`value`, with a ``# text`` line above its binding when it is the value of an attribute.

    Newlines and other control characters in `text` become spaces.  Anywhere else (in a
    list, as an argument, at the top) the comment is dropped and only the value is written.
    """

    value: NixValue
    text: str


@dataclass(frozen=True)
class Block:
    """An attribute set always written as its own ``name = { ... };`` block.

    Other sets are written as dotted paths down to their values, so a set gaining or losing
    an attribute never moves its siblings; a Block marks a thing worth a block of its own
    (a user, a service, a file system), whatever it holds.
    """

    value: Mapping[str, NixValue]

    def __post_init__(self) -> None:
        if type(self.value) is not dict and not isinstance(self.value, Mapping):
            raise NixValueError(f"a block holds an attribute set, not {type(self.value).__name__}")


@dataclass(frozen=True)
class Module:
    """``{ config, lib, pkgs, ... }:`` then `body`; with no args just `body`."""

    args: tuple[str, ...]
    body: NixValue

    def __post_init__(self) -> None:
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))
        seen: set[str] = set()
        for arg in self.args:
            if not isinstance(arg, str) or not is_identifier(arg):
                raise NixValueError(f"module argument {arg!r} is not a Nix identifier")
            if arg in seen:
                raise NixValueError(f"module argument {arg!r} is given twice")
            seen.add(arg)


@dataclass(frozen=True)
class Let:
    """``let <bindings> in <body>``; binding names are identifiers."""

    bindings: Mapping[str, NixValue] = field(default_factory=dict)
    body: NixValue = None

    def __post_init__(self) -> None:
        for name in self.bindings:
            if not isinstance(name, str) or not is_identifier(name):
                raise NixValueError(f"let binding {name!r} is not a Nix identifier")


NixValue: TypeAlias = (
    str
    | int
    | float
    | bool
    | Pkg
    | Ref
    | NixPath
    | SearchPath
    | Apply
    | Raw
    | Comment
    | Block
    | Module
    | Let
    | Sequence["NixValue"]
    | Mapping[str, "NixValue"]
    | None
)


def mk_default(value: NixValue) -> Apply:
    """``lib.mkDefault value``."""
    return Apply(Ref("lib.mkDefault"), (value,))


def mk_force(value: NixValue) -> Apply:
    """``lib.mkForce value``."""
    return Apply(Ref("lib.mkForce"), (value,))


def mk_if(condition: NixValue, value: NixValue) -> Apply:
    """``lib.mkIf condition value``."""
    return Apply(Ref("lib.mkIf"), (condition, value))
