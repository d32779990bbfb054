"""Nix's strMatching patterns (POSIX extended regular expressions, as builtins.match
reads them) as Python regular expressions, where the two read them the same."""

from __future__ import annotations

import re

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
