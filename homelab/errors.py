"""Errors as values with a place: file, line, column, the path inside the profile."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True, slots=True)
class Place:
    """Where a value stands: a file and a 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, said so that a person can act on it. A warning
    (homelab.profile.advice) is one homelab cannot be sure of: it never blocks, and is
    kept apart from the errors (HostState.warnings)."""

    place: Place
    message: str
    path: str = ""  # inside the profile, e.g. users.demouser.groups[2]
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.place}: " + (f"{self.path}: " if self.path else "")
        text = where + self.message
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.place.file, self.place.line, self.place.column, self.message)


class InvalidInput(Exception):
    """Raised at the edges when problems stop the work; carries every problem at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=Problem.sort_key))
        super().__init__("\n".join(str(p) for p in self.problems))


class LabFailure(Exception):
    """A failure that is not the user's input: git, SSH, the file system (exit code 1)."""


def format_path(parts: Iterable[str | int]) -> str:
    """users.demouser.groups[2], with keys that are not plain words quoted."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part and all(c.isalnum() or c in "_-" for c in part):
            out += ("." if out else "") + part
        else:
            # a line break in a key would split the one-line message: show it as \n
            shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in part)
            out += ("." if out else "") + '"' + shown.replace('"', '\\"') + '"'
    return out
