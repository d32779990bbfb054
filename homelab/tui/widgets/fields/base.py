"""The field every form is made of: a value's name, the control that fits it, its problems.

A field shows the host's own value (from its profile) and, when the profile leaves it out,
what it inherits from an included fragment or the schema's default. A change posts
FieldEdited with the value's path; the screen writes it into the profile text. Each field
remembers the value the text holds (`own`), so refilling a field, or a control announcing
the value it was given, never writes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widget import Widget

from homelab.errors import Problem, format_path
from homelab.tui.labpart import LabNote
from homelab.tui.messages import FieldEdited
from homelab.tui.plain import Label, Static, plain
from homelab.tui.schema import MISSING, FieldSpec, Path, shown
from homelab.tui.widgets.hints import say_where


def same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def inherited_hint(inherited: Any, default: Any) -> str:
    """What a field shows when the profile leaves it out."""
    if inherited is not MISSING:
        return f"inherited: {shown(inherited)}"
    if default is not MISSING and default is not None:
        return f"default: {shown(default)}"
    return ""


def under(path: str, prefix: str) -> bool:
    """The path is prefix or inside it (`users.ada` holds `users.ada.groups[0]`)."""
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


class Field(Vertical):
    """One value of a form: its name, the control that fits it, and its problems."""

    # a grid, not rows of containers: a form has many fields, and fewer widgets per field
    # is what makes a big profile open fast
    DEFAULT_CSS = """
    Field { height: auto; margin: 0; layout: grid; grid-size: 2; grid-columns: 18 1fr;
            grid-rows: auto; }
    Field > .field-row { height: auto; }
    Field .field-name { width: 18; border-right: blank; color: $text-muted; }
    /* the focused field's name: a bar and a ▌ before its control, seen without colour
       (a class, not :focus-within, which would keep every name out of the style cache) */
    Field.-focused > Label.field-name { border-right: inner $accent; color: $accent;
                                        text-style: bold reverse; }
    Field > .field-error { display: none; color: $text-error; column-span: 2;
                           padding: 0 0 0 18; height: auto; }
    Field.-problem > .field-error { display: block; }
    Field.-problem .field-name { color: $text-error; text-style: bold; }
    Field.-problem Input { background: $error 15%; }
    Field.-problem.-warning > .field-error { color: $text-warning; }
    Field.-problem.-warning .field-name { color: $text-warning; }
    Field.-problem.-warning Input { background: $warning 15%; }
    Field .field-note { color: $text-muted; padding: 0 0 0 1; width: auto; }
    Field > .field-lab { color: $text-muted; column-span: 2; padding: 0 0 0 18; height: 1;
                         text-wrap: nowrap; text-overflow: ellipsis; }
    Field Switch { border: none; height: 1; padding: 0; width: 6; }
    Field Switch:focus { border: none; background-tint: $foreground 10%; }
    Field Input { background: $boost; }
    """

    holds_fields: ClassVar[bool] = False  # its entries' fields show the problems inside it
    lab_note: LabNote | None = None  # the lab's wiring sets this value (a note under it)

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
            name.tooltip = plain(self.spec.description)
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
        self._show_lab()

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
        self._show_lab()  # a value of the host's own: the lab's is no longer used

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
        if self.lab_note is None:  # mounted after its editor showed the lab's notes
            self.lab_note = self._lab_note_from_editor()
        self._show_lab()

    def _problems_from_editor(self) -> list[Problem]:
        """For a field mounted after its editor showed the problems (a lazy section)."""
        for node in self.ancestors:
            if getattr(node, "holds_problems", False):
                mine = self.path_text
                return [
                    p
                    for p in getattr(node, "problems", [])
                    if p.path == mine or (not self.holds_fields and under(p.path, mine))
                ]
        return []

    def _lab_note_from_editor(self) -> LabNote | None:
        for node in self.ancestors:
            notes = getattr(node, "lab_notes", None)
            if notes is not None:
                return notes.get(self.path)  # type: ignore[no-any-return]
        return None

    def show_lab(self, note: LabNote | None) -> None:
        """The lab's wiring sets this value (None: it does not)."""
        self.lab_note = note
        if self.is_mounted:
            self._show_lab()

    def _gives_own(self) -> bool:
        """The host gives this value itself (its profile or an included fragment)."""
        return any(
            v is not MISSING and v not in (None, "", [], {}) for v in (self.own, self.inherited)
        )

    def _show_lab(self) -> None:
        note = self.lab_note
        text = note.text(self._gives_own()) if note is not None else ""
        shown_note = next((c for c in self.children if c.has_class("field-lab")), None)
        if shown_note is None and text:
            shown_note = Static(classes="field-lab")  # made when first needed
            self.mount(shown_note)
        if isinstance(shown_note, Static):
            shown_note.update(text)
            shown_note.tooltip = plain(text) if text else None  # cut at a narrow pane's edge
            shown_note.display = bool(text)

    def _show_problems(self) -> None:
        problems = getattr(self, "problems", [])
        lines = []
        for p in problems:
            where = p.path.removeprefix(self.path_text)
            line = (f"{where.lstrip('.')}: " if where else "") + p.message
            line = ("warning: " if p.warning else "") + line  # in words, not colour alone
            lines.append(line + (f" ({p.hint})" if p.hint else ""))
        self.say("\n".join(lines))
        self.set_class(bool(problems) and all(p.warning for p in problems), "-warning")

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

    @on(events.DescendantFocus)
    def _focus_came(self, event: events.DescendantFocus) -> None:
        self.add_class("-focused")  # not stopped: a field around this one is marked too

    @on(events.DescendantBlur)
    def _focus_went(self, event: events.DescendantBlur) -> None:
        self.remove_class("-focused")

    key_hint: ClassVar[str] = ""  # what the control's keys are, for a key it cannot take

    @on(events.Key)
    def _key_it_cannot_take(self, event: events.Key) -> None:
        """A printable key that the control let through: say where focus is."""
        if not event.is_printable or event.key in self.screen.active_bindings:
            return
        event.stop()
        how = f"{self.key_hint}; " if self.key_hint else ""
        say_where(self, f"Focus is on {self.spec.label}: {how}tab moves on, shift+tab back")
