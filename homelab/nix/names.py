"""Nix names: which words can be written bare, as identifiers and attribute names.

Shared by the values (expr) and the syntax check (syntax), which must agree on it."""

from __future__ import annotations

import re

#: Words that cannot be a bare identifier or attribute name.  ``__curPos`` is a token of its
#: own in Nix (it evaluates to the current position), so it is treated as a keyword too.
KEYWORDS = frozenset(
    {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or", "__curPos"}
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")


def is_identifier(name: str) -> bool:
    """True when `name` can be written bare: a Nix identifier that is not a keyword."""
    return _IDENTIFIER.fullmatch(name) is not None and name not in KEYWORDS
