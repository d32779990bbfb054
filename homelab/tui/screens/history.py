"""A host's history: its commits, what is deployed where; a commit's summary and Nix diff;
bringing the host back to a commit (a new commit, after a confirmation)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from homelab.editing.session import Session
from homelab.errors import InvalidInput
from homelab.lab import Entry, Lab, Shown
from homelab.tui.screens.dialogs import Confirm, Refused
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


class HistoryScreen(Screen[bool]):
    """Dismissed with True when a revert made a commit (the editor reloads then)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "revert", "Revert to this"),
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
    """

    def __init__(self, session: Session[Lab], folder: str) -> None:
        super().__init__()
        self.session, self.folder = session, folder
        self.entries: list[Entry] = []
        self.reverted = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            f"History of hosts/{self.folder}: ▲ marks the commits each host has deployed.",
            id="history-note",
        )
        with Horizontal(id="history-body"):
            commits = OptionList(id="commits")
            commits.border_title = f"Commits · {self.folder}"
            yield commits
            with Vertical(id="commit-side"):
                summary = Static("loading…", id="commit-summary")
                summary.border_title = "Summary"
                yield summary
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
        commits = self.query_one("#commits", OptionList)
        commits.clear_options()
        commits.add_options([Option(entry_line(e), id=e.commit) for e in entries])
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
            self.load_commit(event.option.id)

    @work(thread=True, exclusive=True, group="commit")
    def load_commit(self, sha: str) -> None:
        try:
            shown = self.session.lab.show_commit(self.folder, sha)
        except InvalidInput as err:
            self.app.call_from_thread(self._failed, "\n".join(str(p) for p in err.problems))
            return
        self.app.call_from_thread(self._show_commit, shown)

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

    @work(exclusive=True, group="revert")
    async def action_revert(self) -> None:
        option = self.query_one("#commits", OptionList).highlighted_option
        if option is None or not option.id:
            return
        sha = option.id
        draft = self.session.drafts.get(self.folder)
        if draft is not None and draft.dirty:
            self.notify(
                f"hosts/{self.folder} has unsaved edits: save or reload it before a revert",
                severity="warning",
            )
            return
        entry = next((e for e in self.entries if e.commit == sha), None)
        subject = entry.subject if entry else ""
        answer = await self.app.push_screen_wait(
            Confirm(
                "Revert?",
                f"Bring hosts/{self.folder} back to how it was at {sha[:7]} ({subject})?\n"
                "Its profile is restored and its Nix rebuilt, in a new commit: history is kept.",
                [("Cancel", "cancel", "default"), ("Revert", "revert", "warning")],
            )
        )
        if answer != "revert":
            return
        try:
            done = self.session.lab.revert(sha, [self.folder])
        except InvalidInput as err:
            await self.app.push_screen_wait(Refused("Not reverted", err.problems))
            return
        if done.commit is None:
            self.notify(f"{self.folder} already is as at {sha[:7]}")
            return
        self.reverted = True
        message = f"reverted {self.folder} to {sha[:7]} in {done.commit[:7]}"
        if done.still_differs.get(self.folder):
            message += "; still differs: " + "; ".join(done.still_differs[self.folder])
        self.notify(message)
        self.load_history()
