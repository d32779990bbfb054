"""Named entries of one map of the profile, each with its form: the Users and Containers
tabs. Entries inherited from included fragments are listed, and changed only there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input
from textual.widgets.option_list import Option

from homelab.errors import Problem
from homelab.profile.schema import profile_schema
from homelab.tui.messages import EditAfterYes, FieldEdited
from homelab.tui.plain import Static, plain
from homelab.tui.schema import MISSING, Path, dig, fields
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors.base import Data, FieldsScroll, as_map
from homelab.tui.widgets.editors.listdetail import EntryList, ListDetail


class NameList(EntryList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "act('add')", "Add"),
        Binding("r", "act('rename')", "Rename"),
        Binding("delete", "act('remove')", "Remove"),
    ]
    filterable = True


class EntriesEditor(ListDetail, Horizontal):
    """A list of named entries of one map (users, containers) and the selected one's form."""

    DEFAULT_CSS = """
    EntriesEditor { layout: horizontal; height: 1fr; }
    EntriesEditor > .entries-side { width: 30; height: 1fr; }
    EntriesEditor EntryList { height: 1fr; border: round $primary 40%; text-wrap: nowrap;
                              text-overflow: ellipsis; }
    EntriesEditor .entries-form { width: 1fr; height: 1fr; padding: 0 1; }
    EntriesEditor .entries-empty { color: $text-muted; padding: 1; }
    EntriesEditor .entries-title { text-style: bold; padding: 0 0 1 0; }
    """

    section: ClassVar[str] = ""
    noun: ClassVar[str] = ""
    skip: ClassVar[frozenset[str]] = frozenset()
    # what a new entry starts as
    empty: ClassVar[dict[str, Any]] = {}

    class Renamed(Message):
        """Rename the entry at path (its settings go with it)."""

        def __init__(self, path: Path, new_name: str) -> None:
            super().__init__()
            self.path, self.new_name = path, new_name

    def __init__(self, own: Data, merged: Data, *, id: str | None = None) -> None:
        super().__init__(id=id)
        root = profile_schema()
        item = root["properties"][self.section]["additionalProperties"]
        self.specs = fields(item, root, skip=self.skip)
        self.own, self.merged = own, merged
        self.selected: str | None = None
        self._renaming = False

    # names: own first, then inherited (from included fragments)
    def names(self) -> list[str]:
        own = list(as_map(self.own.get(self.section)))
        inherited = [n for n in as_map(self.merged.get(self.section)) if n not in own]
        return [*own, *inherited]

    def is_own(self, name: str) -> bool:
        return name in as_map(self.own.get(self.section))

    def prefix(self, name: str) -> Path:
        return (self.section, name)

    def detail(self) -> Widget:
        return self.query_one(".entries-fields")

    def compose(self) -> ComposeResult:
        names = self.names()
        self.selected = names[0] if names else None
        with Vertical(classes="entries-side"):
            entries = NameList(*self._options(names), classes="entries-list detail-list")
            entries.noun = self.noun
            entries.border_title = plain(self.noun.capitalize() + "s")
            yield entries
            yield Input(
                placeholder=self._add_hint(), classes="entries-input detail-add", compact=True
            )
        with FieldsScroll(classes="entries-form"):
            yield Static("", classes="entries-title")
            yield Static(
                f"No {self.noun}s here. Type a name under the list and press enter.",
                classes="entries-empty",
            )
            with Vertical(classes="entries-fields"):
                base = (self.section, self.selected or "")
                yield from f.build(self.specs, base, self._data(self.own), self._data(self.merged))

    def on_mount(self) -> None:
        self.show_selected()

    def _add_hint(self) -> str:
        return f"new {self.noun}: name, then enter"

    def _data(self, data: Data) -> Any:
        return dig(data, (self.section, self.selected)) if self.selected else MISSING

    def _options(self, names: list[str]) -> list[Option]:
        options = []
        for name in names:
            text = Text(name)
            if not self.is_own(name):
                text.append("  (inherited)", style="dim")
            options.append(Option(text, id=name))
        return options

    def show(self, own: Data, merged: Data) -> None:
        self.own, self.merged = own, merged
        names = self.names()
        if self.selected not in names:
            self.selected = names[0] if names else None
        entries = self.entries
        entries.clear_options()
        entries.add_options(self._options(names))
        if self.selected is not None:
            entries.highlighted = entries.get_option_index(self.selected)
        self.show_selected()

    def _title(self, *problems: Problem) -> Text:
        assert self.selected is not None
        where = (
            ""
            if self.is_own(self.selected)
            else "  (from an included fragment: values set here override it)"
        )
        return Text.assemble(
            (f"{self.noun} {self.selected}", "bold"),
            (where, "dim"),
            *[("\n" + p.message + (f" ({p.hint})" if p.hint else ""), "red") for p in problems],
        )

    def show_selected(self) -> None:
        has = self.selected is not None
        self.query_one(".entries-empty").display = not has
        self.detail().display = has
        title = self.query_one(".entries-title", Static)
        if self.selected is None:
            title.update("")
            return
        title.update(self._title())
        f.fill(self.detail(), self.prefix(self.selected), *map(self._data, (self.own, self.merged)))

    def say_left(self, problems: Sequence[Problem]) -> None:
        if self.selected is not None and problems:
            self.query_one(".entries-title", Static).update(self._title(*problems))

    def act(self, what: str) -> None:
        box = self.query_one(".entries-input", Input)
        if what == "add":
            self._renaming = False
            box.placeholder = self._add_hint()
            box.value = ""
            box.focus()
            return
        name = self.selected
        if name is None or what not in ("rename", "remove"):
            return
        if not self.is_own(name):
            self.app.notify(f"{name} comes from an included fragment: {what} it there")
        elif what == "rename":
            self._renaming = True
            box.placeholder = f"rename {name} to, then enter"
            box.value = name
            box.focus()
        else:
            self._confirm_remove(name)

    def _confirm_remove(self, name: str) -> None:
        self.post_message(
            EditAfterYes(
                f"Remove {self.noun} {name}?",
                f"{self.noun.capitalize()} {name} and all its settings leave this profile "
                "(nothing is written before you save).",
                ("Remove", "remove"),
                FieldEdited(self.prefix(name), remove=True),
            )
        )

    def add(self, name: str) -> None:
        if self._renaming and self.selected is not None:
            if name != self.selected:
                old = self.selected
                self.selected = name
                self.post_message(self.Renamed(self.prefix(old), name))
        elif name in self.names():
            self.select(name)
        else:
            self.selected = name
            self.post_message(FieldEdited(self.prefix(name), dict(self.empty)))
        self._renaming = False
        self.query_one(".entries-input", Input).placeholder = self._add_hint()


class UsersEditor(EntriesEditor):
    """The host's users (their home-manager settings have a tab of their own)."""

    section = "users"
    noun = "user"
    skip = frozenset({"home"})


class ContainersEditor(EntriesEditor):
    """The host's containers, each with its image and settings."""

    section = "containers"
    noun = "container"
    empty: ClassVar[dict[str, Any]] = {"image": ""}
