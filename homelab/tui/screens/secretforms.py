"""The small dialogs of the Secrets screen: a value typed (masked), a new secret (a name and
a masked value), an SSH key's passphrase, and a value shown once it was asked for.

What is typed is taken out of the Input when the dialog closes, and a value shown is
dropped when its dialog closes: neither stays in a widget. While one is open, the app's
crash report leaves it out (a password Input's value, and `sensitive()` of a screen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input

from homelab.profile.secretrefs import NAME, NAME_HINT
from homelab.tui.plain import Label, Static
from homelab.tui.screens.dialogs import DIALOG_CSS, Dialog

FORM_CSS = """
{cls} Label {{ padding: 1 0 0 0; }}
{cls} .form-note {{ color: $text-muted; height: auto; }}
{cls} .form-error {{ color: $error; height: auto; }}
"""


@dataclass(frozen=True)
class NewValue:
    """What the person gave: the secret's name and its value (never shown)."""

    name: str
    value: str


class SecretValueForm(Dialog):
    """A secret's new value, typed into a masked field; with `name` None, a new secret's
    name too. Enter in the value encrypts it (the Secrets screen then commits it);
    Escape leaves everything as it was."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="SecretValueForm") + FORM_CSS.format(cls="SecretValueForm")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "take", "Encrypt and commit", priority=True),
    ]

    def __init__(self, name: str | None, readers: str = "", taken: frozenset[str] = frozenset()):
        super().__init__()
        self.secret, self.readers, self.taken = name, readers, taken

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.secret is None:
                yield Static("New secret", classes="dialog-title")
                yield Label("Name (it names encrypted/NAME.age; a setting says {secret: NAME})")
                yield Input(placeholder="tailscale-key", id="secret-name")
            else:
                yield Static(f"New value of {self.secret}", classes="dialog-title")
            yield Label("Value (hidden as you type)")
            yield Input(password=True, placeholder="the value", id="secret-value")
            yield Static(
                "Enter encrypts it to "
                + (self.readers or "the hosts that use it and the lab's admins")
                + ", writes the .age file and commits it. The value itself is never "
                "written or shown. One line: a file's contents go with "
                "`homelab secrets set NAME < FILE`.",
                classes="form-note",
            )
            yield Static("", classes="form-error", id="secret-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="answer-cancel")
                yield Button("Encrypt and commit", id="answer-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#secret-name" if self.secret is None else "#secret-value", Input).focus()

    def _error(self, said: str, field: str) -> None:
        self.query_one("#secret-error", Static).update(said)
        self.query_one(field, Input).focus()

    def action_take(self) -> None:
        name = self.secret
        if name is None:
            name = self.query_one("#secret-name", Input).value.strip()
            if not NAME.fullmatch(name):
                self._error(
                    f"Give a name: {NAME_HINT}." if name else "Give a name.", "#secret-name"
                )
                return
            if name in self.taken:
                self._error(
                    f"{name} exists already: choose it in the table and press s to give it "
                    "a new value.",
                    "#secret-name",
                )
                return
        field = self.query_one("#secret-value", Input)
        if not field.value:
            self._error("Type the value (it is hidden as you type).", "#secret-value")
            return
        value, field.value = field.value, ""  # not left in a widget once dismissed
        self.dismiss(NewValue(name, value))

    def action_cancel(self) -> None:
        self.query_one("#secret-value", Input).value = ""
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "secret-name":
            self.query_one("#secret-value", Input).focus()
        else:
            self.action_take()

    @on(Button.Pressed, "#answer-ok")
    def _ok(self) -> None:
        self.action_take()

    @on(Button.Pressed, "#answer-cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class Passphrase(Dialog):
    """The passphrase of the admin's SSH key: it unlocks the key in memory only."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="Passphrase") + FORM_CSS.format(cls="Passphrase")

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Passphrase", classes="dialog-title")
            yield Label(self.prompt.strip().rstrip(":"))
            yield Input(password=True, id="passphrase")
            yield Static(
                "It unlocks the key in memory, for this action only; it is never written.",
                classes="form-note",
            )

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @on(Input.Submitted, "#passphrase")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = self.query_one("#passphrase", Input)
        said, field.value = field.value, ""
        self.dismiss(said)

    def action_cancel(self) -> None:
        self.query_one("#passphrase", Input).value = ""
        self.dismiss(None)


class ShownValue(Dialog):
    """A secret's value, shown because it was asked for, until Escape or Enter closes it;
    then it is dropped."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="ShownValue")
        + FORM_CSS.format(cls="ShownValue")
        + """
    ShownValue VerticalScroll { height: auto; max-height: 20; border: round $warning; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close"),
        Binding("enter", "cancel", "Close", show=False),
    ]

    def __init__(self, name: str, value: str, note: str = "") -> None:
        super().__init__()
        self.secret, self.value, self.note = name, value, note

    def sensitive(self) -> list[str]:
        """What a crash report must not show while this is open."""
        return [self.value] if self.value else []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Value of {self.secret}", classes="dialog-title")
            with VerticalScroll(id="shown-box"):
                yield Static(self.value, id="shown-value")
            yield Static(
                (self.note + " " if self.note else "")
                + "Escape or Enter closes it; it is not kept anywhere.",
                classes="form-note",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="answer-close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#answer-close", Button).focus()

    def action_cancel(self) -> None:
        self.value = ""
        self.query_one("#shown-value", Static).update("")
        self.dismiss(None)

    @on(Button.Pressed, "#answer-close")
    def _close(self) -> None:
        self.action_cancel()
