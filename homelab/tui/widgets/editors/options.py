"""`options:` (the Options tab): any NixOS option as YAML, one row per key as written,
and a form for the highlighted one: its option path, the type of its value, the value.

The path is checked as it is typed (the notation of profile/options.py); the value is
read for its type (a number, YAML flow for lists and maps, the tag for packages, Nix
expressions and priorities) and written when typing pauses; what the value means for
NixOS is the validation's to say, under the value as in every other tab.

With the option index, the value is typed by the option's type (optionfields.py): a
switch, a choice, a number in its range; a submodule's map a field per option below it;
a list of text, numbers or choices an item per row.

Over 500 lines for now: the glue between the path, the value widgets and the index's
types; the list and submodule editors already live apart (optionitems.py, optionsub.py),
and the value widgets' show/read pairs are the next to move out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, Switch, TextArea
from textual.widgets.input import Selection as InputSelection
from textual.widgets.option_list import Option

from homelab.errors import Problem, format_path
from homelab.optionindex import model as m
from homelab.optionindex.model import Option as IndexOption
from homelab.optionindex.model import OptionSet
from homelab.profile.options import SECTION, NotAnOptionPath, parse_key
from homelab.tui.messages import FieldEdited
from homelab.tui.optionhelp import (
    first_line,
    out_of_range,
    plain_type,
    start_value,
    type_text,
)
from homelab.tui.optionvalues import (
    BOXED,
    KINDS,
    SHORT,
    flow,
    kind_of,
    read_value,
    same,
    shown,
    value_text,
)
from homelab.tui.plain import Static, plain
from homelab.tui.schema import Path, dig
from homelab.tui.widgets.editors.base import Data, as_map
from homelab.tui.widgets.editors.entries import EntriesEditor
from homelab.tui.widgets.editors.listdetail import EntryList, ListDetail
from homelab.tui.widgets.editors.optionfields import (
    choice_field,
    control_kind,
    simple_item,
    switch_field,
    switch_note,
    text_field,
)
from homelab.tui.widgets.editors.optionitems import ItemsEditor
from homelab.tui.widgets.editors.optionsub import SubmoduleFields, nested_options
from homelab.tui.widgets.textbox import TextBox

PATH_WIDTH = 32  # the path column of the list, longer paths are cut
VALUE_WIDTH = 40


def path_problem(text: str) -> str:
    """What is wrong with an option path as typed ('' when it reads)."""
    try:
        parse_key(text.strip())
    except NotAnOptionPath as err:
        return f"{err.message}: {err.hint}"
    return ""


NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")


def key_of(path: Sequence[str]) -> str:
    """An option's path as an `options:` key: a name that is not a Nix identifier quoted
    (`fileSystems."<name>".device`: the placeholder to be replaced by a name)."""
    return ".".join(p if NAME.fullmatch(p) else f'"{p}"' for p in path)


def new_value(path: str) -> Any:
    """What a new entry starts as: `true` for an `enable` (`enableSshSupport` too), else
    empty text."""
    return True if re.fullmatch(r"enable([A-Z]\w*)?", path.rsplit(".", 1)[-1]) else ""


class OptionRows(EntryList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "act('add')", "Add"),
        Binding("delete", "act('remove')", "Remove"),
    ]
    noun = "option"
    filterable = True


class OptionRow(Horizontal):
    """One line of the form (path, type or value), its name marked while it has focus:
    bold reverse with a ▌ after it, as the fields of the other tabs (seen without colour)."""

    @on(events.DescendantFocus)
    def _focus_came(self, event: events.DescendantFocus) -> None:
        self.add_class("-focused")

    @on(events.DescendantBlur)
    def _focus_went(self, event: events.DescendantBlur) -> None:
        # a select's choices closing give the focus back before their blur arrives
        self.call_after_refresh(self._marked)

    def _marked(self) -> None:
        focused = self.screen.focused if self.is_attached else None
        self.set_class(focused is not None and self in focused.ancestors, "-focused")


class OptionsEditor(ListDetail, Vertical):
    """The host's `options:` entries and the highlighted one's path, type and value."""

    DEFAULT_CSS = """
    OptionsEditor { layout: vertical; height: 1fr; }
    OptionsEditor > .options-help { color: $text-muted; padding: 0 1; }
    OptionsEditor OptionRows { height: auto; min-height: 3; max-height: 60%;
                               border: round $primary 40%;
                               text-wrap: nowrap; text-overflow: ellipsis; }
    OptionsEditor .options-says { color: $text-error; padding: 0 1; height: auto; }
    OptionsEditor .options-form { height: auto; padding: 1 1 0 1; }
    OptionsEditor .options-title { text-style: bold; }
    OptionsEditor .options-row { height: auto; }
    OptionsEditor .options-label { color: $text-muted; width: 7; border-right: blank; }
    OptionsEditor OptionRow.-focused > .options-label { border-right: inner $accent;
                                                        color: $accent; text-style: bold reverse; }
    OptionsEditor .options-value { height: auto; width: 1fr; }
    OptionsEditor .options-bool { height: 1; }
    OptionsEditor #option-bool-note { width: 1fr; padding: 0 1; }
    OptionsEditor Switch { border: none; height: 1; padding: 0; width: 6; }
    OptionsEditor Switch:focus { border: none; background-tint: $foreground 10%; }
    OptionsEditor #option-box { height: 5; }
    OptionsEditor #option-about { color: $text-muted; height: auto; max-height: 2;
                                  text-wrap: nowrap; text-overflow: ellipsis; }
    OptionsEditor .bool-note { width: 1fr; padding: 0 1; }
    OptionsEditor #option-path-says, OptionsEditor #option-value-says {
        color: $text-error; height: auto; }
    """

    def __init__(
        self,
        own: Data,
        merged: Data,
        *,
        where: Path = (SECTION,),
        about: str = "NixOS",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.where = where  # the section's place: options, or users.NAME.home.options
        self.about = about  # whose options: NixOS, home-manager
        self.example = "services.fwupd.enable" if about == "NixOS" else "programs.bat.enable"
        self._read(own, merged)
        self.selected: str | None = None
        self.kind = "text"  # the type chosen for the highlighted entry
        self.option: IndexOption | None = None  # the index's option of the highlighted entry
        self._problems: list[Problem] = []

    # ---- the list ----------------------------------------------------------------------

    def names(self) -> list[str]:
        inherited = [n for n in self.merged_options if n not in self.own_options]
        return [*self.own_options, *inherited]

    def is_own(self, name: str) -> bool:
        return name in self.own_options

    def value(self, name: str) -> Any:
        return self.own_options.get(name, self.merged_options.get(name))

    def prefix(self, name: str) -> Path:
        return (*self.where, name)

    def _read(self, own: Data, merged: Data) -> None:
        self.own_options = dict(as_map(dig(own, self.where)))
        self.merged_options = dict(as_map(dig(merged, self.where)))

    def detail(self) -> Widget:
        return self.query_one(".options-form")

    def _row(self, name: str, width: int = PATH_WIDTH) -> Option:
        """path, type, value: the value last, where a narrow list cuts it."""
        value = self.value(name)
        path = name if len(name) <= width else name[: width - 1] + "…"
        kind = kind_of(value)
        text = Text(f"{path:<{width}} ")
        text.append(f"{SHORT.get(kind, dict(KINDS)[kind]):<10} ", style="dim")
        text.append(shown(value, VALUE_WIDTH))
        if not self.is_own(name):
            text.append("  (inherited)", style="dim")
        return Option(text, id=name)

    def _width(self) -> int:
        """The path column's: the longest path, up to PATH_WIDTH."""
        return min(max((len(n) for n in self.names()), default=0), PATH_WIDTH)

    def _rows(self) -> list[Option]:
        width = self._width()
        return [self._row(n, width) for n in self.names()]

    def compose(self) -> ComposeResult:
        yield Static(
            f"Any {self.about} option as YAML: a path such as {self.example}, a name "
            'with dots or slashes in double quotes (fileSystems."/srv".device).',
            classes="options-help",
        )
        names = self.names()
        self.selected = names[0] if names else None
        rows = OptionRows(*self._rows(), classes="options-list detail-list")
        rows.border_title = plain("Options" if self.about == "NixOS" else f"{self.about} options")
        rows.border_subtitle = "a: add · delete: remove · enter: edit"
        yield rows
        yield Input(
            placeholder="new option: its path, then enter",
            id="option-new",
            classes="detail-add",
            compact=True,
        )
        yield Static("", id="option-new-says", classes="options-says")
        with Vertical(classes="options-form"):
            yield Static("", classes="options-title")
            yield Static("", id="option-about")
            with OptionRow(classes="options-row"):
                yield Static("path", classes="options-label")
                with Vertical(classes="options-value"):
                    yield Input(id="option-path", compact=True)
                    yield Static("", id="option-path-says")
            with OptionRow(classes="options-row"):
                yield Static("type", classes="options-label")
                yield Select(
                    [(label, kind) for kind, label in KINDS],
                    id="option-kind",
                    allow_blank=False,
                    compact=True,
                )
            with OptionRow(classes="options-row"):
                yield Static("value", classes="options-label")
                with Vertical(classes="options-value"):
                    yield text_field(None, id="option-value")
                    yield choice_field((), id="option-enum")
                    yield SubmoduleFields(id="option-sub")
                    yield switch_field(False, id="option-bool", note_id="option-bool-note")
                    yield ItemsEditor(id="option-list")
                    yield TextBox("", id="option-box")
                    yield Static("", id="option-value-says")

    def on_mount(self) -> None:
        for said in ("#option-new-says", "#option-path-says", "#option-value-says"):
            self._say(said, "")  # no line until there is something to say
        self.show_selected()

    def show(self, own: Data, merged: Data, where: Path | None = None) -> None:
        """The data again; where: another section (the Home tab's user changed)."""
        if where is not None and where != self.where:
            self.post_pending()
            self.where, self.selected = where, None
        self._read(own, merged)
        names = self.names()
        if self.selected not in names:
            self.selected = names[0] if names else None
        self._relist()
        self.show_selected()

    def _relist(self) -> None:
        rows = self.entries
        rows.clear_options()
        rows.add_options(self._rows())
        if self.selected is not None:
            rows.highlighted = rows.get_option_index(self.selected)

    # ---- the form ----------------------------------------------------------------------

    @property
    def path_input(self) -> Input:
        return self.query_one("#option-path", Input)

    @property
    def value_input(self) -> Input:
        return self.query_one("#option-value", Input)

    @property
    def box(self) -> TextArea:
        return self.query_one("#option-box", TextArea)

    @property
    def switch(self) -> Switch:
        return self.query_one("#option-bool", Switch)

    @property
    def chooser(self) -> Select[str]:
        return self.query_one("#option-kind", Select)

    @property
    def choices(self) -> Select[Any]:
        return self.query_one("#option-enum", Select)

    def option_set(self) -> OptionSet | None:
        """The index's options of this section (NixOS or home-manager), None without one."""
        index = getattr(self.app, "option_index", lambda: None)()
        if index is None:
            return None
        return index.nixos if self.about == "NixOS" else index.home  # type: ignore[no-any-return]

    def option_of(self, name: str) -> IndexOption | None:
        """The option the entry sets, from the index (None: no index, or not an option)."""
        options = self.option_set()
        if options is None or path_problem(name):
            return None
        found = options.find(parse_key(name.strip()))
        return found.option if found is not None and not found.rest else None

    def _enum(self) -> bool:
        """The entry is a choice of the option's enum: a select instead of the input."""
        option = self.option
        return (
            option is not None
            and control_kind(option.type) == "enum"
            and self.kind in ("text", "number", "bool")
        )

    def _nested(self) -> list[IndexOption]:
        """The submodule's direct options, when the entry is its map: the nested form."""
        return nested_options(self.option_set(), self.option) if self.kind == "map" else []

    def _item_type(self) -> m.OptionType | None:
        """The item type of a list option the list editor types (text, number, choice, true
        or false), when the entry is its list; None for the YAML box."""
        option = self.option
        if option is None or self.kind != "list":
            return None
        return simple_item(option.type)

    @property
    def items_editor(self) -> ItemsEditor:
        return self.query_one(ItemsEditor)

    def _show_kind(self) -> None:
        """The value input that fits the type, the others hidden."""
        enum = self._enum()
        nested = bool(self._nested())
        self.value_input.display = self.kind in ("text", "number", "pkg") and not enum
        self.choices.display = enum
        self.query_one(".options-bool").display = self.kind == "bool" and not enum
        self._note()
        listed = self._item_type() is not None
        self.box.display = self.kind in BOXED and not nested and not listed
        self.query_one("#option-sub").display = nested
        self.query_one("#option-list").display = listed

    def _about_option(self) -> None:
        """The option's type and description from the index, under the title."""
        option = self.option
        about = self.query_one("#option-about", Static)
        about.display = option is not None
        if option is None:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(type_text(option.type), style="bold")
        if option.default is not None:
            text.append(f" · default {first_line(option.default, 60)}")
        text.append("\n" + (first_line(option.description) or "no description"))
        about.update(text)

    def _fill_choices(self, value: Any) -> None:
        option = self.option
        if option is None:
            return
        values = plain_type(option.type).values
        self.choices.set_options([(Text(value_text(v)), v) for v in values])
        if value in values:
            self.choices.value = value

    @property
    def sub_fields(self) -> SubmoduleFields:
        return self.query_one(SubmoduleFields)

    def _nested_read(self) -> tuple[dict[str, Any], str]:
        """The nested form's map, and what is wrong with a field's value ('' when nothing)."""
        return self.sub_fields.read(self.own_options.get(self.selected or ""))

    def show_selected(self) -> None:
        form = self.detail()
        name = self.selected
        form.display = name is not None
        if name is None:
            return
        value = self.value(name)
        title = f"option {name}"
        if not self.is_own(name):
            title += "  (from an included fragment: change it there, or set it here to override)"
        self.query_one(".options-title", Static).update(title)
        for widget in form.query("Input, Select, Switch, TextArea, OptionItems"):
            widget.disabled = not self.is_own(name)
        self.option = self.option_of(name)
        with self.prevent(Input.Changed, Select.Changed, Switch.Changed, TextArea.Changed):
            self.kind = kind_of(value)
            self.chooser.value = self.kind
            self.path_input.value = name
            self._fill(value)
            if self._enum():
                self._fill_choices(value)
            self.sub_fields.show(name, self._nested(), value)
            self.items_editor.show(self._item_type(), value)
        self._show_kind()
        self._about_option()
        self._say("#option-path-says", path_problem(name))  # a key in the text may not read
        self.show_problems(self._problems)

    def _fill(self, value: Any) -> None:
        text = value_text(value)
        if self.kind == "bool":
            self.switch.value = value is True
        elif self.kind in BOXED:
            if self.box.text != text:
                self.box.load_text(text)
        elif self.value_input.value != text:
            self.value_input.value = text

    def _note(self) -> None:
        """The switch's value in words: a switch without colour shows nothing."""
        self.query_one("#option-bool-note", Static).update(switch_note(self.switch.value))

    def _say(self, where: str, text: str) -> None:
        said = self.query_one(where, Static)
        said.update(text)
        said.display = bool(text)

    def _typed(self) -> str:
        if self._enum():
            chosen = self.choices.value
            return "" if self.choices.is_blank() else value_text(chosen)
        if self._nested():
            return flow(self._nested_read()[0])
        if self._item_type() is not None:
            return flow(self.items_editor.items)
        if self.kind == "bool":
            return "true" if self.switch.value else "false"
        return self.box.text if self.kind in BOXED else self.value_input.value

    def focus_detail(self) -> None:
        if self.selected is not None and self.is_own(self.selected):
            self.path_input.focus()

    # ---- keys and typing ---------------------------------------------------------------

    @on(Input.Changed, "#option-new")
    def _new_typed(self, event: Input.Changed) -> None:
        event.stop()
        said = path_problem(event.value) if event.value.strip() else ""
        self._say("#option-new-says", said)

    @on(Input.Changed, "#option-path")
    def _path_typed(self, event: Input.Changed) -> None:
        event.stop()
        said = path_problem(event.value)
        name = event.value.strip()
        if not said and name != self.selected and name in self.names():
            said = f"{name} is set already: choose another path"
        self._say("#option-path-says", said)
        self.wait_for_pause()

    @on(Input.Submitted, "#option-path, #option-value")
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_pending()

    @on(Input.Changed, "#option-value")
    @on(TextArea.Changed, "#option-box")
    def _value_typed(self, event: Message) -> None:
        event.stop()
        self._say_value()
        self.wait_for_pause()

    @on(Select.Changed, "#option-enum")
    def _choice_made(self, event: Select.Changed) -> None:
        event.stop()
        self._say_value()
        self.post_pending()

    @on(SubmoduleFields.Typed)
    def _sub_typed(self, event: SubmoduleFields.Typed) -> None:
        event.stop()
        self._say_value()
        self.wait_for_pause()

    @on(SubmoduleFields.Changed)
    def _sub_changed(self, event: SubmoduleFields.Changed) -> None:
        event.stop()
        if event.say:
            self._say_value()
        self.post_pending()

    @on(ItemsEditor.Changed)
    def _items_changed(self, event: ItemsEditor.Changed) -> None:
        event.stop()
        self._say_value()
        self.post_pending()

    @on(ItemsEditor.Said)
    def _items_said(self, event: ItemsEditor.Said) -> None:
        event.stop()
        self._say("#option-value-says", event.text or self._problem_text())

    @on(Switch.Changed, "#option-bool")
    def _switched(self, event: Switch.Changed) -> None:
        event.stop()
        self._note()
        self.post_pending()

    @on(Select.Changed, "#option-kind")
    def _kind_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != self.chooser.value or event.value == self.kind:
            return  # the chooser's own first value, or one set by show_selected
        if not isinstance(event.value, str):
            return
        typed = self._typed()
        self.kind = event.value
        with self.prevent(Input.Changed, Switch.Changed, TextArea.Changed):
            if self.kind == "bool":
                self.switch.value = typed.strip() == "true"
            elif self.kind in BOXED:
                self.box.load_text(typed)
            else:
                self.value_input.value = typed
            if self._enum():
                self._fill_choices(typed)
            self.sub_fields.show(
                self.selected, self._nested(), self.own_options.get(self.selected or "")
            )
        self._show_kind()
        self._say_value()
        self.post_pending()

    def _read_typed(self) -> tuple[Any, str]:
        """The typed value, or what is wrong with it (for the option's range too)."""
        value, wrong = read_value(self.kind, self._typed())
        if not wrong and self.option is not None:
            wrong = out_of_range(self.option.type, value)
        if not wrong and self._nested():
            wrong = self._nested_read()[1]
        return value, wrong

    def _say_value(self) -> None:
        _, wrong = self._read_typed()
        self._say("#option-value-says", wrong or self._problem_text())

    def pending(self) -> list[Message]:
        """The highlighted entry's value (at its old path) then its new path, when they
        read: the rename comes last, so that the list is shown again with both."""
        self.end_pause()
        name = self.selected
        if not self.composed or name is None or not self.is_own(name):
            return []
        out: list[Message] = []
        value, wrong = self._read_typed()
        if not wrong and not same(value, self.own_options.get(name)):
            self.own_options[name] = value
            out.append(FieldEdited(self.prefix(name), value))
            # its row only: the list may have moved on to another entry already
            self.entries.replace_option_prompt(name, self._row(name, self._width()).prompt)
        path = self.path_input.value.strip()
        if path != name and not path_problem(path) and path not in self.names():
            self.own_options = {(path if k == name else k): v for k, v in self.own_options.items()}
            self.merged_options.pop(name, None)
            self.selected = path
            out.append(EntriesEditor.Renamed(self.prefix(name), path))
            self._relist()
        return out

    def act(self, what: str) -> None:
        if what == "add":
            self.query_one("#option-new", Input).focus()
            return
        name = self.selected
        if what != "remove" or name is None:
            return
        if not self.is_own(name):
            self.app.notify(f"{name} comes from an included fragment: remove it there")
            return
        del self.own_options[name]
        self.merged_options.pop(name, None)  # a fragment's value shows again once checked
        names = self.names()
        self.selected = names[0] if names else None
        self.post_message(FieldEdited(self.prefix(name), remove=True))
        self._relist()
        self.show_selected()

    def add(self, name: str) -> None:
        said = path_problem(name)
        new = self.query_one("#option-new", Input)
        if said:
            new.value = name  # kept, to be mended
            new.cursor_position = len(name)
            self._say("#option-new-says", said)
            return
        if name not in self.names():
            value = new_value(name)
            self.own_options[name] = value
            self.post_message(FieldEdited(self.prefix(name), value))
            self._relist()
        self.select(name)
        self.chooser.focus()

    # ---- problems ----------------------------------------------------------------------

    def _problem_text(self) -> str:
        if self.selected is None:
            return ""
        mine = self.mine(self._problems, self.prefix(self.selected))
        said = path_problem(self.selected)  # under the path already
        return "\n".join(
            p.message + (f" ({p.hint})" if p.hint else "")
            for p in mine
            if not (said and said.startswith(p.message))
        )

    def show_problems(self, problems: Sequence[Problem]) -> None:
        self._problems = list(problems)
        if self.selected is not None and self.composed:
            _, wrong = self._read_typed()
            self._say("#option-value-says", wrong or self._problem_text())

    def find(self, path: str) -> Widget | None:
        for name in self.names():
            here = format_path(self.prefix(name))
            if path == here or path.startswith((here + ".", here + "[")):
                self.select(name)
                return self.value_widget()
        return None

    def value_widget(self) -> Widget:
        """The widget the highlighted entry's value is typed into."""
        if self._enum():
            return self.choices
        nested = self.sub_fields.first()
        if self._nested() and nested is not None:
            return nested
        if self._item_type() is not None:
            return self.items_editor.focus_target()
        if self.kind == "bool":
            return self.switch
        return self.box if self.kind in BOXED else self.value_input

    # ---- an option from the option search ----------------------------------------------

    def insert(self, option: IndexOption) -> None:
        """The option chosen in the option search: added with the value its type starts
        with (or selected, when set already), the focus on its value; on its path when it
        holds a placeholder to be replaced by a name."""
        name = key_of(option.path)
        if name not in self.names():
            value = start_value(option)
            self.own_options[name] = value
            self.post_message(FieldEdited(self.prefix(name), value))
            self._relist()
        self.select(name)
        self.call_after_refresh(self._focus_inserted, name)

    def _select_placeholder(self) -> None:
        """The first placeholder of the path selected (inside its quotes): a name typed
        replaces it."""
        path = self.path_input.value
        for mark in (f'"{m.NAME}"', f'"{m.ITEM}"'):
            start = path.find(mark)
            if start >= 0:
                self.path_input.selection = InputSelection(start + 1, start + len(mark) - 1)
                return

    def _focus_inserted(self, name: str, tries: int = 20) -> None:
        if self.selected != name or not self.is_own(name):
            return
        if self._nested() and not self.sub_fields.mounted() and tries:
            self.call_after_refresh(self._focus_inserted, name, tries - 1)  # being mounted
            return
        if any(p in (m.NAME, m.ITEM) for p in parse_key(name)):
            self.path_input.focus()
            self.call_after_refresh(self._select_placeholder)
            return
        widget = self.value_widget()
        widget.focus()
        if isinstance(widget, TextArea):  # typing goes between the brackets of [] and {}
            empty = widget.text.strip() in ("[]", "{}")
            widget.cursor_location = (0, 1) if empty else widget.document.end
        widget.scroll_visible(animate=False)
