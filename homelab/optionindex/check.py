"""Values checked against the option index before Nix runs: the option exists (else the
closest ones it may be), it is not renamed or removed, and its value has the option's
type. Pure: problems come back as data, placed by the caller.

A value is plain YAML data; a tagged value is a one-key map (`{"!pkg": "hello"}`,
`{"!nix": "..."}`, `{"!force": v}`, `{"!default": v}`), as homelab.profile.options reads
them. What the index cannot check (a `!nix` value, a type recorded as UNCHECKED, a key
of a freeform submodule) is accepted and counted as not checked.

Over 500 lines on purpose: one walk over the type structure, with the words of its
messages beside it; did-you-mean (suggest.py) and patterns (posix.py) live apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from homelab.optionindex.model import (
    ANYTHING,
    ATTRS,
    BOOL,
    EITHER,
    ENUM,
    FLOAT,
    INT,
    ITEM,
    LIST,
    NAME,
    NULL_OR,
    NUMBER,
    PATH,
    STR,
    SUBMODULE,
    UNCHECKED,
    Option,
    OptionSet,
    OptionType,
    concrete,
    show_name,
    show_path,
)
from homelab.optionindex.posix import posix_regex
from homelab.optionindex.suggest import below_written, suggestions

Part = str | int  # a key of a map, an index of a list, or a tag ("!force")
SplitKey = Callable[[str], tuple[str, ...]]  # a key of a map as option names (may raise)

_TAGS = ("!pkg", "!nix", "!force", "!default")
_NOT_A_VALUE = object()  # check_path: the path alone, no value to check


@dataclass(frozen=True)
class OptionError:
    """One problem: `at` is where it stands below the value given (keys as written, list
    indexes, tags); `key` when it is a key that is wrong (shown at the key, not the value)."""

    at: tuple[Part, ...]
    message: str
    hint: str = ""
    key: bool = False
    warning: bool = False  # it still works (a renamed option): said, never blocking


@dataclass
class Checked:
    """The problems found and how many values were checked or could not be."""

    problems: list[OptionError] = field(default_factory=list)
    checked: int = 0
    unchecked: int = 0

    def add(self, other: Checked) -> None:
        self.problems.extend(other.problems)
        self.checked += other.checked
        self.unchecked += other.unchecked


def tag_of(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in _TAGS:
            return str(key)
    return None


def check(
    options: OptionSet, path: Sequence[str], value: Any, split: SplitKey | None = None
) -> Checked:
    """The problems of `value` given to the option path `path` (concrete names, as the
    person wrote them). `split` reads a key inside a value as option names (dotted keys
    in a list of submodules); without it a key is one name."""
    out = Checked()
    _Checker(options, split or (lambda key: (key,)), out).setting(tuple(path), value, ())
    return out


def check_path(options: OptionSet, path: Sequence[str]) -> Checked:
    """Only whether the path can be set (raw Nix: its values are Nix, not YAML)."""
    return check(options, path, _NOT_A_VALUE)


class _Checker:
    def __init__(self, options: OptionSet, split: SplitKey, out: Checked) -> None:
        self.options = options
        self.split = split
        self.out = out

    def error(self, at: tuple[Part, ...], message: str, hint: str = "", key: bool = False) -> None:
        self.out.problems.append(OptionError(at, message, hint, key))

    # ---- paths ---------------------------------------------------------------------

    def setting(self, path: tuple[str, ...], value: Any, at: tuple[Part, ...]) -> None:
        """A value given to a path below the top (the top is a submodule of options)."""
        self.under((), parts=path, value=value, at=at, freeform=False, name="")

    def under(
        self,
        base: tuple[str, ...],
        parts: tuple[str, ...],
        value: Any,
        at: tuple[Part, ...],
        freeform: bool,
        name: str,
    ) -> None:
        """`parts` set below the submodule whose options are at `base` (index spelling;
        `name`: the same path as the person wrote it, "" at the top)."""
        full = (*base, *parts)
        found = self.options.find(full)
        if found is not None and len(found.option.path) > len(base):
            shown = _join(name, full[len(base) : len(found.option.path)])
            self.option(found.option, full, found.rest, value, at, shown)
            return
        if below_written(self.options, full):
            if value is not _NOT_A_VALUE:
                self.group(full, value, at, name)
            # raw Nix that leads to a set of options: its leaves are read on their own
            return
        if freeform or (base and not self.options.below(base)):
            # a key of a freeform submodule, or of one whose options the index does not
            # hold (home-manager.users.<name> of the NixOS side: they are the home side)
            self.out.unchecked += 1
            return
        shown = _join(name, parts)
        prefix = show_path(base)
        guesses = [
            name + g[len(prefix) :] if base and g.startswith(prefix + ".") else g
            for g in suggestions(self.options, full)
        ]
        hint = f"did you mean {_or(guesses)}?" if guesses else ""
        if base:
            self.error(at, f"{shown} is not an option: {name} has no '{parts[0]}'", hint, True)
        else:
            self.error(at, f"{shown} is not an option", hint, key=True)

    def group(self, path: tuple[str, ...], value: Any, at: tuple[Part, ...], name: str) -> None:
        """A value given whole to a name that holds options, not to one option."""
        tag = tag_of(value)
        if tag == "!nix":
            self.out.unchecked += 1
        elif tag in ("!force", "!default"):
            self.group(path, value[tag], (*at, tag), name)
        elif isinstance(value, dict):
            for key, item in value.items():
                parts = self._split(key)
                if parts is not None:
                    self.under(path, parts, item, (*at, key), False, name)
        else:
            below = below_written(self.options, path)
            self.error(
                at,
                f"{show_path(path)} is a set of options, not one option",
                f"set one of them, e.g. {show_path(concrete(below[0].path, path))}"
                if below
                else "",
                key=True,
            )

    def _split(self, key: Any) -> tuple[str, ...] | None:
        try:
            return self.split(str(key))
        except ValueError:
            return None  # a key that is no option path: reported by the profile's checks

    def option(
        self,
        option: Option,
        full: tuple[str, ...],
        rest: tuple[str, ...],
        value: Any,
        at: tuple[Part, ...],
        shown: str,
    ) -> None:
        """`shown`: the option's path as the person wrote it."""
        if option.removed is not None:
            why = option.removed.strip()
            self.error(
                at,
                f"{shown} was removed" + (f": {why}" if why else ""),
                "remove it from the profile",
                key=True,
            )
            return
        if option.renamed_to is not None:
            new = concrete(option.renamed_to, full)
            self.out.problems.append(
                OptionError(
                    at,
                    f"{shown} was renamed to {show_path(new)}",
                    f"write {show_path((*new, *rest))}",
                    key=True,
                    warning=True,
                )
            )
            target = self.options.find((*new, *rest))
            if target is not None and target.option.renamed_to is None:
                written = concrete(target.option.path, (*new, *rest))
                self.option(
                    target.option, (*new, *rest), target.rest, value, at, show_path(written)
                )
            return
        if option.read_only:
            self.error(at, f"{shown} is read-only: it cannot be set", key=True)
            return
        self.inside(option.type, option.path, rest, value, at, shown)

    def inside(
        self,
        kind: OptionType,
        base: tuple[str, ...],
        rest: tuple[str, ...],
        value: Any,
        at: tuple[Part, ...],
        name: str,
    ) -> None:
        """A value given to `rest`, a path into a value of type `kind` (at index path
        `base`): each name goes one level into the type."""
        if not rest:
            if value is _NOT_A_VALUE:
                self.out.unchecked += 1  # raw Nix: the value is Nix's to check
            else:
                self.value(kind, base, value, at, name)
            return
        head, tail = rest[0], rest[1:]
        k = kind.kind
        if k == NULL_OR:
            self.inside(kind.of[0], base, rest, value, at, name)
        elif k == ATTRS:
            inner = kind.of[0] if kind.of else OptionType(ANYTHING)
            self.inside(inner, (*base, NAME), tail, value, at, f"{name}.{show_name(head)}")
        elif k == SUBMODULE:
            self.under(base, rest, value, at, kind.freeform, name)
        elif k == EITHER:
            for alt in kind.of:
                if _takes_names(alt):
                    self.inside(alt, base, rest, value, at, name)
                    return
            self._no_names(kind, at, name)
        elif k in (ANYTHING, UNCHECKED):
            self.out.unchecked += k == UNCHECKED
            self.out.checked += k == ANYTHING
        else:
            self._no_names(kind, at, name)

    def _no_names(self, kind: OptionType, at: tuple[Part, ...], name: str) -> None:
        self.error(
            at,
            f"{name} takes {_describe(kind)}: it has no names below it",
            f"give {name} its value itself",
            key=True,
        )

    # ---- values --------------------------------------------------------------------

    def value(
        self, kind: OptionType, base: tuple[str, ...], value: Any, at: tuple[Part, ...], name: str
    ) -> None:
        tag = tag_of(value)
        if tag == "!nix":
            self.out.unchecked += 1
            return
        if tag in ("!force", "!default"):
            self.value(kind, base, value[tag], (*at, tag), name)
            return
        wrong = self._wrong(kind, base, value, at, name, tag)
        if wrong is not None:
            self.error(at, f"{name} takes {_describe(kind)}, not {wrong}", _hint(kind, value))

    def _wrong(
        self,
        kind: OptionType,
        base: tuple[str, ...],
        value: Any,
        at: tuple[Part, ...],
        name: str,
        tag: str | None,
    ) -> str | None:
        """What is wrong with the value, in words ("the text 'yes'"), or None when it
        fits (problems further in are added as they are found)."""
        k = kind.kind
        if k == UNCHECKED:
            self.out.unchecked += 1
            return None
        if k == ANYTHING:
            self.out.checked += 1
            return None
        if k == NULL_OR:
            if value is None and tag is None:
                self.out.checked += 1
                return None
            return self._wrong(kind.of[0], base, value, at, name, tag)
        if k == EITHER:
            return self._either(kind, base, value, at, name, tag)
        if tag == "!pkg":
            if k == PATH or (k == ATTRS and not kind.of):
                self.out.checked += 1
                return None  # a package is an attribute set, and a path to its output
            return f"a package (!pkg {value[tag]})"
        if k in (LIST, ATTRS, SUBMODULE):
            return self._container(kind, base, value, at, name)
        self.out.checked += 1
        shown = _shown(value)
        if k == BOOL:
            return None if isinstance(value, bool) else shown
        if k in (INT, NUMBER, FLOAT):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return shown
            if k == INT and not isinstance(value, int):
                return shown
            if k == FLOAT and not isinstance(value, float):
                return shown
            if (kind.low is not None and value < kind.low) or (
                kind.high is not None and value > kind.high
            ):
                return f"{value}, which is out of range"
            return None
        if k == STR:
            if not isinstance(value, str):
                return shown
            if kind.pattern is not None:
                regex = posix_regex(kind.pattern)
                if regex is None:
                    self.out.checked -= 1
                    self.out.unchecked += 1
                    return None
                if regex.fullmatch(value) is None:
                    return f"{shown}, which does not match {kind.pattern}"
            return None
        if k == PATH:
            if isinstance(value, str) and value.startswith("/"):
                return None
            return f"{shown}, which is not an absolute path" if isinstance(value, str) else shown
        if k == ENUM:
            if any(_same(value, v) for v in kind.values):
                return None
            return shown
        self.out.checked -= 1
        self.out.unchecked += 1  # a kind this checker does not know: accepted
        return None

    def _either(
        self,
        kind: OptionType,
        base: tuple[str, ...],
        value: Any,
        at: tuple[Part, ...],
        name: str,
        tag: str | None,
    ) -> str | None:
        for alt in kind.of:
            trial = Checked()
            wrong = _Checker(self.options, self.split, trial)._wrong(
                alt, base, value, at, name, tag
            )
            if wrong is None and not [p for p in trial.problems if not p.warning]:
                self.out.add(trial)
                return None
        return f"a package (!pkg {value[tag]})" if tag == "!pkg" else _shown(value)

    def _container(
        self, kind: OptionType, base: tuple[str, ...], value: Any, at: tuple[Part, ...], name: str
    ) -> str | None:
        k = kind.kind
        if k == LIST:
            if not isinstance(value, list):
                return _shown(value)
            item = kind.of[0] if kind.of else OptionType(ANYTHING)
            for i, v in enumerate(value):
                self.value(item, (*base, ITEM), v, (*at, i), f"{name}[{i}]")
            self.out.checked += not value
            return None
        if not isinstance(value, dict) or tag_of(value) is not None:
            return _shown(value)
        if not value:
            self.out.checked += 1
            return None
        for key, item in value.items():
            parts = self._split(key)
            if parts is None:
                continue
            if k == SUBMODULE:
                self.under(base, parts, item, (*at, key), kind.freeform, name)
            else:
                inner = kind.of[0] if kind.of else OptionType(ANYTHING)
                label = f"{name}.{show_name(parts[0])}"
                if len(parts) == 1:
                    self.value(inner, (*base, NAME), item, (*at, key), label)
                else:
                    self.inside(inner, (*base, NAME), parts[1:], item, (*at, key), label)
        return None


# ---- words ----------------------------------------------------------------------------

_KIND_WORDS = {
    BOOL: "true or false",
    INT: "a whole number",
    FLOAT: "a number with a decimal point",
    NUMBER: "a number",
    STR: "text",
    PATH: "an absolute path",
    LIST: "a list",
    ATTRS: "a map of names to values",
    SUBMODULE: "a map of its options",
    NULL_OR: "null or a value",
    ANYTHING: "any value",
    UNCHECKED: "a value homelab cannot check",
}


def _describe(kind: OptionType) -> str:
    k = kind.kind
    if k == ENUM:
        return "one of " + ", ".join(_literal(v) for v in kind.values)
    if k in (INT, NUMBER, FLOAT) and (kind.low is not None or kind.high is not None):
        low = "…" if kind.low is None else str(kind.low)
        high = "…" if kind.high is None else str(kind.high)
        return f"{_KIND_WORDS[k]} from {low} to {high}"
    if k == STR and kind.pattern is not None:
        return f"text matching {kind.pattern}"
    if k == LIST and kind.of:
        return f"a list of {_describe(kind.of[0]).removeprefix('a ').removeprefix('an ')}"
    if k == NULL_OR and kind.of:
        return f"null or {_describe(kind.of[0])}"
    if k == EITHER and kind.of:
        return " or ".join(_describe(alt) for alt in kind.of)
    return _KIND_WORDS.get(k, kind.description or kind.name or k)


def _hint(kind: OptionType, value: Any) -> str:
    k = kind.kind
    if k == NULL_OR and kind.of:
        return _hint(kind.of[0], value)
    if k == BOOL and isinstance(value, str) and value.lower() in ("yes", "no", "on", "off"):
        return f"write {'true' if value.lower() in ('yes', 'on') else 'false'}, without quotes"
    if k == STR and isinstance(value, int | float) and not isinstance(value, bool):
        return f'put it in quotes: "{value}"'
    if k == FLOAT and isinstance(value, int) and not isinstance(value, bool):
        return f"write {value}.0"
    if k in (INT, NUMBER) and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return f"write {value.strip()} without quotes"
    if k == LIST and not isinstance(value, list):
        return "write the value as a list: [ ... ]"
    return ""


def _literal(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:37] + "..."
        return f"the text '{short}'"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if tag_of(value) is not None:
        return f"{tag_of(value)} ..."
    if isinstance(value, dict):
        return "a map"
    return type(value).__name__


def _same(value: Any, member: Any) -> bool:
    # True == 1 in Python; in Nix a bool is never a number
    return (type(value) is type(member) and value == member) or (
        isinstance(value, int | float)
        and isinstance(member, int | float)
        and not isinstance(value, bool)
        and not isinstance(member, bool)
        and value == member
    )


def _takes_names(kind: OptionType) -> bool:
    if kind.kind == NULL_OR and kind.of:
        return _takes_names(kind.of[0])
    return kind.kind in (ATTRS, SUBMODULE, ANYTHING, UNCHECKED)


def _or(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _join(name: str, parts: Sequence[str]) -> str:
    tail = show_path(parts)
    return f"{name}.{tail}" if name and tail else name or tail
