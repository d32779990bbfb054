"""Messages of the whole editor: the edit every form and editor asks for.

Messages that one widget sends live on that widget (`EntryList.Act`, `ProblemsPanel.Jump`,
`YamlEditor.TextReplaced`); this one is sent by fields and editors alike, and the main
screen writes it into the profile text.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

from homelab.tui.schema import Path


class FieldEdited(Message):
    """A person changed a value: set it at path, or remove it (back to inherited/default)."""

    def __init__(self, path: Path, value: Any = None, *, remove: bool = False) -> None:
        super().__init__()
        self.path, self.value, self.remove = path, value, remove


class EditAfterYes(Message):
    """An edit that asks the person first (removing a user and all its settings): the
    screen shows the question, and makes the edit only on the answer `yes`."""

    def __init__(self, title: str, text: str, yes: tuple[str, str], edit: FieldEdited) -> None:
        super().__init__()
        self.title, self.text, self.edit = title, text, edit
        self.yes = yes  # (button label, answer)
