"""A host's history: its commits, what is deployed where; a commit's summary and Nix diff;
undoing one commit, or going back to the state of one (each a new commit, after a
confirmation, and never offered when it would change nothing)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, OptionList
from textual.widgets.option_list import Option

from homelab.editing.session import Session
from homelab.errors import InvalidInput
from homelab.lab import Choices, Entry, Lab, Shown
from homelab.tui.plain import Static, plain
from homelab.tui.screens.dialogs import Confirm, Refused
from homelab.tui.widgets.footer import Footer
from homelab.tui.widgets.lists import MarkedList
from homelab.tui.widgets.preview import diff_text

LIMIT = 200  # commits listed


def entry_line(entry: Entry) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(entry.short, style="yellow")
    text.append(" " + entry.when.strftime("%Y-%m-%d %H:%M") + " ", style="dim")
    if entry.deployed:
        text.append("▲ " + ",".join(entry.deployed) + " ", style="bold green")
    text.append(entry.subject)
    return text


class CommitList(MarkedList):
    """The host's commits, newest first (option ids: the commits); `/` filters them by
    subject, author or hash."""

    noun = "commit"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.words: dict[str, str] = {}  # commit -> the text the filter looks in

    def show_entries(self, entries: list[Entry]) -> None:
        self.words = {e.commit: f"{e.commit} {e.author} {e.subject}".lower() for e in entries}
        self.clear_options()
        self.add_options([Option(entry_line(e), id=e.commit) for e in entries])

    def _matches(self, option: Option) -> bool:
        text = self.words.get(option.id or "", "")
        return not self.query_text or self.query_text.lower() in text


def _lines(lines: tuple[str, ...], most: int = 6) -> str:
    shown = [f"  • {line}" for line in lines[:most]]
    if len(lines) > most:
        shown.append(f"  … and {len(lines) - most} more")
    return "\n".join(shown)


class HistoryScreen(Screen[bool]):
    """Dismissed with True when an undo or going back made a commit (the editor reloads
    then)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("u", "undo", "Undo this commit"),
        Binding("b", "go_back", "Go back to this state"),
        Binding("slash", "filter", "Filter", show=False),
        Binding("f2", "focus_diff", "Diff", show=False),
    ]
    DEFAULT_CSS = """
    HistoryScreen #history-body { height: 1fr; }
    HistoryScreen #commits { width: 2fr; height: 1fr; border: round $primary 50%;
                             text-wrap: nowrap; text-overflow: ellipsis; }
    HistoryScreen #commit-side { width: 3fr; height: 1fr; }
    HistoryScreen #commit-summary { height: auto; max-height: 14; border: round $secondary 50%;
                                    padding: 0 1; }
    HistoryScreen #commit-diff-box { height: 1fr; border: round $secondary 50%; }
    HistoryScreen #history-note { color: $text-muted; padding: 0 1; height: auto; }
    HistoryScreen #revert-actions { height: auto; padding: 0 1; }
    HistoryScreen #revert-actions Button { margin: 0 1 0 0; }
    HistoryScreen #revert-why { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, session: Session[Lab], folder: str) -> None:
        super().__init__()
        self.session, self.folder = session, folder
        self.entries: list[Entry] = []
        self.choices: dict[str, Choices] = {}  # commit -> what is offered for it
        self.reverted = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            f"History of hosts/{self.folder}: ▲ marks the commits each host has deployed. "
            "u undoes a commit, b goes back to its state, / filters.",
            id="history-note",
        )
        with Horizontal(id="history-body"):
            commits = CommitList(id="commits")
            commits.border_title = plain(f"Commits · {self.folder}")
            yield commits
            with Vertical(id="commit-side"):
                summary = Static("loading…", id="commit-summary")
                summary.border_title = "Summary"
                yield summary
                with Horizontal(id="revert-actions"):
                    yield Button("Undo this commit (u)", id="undo", disabled=True)
                    yield Button("Go back to this state (b)", id="go-back", disabled=True)
                yield Static("", id="revert-why")
                with VerticalScroll(id="commit-diff-box") as box:
                    box.border_title = "Nix diff"
                    yield Static("", id="commit-diff")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"history of {self.folder}"  # the screen's own: gone with it
        self.load_history()

    @work(thread=True, exclusive=True, group="history")
    def load_history(self) -> None:
        try:
            entries = self.session.lab.history(self.folder, LIMIT)
        except InvalidInput as err:
            self.app.call_from_thread(self._failed, "\n".join(str(p) for p in err.problems))
            return
        except Exception as err:
            self.app.call_from_thread(self._failed, str(err))
            return
        self.app.call_from_thread(self._show_entries, entries)

    def _failed(self, text: str) -> None:
        self.query_one("#commit-summary", Static).update(Text(text, style="red"))

    def _show_entries(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.choices = {}  # a new commit came: what is offered changes for every commit
        commits = self.query_one("#commits", CommitList)
        commits.show_entries(entries)
        if entries:
            commits.highlighted = 0
            commits.focus()
        else:
            self.query_one("#commit-summary", Static).update("No commit touches this host yet.")

    @on(OptionList.OptionHighlighted, "#commits")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.query_one("#commit-summary", Static).update("loading…")
            self.query_one("#commit-diff", Static).update("")
            self._show_choices(event.option.id)
            self.load_commit(event.option.id)

    @work(thread=True, exclusive=True, group="commit")
    def load_commit(self, sha: str) -> None:
        try:
            shown = self.session.lab.show_commit(self.folder, sha)
        except InvalidInput as err:
            self.app.call_from_thread(self._failed, "\n".join(str(p) for p in err.problems))
            return
        self.app.call_from_thread(self._show_commit, shown)
        try:
            choices = self.session.lab.history_choices(self.folder, sha)
        except InvalidInput as err:
            why = str(err.problems[0].message) if err.problems else "not offered"
            choices = Choices(why, why)
        self.app.call_from_thread(self._got_choices, sha, choices)

    def _got_choices(self, sha: str, choices: Choices) -> None:
        self.choices[sha] = choices
        self._show_choices(sha)

    def _show_choices(self, sha: str) -> None:
        """The two buttons, enabled only when they would change something; why not."""
        option = self.query_one("#commits", OptionList).highlighted_option
        if option is None or option.id != sha:
            return
        choices = self.choices.get(sha)
        undo, back = self.query_one("#undo", Button), self.query_one("#go-back", Button)
        why = self.query_one("#revert-why", Static)
        if choices is None:
            undo.disabled = back.disabled = True
            why.update("")
            return
        undo.disabled, back.disabled = bool(choices.undo), bool(choices.back)
        text = Text()
        for name, reason, lines in (
            ("Undo this commit (u)", choices.undo, choices.undoes),
            ("Go back to this state (b)", choices.back, choices.goes_back),
        ):
            if reason:
                text.append(f"{name}: not offered: {reason}\n")
            elif lines:
                text.append(f"{name} would change: {'; '.join(lines)}\n")
        text.rstrip()
        why.update(text)

    def _show_commit(self, shown: Shown) -> None:
        commits = self.query_one("#commits", OptionList)
        option = commits.highlighted_option
        if option is None or option.id != shown.commit:
            return  # another commit was chosen meanwhile
        entry = next((e for e in self.entries if e.commit == shown.commit), None)
        text = Text()
        text.append(shown.commit[:12], style="yellow")
        text.append(f"  {shown.when:%Y-%m-%d %H:%M}  {shown.author}\n", style="dim")
        text.append(shown.message.strip() + "\n", style="bold")
        if shown.changes:
            text.append(f"\nIn {shown.host}:\n", style="dim")
            for change in shown.changes:
                text.append(f"  • {change}\n")
        if entry is not None and entry.deployed:
            text.append("\nDeployed on: " + ", ".join(entry.deployed), style="green")
        self.query_one("#commit-summary", Static).update(text)
        self.query_one("#commit-diff", Static).update(diff_text(list(shown.nix)))

    def action_back(self) -> None:
        self.dismiss(self.reverted)

    def action_focus_diff(self) -> None:
        self.query_one("#commit-diff-box").focus()

    def action_filter(self) -> None:
        commits = self.query_one("#commits", CommitList)
        commits.focus()
        commits.action_filter()

    @on(Button.Pressed, "#undo")
    def _undo_pressed(self) -> None:
        self.action_undo()

    @on(Button.Pressed, "#go-back")
    def _back_pressed(self) -> None:
        self.action_go_back()

    @work(exclusive=True, group="revert")
    async def action_undo(self) -> None:
        await self._revert(undo=True)

    @work(exclusive=True, group="revert")
    async def action_go_back(self) -> None:
        await self._revert(undo=False)

    async def _revert(self, *, undo: bool) -> None:
        """Undo the highlighted commit, or go back to its state: when it is offered, after
        a confirmation; a refusal shows why, and writes nothing."""
        option = self.query_one("#commits", OptionList).highlighted_option
        if option is None or not option.id:
            return
        sha = option.id
        choices = self.choices.get(sha)
        if choices is None:
            self.notify("Still looking at this commit: try again in a moment")
            return
        reason = choices.undo if undo else choices.back
        if reason:
            name = "Undo this commit" if undo else "Go back to this state"
            self.notify(f"{name} is not offered here: {reason}", severity="warning")
            return
        draft = self.session.drafts.get(self.folder)
        if draft is not None and draft.dirty:
            self.notify(
                f"hosts/{self.folder} has unsaved edits: save or reload it first",
                severity="warning",
            )
            return
        entry = next((e for e in self.entries if e.commit == sha), None)
        said = f'{sha[:7]} "{entry.subject if entry else ""}"'
        if undo:
            question = Confirm(
                "Undo this commit?",
                f"Undo {said} on {self.folder}?\n"
                f"What it changed in hosts/{self.folder} is taken back; later changes stay. "
                "Its Nix is rebuilt, in a new commit: history is kept.\n\n"
                f"This will change:\n{_lines(choices.undoes)}",
                [("Cancel", "cancel", "default"), ("Undo this commit", "undo", "warning")],
            )
        else:
            question = Confirm(
                "Go back to this state?",
                f"Bring hosts/{self.folder} back to how it was at {said}?\n"
                "Everything changed in its profile since then is taken back. "
                "Its Nix is rebuilt, in a new commit: history is kept.\n\n"
                f"This will change:\n{_lines(choices.goes_back)}",
                [("Cancel", "cancel", "default"), ("Go back", "back", "warning")],
            )
        if await self.app.push_screen_wait(question) not in ("undo", "back"):
            return
        lab = self.session.lab
        try:
            done = lab.undo(sha, [self.folder]) if undo else lab.revert(sha, [self.folder])
        except InvalidInput as err:
            title = "Not undone" if undo else "Not gone back"
            await self.app.push_screen_wait(Refused(title, err.problems))
            return
        if done.commit is None:
            self.notify(f"{self.folder}: nothing changed (already so)")
            return
        self.reverted = True
        message = f"committed {done.commit[:7]}: {lab.subject(done.commit)}"
        if done.still_differs.get(self.folder):
            message += "; still differs: " + "; ".join(done.still_differs[self.folder])
        self.notify(message)
        self.load_history()
