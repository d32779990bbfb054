"""Values checked against the option index before Nix runs: the option exists (else the
closest ones it may be), it is not renamed or removed, and its value has the option's
type. Pure: problems come back as data, placed by the caller.

A value is plain YAML data; a tagged value is a one-key map (`{"!pkg": "hello"}`,
`{"!nix": "..."}`, `{"!force": v}`, `{"!default": v}`), as homelab.profile.options reads
them. What the index cannot check (a `!nix` value, a type recorded as UNCHECKED, a key
of a freeform submodule) is accepted and counted as not checked.
"""

from __future__ import annotations

import re
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
)

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
        if _below_written(self.options, full):
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
        prefix = _show(base)
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
            below = _below_written(self.options, path)
            self.error(
                at,
                f"{_show(path)} is a set of options, not one option",
                f"set one of them, e.g. {_show(_concrete(below[0].path, path))}" if below else "",
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
            new = _concrete(option.renamed_to, full)
            self.out.problems.append(
                OptionError(
                    at,
                    f"{shown} was renamed to {_show(new)}",
                    f"write {_show((*new, *rest))}",
                    key=True,
                    warning=True,
                )
            )
            target = self.options.find((*new, *rest))
            if target is not None and target.option.renamed_to is None:
                written = _concrete(target.option.path, (*new, *rest))
                self.option(target.option, (*new, *rest), target.rest, value, at, _show(written))
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
            self.inside(inner, (*base, NAME), tail, value, at, f"{name}.{_name(head)}")
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
                label = f"{name}.{_name(parts[0])}"
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


def _name(part: str) -> str:
    return part if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_'-]*", part) else f'"{part}"'


def _show(path: Sequence[str]) -> str:
    return ".".join(_name(p) if p not in (NAME, ITEM) else p for p in path)


def _or(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _join(name: str, parts: Sequence[str]) -> str:
    tail = _show(parts)
    return f"{name}.{tail}" if name and tail else name or tail


def _concrete(declared: Sequence[str], written: Sequence[str]) -> tuple[str, ...]:
    """A declared path with its placeholders replaced by the names the person wrote."""
    out = list(declared)
    for i, part in enumerate(declared[: len(written)]):
        if part in (NAME, ITEM) and written[i] not in (NAME, ITEM):
            out[i] = written[i]
    return tuple(out)


# ---- did you mean -------------------------------------------------------------------


def suggestions(options: OptionSet, path: Sequence[str], limit: int = 3) -> list[str]:
    """The options closest to a path that is none: among the options below the longest
    prefix that exists, by edit distance of the remaining names; then options whose last
    names are the path's (a prefix left out). Nothing rather than a list of guesses."""
    path = tuple(path)
    found: list[str] = []

    def add(candidate: Sequence[str]) -> None:
        shown = _show(_concrete(candidate, path))
        if shown not in found and len(found) < limit:
            found.append(shown)

    def same_last_names() -> None:  # `git.enable` for programs.git.enable
        n = len(path)
        for p in sorted((o.path for o in options if o.path[-n:] == path), key=len):
            if len(p) > n:
                add(p)

    first_known = len(path) == 1 or bool(_below_written(options, path[:1]))
    if not first_known:
        same_last_names()  # a prefix left out is likelier than a misspelt first name
    # the longest prefix that holds options, and the closest options below it
    for depth in range(len(path) - 1, -1, -1):
        if found:
            break
        if depth == 0:
            _first_name_mended(options, path, add)
            break
        below = _below_written(options, path[:depth])
        if not below:
            continue
        tail = ".".join(path[depth:])
        scored = []
        for option in below:
            rest = option.path[depth:]
            text = ".".join(rest[: len(path) - depth])
            d = _distance(tail, text, max(2, len(tail) // 4))
            if d is not None:
                scored.append((d, len(rest), option.path))
        best = min((s[0] for s in scored), default=None)
        for d, _, p in sorted(scored):
            if d == best:  # only the closest: a longer list is noise
                add(p[: len(path)] if len(p) > len(path) else p)
        if depth <= 1:
            break
    if first_known and len(found) < limit:
        same_last_names()
    return found


def _first_name_mended(
    options: OptionSet, path: tuple[str, ...], add: Callable[[Sequence[str]], None]
) -> None:
    """A misspelt first name: the closest first names (a few hundred, not every option),
    each with the rest of the path mended below it."""
    firsts = {o.path[0] for o in options}
    scored = [(d, f) for f in firsts if (d := _distance(path[0], f, 2)) is not None]
    best = min((d for d, _ in scored), default=None)
    for d, first in sorted(scored):
        if d != best:
            continue
        mended = (first, *path[1:])
        if len(path) == 1 or options.find(mended) is not None or _below_written(options, mended):
            add(mended)
        else:
            for guess in suggestions(options, mended):
                add(tuple(guess.split(".")))  # shown names: quoted ones stay whole


def _below_written(options: OptionSet, prefix: tuple[str, ...]) -> list[Option]:
    """The options below a written prefix, placeholders matched (the tree holds `<name>`
    where the person wrote a name)."""
    if not prefix:
        return list(options)
    found = options.find(prefix)
    if found is not None and found.rest == ():
        return [o for o in options.below(found.option.path) if o.path != found.option.path]
    direct = options.below(prefix)
    if direct:
        return direct
    for i in range(len(prefix)):
        for holder in (NAME, ITEM):
            swapped = (*prefix[:i], holder, *prefix[i + 1 :])
            if options.below(swapped):
                return _below_written(options, swapped)
    return []


def _distance(a: str, b: str, limit: int) -> int | None:
    """Edit distance with transpositions (optimal string alignment), None above limit."""
    if abs(len(a) - len(b)) > limit:
        return None
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return None
        prev2, prev = prev, cur
    return prev[-1] if prev[-1] <= limit else None


# ---- POSIX regular expressions -------------------------------------------------------

_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": "a-zA-Z0-9_",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r" -~",
    "graph": r"!-~",
}

_CACHE: dict[str, re.Pattern[str] | None] = {}


def posix_regex(pattern: str) -> re.Pattern[str] | None:
    """A strMatching pattern (POSIX extended, as builtins.match reads it) as a Python
    regular expression, or None where the two could read it differently."""
    if pattern not in _CACHE:
        try:
            _CACHE[pattern] = re.compile(_translate(pattern))
        except (re.error, ValueError):
            _CACHE[pattern] = None
    return _CACHE[pattern]


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n or pattern[i + 1].isalnum():
                raise ValueError("an escape POSIX does not define")  # \d, \w: readings differ
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "[":
            end, text = _bracket(pattern, i)
            out.append(text)
            i = end
        elif c == "(" and pattern.startswith("(?", i):
            raise ValueError("(? means nothing in POSIX")
        elif c == "{" and not re.match(r"\{\d+(,\d*)?\}", pattern[i:]):
            out.append(r"\{")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _bracket(pattern: str, start: int) -> tuple[int, str]:
    """A bracket expression from `start` ("[") -> (index after "]", Python's spelling).
    Inside brackets a backslash is a plain character in POSIX."""
    i = start + 1
    out = ["["]
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    first = True
    while i < len(pattern):
        c = pattern[i]
        if c == "]" and not first:
            out.append("]")
            return i + 1, "".join(out)
        if pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            if end < 0:
                raise ValueError("an unclosed class")
            name = pattern[i + 2 : end]
            if name not in _CLASSES:
                raise ValueError(f"the class {name}")
            out.append(_CLASSES[name])
            i = end + 2
        elif pattern.startswith("[=", i) or pattern.startswith("[.", i):
            raise ValueError("collating elements")
        elif c in "\\[]^":
            out.append("\\" + c)
            i += 1
        else:
            out.append(c)
            i += 1
        first = False
    raise ValueError("an unclosed bracket")
