"""The option index as a model: every option of the lab's pinned nixpkgs (NixOS) and
home-manager, with its type as data homelab can check values against.

Pure and frozen. Paths keep lib's placeholders: `<name>` for a key of an `attrsOf`
submodule, `*` for an item of a `listOf` submodule (as `option.loc` spells them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

NAME = "<name>"  # any key of an attribute set of submodules
ITEM = "*"  # any item of a list of submodules
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")

# kinds of OptionType: what the checker knows how to check
BOOL = "bool"
INT = "int"  # low/high when bounded (ints.between, port, ints.u16 ...)
FLOAT = "float"
NUMBER = "number"  # int or float
STR = "str"  # pattern when strMatching; lines/commas/separatedString are str too
PATH = "path"
ENUM = "enum"  # values
LIST = "list"  # of[0]: the item type
ATTRS = "attrs"  # of[0]: the value type (attrsOf, lazyAttrsOf); none: any attribute set
SUBMODULE = "submodule"  # its options are in the index under the option's path
NULL_OR = "nullOr"  # of[0]
EITHER = "either"  # of: the alternatives (either, oneOf)
ANYTHING = "anything"  # anything, raw, unspecified, attrs of anything: always accepted
UNCHECKED = "unchecked"  # functionTo, package, custom checks: accepted, counted as not checked


@dataclass(frozen=True)
class OptionType:
    kind: str  # one of the kinds above
    name: str = ""  # lib's type name: "unsignedInt16", "strMatching", "listOf" ...
    description: str = ""  # lib's words: "16 bit unsigned integer; between 0 and 65535 ..."
    values: tuple[str | int | float | bool | None, ...] = ()  # enum members
    low: int | None = None
    high: int | None = None
    pattern: str | None = None  # strMatching: a POSIX extended regular expression
    of: tuple[OptionType, ...] = ()
    freeform: bool = False  # a submodule that takes keys it does not declare


@dataclass(frozen=True)
class Option:
    path: tuple[str, ...]
    type: OptionType
    description: str = ""
    default: str | None = None  # as Nix text (lib's defaultText or the value shown), None: none
    example: str | None = None
    declared_in: tuple[str, ...] = ()  # "nixos/modules/services/x.nix", relative to its source
    renamed_to: tuple[str, ...] | None = None  # mkRenamedOptionModule / mkAliasOptionModule
    removed: str | None = None  # mkRemovedOptionModule: why, or "" when it gives no reason
    read_only: bool = False

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Found:
    """A path looked up: the option it falls under and the parts below it (into the
    option's value, e.g. the host name under `networking.hosts`)."""

    option: Option
    rest: tuple[str, ...] = ()


@dataclass(frozen=True)
class OptionSet:
    """The options of one module system (NixOS, or home-manager's per-user options)."""

    options: Mapping[tuple[str, ...], Option]
    _tree: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for path in self.options:
            node = self._tree
            for part in path:
                node = node.setdefault(part, {})  # type: ignore[assignment]
            node[""] = path  # "" cannot be an option name: marks an option here

    def __len__(self) -> int:
        return len(self.options)

    def __iter__(self) -> Iterator[Option]:
        return iter(self.options.values())

    def get(self, path: Sequence[str]) -> Option | None:
        """The option declared at exactly this path (placeholders as written)."""
        return self.options.get(tuple(path))

    def find(self, path: Sequence[str]) -> Found | None:
        """The option a concrete path sets, matching `<name>` and `*` placeholders, or
        None when no option is on the way. The longest declared match wins."""
        return self._find(self._tree, tuple(path), 0)

    def _find(self, node: Mapping[str, object], path: tuple[str, ...], i: int) -> Found | None:
        best: Found | None = None
        here = node.get("")
        if isinstance(here, tuple):
            best = Found(self.options[here], path[i:])
        if i == len(path):
            return best
        for key in (path[i], NAME, ITEM):
            child = node.get(key)
            if isinstance(child, dict):
                found = self._find(child, path, i + 1)
                if found is not None and (best is None or len(found.rest) < len(best.rest)):
                    best = found
        return best

    def below(self, path: Sequence[str]) -> list[Option]:
        """The options declared under a path (a submodule's), for forms and completion."""
        node: object = self._tree
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return []
            node = node[part]
        out: list[Option] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, dict):
                for key, child in current.items():
                    if key == "" and isinstance(child, tuple):
                        out.append(self.options[child])
                    else:
                        stack.append(child)
        return sorted(out, key=lambda o: o.path)


@dataclass(frozen=True)
class OptionIndex:
    """The index of one pinned (nixpkgs, home-manager) pair."""

    nixpkgs: str  # the revision (or reference) the NixOS options come from
    home_manager: str
    nixos: OptionSet
    home: OptionSet  # a user's home-manager options (home-manager.users.<name>)
    made_with: str = ""  # the imported modules also indexed, e.g. "agenix.nixosModules.default"


def show_path(path: Sequence[str]) -> str:
    """A path as Nix spells it: names that are not identifiers in quotes, placeholders
    as they are."""
    return ".".join(p if p in (NAME, ITEM) else show_name(p) for p in path)


def show_name(name: str) -> str:
    """One name of a path: in quotes unless a Nix identifier."""
    return name if _IDENTIFIER.fullmatch(name) else f'"{name}"'


def concrete(declared: Sequence[str], written: Sequence[str]) -> tuple[str, ...]:
    """A declared path with its placeholders replaced by the names the person wrote."""
    out = list(declared)
    for i, part in enumerate(declared[: len(written)]):
        if part in (NAME, ITEM) and written[i] not in (NAME, ITEM):
            out[i] = written[i]
    return tuple(out)
