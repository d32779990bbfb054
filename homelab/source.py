"""Where a lab's files come from: the working tree, a git revision, unsaved edits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class Source(Protocol):
    """Where a lab's files come from: the working tree, a git revision, unsaved edits."""

    def read(self, rel: str) -> str | None:
        """The text of a lab-relative file, or None when there is none."""

    def listdir(self, rel: str) -> list[str]:
        """Names in a lab-relative folder (empty when there is none)."""


def present(source: Source, rel: str) -> bool:
    """Whether the file is there, text or not (a secret may be any bytes; a profile that
    is not UTF-8 is still a host, whose problem is then reported)."""
    try:
        return source.read(rel) is not None
    except UnicodeDecodeError:
        return True


class DiskSource:
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, rel: str) -> str | None:
        try:
            return (self.root / rel).read_bytes().decode("utf-8")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def listdir(self, rel: str) -> list[str]:
        try:
            return sorted(os.listdir(self.root / rel))
        except (FileNotFoundError, NotADirectoryError):
            return []


class Overlay:
    """Unsaved texts on top of another source."""

    def __init__(self, base: Source, texts: dict[str, str]) -> None:
        self.base, self.texts = base, texts

    def read(self, rel: str) -> str | None:
        return self.texts[rel] if rel in self.texts else self.base.read(rel)

    def listdir(self, rel: str) -> list[str]:
        names = set(self.base.listdir(rel))
        prefix = rel.rstrip("/") + "/"
        for path in self.texts:
            if path.startswith(prefix):
                names.add(path[len(prefix) :].split("/", 1)[0])
        return sorted(names)
