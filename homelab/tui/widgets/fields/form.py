"""A form made from field specs: each value gets the field of its kind; nested objects
become titled groups, and maps of named entries (file systems, interfaces) a box per
entry with the same fields each. `build` makes the widgets, `fill` shows new values.

Groups and maps hold fields of every kind, so they live here with `build`, which makes
them: the kinds themselves (text.py, number.py, ...) know nothing of forms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Button, Input

from homelab.errors import Problem, format_path
from homelab.tui.compact import compact
from homelab.tui.messages import FieldEdited
from homelab.tui.plain import Static, plain
from homelab.tui.schema import MISSING, FieldSpec, Path, dig, fields
from homelab.tui.widgets.fields.base import Field
from homelab.tui.widgets.fields.list import ListField
from homelab.tui.widgets.fields.number import NumberField
from homelab.tui.widgets.fields.secret import SecretField
from homelab.tui.widgets.fields.select import ChoiceField
from homelab.tui.widgets.fields.text import TextField
from homelab.tui.widgets.fields.toggle import BoolField
from homelab.tui.widgets.fields.yaml import YamlField

Spec = FieldSpec | tuple[str, list[Any]]


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
        self.border_title = plain(title)
        self.rel, self.specs, self.base = rel, specs, base
        self.own, self.inherited = own, inherited

    @property
    def path(self) -> Path:
        return (*self.base, *self.rel)

    @property
    def path_text(self) -> str:
        return format_path(self.path)

    def compose(self) -> ComposeResult:
        # the line of the group's own problems is made once it has one: most groups never
        # do, and a form's first frame is shorter by a widget per group
        yield from build(self.specs, self.base, self.own, self.inherited)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        if self.is_mounted:
            self._show_problems()

    def on_mount(self) -> None:
        self._show_problems()

    def _show_problems(self) -> None:
        problems = getattr(self, "problems", [])
        said = "\n".join(p.message + (f" ({p.hint})" if p.hint else "") for p in problems)
        line = next((w for w in self.children if w.has_class("group-error")), None)
        if line is None:
            if not problems:
                return
            line = Static(said, classes="group-error")
            self.mount(line, before=self.children[0] if self.children else None)
        elif isinstance(line, Static):
            line.update(said)
        self.set_class(bool(problems), "-problem")

    def focus_control(self) -> None:
        for field in self.query(Field):
            field.focus_control()
            return


class MapField(Field):
    """Named entries with the same fields each: one box per entry, with its fields, and an
    input to add an entry."""

    DEFAULT_CSS = """
    MapField { grid-size: 1; grid-columns: 1fr; }
    MapField .map-box { height: auto; width: 1fr; padding: 0 0 0 2; }
    MapField > .field-error { padding: 0 0 0 2; }
    MapField .map-entry { height: auto; border: round $secondary 50%; padding: 0 1; }
    MapField .map-entry > Horizontal { height: auto; }
    MapField .map-entry Button { min-width: 10; height: 1; border: none; margin: 0 0 0 1; }
    """

    holds_fields: ClassVar[bool] = True

    def compose_control(self) -> ComposeResult:
        with Vertical(classes="map-box"):
            yield from self._entries()
            add = Input(placeholder="add an entry: its name, then enter", classes="map-add")
            yield compact(add)

    def _keys(self) -> list[str]:
        own = list(self.own) if isinstance(self.own, dict) else []
        inherited = (
            [k for k in self.inherited or {} if k not in own]
            if isinstance(self.inherited, dict)
            else []
        )
        return [*own, *inherited]

    def _at(self, key: str) -> tuple[Any, Any]:
        """An entry's own and inherited values."""
        own = dig(self.own, (key,)) if isinstance(self.own, dict) else MISSING
        inherited = dig(self.inherited, (key,)) if isinstance(self.inherited, dict) else MISSING
        return own, inherited

    def _entries(self) -> Iterable[Widget]:
        item_schema = self.spec.schema.get("additionalProperties") or {}
        specs = fields(item_schema, self.spec.root)
        for key in self._keys():
            box = Vertical(classes="map-entry")
            box.border_title = plain(
                key + ("" if isinstance(self.own, dict) and key in self.own else "  (inherited)")
            )
            box.entry = key  # type: ignore[attr-defined]
            remove = compact(Button("remove", classes="map-remove", variant="error"))
            remove.entry = key  # type: ignore[attr-defined]
            box.compose_add_child(remove)
            for widget in build(specs, (*self.path, key), *self._at(key)):
                box.compose_add_child(widget)
            yield box

    @property
    def control(self) -> Widget:
        return self.query_one(".map-add", Input)

    def show_value(self) -> None:
        if [b.entry for b in self.query(".map-entry")] != self._keys():  # type: ignore[attr-defined]
            self._rebuild()
            return
        for box in self.query(".map-entry"):
            key = box.entry  # type: ignore[attr-defined]
            fill(box, (*self.path, key), *self._at(key))

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
    "number": NumberField,
    "bool": BoolField,
    "choice": ChoiceField,
    "list": ListField,
    "yaml": YamlField,
    "map": MapField,
    "secret": SecretField,
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
    groups, found = parts(container)
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


def parts(container: Widget) -> tuple[list[Group], list[Field]]:
    """The groups and fields under container (a walk: no CSS matching, it is faster)."""
    groups: list[Group] = []
    found: list[Field] = []
    for node in container.walk_children(with_self=False):
        if isinstance(node, Field):
            found.append(node)
        elif isinstance(node, Group):
            groups.append(node)
    return groups, found


def show_problems(container: Widget, problems: Sequence[Problem]) -> list[Problem]:
    """Put each problem next to the field (or group) it is about; returns those that
    found no place here."""
    groups, found = parts(container)
    places: list[Field | Group] = [*found, *groups]
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
    """The field (or group) under container that edits path."""
    groups, found = parts(container)
    return claimant([*found, *groups], path)
