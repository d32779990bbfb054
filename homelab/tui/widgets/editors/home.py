"""A user's home-manager (the Home tab): packages and the like as fields, programs as a
list with each program's settings as YAML, and any home-manager option in the form of the
Options tab (`users.NAME.home.options`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import yaml
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Select, Switch, TextArea
from textual.widgets.option_list import Option

from homelab.errors import Problem, format_path
from homelab.profile.schema import profile_schema
from homelab.tui.messages import FieldEdited
from homelab.tui.plain import Label, Static
from homelab.tui.schema import Path, dig, fields
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors.base import Data, FieldsScroll, as_map
from homelab.tui.widgets.editors.listdetail import EntryList, ListDetail
from homelab.tui.widgets.editors.options import OptionsEditor
from homelab.yamlfile import load_plain


class ProgramList(EntryList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "act('add')", "Add program"),
        Binding("delete", "act('remove')", "Remove program"),
        Binding("space", "act('toggle')", "Enable/disable"),
    ]


class HomeEditor(ListDetail, Vertical):
    """The home of the user chosen at the top; the list/detail is its programs."""

    DEFAULT_CSS = """
    HomeEditor { layout: vertical; height: 1fr; }
    HomeEditor > Horizontal.home-top { height: auto; }
    HomeEditor .home-user { width: 40; }
    HomeEditor .home-body { height: 1fr; }
    HomeEditor .programs { height: auto; min-height: 12; border: round $primary 40%; padding: 0 1; }
    HomeEditor .programs > Horizontal { height: auto; }
    HomeEditor ProgramList { width: 28; height: 12; border: none; }
    HomeEditor .program-pane { width: 1fr; height: auto; padding: 0 0 0 1; }
    HomeEditor .program-pane > Horizontal { height: auto; }
    HomeEditor .program-pane TextArea { height: 12; }
    HomeEditor .program-error { color: $text-error; display: none; }
    HomeEditor .program-error.-shown { display: block; }
    HomeEditor .home-empty { color: $text-muted; padding: 1; }
    HomeEditor OptionsEditor { height: auto; border: round $primary 40%; }
    HomeEditor OptionsEditor OptionRows { max-height: 10; }
    """

    def __init__(self, own: Data, merged: Data, *, id: str | None = None) -> None:
        super().__init__(id=id)
        root = profile_schema()
        home = root["properties"]["users"]["additionalProperties"]["properties"]["home"]
        self.specs = fields(home, root, skip=frozenset({"programs", "options"}))
        # home-manager's program names (the schema's examples), completed as they are typed
        names = home["properties"]["programs"]["propertyNames"].get("examples", [])
        self.program_names = SuggestFromList(names, case_sensitive=True)
        self.own, self.merged = own, merged
        self.user: str | None = None
        self.selected: str | None = None  # the program
        self._shown_yaml: str = ""

    def users(self) -> list[str]:
        own = list(as_map(self.own.get("users")))
        return [*own, *(n for n in as_map(self.merged.get("users")) if n not in own)]

    def base(self) -> Path:
        return ("users", self.user or "", "home")

    def options_at(self) -> Path:
        return (*self.base(), "options")

    @property
    def options(self) -> OptionsEditor:
        return self.query_one(OptionsEditor)

    @property
    def entries(self) -> EntryList:
        return self.query_one(ProgramList)  # not the options' list, also a detail-list

    def compose(self) -> ComposeResult:
        users = self.users()
        self.user = users[0] if users else None
        with Horizontal(classes="home-top"):
            yield Label("Home of user ", classes="field-name")
            yield Select(
                [(Text(u), u) for u in users],  # a name is text, `[` too
                value=self.user if self.user else Select.NULL,
                allow_blank=not users,
                classes="home-user",
                compact=True,
            )
        yield Static("No users on this host: add one in the Users tab.", classes="home-empty")
        with FieldsScroll(classes="home-body"):
            with Vertical(classes="home-fields"):
                yield from f.build(
                    self.specs,
                    self.base(),
                    dig(self.own, self.base()),
                    dig(self.merged, self.base()),
                )
            with Vertical(classes="programs") as programs:
                programs.border_title = "Programs"
                with Horizontal():
                    yield ProgramList(classes="program-list detail-list")
                    with Vertical(classes="program-pane"):
                        with Horizontal():
                            yield Label("Enable", classes="field-name")
                            yield Switch(True, classes="program-enable")
                        yield Label("Settings and other options (YAML):", classes="program-label")
                        yield TextArea("", classes="program-yaml", show_line_numbers=False)
                        yield Static("", classes="program-error")
                yield Input(
                    placeholder="add a program: its home-manager name, then enter",
                    classes="program-add detail-add",
                    compact=True,
                    suggester=self.program_names,
                )
            yield OptionsEditor(
                self.own, self.merged, where=self.options_at(), about="home-manager"
            )

    def on_mount(self) -> None:
        self._refresh_all()

    # ---- the list/detail: programs -----------------------------------------------------

    def programs(self, data: Data) -> dict[str, Any]:
        return as_map(dig(data, (*self.base(), "programs")))

    def names(self) -> list[str]:
        own = list(self.programs(self.own))
        return [*own, *(n for n in self.programs(self.merged) if n not in own)]

    def prefix(self, name: str) -> Path:
        return (*self.base(), "programs", name)

    def detail(self) -> Widget:
        return self.query_one(".program-pane")

    def focus_detail(self) -> None:
        self.query_one(".program-yaml", TextArea).focus()

    def _program(self, name: str) -> Mapping[str, Any]:
        """A program's settings: its own, else inherited."""
        own = self.programs(self.own).get(name)
        merged = self.programs(self.merged).get(name)
        return own if isinstance(own, Mapping) else merged if isinstance(merged, Mapping) else {}

    def show_selected(self) -> None:
        pane = self.detail()
        pane.display = self.selected is not None
        if self.selected is None:
            return
        value = self._program(self.selected)
        with self.prevent(Switch.Changed):
            self.query_one(".program-enable", Switch).value = value.get("enable", True) is not False
        rest = {k: v for k, v in value.items() if k != "enable"}
        text = f.as_yaml(rest) if rest else ""
        area = self.query_one(".program-yaml", TextArea)
        if area.text != text:
            with self.prevent(TextArea.Changed):
                area.load_text(text)
        self._shown_yaml = text
        self.query_one(".program-error").set_class(False, "-shown")

    def act(self, what: str) -> None:
        if what == "add":
            self.query_one(".program-add", Input).focus()
            return
        if self.selected is None:
            return
        if what == "remove":
            if self.selected not in self.programs(self.own):
                self.app.notify(
                    f"{self.selected} comes from an included fragment", severity="warning"
                )
                return
            self.post_message(FieldEdited(self.prefix(self.selected), remove=True))
        elif what == "toggle":
            switch = self.query_one(".program-enable", Switch)
            switch.value = not switch.value

    def add(self, name: str) -> None:
        if self.user is None:
            return
        self.selected = name
        if name not in self.names():
            self.post_message(FieldEdited(self.prefix(name), {"enable": True}))
        else:
            self._refresh_all()

    # ---- the user, and everything shown for them -----------------------------------------

    def show(self, own: Data, merged: Data) -> None:
        self.own, self.merged = own, merged
        users = self.users()
        select = self.query_one(".home-user", Select)
        if self.user not in users:
            self.user = users[0] if users else None
        options = [(Text(u), u) for u in users]
        # a Select that may not be blank refuses no options: with no users it is hidden
        # (by _refresh_all) and keeps the old ones until there are users again
        if users and [o[1] for o in select._options if o[1] is not Select.NULL] != users:
            with self.prevent(Select.Changed):
                select.set_options(options)
        if self.user is not None:
            with self.prevent(Select.Changed):
                select.value = self.user
        self._refresh_all()

    def _refresh_all(self) -> None:
        has = self.user is not None
        self.query_one(".home-top").display = has
        self.query_one(".home-empty").display = not has
        self.query_one(".home-body").display = has
        if not has:
            return
        if self.options.composed:
            self.options.show(self.own, self.merged, self.options_at())
        f.fill(
            self.query_one(".home-fields"),
            self.base(),
            dig(self.own, self.base()),
            dig(self.merged, self.base()),
        )
        names = self.names()
        if self.selected not in names:
            self.selected = names[0] if names else None
        plist = self.entries
        plist.clear_options()
        for name in names:
            on = self._program(name).get("enable", True) is not False
            text = Text("● " if on else "○ ", style="green" if on else "dim")
            text.append(name)
            if name not in self.programs(self.own):
                text.append("  (inherited)", style="dim")
            plist.add_option(Option(text, id=name))
        if self.selected is not None:
            plist.highlighted = names.index(self.selected)
        self.show_selected()

    @on(Select.Changed, ".home-user")
    def _user_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value != self.user:
            self.post_pending()
            self.user = event.value
            self.selected = None
            self._refresh_all()

    @on(Switch.Changed, ".program-enable")
    def _enable(self, event: Switch.Changed) -> None:
        event.stop()
        if self.selected is not None:
            self.post_message(FieldEdited((*self.prefix(self.selected), "enable"), event.value))

    @on(TextArea.Changed, ".program-yaml")
    def _yaml_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.wait_for_pause()

    def pending(self) -> list[Message]:
        """The program's YAML as edits: one per top-level key that changed, so comments
        and formatting of the others stay."""
        out = [*super().pending(), *self.options.pending()]
        self.end_pause()
        if self.selected is None or self.user is None or not self.composed:
            return out
        area = self.query_one(".program-yaml", TextArea)
        if area.text == self._shown_yaml:
            return out
        error = self.query_one(".program-error", Static)
        try:
            value = load_plain(area.text) if area.text.strip() else {}
        except yaml.YAMLError as err:
            error.update(f.yaml_error(err))
            error.set_class(True, "-shown")
            return out
        if not isinstance(value, Mapping):
            error.update("the settings must be a map: `key: value` lines")
            error.set_class(True, "-shown")
            return out
        error.set_class(False, "-shown")
        self._shown_yaml = area.text
        path = self.prefix(self.selected)
        old = self.programs(self.own).get(self.selected)
        old = dict(old) if isinstance(old, Mapping) else {}
        for key, item in value.items():
            if key == "enable" or (key in old and old[key] == item):
                continue
            out.append(FieldEdited((*path, str(key)), item))
        for key in old:
            if key != "enable" and key not in value:
                out.append(FieldEdited((*path, key), remove=True))
        return out

    # ---- problems and jumps: by user, then by program ------------------------------------

    def show_problems(self, problems: Sequence[Problem]) -> None:
        if self.user is None:
            return
        self.options.set_problems(problems)
        left = f.show_problems(self.query_one(".home-fields"), self.mine(problems, self.base()))
        error = self.query_one(".program-error", Static)
        if self.selected is not None:
            here = format_path(self.prefix(self.selected))
            about = [p for p in left if p.path.startswith(here)]
            if about:
                error.update("\n".join(f"{p.path}: {p.message}" for p in about))
                error.set_class(True, "-shown")

    def find(self, path: str) -> Widget | None:
        for user in self.users():
            if not f.under(path, format_path(("users", user, "home"))):
                continue
            if user != self.user:
                self.post_pending()
                self.user = user
                self.query_one(".home-user", Select).value = user
                self._refresh_all()
            if f.under(path, format_path(self.options_at())):
                return self.options.find(path)
            for program in self.names():
                if f.under(path, format_path(self.prefix(program))):
                    self.selected = program
                    self._refresh_all()
                    return self.query_one(".program-yaml", TextArea)
            return f.lookup(self.query_one(".home-fields"), path)
        return None
