"""Small modal screens: a question with a few answers, and why something was not done."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button

from homelab.errors import Problem
from homelab.tui.plain import Static
from homelab.tui.widgets.problems import line

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
    """A question with a few answers; escape answers None. `focus` names the answer whose
    button has focus at first (the last one when None): Enter right away gives it."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="Confirm")

    def __init__(
        self,
        title: str,
        text: str,
        answers: Sequence[tuple[str, str, str]],
        focus: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text, self.text, self.answers = title, text, answers
        self.focused_answer = focus

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.text)
            with Horizontal(classes="dialog-buttons"):
                for label, answer, variant in self.answers:
                    yield Button(label, id=f"answer-{answer}", variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        if self.focused_answer is not None:
            self.query_one(f"#answer-{self.focused_answer}", Button).focus()
        else:
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


# ---- questions the main screen asks ------------------------------------------------------


def changed_on_disk(rel: str, *, saving: bool) -> Confirm:
    """The profile changed on disk under unsaved edits: reload it, or keep one's own."""
    if saving:
        return Confirm(
            "Changed on disk",
            f"{rel} was changed by someone else since you opened it.\n"
            "Reload it (your unsaved edits to it are dropped), or keep yours and save over it?",
            [
                ("Cancel", "cancel", "default"),
                ("Reload theirs", "reload", "warning"),
                ("Keep mine", "keep", "primary"),
            ],
        )
    return Confirm(
        "Changed on disk",
        f"{rel} was changed on disk while you were editing it.\n"
        "Reload it (dropping your unsaved edits to it), or keep yours (saving will write yours)?",
        [("Keep mine", "keep", "primary"), ("Reload theirs", "reload", "warning")],
    )


def remove_host(folder: str) -> Confirm:
    return Confirm(
        f"Remove host {folder}?",
        f"This deletes hosts/{folder}/profile.yaml and the Nix generated from it. "
        "Files you wrote there (hardware-configuration.nix) stay. Commit afterwards to "
        "record it; git keeps the old profile.",
        [("Cancel", "cancel", "default"), ("Remove", "remove", "error")],
        focus="cancel",  # a deletion: Enter right away keeps the host
    )
