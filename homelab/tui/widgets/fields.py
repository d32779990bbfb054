"""Form fields that fit their values, made from a JSON Schema.

A field shows the host's own value (from its profile) and, when the profile leaves it out,
what it inherits from an included fragment or the schema's default, as a placeholder. A
change posts FieldEdited with the value's path; the screen writes it into the profile text.
Each field remembers the value the text holds (`own`), so refilling a field, or a control
announcing the value it was given, never writes anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import yaml
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Select, Static, Switch, TextArea
from textual.widgets.option_list import Option

from homelab.errors import Problem, format_path
from homelab.tui.schema import MISSING, FieldSpec, Path, dig, fields, item_kind, read_number, shown
from homelab.yamlfile import load_plain

Spec = FieldSpec | tuple[str, list[Any]]


class FieldEdited(Message):
    """A person changed a value: set it at path, or remove it (back to inherited/default)."""

    def __init__(self, path: Path, value: Any = None, *, remove: bool = False) -> None:
        super().__init__()
        self.path, self.value, self.remove = path, value, remove


class RenameEntry(Message):
    def __init__(self, path: Path, new_name: str) -> None:
        super().__init__()
        self.path, self.new_name = path, new_name


def same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _inherited_hint(inherited: Any, default: Any) -> str:
    if inherited is not MISSING:
        return f"inherited: {shown(inherited)}"
    if default is not MISSING and default is not None:
        return f"default: {shown(default)}"
    return ""


class Field(Vertical):
    """One value of a form: its name, the control that fits it, and its problems."""

    # a grid, not rows of containers: a form has many fields, and fewer widgets per field
    # is what makes a big profile open fast
    DEFAULT_CSS = """
    Field { height: auto; margin: 0; layout: grid; grid-size: 2; grid-columns: 18 1fr;
            grid-rows: auto; }
    Field > .field-row { height: auto; }
    Field .field-name { width: 18; padding: 0 1 0 0; color: $text-muted; }
    Field > .field-error { display: none; color: $text-error; column-span: 2;
                           padding: 0 0 0 18; height: auto; }
    Field.-problem > .field-error { display: block; }
    Field.-problem .field-name { color: $text-error; text-style: bold; }
    Field.-problem Input { background: $error 15%; }
    Field .field-note { color: $text-muted; padding: 0 0 0 1; width: auto; }
    Field Switch { border: none; height: 1; padding: 0; width: 6; }
    Field Switch:focus { border: none; background-tint: $foreground 10%; }
    Field Input { background: $boost; }
    """

    def __init__(self, spec: FieldSpec, base: Path, own: Any = MISSING, inherited: Any = MISSING):
        super().__init__()
        self.spec, self.base = spec, base
        self.own, self.inherited = own, inherited

    @property
    def path(self) -> Path:
        return (*self.base, *self.spec.rel)

    @property
    def path_text(self) -> str:
        return format_path(self.path)

    def compose(self) -> ComposeResult:
        name = Label(self.spec.label, classes="field-name")
        if self.spec.description:
            name.tooltip = self.spec.description
        yield name
        yield from self.compose_control()

    def compose_control(self) -> ComposeResult:
        raise NotImplementedError

    @property
    def control(self) -> Widget:
        raise NotImplementedError

    def fill(self, own: Any, inherited: Any) -> None:
        self.own, self.inherited = own, inherited
        if not self.is_mounted:
            return  # composed later (a lazy section): compose shows these values
        try:
            self.show_value()
        except NoMatches:  # mounted, its control not yet: once it is
            self.call_after_refresh(self.show_value)

    def show_value(self) -> None:
        raise NotImplementedError

    def changed(self, value: Any) -> None:
        """The control now holds value (MISSING: nothing): write it when it is news."""
        if same(value, self.own) or (value is MISSING and self.own is MISSING):
            return
        self.own = value
        if value is MISSING:
            self.post_message(FieldEdited(self.path, remove=True))
        else:
            self.post_message(FieldEdited(self.path, value))

    def show_problems(self, problems: Sequence[Problem]) -> None:
        problems = list(problems)
        if problems == getattr(self, "problems", None) and self.is_mounted:
            return  # nothing new to show: keystrokes stay cheap
        self.problems = problems
        if self.is_mounted:
            self._show_problems()

    def on_mount(self) -> None:
        if not hasattr(self, "problems"):
            self.problems = self._problems_from_editor()
        self._show_problems()

    def _problems_from_editor(self) -> list[Problem]:
        """For a field mounted after its editor showed the problems (a lazy section)."""
        for node in self.ancestors:
            if getattr(node, "holds_problems", False):
                mine = self.path_text
                inside = not isinstance(self, MapField)
                return [
                    p
                    for p in getattr(node, "problems", [])
                    if p.path == mine or (inside and p.path.startswith((mine + ".", mine + "[")))
                ]
        return []

    def _show_problems(self) -> None:
        problems = getattr(self, "problems", [])
        lines = []
        for p in problems:
            where = p.path.removeprefix(self.path_text)
            line = (f"{where.lstrip('.')}: " if where else "") + p.message
            lines.append(line + (f" ({p.hint})" if p.hint else ""))
        self.say("\n".join(lines))

    def say(self, text: str) -> None:
        """Show text (a problem) under the field; empty text hides it."""
        error = self.error
        if error is None and text:
            error = Static(classes="field-error")  # made when first needed
            self.mount(error)
        if error is not None:
            error.update(text)
        self.set_class(bool(text), "-problem")

    @property
    def error(self) -> Static | None:
        for child in self.children:
            if isinstance(child, Static) and child.has_class("field-error"):
                return child
        return None

    def focus_control(self) -> None:
        self.control.focus()


class TextField(Field):
    """Text and numbers; empty means 'not set here'."""

    def compose_control(self) -> ComposeResult:
        yield Input(
            self._text(), placeholder=self._placeholder(), classes="field-input", compact=True
        )

    @property
    def control(self) -> Input:
        return self.query_one(Input)

    def _text(self) -> str:
        return "" if self.own is MISSING else shown(self.own)

    def _placeholder(self) -> str:
        return _inherited_hint(self.inherited, self.spec.default)

    def show_value(self) -> None:
        control = self.control
        control.placeholder = self._placeholder()
        if self._read(control.value) != self.own or (self.own is MISSING and control.value):
            control.value = self._text()

    def _read(self, text: str) -> Any:
        if not text.strip():
            return MISSING
        if self.spec.kind == "number":
            return read_number(text, self.spec.schema)
        return text

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.changed(self._read(event.value))

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()


class BoolField(Field):
    def compose_control(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Switch(self._value(), classes="field-switch")
            yield Label(self._note(), classes="field-note")

    @property
    def control(self) -> Switch:
        return self.query_one(Switch)

    def _value(self) -> bool:
        for candidate in (self.own, self.inherited, self.spec.default):
            if isinstance(candidate, bool):
                return candidate
        return False

    def _note(self) -> str:
        if self.own is not MISSING:
            return "" if isinstance(self.own, bool) else f"(was {shown(self.own)})"
        if self.inherited is not MISSING:
            return "(inherited)"
        return "(default)" if isinstance(self.spec.default, bool) else "(not set)"

    def show_value(self) -> None:
        self.control.value = self._value()
        self.query_one(".field-note", Label).update(self._note())

    @on(Switch.Changed)
    def _switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        if self.own is MISSING and event.value == self._value():
            return  # showing the inherited or default value, not a change
        self.changed(event.value)
        self.query_one(".field-note", Label).update(self._note())


class ChoiceField(Field):
    def compose_control(self) -> ComposeResult:
        options = [(shown(o), o) for o in self.spec.options]
        value = self.own if self.own in self.spec.options else Select.NULL
        yield Select(
            options, value=value, prompt=self._prompt(), classes="field-select", compact=True
        )

    @property
    def control(self) -> Select[Any]:
        return self.query_one(Select)

    def _prompt(self) -> str:
        return _inherited_hint(self.inherited, self.spec.default) or "(not set)"

    def show_value(self) -> None:
        select = self.control
        select.prompt = self._prompt()
        select.value = self.own if self.own in self.spec.options else Select.NULL

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = MISSING if event.value is Select.NULL else event.value
        if value is MISSING and self.own is not MISSING and self.own not in self.spec.options:
            return  # an invalid value in the text is shown as blank: keep it until changed
        self.changed(value)


class ItemList(OptionList):
    """The items of a list field: delete removes one, enter edits it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete,backspace", "remove", "Remove item"),
        Binding("enter", "edit", "Edit item", show=False),
    ]

    class Remove(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Edit(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def action_remove(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Remove(self.highlighted))

    def action_edit(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Edit(self.highlighted))


class ListField(Field):
    """Groups, packages, SSH keys, ports: a list with an input to add or edit items.
    Items inherited from included fragments are shown dimmed and cannot be removed here."""

    DEFAULT_CSS = """
    ListField .list-box { height: auto; width: 1fr; }
    ListField ItemList { height: auto; max-height: 8; border: none; padding: 0; width: 1fr;
                         text-wrap: nowrap; text-overflow: ellipsis; }
    ListField ItemList:focus { background-tint: $foreground 5%; }
    ListField .list-add { margin: 0; }
    """

    def compose_control(self) -> ComposeResult:
        with Vertical(classes="list-box"):
            yield ItemList(*self._options(), classes="field-items")
            yield Input(placeholder=self._placeholder(), classes="list-add", compact=True)
        self._editing: int | None = None

    @property
    def control(self) -> Widget:
        items = self.query_one(ItemList)
        return items if items.option_count else self.query_one(".list-add", Input)

    def _own_items(self) -> list[Any]:
        return list(self.own) if isinstance(self.own, list) else []

    def _inherited_items(self) -> list[Any]:
        own = self._own_items()
        if not isinstance(self.inherited, list):
            return []
        return [v for v in self.inherited if v not in own]

    def _placeholder(self) -> str:
        kind = "a number" if item_kind(self.spec.schema, self.spec.root) == "integer" else "an item"
        return f"add {kind} and press enter"

    def _options(self) -> list[Option]:
        options = [Option(Text(shown(v)), id=f"own-{i}") for i, v in enumerate(self._own_items())]
        for v in self._inherited_items():
            options.append(Option(Text(f"{shown(v)}  (inherited)", style="dim"), disabled=True))
        return options

    def show_value(self) -> None:
        items = self.query_one(ItemList)
        highlighted = items.highlighted
        items.clear_options()
        items.add_options(self._options())
        if highlighted is not None and items.option_count:
            items.highlighted = min(highlighted, items.option_count - 1)

    def _write(self, values: list[Any]) -> None:
        self.changed(values if values else MISSING)
        self.show_value()

    @on(Input.Submitted, ".list-add")
    def _add(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        value: Any = text
        if item_kind(self.spec.schema, self.spec.root) == "integer":
            value = read_number(text, {"type": "integer"})
        values = self._own_items()
        if self._editing is not None and self._editing < len(values):
            values[self._editing] = value
        else:
            values.append(value)
        self._editing = None
        event.input.value = ""
        self._write(values)

    @on(Input.Changed, ".list-add")
    def _typing(self, event: Input.Changed) -> None:
        event.stop()

    @on(ItemList.Remove)
    def _remove(self, event: ItemList.Remove) -> None:
        event.stop()
        values = self._own_items()
        if event.index < len(values):
            del values[event.index]
            self._write(values)

    @on(ItemList.Edit)
    def _edit(self, event: ItemList.Edit) -> None:
        event.stop()
        values = self._own_items()
        if event.index < len(values):
            self._editing = event.index
            add = self.query_one(".list-add", Input)
            add.value = shown(values[event.index])
            add.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()


def _as_yaml(value: Any) -> str:
    if value is MISSING:
        return ""
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return text.removesuffix("...\n")


class YamlField(Field):
    """Anything without a better form (swap, environment, program settings): YAML text."""

    DEFAULT_CSS = """
    YamlField TextArea { height: auto; min-height: 3; max-height: 14; width: 1fr; }
    """

    def __init__(self, spec: FieldSpec, base: Path, own: Any = MISSING, inherited: Any = MISSING):
        super().__init__(spec, base, own, inherited)
        self._timer: Timer | None = None

    def compose_control(self) -> ComposeResult:
        area = TextArea(_as_yaml(self.own), classes="field-yaml", show_line_numbers=False)
        area.tab_behavior = "indent"
        yield area

    @property
    def control(self) -> TextArea:
        return self.query_one(TextArea)

    def show_value(self) -> None:
        area = self.control
        try:
            current = load_plain(area.text) if area.text.strip() else MISSING
        except yaml.YAMLError:
            current = None
        if current != self.own or (self.own is MISSING and area.text.strip()):
            area.load_text(_as_yaml(self.own))

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self.apply_text)

    def apply_text(self) -> None:
        for message in self.pending():
            self.post_message(message)

    def pending(self) -> list[Message]:
        """The edit the text holds, if any (a typing pause, or a save, asks for it)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        areas = self.query(TextArea)
        if not areas:
            return []  # mounted but not yet composed (a held key outruns the screen)
        text = areas.first().text
        try:
            value = load_plain(text) if text.strip() else MISSING
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            self.say(f"YAML: {where}{getattr(err, 'problem', None) or err}")
            return []
        self.say("")
        if same(value, self.own) or (value is MISSING and self.own is MISSING):
            return []
        self.own = value
        if value is MISSING:
            return [FieldEdited(self.path, remove=True)]
        return [FieldEdited(self.path, value)]


class Group(Vertical):
    """Fields under a title (hardware.boot, networking.firewall)."""

    DEFAULT_CSS = """
    Group { height: auto; border: round $primary 40%; border-title-color: $text-primary;
            padding: 0 1; margin: 0 0 1 0; }
    Group > .group-error { display: none; color: $text-error; }
    Group.-problem > .group-error { display: block; }
    """

    def __init__(
        self, title: str, rel: Path, specs: Sequence[Spec], base: Path, own: Any, inherited: Any
    ):
        super().__init__()
        self.border_title = title
        self.rel, self.specs, self.base = rel, specs, base
        self.own, self.inherited = own, inherited

    @property
    def path(self) -> Path:
        return (*self.base, *self.rel)

    @property
    def path_text(self) -> str:
        return format_path(self.path)

    def compose(self) -> ComposeResult:
        yield Static("", classes="group-error")
        yield from build(self.specs, self.base, self.own, self.inherited)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        if self.is_mounted:
            self._show_problems()

    def on_mount(self) -> None:
        self._show_problems()

    def _show_problems(self) -> None:
        problems = getattr(self, "problems", [])
        errors = self.query(".group-error")
        if not errors:
            return
        errors.first(Static).update(
            "\n".join(p.message + (f" ({p.hint})" if p.hint else "") for p in problems)
        )
        self.set_class(bool(problems), "-problem")

    def focus_control(self) -> None:
        for field in self.query(Field):
            field.focus_control()
            return


class MapField(Field):
    """Named entries with the same fields each (file systems, interfaces): one box per
    entry, with its fields, and an input to add an entry."""

    DEFAULT_CSS = """
    MapField { grid-size: 1; grid-columns: 1fr; }
    MapField .map-box { height: auto; width: 1fr; padding: 0 0 0 2; }
    MapField > .field-error { padding: 0 0 0 2; }
    MapField .map-entry { height: auto; border: round $secondary 50%; padding: 0 1; }
    MapField .map-entry > Horizontal { height: auto; }
    MapField .map-entry Button { min-width: 10; height: 1; border: none; margin: 0 0 0 1; }
    """

    def compose_control(self) -> ComposeResult:
        with Vertical(classes="map-box"):
            yield from self._entries()
            yield Input(
                placeholder="add an entry: its name, then enter", classes="map-add", compact=True
            )

    def _keys(self) -> list[str]:
        own = list(self.own) if isinstance(self.own, dict) else []
        inherited = (
            [k for k in self.inherited or {} if k not in own]
            if isinstance(self.inherited, dict)
            else []
        )
        return [*own, *inherited]

    def _entries(self) -> Iterable[Widget]:
        item_schema = self.spec.schema.get("additionalProperties") or {}
        specs = fields(item_schema, self.spec.root)
        for key in self._keys():
            box = Vertical(classes="map-entry")
            box.border_title = key + (
                "" if isinstance(self.own, dict) and key in self.own else "  (inherited)"
            )
            own = dig(self.own, (key,)) if isinstance(self.own, dict) else MISSING
            inherited = dig(self.inherited, (key,)) if isinstance(self.inherited, dict) else MISSING
            remove = Button("remove", classes="map-remove", variant="error", compact=True)
            remove.entry = key  # type: ignore[attr-defined]
            box.compose_add_child(remove)
            for widget in build(specs, (*self.path, key), own, inherited):
                box.compose_add_child(widget)
            yield box

    @property
    def control(self) -> Widget:
        return self.query_one(".map-add", Input)

    def show_value(self) -> None:
        shown_keys = [b.border_title for b in self.query(".map-entry")]
        if [str(t).split("  ")[0] for t in shown_keys] != self._keys():
            self._rebuild()
            return
        for box in self.query(".map-entry"):
            key = str(box.border_title).split("  ")[0]
            own = dig(self.own, (key,)) if isinstance(self.own, dict) else MISSING
            inherited = dig(self.inherited, (key,)) if isinstance(self.inherited, dict) else MISSING
            fill(box, (*self.path, key), own, inherited)

    def _rebuild(self) -> None:
        box = self.query_one(".map-box", Vertical)
        for entry in list(box.query(".map-entry")):
            entry.remove()
        box.mount_all(list(self._entries()), before=self.query_one(".map-add", Input))

    def changed(self, value: Any) -> None:
        pass  # entries write their own fields

    @on(Input.Submitted, ".map-add")
    def _add(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if not name or name in self._keys():
            return
        event.input.value = ""
        self.own = {**(self.own if isinstance(self.own, dict) else {}), name: {}}
        self.post_message(FieldEdited((*self.path, name), {}))
        self._rebuild()

    @on(Input.Changed, ".map-add")
    def _typing(self, event: Input.Changed) -> None:
        event.stop()

    @on(Button.Pressed, ".map-remove")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        key = str(getattr(event.button, "entry", ""))
        if not isinstance(self.own, dict) or key not in self.own:
            self.app.notify(
                f"{key} comes from an included fragment: change it there", severity="warning"
            )
            return
        self.own = {k: v for k, v in self.own.items() if k != key}
        self.post_message(FieldEdited((*self.path, key), remove=True))
        self._rebuild()


FIELD_TYPES: dict[str, type[Field]] = {
    "text": TextField,
    "number": TextField,
    "bool": BoolField,
    "choice": ChoiceField,
    "list": ListField,
    "yaml": YamlField,
    "map": MapField,
}


def build(specs: Sequence[Spec], base: Path, own: Any, inherited: Any) -> Iterable[Widget]:
    """Widgets for these field specs; own and inherited are the data at base."""
    for spec in specs:
        if isinstance(spec, tuple):
            title, children = spec
            first = next((c for c in children if isinstance(c, FieldSpec)), None)
            rel = first.rel[:-1] if first else ()
            yield Group(title, rel, children, base, own, inherited)
        else:
            cls = FIELD_TYPES[spec.kind]
            yield cls(spec, base, dig(own, spec.rel), dig(inherited, spec.rel))


def fill(container: Widget, base: Path, own: Any, inherited: Any) -> None:
    """Show new values in every field under container, whose data is now at base (a
    user's form shows another user by moving its base)."""
    groups, found = _parts(container)
    for group in groups:
        if not _inside_map(group, container):
            group.base = base
    for field in found:
        if _inside_map(field, container):
            continue  # a map's entries are filled by the map itself
        field.base = base
        field.fill(dig(own, field.spec.rel), dig(inherited, field.spec.rel))


def _inside_map(widget: Widget, container: Widget) -> bool:
    node = widget.parent
    while node is not None and node is not container:
        if isinstance(node, MapField):
            return True
        node = node.parent
    return False


def show_problems(container: Widget, problems: Sequence[Problem]) -> list[Problem]:
    """Put each problem next to the field (or group) it is about; returns those that
    found no place here."""
    groups, fields_ = _parts(container)
    places: list[Field | Group] = [*fields_, *groups]
    claimed: dict[int, list[Problem]] = {}
    orphans: list[Problem] = []
    for problem in problems:
        best = claimant(places, problem.path)
        if best is None:
            orphans.append(problem)
        else:
            claimed.setdefault(id(best), []).append(problem)
    for place in places:
        place.show_problems(claimed.get(id(place), []))
    return orphans


def claimant(places: Sequence[Field | Group], path: str) -> Field | Group | None:
    """The field whose value holds this path (the deepest one)."""
    if not path:
        return None
    best: Field | Group | None = None
    for place in places:
        mine = place.path_text
        exact = path == mine
        inside = path.startswith(mine + ".") or path.startswith(mine + "[")
        if isinstance(place, Group) and not exact:
            continue
        if (exact or inside) and (best is None or len(mine) > len(best.path_text)):
            best = place
    return best


def lookup(container: Widget, path: str) -> Field | Group | None:
    groups, found = _parts(container)
    return claimant([*found, *groups], path)


def _parts(container: Widget) -> tuple[list[Group], list[Field]]:
    """The groups and fields under container (a walk: no CSS matching, it is faster)."""
    groups: list[Group] = []
    found: list[Field] = []
    for node in container.walk_children(with_self=False):
        if isinstance(node, Field):
            found.append(node)
        elif isinstance(node, Group):
            groups.append(node)
    return groups, found


def values_of(data: Any, path: Path) -> Mapping[str, Any]:
    value = dig(data, path)
    return value if isinstance(value, Mapping) else {}
