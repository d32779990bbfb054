"""Small modal screens: confirmations, refusals, the commit dialog, the new host wizard."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from homelab.errors import Problem
from homelab.tui.widgets.problems import line

HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

DIALOG_CSS = """
{cls} {{ align: center middle; }}
{cls} > Vertical {{ width: 90; max-width: 95%; height: auto; max-height: 90%;
    border: thick $primary 60%; background: $surface; padding: 1 2; }}
{cls} .dialog-title {{ text-style: bold; padding: 0 0 1 0; }}
{cls} .dialog-buttons {{ height: auto; align: right middle; padding: 1 0 0 0; }}
{cls} .dialog-buttons Button {{ margin: 0 0 0 1; }}
"""


class Dialog(ModalScreen[Any]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(Dialog):
    """A question with a few answers; escape answers None."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="Confirm")

    def __init__(self, title: str, text: str, answers: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self.title_text, self.text, self.answers = title, text, answers

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.text)
            with Horizontal(classes="dialog-buttons"):
                for label, answer, variant in self.answers:
                    yield Button(label, id=f"answer-{answer}", variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query(Button).last().focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("answer-"))


class Refused(Dialog):
    """Why something was not done: every problem, with its place."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="Refused")
        + """
    Refused VerticalScroll { height: auto; max-height: 20; }
    """
    )

    def __init__(self, title: str, problems: Sequence[Problem]) -> None:
        super().__init__()
        self.title_text, self.problems = title, problems

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold red"), classes="dialog-title")
            with VerticalScroll():
                for problem in self.problems:
                    yield Static(line(problem))
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed)
    def _ok(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class CommitChoice:
    subject: str | None  # None: the summary's own subject
    words: str


class CommitDialog(Dialog):
    """Commit what was saved: the summary says what changed, in profile terms."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="CommitDialog")
        + """
    CommitDialog .commit-body { color: $text-muted; padding: 0 0 1 0; height: auto;
                                max-height: 12; }
    CommitDialog TextArea { height: 5; }
    CommitDialog Label { padding: 1 0 0 0; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Not now"),
        Binding("ctrl+s", "commit", "Commit", priority=True),
    ]

    def __init__(self, folder: str, subject: str, lines: Sequence[str]) -> None:
        super().__init__()
        self.folder, self.subject, self.lines = folder, subject, lines

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Commit hosts/{self.folder}", classes="dialog-title")
            yield Label("Subject")
            yield Input(self.subject, id="commit-subject")
            yield Label("What changed (written into the message)")
            yield Static(
                "\n".join(self.lines) or "(computing…)", classes="commit-body", id="commit-body"
            )
            yield Label("Your words (optional)")
            yield TextArea("", id="commit-words")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Not now", id="not-now")
                yield Button("Commit", id="commit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#commit", Button).focus()

    def action_commit(self) -> None:
        subject = self.query_one("#commit-subject", Input).value.strip()
        words = self.query_one("#commit-words", TextArea).text.strip()
        self.dismiss(CommitChoice(None if subject == self.subject else subject or None, words))

    @on(Button.Pressed, "#commit")
    def _commit(self) -> None:
        self.action_commit()

    @on(Button.Pressed, "#not-now")
    def _not_now(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class NewHost:
    name: str
    system: str
    loader: str
    address: str


class NewHostDialog(Dialog):
    """A new host: its name, system, boot loader and address."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(cls="NewHostDialog")
        + """
    NewHostDialog Label { padding: 1 0 0 0; }
    NewHostDialog .error { color: $text-error; height: auto; }
    """
    )

    def __init__(self, existing: Sequence[str]) -> None:
        super().__init__()
        self.existing = set(existing)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Add a host", classes="dialog-title")
            yield Label("Name (lower-case letters, digits and '-')")
            yield Input(id="new-name", placeholder="e.g. nas")
            yield Label("System")
            yield Select(
                [
                    ("x86_64-linux (PC, server)", "x86_64-linux"),
                    ("aarch64-linux (Raspberry Pi, ARM)", "aarch64-linux"),
                ],
                value="x86_64-linux",
                allow_blank=False,
                id="new-system",
            )
            yield Label("Boot loader")
            yield Select(
                [
                    ("systemd-boot (UEFI)", "systemd-boot"),
                    ("grub", "grub"),
                    ("extlinux (boards)", "extlinux"),
                ],
                value="systemd-boot",
                allow_blank=False,
                id="new-loader",
            )
            yield Label("Address (to deploy over SSH; may stay empty)")
            yield Input(id="new-address", placeholder="e.g. 192.168.1.30 or nas.lan")
            yield Static("", classes="error", id="new-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Add", id="add", variant="primary")

    @on(Select.Changed, "#new-system")
    def _system(self, event: Select.Changed) -> None:
        if event.value == "aarch64-linux":
            self.query_one("#new-loader", Select).value = "extlinux"

    @on(Input.Submitted)
    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        name = self.query_one("#new-name", Input).value.strip()
        error = self.query_one("#new-error", Static)
        if not HOSTNAME.match(name):
            error.update(
                "the name must be lower-case letters, digits and '-', "
                "not starting or ending with '-'"
            )
            self.query_one("#new-name", Input).focus()
            return
        if name in self.existing or name == "common":
            error.update(f"there is already a host named {name}")
            return
        self.dismiss(
            NewHost(
                name,
                str(self.query_one("#new-system", Select).value),
                str(self.query_one("#new-loader", Select).value),
                self.query_one("#new-address", Input).value.strip(),
            )
        )

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
