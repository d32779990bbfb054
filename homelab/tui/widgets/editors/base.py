"""What every tab of the editor is: a form over part of a profile.

Every editor has the same three duties: `show(own, merged)` puts a host's data on screen
(own: the profile as written; merged: with its includes), `show_problems` puts problems
next to their fields, and `find(path)` brings a problem's field into view for a jump.
Editors never write: they post FieldEdited (and the YAML tab its whole text), and the
screen changes the profile text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widget import Widget

from homelab.errors import Problem
from homelab.tui.labpart import LabNote
from homelab.tui.schema import Path
from homelab.tui.widgets.fields import YamlField
from homelab.tui.widgets.typing import TypingPause

Data = Mapping[str, Any]


class FieldsScroll(VerticalScroll, can_focus=False):
    """The scrolling side of an editor that holds fields: Tab goes from the list straight
    to the first field (a focusable scroll area was a stop that took no typing, where a
    digit switched tabs instead). A focused field scrolls itself into view."""


def as_map(data: Any) -> dict[str, Any]:
    return dict(data) if isinstance(data, Mapping) else {}


class Editor(TypingPause):
    """One tab's content."""

    holds_problems = True  # fields mounted late take theirs from here
    problems: list[Problem] = []  # noqa: RUF012 - replaced per instance
    # the lab's notes beside values its wiring sets, by path (fields mounted late read them)
    lab_notes: Mapping[Path, LabNote] = {}

    def set_problems(self, problems: Sequence[Problem], *, again: bool = False) -> None:
        """Show problems now, or once the editor's widgets exist."""
        problems = list(problems)
        if problems == self.problems and not again and self.is_mounted and self.children:
            return  # the same problems are on screen already
        self.problems = problems
        if self.is_mounted and self.children:
            try:
                self.show_problems(self.problems)
            except NoMatches:
                self.call_after_refresh(self.show_problems, self.problems)

    def show(self, own: Data, merged: Data) -> None:
        raise NotImplementedError

    def show_problems(self, problems: Sequence[Problem]) -> None:
        pass

    def find(self, path: str) -> Widget | None:
        return None

    def pending(self) -> list[Message]:
        """Edits still waiting for a typing pause, taken now (before a save or a switch)."""
        return [m for field in self.query(YamlField) for m in field.pending()]

    @property
    def composed(self) -> bool:
        """Its widgets exist (a held key can ask for edits before they do: there are none)."""
        return bool(self.children)
