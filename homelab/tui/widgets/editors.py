"""The editor's tabs: forms over parts of a profile, each made from the profile schema or
a catalogue entry's settings schema.

Every editor has the same three duties: `show(own, merged)` puts a host's data on screen
(own: the profile as written; merged: with its includes), `show_problems` puts problems
next to their fields, and `find(path)` brings a problem's field into view for a jump.
Editors never write: they post FieldEdited, RenameEntry or TextReplaced, and the screen
changes the profile text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.lazy import Lazy
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Select, Static, Switch, TextArea
from textual.widgets.option_list import Option

from homelab.catalog import Catalog
from homelab.errors import Problem, format_path
from homelab.profile.validate import profile_schema
from homelab.tui.schema import MISSING, Path, dig, fields
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.fields import FieldEdited, RenameEntry
from homelab.tui.widgets.nix import nix_area

Data = Mapping[str, Any]


class TextReplaced(Message):
    """The whole profile text was edited (the YAML tab)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class Editor(Widget):
    """One tab's content."""

    holds_problems = True  # fields mounted late take theirs from here
    problems: list[Problem] = []  # noqa: RUF012 - replaced per instance

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
        return [m for field in self.query(f.YamlField) for m in field.pending()]

    @property
    def composed(self) -> bool:
        """Its widgets exist (a held key can ask for edits before they do: there are none)."""
        return bool(self.children)

    def post_pending(self) -> None:
        for message in self.pending():
            self.post_message(message)


def _map(data: Any) -> dict[str, Any]:
    return dict(data) if isinstance(data, Mapping) else {}


# ---- plain forms (System and hardware, Networking) ------------------------------------


EAGER = 2  # sections of a form mounted before its first frame


class FormEditor(Editor, VerticalScroll):
    """Fields for some top-level sections of the profile."""

    def __init__(self, sections: Sequence[str], own: Data, merged: Data, *, id: str | None = None):
        super().__init__(id=id)
        root = profile_schema()
        wanted = set(sections)
        specs = fields(root, root, skip=frozenset(k for k in root["properties"] if k not in wanted))
        order = {name: i for i, name in enumerate(sections)}
        self.specs = sorted(specs, key=lambda s: order[_top(s)])
        self.own, self.merged = own, merged

    def compose(self) -> ComposeResult:
        for i, widget in enumerate(f.build(self.specs, (), self.own, self.merged)):
            # the first sections draw at once, the rest a frame later: a big form opens fast
            yield widget if i < EAGER else Lazy(widget)

    def show(self, own: Data, merged: Data) -> None:
        self.own, self.merged = own, merged
        f.fill(self, (), own, merged)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        f.show_problems(self, problems)

    def find(self, path: str) -> Widget | None:
        return f.lookup(self, path)


def _top(spec: f.Spec) -> str:
    if isinstance(spec, tuple):
        first = spec[1][0]
        return _top(first)
    return str(spec.rel[0])


# ---- lists of named entries with a form each (users, containers) -----------------------


class EntryList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add"),
        Binding("r", "rename", "Rename"),
        Binding("delete", "remove", "Remove"),
    ]

    class Act(Message):
        def __init__(self, what: str, entries: EntryList) -> None:
            super().__init__()
            self.what, self.entries = what, entries

        @property
        def control(self) -> EntryList:
            return self.entries

    def action_add(self) -> None:
        self.post_message(self.Act("add", self))

    def action_rename(self) -> None:
        self.post_message(self.Act("rename", self))

    def action_remove(self) -> None:
        self.post_message(self.Act("remove", self))


class EntriesEditor(Editor, Horizontal):
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

    def __init__(self, own: Data, merged: Data, *, id: str | None = None) -> None:
        super().__init__(id=id)
        root = profile_schema()
        item = root["properties"][self.section]["additionalProperties"]
        self.specs = fields(item, root, skip=self.skip)
        self.own, self.merged = own, merged
        self.selected: str | None = None
        self._mode = "add"

    # names: own first, then inherited (from included fragments)
    def names(self) -> list[str]:
        own = list(_map(self.own.get(self.section)))
        inherited = [n for n in _map(self.merged.get(self.section)) if n not in own]
        return [*own, *inherited]

    def is_own(self, name: str) -> bool:
        return name in _map(self.own.get(self.section))

    def compose(self) -> ComposeResult:
        names = self.names()
        self.selected = names[0] if names else None
        with Vertical(classes="entries-side"):
            entries = EntryList(*self._options(names), classes="entries-list")
            entries.border_title = self.noun.capitalize() + "s"
            yield entries
            yield Input(
                placeholder=f"new {self.noun}: name, then enter",
                classes="entries-input",
                compact=True,
            )
        with VerticalScroll(classes="entries-form"):
            yield Static("", classes="entries-title")
            yield Static(
                f"No {self.noun}s here. Type a name under the list and press enter.",
                classes="entries-empty",
            )
            with Vertical(classes="entries-fields"):
                base = (self.section, self.selected or "")
                yield from f.build(self.specs, base, self._data(self.own), self._data(self.merged))

    def on_mount(self) -> None:
        self._show_selected()

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
        entries = self.query_one(EntryList)
        entries.clear_options()
        entries.add_options(self._options(names))
        if self.selected is not None:
            entries.highlighted = names.index(self.selected)
        self._show_selected()

    def _show_selected(self) -> None:
        has = self.selected is not None
        self.query_one(".entries-empty").display = not has
        self.query_one(".entries-fields").display = has
        title = self.query_one(".entries-title", Static)
        if self.selected is None:
            title.update("")
            return
        where = (
            ""
            if self.is_own(self.selected)
            else "  (from an included fragment: values set here override it)"
        )
        title.update(Text.assemble((f"{self.noun} {self.selected}", "bold"), (where, "dim")))
        box = self.query_one(".entries-fields")
        f.fill(box, (self.section, self.selected), self._data(self.own), self._data(self.merged))

    @on(OptionList.OptionHighlighted, ".entries-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id and event.option.id != self.selected:
            self.post_pending()
            self.selected = event.option.id
            self._show_selected()

    @on(OptionList.OptionSelected, ".entries-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        for field in self.query_one(".entries-fields").query(f.Field):
            field.focus_control()
            return

    @on(EntryList.Act)
    def _act(self, event: EntryList.Act) -> None:
        event.stop()
        box = self.query_one(".entries-input", Input)
        if event.what == "add":
            self._mode = "add"
            box.placeholder = f"new {self.noun}: name, then enter"
            box.value = ""
            box.focus()
        elif event.what == "rename" and self.selected is not None:
            if not self.is_own(self.selected):
                self.app.notify(f"{self.selected} comes from an included fragment: rename it there")
                return
            self._mode = "rename"
            box.placeholder = f"rename {self.selected} to, then enter"
            box.value = self.selected
            box.focus()
        elif event.what == "remove" and self.selected is not None:
            if not self.is_own(self.selected):
                self.app.notify(f"{self.selected} comes from an included fragment: remove it there")
                return
            self._confirm_remove(self.selected)

    def _confirm_remove(self, name: str) -> None:
        from homelab.tui.screens.dialogs import Confirm

        def answered(answer: str | None) -> None:
            if answer == "remove":
                self.post_message(FieldEdited((self.section, name), remove=True))

        self.app.push_screen(
            Confirm(
                f"Remove {self.noun} {name}?",
                f"{self.noun.capitalize()} {name} and all its settings leave this profile "
                "(nothing is written before you save).",
                [("Cancel", "cancel", "default"), ("Remove", "remove", "error")],
            ),
            answered,
        )

    @on(Input.Submitted, ".entries-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if not name:
            return
        event.input.value = ""
        if self._mode == "rename" and self.selected is not None:
            if name != self.selected:
                old = self.selected
                self.selected = name
                self.post_message(RenameEntry((self.section, old), name))
        elif name in self.names():
            self.selected = name
            self._show_selected()
        else:
            self.selected = name
            self.post_message(FieldEdited((self.section, name), dict(self.empty)))
        self._mode = "add"
        event.input.placeholder = f"new {self.noun}: name, then enter"

    @on(Input.Changed, ".entries-input")
    def _typing(self, event: Input.Changed) -> None:
        event.stop()

    def show_problems(self, problems: Sequence[Problem]) -> None:
        if self.selected is None:
            return
        prefix = format_path((self.section, self.selected))
        mine = [
            p
            for p in problems
            if p.path == prefix or p.path.startswith((prefix + ".", prefix + "["))
        ]
        left = f.show_problems(self.query_one(".entries-fields"), mine)
        title = self.query_one(".entries-title", Static)
        if left:
            title.update(
                Text.assemble(
                    (f"{self.noun} {self.selected}", "bold"),
                    *[("\n" + p.message + (f" ({p.hint})" if p.hint else ""), "red") for p in left],
                )
            )

    def select(self, name: str) -> None:
        if name != self.selected:
            self.post_pending()
            self.selected = name
            names = self.names()
            if name in names:
                self.query_one(EntryList).highlighted = names.index(name)
            self._show_selected()

    def find(self, path: str) -> Widget | None:
        for name in self.names():
            prefix = format_path((self.section, name))
            if path == prefix or path.startswith((prefix + ".", prefix + "[")):
                self.select(name)
                found = f.lookup(self.query_one(".entries-fields"), path)
                return found or self.query_one(EntryList)
        return None


class UsersEditor(EntriesEditor):
    section = "users"
    noun = "user"
    skip = frozenset({"home"})


class ContainersEditor(EntriesEditor):
    section = "containers"
    noun = "container"
    empty: ClassVar[dict[str, Any]] = {"image": ""}


# ---- home-manager, per user ------------------------------------------------------------


class ProgramList(EntryList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add program"),
        Binding("delete", "remove", "Remove program"),
        Binding("space", "switch", "Enable/disable"),
    ]

    def action_switch(self) -> None:
        self.post_message(self.Act("toggle", self))


class HomeEditor(Editor, Vertical):
    """A user's home-manager: packages and the like as fields, programs as a list with
    each program's settings as YAML."""

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
    """

    def __init__(self, own: Data, merged: Data, *, id: str | None = None) -> None:
        super().__init__(id=id)
        root = profile_schema()
        home = root["properties"]["users"]["additionalProperties"]["properties"]["home"]
        self.specs = fields(home, root, skip=frozenset({"programs"}))
        self.own, self.merged = own, merged
        self.user: str | None = None
        self.program: str | None = None
        self._timer: Timer | None = None
        self._shown_yaml: str = ""

    def users(self) -> list[str]:
        own = list(_map(self.own.get("users")))
        return [*own, *(n for n in _map(self.merged.get("users")) if n not in own)]

    def base(self) -> Path:
        return ("users", self.user or "", "home")

    def compose(self) -> ComposeResult:
        users = self.users()
        self.user = users[0] if users else None
        with Horizontal(classes="home-top"):
            yield Label("Home of user ", classes="field-name")
            yield Select(
                [(u, u) for u in users],
                value=self.user if self.user else Select.NULL,
                allow_blank=not users,
                classes="home-user",
                compact=True,
            )
        yield Static("No users on this host: add one in the Users tab.", classes="home-empty")
        with VerticalScroll(classes="home-body"):
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
                    yield ProgramList(classes="program-list")
                    with Vertical(classes="program-pane"):
                        with Horizontal():
                            yield Label("Enable", classes="field-name")
                            yield Switch(True, classes="program-enable")
                        yield Label("Settings and other options (YAML):", classes="program-label")
                        yield TextArea("", classes="program-yaml", show_line_numbers=False)
                        yield Static("", classes="program-error")
                yield Input(
                    placeholder="add a program: its home-manager name, then enter",
                    classes="program-add",
                    compact=True,
                )

    def on_mount(self) -> None:
        self._refresh_all()

    def programs(self, data: Data) -> dict[str, Any]:
        return _map(dig(data, (*self.base(), "programs")))

    def program_names(self) -> list[str]:
        own = list(self.programs(self.own))
        return [*own, *(n for n in self.programs(self.merged) if n not in own)]

    def show(self, own: Data, merged: Data) -> None:
        self.own, self.merged = own, merged
        users = self.users()
        select = self.query_one(".home-user", Select)
        if self.user not in users:
            self.user = users[0] if users else None
        options = [(u, u) for u in users]
        # a Select that may not be blank refuses no options: with no users it is hidden
        # (by _refresh_all) and keeps the old ones until there are users again
        if users and [o[0] for o in select._options if o[1] is not Select.NULL] != users:
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
        f.fill(
            self.query_one(".home-fields"),
            self.base(),
            dig(self.own, self.base()),
            dig(self.merged, self.base()),
        )
        names = self.program_names()
        if self.program not in names:
            self.program = names[0] if names else None
        plist = self.query_one(ProgramList)
        plist.clear_options()
        for name in names:
            own = self.programs(self.own).get(name)
            merged = self.programs(self.merged).get(name)
            value = (
                own if isinstance(own, Mapping) else merged if isinstance(merged, Mapping) else {}
            )
            on = value.get("enable", True) is not False
            text = Text("● " if on else "○ ", style="green" if on else "dim")
            text.append(name)
            if name not in self.programs(self.own):
                text.append("  (inherited)", style="dim")
            plist.add_option(Option(text, id=name))
        if self.program is not None:
            plist.highlighted = names.index(self.program)
        self._show_program()

    def _show_program(self) -> None:
        pane = self.query_one(".program-pane")
        pane.display = self.program is not None
        if self.program is None:
            return
        own = self.programs(self.own).get(self.program)
        merged = self.programs(self.merged).get(self.program)
        value = own if isinstance(own, Mapping) else merged if isinstance(merged, Mapping) else {}
        with self.prevent(Switch.Changed):
            self.query_one(".program-enable", Switch).value = value.get("enable", True) is not False
        rest = {k: v for k, v in value.items() if k != "enable"}
        text = f._as_yaml(rest) if rest else ""
        area = self.query_one(".program-yaml", TextArea)
        if area.text != text:
            with self.prevent(TextArea.Changed):
                area.load_text(text)
        self._shown_yaml = text
        self.query_one(".program-error").set_class(False, "-shown")

    @on(Select.Changed, ".home-user")
    def _user_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value != self.user:
            self.post_pending()
            self.user = event.value
            self.program = None
            self._refresh_all()

    @on(OptionList.OptionHighlighted, ".program-list")
    def _program_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id != self.program:
            self.post_pending()
            self.program = event.option.id
            self._show_program()

    @on(OptionList.OptionSelected, ".program-list")
    def _program_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one(".program-yaml", TextArea).focus()

    @on(EntryList.Act, ".program-list")
    def _program_act(self, event: EntryList.Act) -> None:
        event.stop()
        if event.what == "add":
            self.query_one(".program-add", Input).focus()
            return
        if self.program is None:
            return
        path = (*self.base(), "programs", self.program)
        if event.what == "remove":
            if self.program not in self.programs(self.own):
                self.app.notify(
                    f"{self.program} comes from an included fragment", severity="warning"
                )
                return
            self.post_message(FieldEdited(path, remove=True))
        elif event.what == "toggle":
            switch = self.query_one(".program-enable", Switch)
            switch.value = not switch.value

    @on(Switch.Changed, ".program-enable")
    def _enable(self, event: Switch.Changed) -> None:
        event.stop()
        if self.program is None:
            return
        self.post_message(
            FieldEdited((*self.base(), "programs", self.program, "enable"), event.value)
        )

    @on(Input.Submitted, ".program-add")
    def _add(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if not name or self.user is None:
            return
        event.input.value = ""
        self.program = name
        if name not in self.program_names():
            self.post_message(FieldEdited((*self.base(), "programs", name), {"enable": True}))
        else:
            self._refresh_all()

    @on(Input.Changed, ".program-add")
    def _typing(self, event: Input.Changed) -> None:
        event.stop()

    @on(TextArea.Changed, ".program-yaml")
    def _yaml_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self.post_pending)

    def pending(self) -> list[Message]:
        """The program's YAML as edits: one per top-level key that changed, so comments
        and formatting of the others stay."""
        out = super().pending()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.program is None or self.user is None or not self.composed:
            return out
        area = self.query_one(".program-yaml", TextArea)
        if area.text == self._shown_yaml:
            return out
        import yaml

        from homelab.yamlfile import load_plain

        error = self.query_one(".program-error", Static)
        try:
            value = load_plain(area.text) if area.text.strip() else {}
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            error.update(f"YAML: {where}{getattr(err, 'problem', None) or err}")
            error.set_class(True, "-shown")
            return out
        if not isinstance(value, Mapping):
            error.update("the settings must be a map: `key: value` lines")
            error.set_class(True, "-shown")
            return out
        error.set_class(False, "-shown")
        self._shown_yaml = area.text
        path = (*self.base(), "programs", self.program)
        old = self.programs(self.own).get(self.program)
        old = dict(old) if isinstance(old, Mapping) else {}
        for key, item in value.items():
            if key == "enable" or (key in old and old[key] == item):
                continue
            out.append(FieldEdited((*path, str(key)), item))
        for key in old:
            if key != "enable" and key not in value:
                out.append(FieldEdited((*path, key), remove=True))
        return out

    def show_problems(self, problems: Sequence[Problem]) -> None:
        if self.user is None:
            return
        prefix = format_path(self.base())
        mine = [
            p
            for p in problems
            if p.path == prefix or p.path.startswith((prefix + ".", prefix + "["))
        ]
        left = f.show_problems(self.query_one(".home-fields"), mine)
        error = self.query_one(".program-error", Static)
        if self.program is not None:
            here = format_path((*self.base(), "programs", self.program))
            about = [p for p in left if p.path.startswith(here)]
            if about:
                error.update("\n".join(f"{p.path}: {p.message}" for p in about))
                error.set_class(True, "-shown")

    def find(self, path: str) -> Widget | None:
        for user in self.users():
            prefix = format_path(("users", user, "home"))
            if path == prefix or path.startswith((prefix + ".", prefix + "[")):
                if user != self.user:
                    self.post_pending()
                    self.user = user
                    self.query_one(".home-user", Select).value = user
                    self._refresh_all()
                for program in self.program_names():
                    here = format_path(("users", user, "home", "programs", program))
                    if path == here or path.startswith((here + ".", here + "[")):
                        self.program = program
                        self._refresh_all()
                        return self.query_one(".program-yaml", TextArea)
                return f.lookup(self.query_one(".home-fields"), path)
        return None


# ---- services from the catalogue -------------------------------------------------------


def _short(description: str, width: int = 30) -> str:
    """The description's first clause, cut to fit a list line."""
    head = description.split(" (")[0].split(", ")[0].split("; ")[0]
    return head if len(head) <= width else head[: width - 1].rstrip() + "…"


class ServiceList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "switch", "Enable/disable")]

    class Toggle(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def action_switch(self) -> None:
        option = self.highlighted_option
        if option is not None and option.id:
            self.post_message(self.Toggle(option.id))


class ServicesEditor(Editor, Horizontal):
    """The catalogue, one line per service with its description; space enables or disables
    the highlighted one; its settings form is generated from its JSON Schema."""

    DEFAULT_CSS = """
    ServicesEditor { layout: horizontal; height: 1fr; }
    ServicesEditor ServiceList { text-wrap: nowrap; text-overflow: ellipsis; width: 32;
                                 height: 1fr; border: round $primary 40%; }
    ServicesEditor .service-side { width: 1fr; height: 1fr; padding: 0 1; }
    ServicesEditor .service-title { text-style: bold; }
    ServicesEditor .service-about { color: $text-muted; padding: 0 0 1 0; }
    ServicesEditor .service-state { height: auto; padding: 0 0 1 0; }
    ServicesEditor .service-fields.-off { opacity: 60%; }
    ServicesEditor .service-error { color: $text-error; }
    """

    def __init__(self, catalog: Catalog, own: Data, merged: Data, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.catalog = catalog
        self.own, self.merged = own, merged
        self.service: str | None = None
        self._built_for: str | None = None

    def enabled(self, data: Data) -> dict[str, Any]:
        return _map(data.get("services"))

    def compose(self) -> ComposeResult:
        names = self.catalog.names()
        self.service = names[0] if names else None
        services = ServiceList(*self._options(), classes="service-list")
        services.border_title = "Catalogue"
        services.border_subtitle = "space: enable/disable"
        yield services
        with VerticalScroll(classes="service-side"):
            yield Static("", classes="service-title")
            yield Static("", classes="service-about")
            yield Static("", classes="service-state")
            yield Static("", classes="service-error")
            yield Vertical(classes="service-fields")

    def on_mount(self) -> None:
        self._show_service()

    def _options(self) -> list[Option]:
        own, merged = self.enabled(self.own), self.enabled(self.merged)
        options = []
        for name in self.catalog.names():
            service = self.catalog.get(name)
            text = Text(no_wrap=True, overflow="ellipsis")
            if name in own:
                text.append("● ", style="green")
            elif name in merged:
                text.append("◐ ", style="green")
            else:
                text.append("○ ", style="dim")
            text.append(name)
            if service is not None:
                text.append("  " + _short(service.description), style="dim")
            options.append(Option(text, id=name))
        # unknown services the profile names (a typo): listed so they can be removed
        for name in own:
            if self.catalog.get(name) is None:
                options.append(
                    Option(
                        Text.assemble(("✗ ", "red"), name, ("  not in the catalogue", "red")),
                        id=name,
                    )
                )
        return options

    def show(self, own: Data, merged: Data) -> None:
        self.own, self.merged = own, merged
        services = self.query_one(ServiceList)
        highlighted = services.highlighted
        services.clear_options()
        services.add_options(self._options())
        if highlighted is not None and services.option_count:
            services.highlighted = min(highlighted, services.option_count - 1)
        self._show_service()

    def _show_service(self) -> None:
        name = self.service
        side_title = self.query_one(".service-title", Static)
        about = self.query_one(".service-about", Static)
        state = self.query_one(".service-state", Static)
        box = self.query_one(".service-fields", Vertical)
        if name is None:
            return
        service = self.catalog.get(name)
        side_title.update(name)
        about.update(service.description if service else "not in the catalogue: remove it (space)")
        own, merged = self.enabled(self.own), self.enabled(self.merged)
        if name in own:
            state.update(Text("● enabled on this host  (space: disable)", style="green"))
        elif name in merged:
            state.update(Text("◐ enabled by an included fragment", style="green"))
        else:
            state.update(Text("○ not enabled  (space: enable, then set its settings)", style="dim"))
        on = name in own or name in merged
        box.set_class(not on, "-off")
        box.disabled = not on
        base = ("services", name)
        if self._built_for != name:
            box.remove_children()
            if service is not None:
                specs = fields(service.settings_schema, service.settings_schema)
                box.mount_all(
                    list(
                        f.build(
                            specs, base, _map(dig(self.own, base)), _map(dig(self.merged, base))
                        )
                    )
                )
            self._built_for = name
        else:
            f.fill(box, base, _map(dig(self.own, base)), _map(dig(self.merged, base)))

    @on(OptionList.OptionHighlighted, ".service-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id != self.service:
            self.post_pending()
            self.service = event.option.id
            self._show_service()

    @on(OptionList.OptionSelected, ".service-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        for field in self.query_one(".service-fields").query(f.Field):
            if not field.disabled:
                field.focus_control()
            return

    @on(ServiceList.Toggle)
    def _toggle(self, event: ServiceList.Toggle) -> None:
        event.stop()
        own, merged = self.enabled(self.own), self.enabled(self.merged)
        if event.name in own:
            self.post_message(FieldEdited(("services", event.name), remove=True))
        elif event.name in merged:
            self.app.notify(
                f"{event.name} is enabled by an included fragment: disable it there",
                severity="warning",
            )
        else:
            self.post_message(FieldEdited(("services", event.name), {}))

    def show_problems(self, problems: Sequence[Problem]) -> None:
        error = self.query_one(".service-error", Static)
        if self.service is None:
            error.update("")
            return
        prefix = format_path(("services", self.service))
        mine = [
            p
            for p in problems
            if p.path == prefix or p.path.startswith((prefix + ".", prefix + "["))
        ]
        left = f.show_problems(self.query_one(".service-fields"), mine)
        error.update("\n".join(p.message + (f" ({p.hint})" if p.hint else "") for p in left))

    def select(self, name: str) -> None:
        services = self.query_one(ServiceList)
        try:
            services.highlighted = services.get_option_index(name)
        except Exception:
            return
        if name != self.service:
            self.service = name
            self._show_service()

    def find(self, path: str) -> Widget | None:
        for name in [*self.catalog.names(), *self.enabled(self.own)]:
            prefix = format_path(("services", name))
            if path == prefix or path.startswith((prefix + ".", prefix + "[")):
                self.select(name)
                return f.lookup(self.query_one(".service-fields"), path) or self.query_one(
                    ServiceList
                )
        return None


# ---- raw Nix and the whole YAML ----------------------------------------------------------


class RawNixEditor(Editor, Vertical):
    """extraConfig: NixOS options written as Nix, checked by the parser as you type."""

    DEFAULT_CSS = """
    RawNixEditor { layout: vertical; height: 1fr; }
    RawNixEditor > .raw-help { color: $text-muted; padding: 0 1; }
    RawNixEditor > TextArea { height: 1fr; }
    RawNixEditor > .raw-error { color: $text-error; padding: 0 1; height: auto; }
    """

    def __init__(self, own: Data, merged: Data, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.own = own
        self._timer: Timer | None = None
        self._shown = ""

    def _text(self) -> str:
        value = self.own.get("extraConfig")
        return value if isinstance(value, str) else ""

    def compose(self) -> ComposeResult:
        yield Static(
            "Raw NixOS options (extraConfig): `name = value;` lines, or a whole module. "
            "Parsed as you type; a profile whose Nix does not parse is not saved.",
            classes="raw-help",
        )
        self._shown = self._text()
        yield nix_area(self._shown, id="raw-nix")
        yield Static("", classes="raw-error")

    @property
    def area(self) -> TextArea:
        return self.query_one(TextArea)

    def show(self, own: Data, merged: Data) -> None:
        self.own = own
        text = self._text()
        if text != self.area.text:
            with self.prevent(TextArea.Changed):
                self.area.load_text(text)
        self._shown = text

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self.post_pending)

    def pending(self) -> list[Message]:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self.composed:
            return []
        text = self.area.text
        if text == self._shown:
            return []
        self._shown = text
        if text.strip():
            return [FieldEdited(("extraConfig",), text if text.endswith("\n") else text + "\n")]
        return [FieldEdited(("extraConfig",), remove=True)]

    def show_problems(self, problems: Sequence[Problem]) -> None:
        mine = [p for p in problems if p.path == "extraConfig"]
        self.query_one(".raw-error", Static).update(
            "\n".join(f"{p.place}: {p.message}" for p in mine)
        )

    def find(self, path: str) -> Widget | None:
        return self.area if path == "extraConfig" else None


class YamlEditor(Editor, Vertical):
    """The profile as text, for anything the forms do not cover; comments and all."""

    DEFAULT_CSS = """
    YamlEditor { layout: vertical; height: 1fr; }
    YamlEditor > .yaml-help { color: $text-muted; padding: 0 1; }
    YamlEditor > TextArea { height: 1fr; }
    """

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            "The profile as written: edits here show in the forms and the preview.",
            classes="yaml-help",
        )
        area = TextArea(self.text, id="yaml-text", show_line_numbers=True)
        area.indent_type = "spaces"
        area.indent_width = 2
        yield area

    @property
    def area(self) -> TextArea:
        return self.query_one(TextArea)

    def show(self, own: Data, merged: Data) -> None:
        pass  # the screen hands the text with show_text

    def show_text(self, text: str) -> None:
        self.text = text
        if self.area.text != text:
            cursor = self.area.cursor_location
            with self.prevent(TextArea.Changed):
                self.area.load_text(text)
            lines = text.count("\n")
            self.area.cursor_location = (min(cursor[0], lines), cursor[1])

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self.post_pending)

    def pending(self) -> list[Message]:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self.composed or self.area.text == self.text:
            return []
        self.text = self.area.text
        return [TextReplaced(self.text)]

    def go_to(self, line: int, column: int) -> None:
        self.area.cursor_location = (max(line - 1, 0), max(column - 1, 0))
        self.area.scroll_cursor_visible(center=True)
