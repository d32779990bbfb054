"""The small forms of the Lab screen: a flake input (name, url, whether it follows the
lab's nixpkgs) and an overlay. They take what is typed; lab.yaml's own checks (shown on
the Lab screen, with their places) say whether it is right."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Switch

from homelab.tui.plain import Label, Static
from homelab.tui.screens.dialogs import DIALOG_CSS, Dialog


@dataclass(frozen=True)
class InputChoice:
    name: str
    url: str
    follows: bool


class InputForm(Dialog):
    """Add or edit a flake input; Enter or ctrl+s takes it, Escape leaves it as it was."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="InputForm")
        + """
    InputForm Label { padding: 1 0 0 0; }
    InputForm .follows { height: auto; }
    InputForm .follows Label { padding: 1 1 0 0; }
    InputForm .form-error { color: $error; height: auto; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "take", "OK", priority=True),
    ]

    def __init__(self, choice: InputChoice | None = None) -> None:
        super().__init__()
        self.choice = choice

    def compose(self) -> ComposeResult:
        given = self.choice or InputChoice("", "", True)
        with Vertical():
            yield Static(
                f"Input {given.name}" if self.choice else "New flake input", classes="dialog-title"
            )
            yield Label("Name (how modules and overlays name it, e.g. agenix)")
            yield Input(given.name, placeholder="agenix", id="input-name")
            yield Label("URL (a flake reference)")
            yield Input(given.url, placeholder="github:ryantm/agenix", id="input-url")
            with Horizontal(classes="follows"):
                yield Label("Follows the lab's nixpkgs")
                yield Switch(given.follows, id="input-follows")
            yield Static("", classes="form-error", id="input-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="answer-cancel")
                yield Button("OK", id="answer-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#input-name" if not self.choice else "#input-url", Input).focus()

    def action_take(self) -> None:
        name = self.query_one("#input-name", Input).value.strip()
        url = self.query_one("#input-url", Input).value.strip()
        if not name or not url:
            said = (
                "a name and a URL, please"
                if not name and not url
                else "a name"
                if not name
                else "a URL"
            )
            self.query_one("#input-error", Static).update(f"Give {said}.")
            self.query_one("#input-name" if not name else "#input-url", Input).focus()
            return
        self.dismiss(InputChoice(name, url, self.query_one("#input-follows", Switch).value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "input-name":
            self.query_one("#input-url", Input).focus()
        else:
            self.action_take()

    @on(Button.Pressed, "#answer-ok")
    def _ok(self) -> None:
        self.action_take()

    @on(Button.Pressed, "#answer-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class OverlayForm(Dialog):
    """Add or edit an overlay: INPUT.attr.path, or ./file.nix of the lab."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="OverlayForm")
        + """
    OverlayForm Label { padding: 1 0 0 0; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "take", "OK", priority=True),
    ]

    def __init__(self, overlay: str = "") -> None:
        super().__init__()
        self.overlay = overlay

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Overlay" if self.overlay else "New overlay", classes="dialog-title")
            yield Label(
                "An attribute of an input (agenix.overlays.default) or a .nix file of the lab "
                "(./overlays/tools.nix)"
            )
            yield Input(self.overlay, placeholder="agenix.overlays.default", id="overlay")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="answer-cancel")
                yield Button("OK", id="answer-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#overlay", Input).focus()

    def action_take(self) -> None:
        value = self.query_one("#overlay", Input).value.strip()
        self.dismiss(value or None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_take()

    @on(Button.Pressed, "#answer-ok")
    def _ok(self) -> None:
        self.action_take()

    @on(Button.Pressed, "#answer-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
