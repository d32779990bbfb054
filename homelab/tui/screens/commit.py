"""Committing what was saved: the dialog that shows what changed, in profile terms, and
takes the person's words; and the offer made after a save."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, TextArea

from homelab.catalog import Catalog
from homelab.errors import InvalidInput
from homelab.lab import HostState, Lab
from homelab.tui.plain import Label, Static
from homelab.tui.screens.dialogs import DIALOG_CSS, Dialog, Refused


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

    def __init__(
        self, folder: str, subject: str, lines: Sequence[str], title: str | None = None
    ) -> None:
        super().__init__()
        self.folder, self.subject, self.lines = folder, subject, lines
        self.title_text = title or f"Commit hosts/{folder}"  # the Lab screen: lab.yaml's

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title")
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


async def offer_commit(
    app: App[Any],
    lab: Lab,
    folder: str,
    host: HostState,
    catalog: Catalog,
    others: Sequence[str] = (),
) -> bool:
    """After a save: what a commit of the host would say, the person's words, the commit.
    `others`: hosts whose modules the save rebuilt too (the lab's names and roles), which
    the commit holds with it. True when a commit was asked for (made, or nothing to commit)."""
    try:
        pending = lab.pending_commit(host, catalog)
    except Exception as err:
        app.notify(f"cannot prepare a commit: {err}", severity="warning")
        return False
    if pending is None and not others:
        return False
    lines = list(pending.lines) if pending is not None else []
    lines += [f"{other}: its modules, rebuilt for the lab's names and roles" for other in others]
    subject = pending.subject if pending is not None else f"{folder}: the lab's names and roles"
    choice = await app.push_screen_wait(CommitDialog(folder, subject, tuple(lines)))
    if not isinstance(choice, CommitChoice):
        return False
    try:
        done = lab.commit(
            [folder, *others], message=choice.words or None, subject=choice.subject or None
        )
    except InvalidInput as err:
        await app.push_screen_wait(Refused("Not committed", err.problems))
        return False
    except Exception as err:
        app.notify(f"commit failed: {err}", severity="error")
        return False
    app.notify(f"committed {done.sha[:7]} {done.subject}" if done else "nothing to commit")
    return True
