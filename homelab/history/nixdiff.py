"""Unified diffs of generated Nix between two versions of a host's files (pure)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping


def unified(old: Mapping[str, str], new: Mapping[str, str], context: int = 3) -> list[str]:
    """`diff -u` of every file in either version, file by file in path order; a file
    only on one side is diffed against nothing (/dev/null)."""
    out: list[str] = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        lines = difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            (after or "").splitlines(keepends=True),
            fromfile=f"a/{path}" if before is not None else "/dev/null",
            tofile=f"b/{path}" if after is not None else "/dev/null",
            n=context,
        )
        for line in lines:
            if not line.endswith("\n"):
                line += "\n\\ No newline at end of file\n"
            out.extend(line.splitlines())
    return out
