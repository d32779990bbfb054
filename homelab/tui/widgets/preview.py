"""The live preview: the selected host's generated Nix, or what changed since the last
commit (the profile's YAML, then the Nix); `/` searches it, `z` (f8 anywhere) widens it.

What HEAD holds is looked up through the lab at most every HEAD_EVERY seconds (git is slow
to open), so a keystroke costs no git; a commit made here says so (`forget_head`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.widgets.text_area import Selection

from homelab.lab import Lab
from homelab.tui.plain import Static, plain
from homelab.tui.widgets.nix import nix_area

HEAD_EVERY = 2.0  # seconds a looked-up HEAD is trusted (commits made here forget it)


def joined(files: Mapping[str, str]) -> tuple[str, dict[str, int]]:
    """All files in one text, each under a `# ==> path <==` line (entry module first);
    with the line where each file starts."""
    order = sorted(files, key=lambda p: (not p.endswith("/configuration.nix"), p))
    lines: list[str] = []
    starts: dict[str, int] = {}
    for path in order:
        starts[path] = len(lines)
        lines.append(f"# ==> {path} <==")
        lines.extend(files[path].rstrip("\n").split("\n"))
        lines.append("")
    return "\n".join(lines), starts


def diff_style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    return ""


def diff_text(lines: list[str]) -> Text:
    text = Text(no_wrap=True)
    if not lines:
        text.append("No change from the last commit.", style="dim italic")
        return text
    for line in lines:
        text.append(line + "\n", style=diff_style(line))
    return text


NO_CHANGE = "No change from the last commit."
NO_COMMIT = "No commit to compare with yet."


def review_lines(
    folder: str, profile: list[str] | None, nix: list[str] | None
) -> list[tuple[str, str]]:
    """The diff view's lines and their styles: the profile's change (YAML), then the Nix's.
    None: no commit to compare with (a diff not made)."""
    out: list[tuple[str, str]] = []
    for title, lines in ((f"Profile · hosts/{folder}/profile.yaml", profile), ("Nix", nix)):
        if out:
            out.append(("", ""))
        out.append((f"━━ {title}", "bold reverse"))
        if lines is None:
            out.append((NO_COMMIT, "dim italic"))
        elif not lines:
            out.append((NO_CHANGE, "dim italic"))
        else:
            out.extend((line, diff_style(line)) for line in lines)
    return out


class Preview(Vertical):
    """Generated Nix of the selected host, highlighted; F2 shows what changed instead."""

    DEFAULT_CSS = """
    Preview > .preview-note { display: none; background: $warning 20%; color: $text-warning;
                              padding: 0 1; }
    Preview.-stale > .preview-note { display: block; }
    Preview > TextArea { height: 1fr; border: none; }
    Preview > VerticalScroll { display: none; height: 1fr; }
    Preview.-diff > TextArea { display: none; }
    Preview.-diff > VerticalScroll { display: block; }
    Preview > #preview-search { display: none; dock: bottom; border: none; height: 1;
                                padding: 0 1; }
    Preview.-searching > #preview-search { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("n", "next_match(1)", "Next match", show=False),
        Binding("N", "next_match(-1)", "Previous match", show=False),
        Binding("escape", "end_search", "End search", show=False),
        Binding("z", "widen", "Wide", show=False),
    ]

    mode: reactive[str] = reactive("nix")

    def __init__(self, lab: Lab | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lab = lab
        self.starts: dict[str, int] = {}
        self.folder = ""
        self.wide = False
        self._text = ""
        self._review: list[tuple[str, str]] = []
        # the host shown (folder, files, note, profile text), and whether its diff is made
        self._host: tuple[str, Mapping[str, str] | None, str, str | None] = ("", None, "", None)
        self._diffed = False
        self._head: tuple[float, str | None] = (0.0, None)
        self._committed: dict[str, tuple[str | None, dict[str, str] | None]] = {}
        self._profiles: dict[str, tuple[str | None, str | None]] = {}
        self.query_text = ""  # what `/` looks for ("" when not searching)
        self.matches: list[tuple[int, int, int]] = []  # (line, start, end), in characters
        self.current = 0

    def compose(self) -> ComposeResult:
        yield Static("", classes="preview-note")
        yield nix_area(read_only=True, id="preview-nix", soft_wrap=False)
        with VerticalScroll(id="preview-diff-scroll"):
            yield Static("", id="preview-diff")
        yield Input(placeholder="search: Enter keeps it, n/N next/previous, Escape ends",
                    id="preview-search")  # fmt: skip

    @property
    def area(self) -> TextArea:
        return self.query_one("#preview-nix", TextArea)

    def show(
        self,
        folder: str,
        files: Mapping[str, str] | None,
        diff: list[str] | None,
        note: str = "",
        profile_diff: list[str] | None = None,
    ) -> None:
        """files: the generated modules (None: nothing valid yet); diff: of the Nix against
        the last commit, profile_diff: of profile.yaml (None: no commit to compare with)."""
        self.folder = folder
        self.border_title = plain(f"Nix · hosts/{folder}" if folder else "Nix")
        self.query_one(".preview-note", Static).update(note)
        self.set_class(bool(note), "-stale")
        text, self.starts = joined(files or {})
        if not files:
            text = "# nothing to show: the profile has problems (see Problems)"
        if text != self._text:
            area = self.area
            scroll = area.scroll_offset
            area.load_text(text)
            area.scroll_to(scroll.x, scroll.y, animate=False)
            self._text = text
        self._review = review_lines(folder, profile_diff, diff)
        self._find(move=False)

    def show_host(
        self,
        folder: str,
        files: Mapping[str, str] | None,
        note: str = "",
        profile: str | None = None,
    ) -> None:
        """A host's generated modules, and what changed since HEAD: its profile's text
        (`profile`, as edited) and its Nix. The diff is made when it is shown: made on
        every switch of hosts, its git reads slowed each one down for nothing."""
        self._host = (folder, files, note, profile)
        if self.mode == "diff":
            self._show_diff()
        else:
            self.show(folder, files, None, note, None)
            self._diffed = False

    def _show_diff(self) -> None:
        folder, files, note, profile = self._host
        committed = self.committed(folder)
        diff = None
        if self.lab is not None and committed is not None and files is not None:
            diff = self.lab.nix_diff(committed, dict(files))
        profile_diff = None
        if self.lab is not None and profile is not None and self.head() is not None:
            rel = f"hosts/{folder}/profile.yaml"
            old = self.committed_profile(folder)
            before = {rel: old} if old is not None else {}
            profile_diff = self.lab.nix_diff(before, {rel: profile})
        self.show(folder, files, diff, note, profile_diff)
        self._diffed = True

    def head(self) -> str | None:
        """HEAD, looked up at most every HEAD_EVERY seconds."""
        now = time.monotonic()
        if self.lab is not None and now - self._head[0] > HEAD_EVERY:
            self._head = (now, self.lab.head() or None)
        return self._head[1]

    def forget_head(self) -> None:
        """A commit was made: look HEAD up again."""
        self._diffed = False
        self._head = (0.0, None)
        self._committed.clear()
        self._profiles.clear()

    def committed(self, folder: str) -> dict[str, str] | None:
        """The host's generated modules as HEAD holds them (None: no commit yet)."""
        head = self.head()
        cached = self._committed.get(folder)
        if cached is None or cached[0] != head:
            found = self.lab.committed_generated(folder) if self.lab and head else None
            cached = (head, found)
            self._committed[folder] = cached
        return cached[1]

    def committed_profile(self, folder: str) -> str | None:
        """The host's profile.yaml as HEAD holds it (None: not there)."""
        head = self.head()
        cached = self._profiles.get(folder)
        if cached is None or cached[0] != head:
            found = self.lab.committed_profile(folder) if self.lab and head else None
            cached = (head, found)
            self._profiles[folder] = cached
        return cached[1]

    def watch_mode(self, mode: str) -> None:
        if mode == "diff" and not self._diffed and self._host[0]:
            self._show_diff()
        self.set_class(mode == "diff", "-diff")
        self._find(move=bool(self.query_text))

    def _subtitle(self) -> None:
        what = "what changed since the last commit" if self.mode == "diff" else "generated"
        if self.query_text:
            found = f"{self.current + 1} of {len(self.matches)}" if self.matches else "no match"
            what = f"/{self.query_text}: {found} · n/N · Esc ends"
        self.border_subtitle = plain(what + (" · wide (f8: back)" if self.wide else ""))

    def toggle(self) -> None:
        self.mode = "diff" if self.mode == "nix" else "nix"

    def scroll_to_file(self, name: str) -> None:
        """Bring the file (e.g. services.nix) to the top of the preview."""
        for path, line in self.starts.items():
            if path.endswith("/" + name):
                self.area.scroll_to(0, line, animate=False)
                return

    # ---- the whole width -------------------------------------------------------------

    def toggle_wide(self) -> None:
        """The preview on the whole width (a long line, a big diff), and back: the hosts
        and the editor beside it are hidden meanwhile."""
        self.wide = not self.wide
        for sibling in self.parent.children if self.parent is not None else ():
            if sibling is not self:
                sibling.display = not self.wide
        if self.wide:
            self.display = True
            self.styles.width = "1fr"
            self.content.focus()
        else:
            self.styles.clear_rule("width")
        self.set_class(self.wide, "-wide")
        self._subtitle()

    def action_widen(self) -> None:
        self.toggle_wide()

    @property
    def content(self) -> Widget:
        """What the preview shows now: the Nix, or the diff."""
        if self.mode == "diff":
            return self.query_one("#preview-diff-scroll", VerticalScroll)
        return self.area

    # ---- search ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next_match", "end_search"):
            return bool(self.query_text) or self.has_class("-searching")
        return True

    def action_search(self) -> None:
        self.add_class("-searching")
        search = self.query_one("#preview-search", Input)
        search.value = self.query_text
        search.focus()

    @on(Input.Changed, "#preview-search")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_text = event.value
        self.current = 0
        self._find(move=True)

    @on(Input.Submitted, "#preview-search")
    def _keep(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("-searching")
        self.content.focus()

    def action_next_match(self, step: int) -> None:
        if self.matches:
            self.current = (self.current + step) % len(self.matches)
            self._find(move=True)

    def action_end_search(self) -> None:
        self.query_text = ""
        self.remove_class("-searching")
        self._find(move=False)
        if self.area.selection.start != self.area.selection.end:
            self.area.selection = Selection.cursor(self.area.selection.end)
        self.content.focus()

    def _lines(self) -> list[str]:
        if self.mode == "diff":
            return [line for line, _ in self._review]
        return self._text.split("\n")

    def _find(self, move: bool) -> None:
        """Matches of the query (any case) in what is shown; `move` brings the current
        one into view (and selects it in the Nix)."""
        needle = self.query_text.casefold()
        self.matches = []
        if needle:
            for row, line in enumerate(self._lines()):
                folded = line.casefold()
                at = folded.find(needle)
                while at >= 0:
                    self.matches.append((row, at, at + len(needle)))
                    at = folded.find(needle, at + 1)
        self.current = min(self.current, max(len(self.matches) - 1, 0))
        self._draw_review()
        if move and self.matches:
            row, start, end = self.matches[self.current]
            if self.mode == "diff":
                scroll = self.query_one("#preview-diff-scroll", VerticalScroll)
                scroll.scroll_to(y=max(row - 2, 0), animate=False)
            else:
                self.area.selection = Selection((row, start), (row, end))
                self.area.scroll_cursor_visible(center=True, animate=False)
        self._subtitle()

    def _draw_review(self) -> None:
        text = Text(no_wrap=True)
        marks: dict[int, list[tuple[int, int, bool]]] = {}
        if self.mode == "diff":
            for i, (row, start, end) in enumerate(self.matches):
                marks.setdefault(row, []).append((start, end, i == self.current))
        for row, (line, style) in enumerate(self._review):
            piece = Text(line, style=style)
            for start, end, current in marks.get(row, ()):
                piece.stylize("black on yellow" if current else "reverse", start, end)
            text.append_text(piece)
            text.append("\n")
        self.query_one("#preview-diff", Static).update(text)
