"""A value that names a secret's file: a path on the machine, or one of the lab's
encrypted secrets (`{secret: NAME}`, encrypted/NAME.age, which the machine decrypts).

One choice says which: "a path on the machine" (then the path is typed beside it), a
secret of the lab by name, or "new secret…" (then its name is typed). Choosing another
secret changes only `secret:` in the text, so owner, group and mode written in YAML stay.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Select

from homelab.profile import secretrefs
from homelab.tui.messages import FieldEdited
from homelab.tui.plain import Label
from homelab.tui.schema import MISSING
from homelab.tui.widgets.fields.base import Field, inherited_hint

PATH = "path"
NEW = "new"
SECRET = "secret:"  # a secret's choice is SECRET + its name


def lab_secrets(widget: Field) -> dict[str, bool]:
    """The lab's encrypted secrets as the editor last loaded them: name -> its file is
    there (a secret named by a host but never set is listed, as missing)."""
    state = getattr(getattr(widget.app, "session", None), "state", None)
    found = getattr(state, "secrets", None)
    if found is None:
        return {}
    return {name: s.present for name, s in sorted(found.secrets.items())}


def line(text: str) -> Text:
    """A choice on one line, cut with … in a narrow form (the note below has it whole)."""
    return Text(text, no_wrap=True, overflow="ellipsis")


def secret_of(value: Any) -> str | None:
    """The secret's name when the value is `{secret: NAME}`."""
    return str(value["secret"]) if secretrefs.is_ref(value) else None


class SecretField(Field):
    """A path on the machine, or an encrypted secret of the lab, chosen by keys."""

    # one line each (the choice, the path or new name, the note): a form may be narrow
    DEFAULT_CSS = """
    SecretField > .field-row { height: auto; }
    SecretField .secret-kind, SecretField .secret-path, SecretField .secret-new { width: 1fr; }
    SecretField .field-note { padding: 0; width: 1fr; }
    SecretField SelectCurrent, SecretField SelectCurrent > * { height: 1; text-wrap: nowrap;
                                                              text-overflow: ellipsis; }
    """

    key_hint = "enter opens its choices: a path on the machine, a secret of the lab, a new one"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = self._mode_of(self.own)
        self._names: dict[str, bool] = {}
        self._shown: list[tuple[Text, str]] = []  # the choices the select has

    # ---- what is shown --------------------------------------------------------------

    @staticmethod
    def _mode_of(value: Any) -> str:
        name = secret_of(value)
        if name is not None:
            return SECRET + name
        return PATH if isinstance(value, str) else ""

    def _options(self) -> list[tuple[Text, str]]:
        names = dict(self._names)
        own = secret_of(self.own)
        if own is not None and own not in names:
            names[own] = False
        out = [(Text("a path on the machine"), PATH)]
        for name, present in sorted(names.items()):
            out.append((Text(f"secret {name}" + ("" if present else "  (missing)")), SECRET + name))
        out.append((Text("new secret…"), NEW))
        return out

    def _prompt(self) -> str:
        if self.own is not MISSING:
            return "(not set)"  # the blank choice: what choosing it makes of the value
        inherited = secret_of(self.inherited)
        if inherited is not None:
            return f"inherited: secret {inherited}"
        return inherited_hint(self.inherited, self.spec.default) or "(not set)"

    def _note(self) -> str:
        name = secret_of(self.own)
        if name is None or not self.mode.startswith(SECRET):
            return ""
        missing = "" if self._names.get(name) else " (missing)"
        extra = ", ".join(f"{k} {self.own[k]}" for k in ("owner", "group", "mode") if k in self.own)
        return secretrefs.file_of(name) + missing + (f"; {extra}" if extra else "")

    def compose_control(self) -> ComposeResult:
        self._names = lab_secrets(self)
        self._shown = self._options()
        with Vertical(classes="field-row"):
            yield Select(
                self._shown,
                value=self.mode or Select.NULL,
                prompt=self._prompt(),
                classes="secret-kind",
                compact=True,
            )
            path = Input(
                self.own if isinstance(self.own, str) else "",
                placeholder=self._path_placeholder(),
                classes="secret-path",
                compact=True,
            )
            path.display = self.mode in (PATH, "")
            yield path
            new = Input(
                placeholder="the new secret's name, then enter",
                classes="secret-new",
                compact=True,
            )
            new.display = self.mode == NEW
            yield new
            note = Label(self._note(), classes="field-note")
            note.display = bool(self._note())
            yield note

    def _path_placeholder(self) -> str:
        name = secret_of(self.own)
        if name is not None:
            return f"a path: secret {name} stays until one is typed"
        if isinstance(self.inherited, str) or self.inherited is MISSING:
            return inherited_hint(self.inherited, self.spec.default) or "a path on the machine"
        return "a path on the machine"

    @property
    def control(self) -> Select[str]:
        return self.query_one(".secret-kind", Select)

    @property
    def path_input(self) -> Input:
        return self.query_one(".secret-path", Input)

    @property
    def new_input(self) -> Input:
        return self.query_one(".secret-new", Input)

    def fill(self, own: Any, inherited: Any) -> None:
        if own != self.own or self.mode not in (PATH, NEW):
            self.mode = self._mode_of(own)  # a choice not yet written stays until own changes
        super().fill(own, inherited)

    def show_value(self) -> None:
        self._names = lab_secrets(self)
        select = self.control
        options = self._options()
        # a choice shown, not made: no Changed (it would arrive after, and look like one)
        with self.prevent(Select.Changed):
            if options != self._shown:
                select.set_options(options)
                self._shown = options
            select.prompt = self._prompt()
            select.value = self.mode or Select.NULL
        path = self.path_input
        if isinstance(self.own, str) and path.value != self.own:
            path.value = self.own
        elif self.own is MISSING and path.value:
            path.value = ""
        path.placeholder = self._path_placeholder()
        self._show_mode()

    def _show_mode(self) -> None:
        self.path_input.display = self.mode in (PATH, "")
        self.new_input.display = self.mode == NEW
        note = self.query_one(".field-note", Label)
        note.update(self._note())
        note.display = bool(self._note())

    # ---- what a person does ---------------------------------------------------------

    @on(Select.Changed, ".secret-kind")
    def _kind_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != event.select.value:
            return  # a value it was given and has since left
        value = "" if event.value is Select.NULL else str(event.value)
        if value == self.mode:
            return  # shown as it is (a refill), nothing chosen
        self.mode = value
        if value.startswith(SECRET):
            self._use_secret(value.removeprefix(SECRET))
        elif value == "":
            self.changed(MISSING)
        elif value == NEW:
            self.new_input.value = ""
            self._show_mode()
            self.call_after_refresh(self.new_input.focus)
        elif value == PATH:
            text = self.path_input.value.strip()
            if text and text != self.own:
                self.changed(text)
            self._show_mode()

    def _use_secret(self, name: str) -> None:
        """Name this secret: only `secret:` changes when a secret was named already."""
        if secret_of(self.own) == name:
            self._show_mode()
            return
        if secretrefs.is_ref(self.own):
            self.own = {**self.own, "secret": name}
            self.post_message(FieldEdited((*self.path, "secret"), name))
        else:
            self.own = {"secret": name}
            self.post_message(FieldEdited(self.path, {"secret": name}))
        self._show_mode()

    @on(Input.Changed, ".secret-path")
    def _path_typed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value.strip()
        if self.mode not in (PATH, "") or (text == "" and not isinstance(self.own, str)):
            return  # a secret stays named until a path is typed in its place
        self.changed(event.value if text else MISSING)
        mode = PATH if text else ""
        if mode != self.mode:
            self.mode = mode
            with self.prevent(Select.Changed):
                self.control.value = mode or Select.NULL

    @on(Input.Submitted, ".secret-new")
    def _new_named(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if not secretrefs.NAME.fullmatch(name):
            self.app.notify(
                f"'{name}' is not a secret's name: {secretrefs.NAME_HINT}", severity="warning"
            )
            return
        self.mode = SECRET + name
        self._use_secret(name)
        self.show_value()
        self.control.focus()

    @on(Input.Changed, ".secret-new")
    @on(Input.Submitted, ".secret-path")
    def _quiet(self, event: Input.Changed | Input.Submitted) -> None:
        event.stop()
