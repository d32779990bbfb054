"""The list/detail editor: names in a list, the highlighted one's form beside it.

Users, containers, services and a user's home-manager programs are all edited this way.
The base owns what they share: moving along the list takes the edits still typed into the
form and shows the next one; enter goes into the form; the list's keys (add, rename,
remove, enable/disable) and the name typed under it arrive as one call each; a problem
goes next to its field in the form of the entry it is about, and a jump to it selects
that entry first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from textual import on
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets.option_list import OptionDoesNotExist

from homelab.errors import Problem, format_path
from homelab.tui.schema import Path
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors.base import Editor
from homelab.tui.widgets.lists import MarkedList


class EntryList(MarkedList):
    """The list of a list/detail editor; its subclasses choose which keys it has, each
    bound to `act('add')`, `act('rename')`, `act('remove')` or `act('toggle')`."""

    filterable = False  # a list that re-highlights by position after edits has none

    class Act(Message):
        """A key of the list: add, rename, remove or toggle (enable/disable)."""

        def __init__(self, what: str, entries: EntryList) -> None:
            super().__init__()
            self.what, self.entries = what, entries

        @property
        def control(self) -> EntryList:
            return self.entries

    def action_act(self, what: str) -> None:
        self.post_message(self.Act(what, self))


class ListDetail(Editor):
    """A list of names (an EntryList with the class `detail-list`) and the selected one's
    fields (in `detail()`); an Input with the class `detail-add` takes a new name."""

    selected: str | None = None

    # ---- what each editor says ------------------------------------------------------

    def names(self) -> list[str]:
        """The list's names, in order."""
        raise NotImplementedError

    def prefix(self, name: str) -> Path:
        """Where an entry's data is in the profile."""
        raise NotImplementedError

    def detail(self) -> Widget:
        """The container of the selected entry's fields."""
        raise NotImplementedError

    def show_selected(self) -> None:
        """Show the selected entry in the detail."""
        raise NotImplementedError

    def act(self, what: str) -> None:
        """A key of the list was pressed (add, rename, remove, toggle)."""

    def add(self, name: str) -> None:
        """A name was typed under the list and entered."""

    def say_left(self, problems: Sequence[Problem]) -> None:
        """Problems about the selected entry that no field of it shows."""

    def focus_detail(self) -> None:
        for field in self.detail().query(f.Field):
            if not field.disabled:
                field.focus_control()
            return

    # ---- the shared handlers -----------------------------------------------------------

    @property
    def entries(self) -> EntryList:
        return self.query_one(".detail-list", EntryList)

    @on(OptionList.OptionHighlighted, ".detail-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id and event.option.id != self.selected:
            self.post_pending()
            self.selected = event.option.id
            self.show_selected()

    @on(OptionList.OptionSelected, ".detail-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.focus_detail()

    @on(EntryList.Act, ".detail-list")
    def _act(self, event: EntryList.Act) -> None:
        event.stop()
        self.act(event.what)

    @on(Input.Submitted, ".detail-add")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if name:
            event.input.value = ""
            self.add(name)

    @on(Input.Changed, ".detail-add")
    def _typing(self, event: Input.Changed) -> None:
        event.stop()

    def select(self, name: str) -> None:
        """Show this entry (a jump to a problem, a name entered that exists)."""
        if name == self.selected:
            return
        self.post_pending()
        self.selected = name
        entries = self.entries
        # not listed yet: a new entry, listed once its edit is shown
        with contextlib.suppress(OptionDoesNotExist):
            entries.highlighted = entries.get_option_index(name)
        self.show_selected()

    def mine(self, problems: Sequence[Problem], prefix: Path) -> list[Problem]:
        here = format_path(prefix)
        return [p for p in problems if f.under(p.path, here)]

    def show_problems(self, problems: Sequence[Problem]) -> None:
        if self.selected is None:
            self.say_left([])
            return
        mine = self.mine(problems, self.prefix(self.selected))
        self.say_left(f.show_problems(self.detail(), mine))

    def find(self, path: str) -> Widget | None:
        for name in self.names():
            if f.under(path, format_path(self.prefix(name))):
                self.select(name)
                return f.lookup(self.detail(), path) or self.entries
        return None
