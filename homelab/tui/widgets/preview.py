"""The live preview: the selected host's generated Nix, or its diff against the last commit.

What HEAD holds is looked up through the lab at most every HEAD_EVERY seconds (git is slow
to open), so a keystroke costs no git; a commit made here says so (`forget_head`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static, TextArea

from homelab.lab import Lab
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


def diff_text(lines: list[str]) -> Text:
    text = Text(no_wrap=True)
    if not lines:
        text.append("No change from the last commit.", style="dim italic")
        return text
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        text.append(line + "\n", style=style)
    return text


class Preview(Vertical):
    """Generated Nix of the selected host, highlighted; `d` shows the diff instead."""

    DEFAULT_CSS = """
    Preview > .preview-note { display: none; background: $warning 20%; color: $text-warning;
                              padding: 0 1; }
    Preview.-stale > .preview-note { display: block; }
    Preview > TextArea { height: 1fr; border: none; }
    Preview > VerticalScroll { display: none; height: 1fr; }
    Preview.-diff > TextArea { display: none; }
    Preview.-diff > VerticalScroll { display: block; }
    """

    mode: reactive[str] = reactive("nix")

    def __init__(self, lab: Lab | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lab = lab
        self.starts: dict[str, int] = {}
        self.folder = ""
        self._text = ""
        self._head: tuple[float, str | None] = (0.0, None)
        self._committed: dict[str, tuple[str | None, dict[str, str] | None]] = {}

    def compose(self) -> ComposeResult:
        yield Static("", classes="preview-note")
        yield nix_area(read_only=True, id="preview-nix", soft_wrap=False)
        with VerticalScroll(id="preview-diff-scroll"):
            yield Static("", id="preview-diff")

    @property
    def area(self) -> TextArea:
        return self.query_one("#preview-nix", TextArea)

    def show(
        self, folder: str, files: Mapping[str, str] | None, diff: list[str] | None, note: str = ""
    ) -> None:
        """files: the generated modules (None: nothing valid yet); diff: against the last
        commit (None: no commit to compare with)."""
        self.folder = folder
        self.border_title = f"Nix · hosts/{folder}" if folder else "Nix"
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
        if diff is None:
            body = Text("No commit to compare with yet.", style="dim italic")
        else:
            body = diff_text(diff)
        self.query_one("#preview-diff", Static).update(body)
        self._subtitle()

    def show_host(self, folder: str, files: Mapping[str, str] | None, note: str = "") -> None:
        """A host's generated modules, and their diff against what HEAD holds."""
        committed = self.committed(folder)
        diff = None
        if self.lab is not None and committed is not None and files is not None:
            diff = self.lab.nix_diff(committed, dict(files))
        self.show(folder, files, diff, note)

    def head(self) -> str | None:
        """HEAD, looked up at most every HEAD_EVERY seconds."""
        now = time.monotonic()
        if self.lab is not None and now - self._head[0] > HEAD_EVERY:
            self._head = (now, self.lab.head() or None)
        return self._head[1]

    def forget_head(self) -> None:
        """A commit was made: look HEAD up again."""
        self._head = (0.0, None)
        self._committed.clear()

    def committed(self, folder: str) -> dict[str, str] | None:
        """The host's generated modules as HEAD holds them (None: no commit yet)."""
        head = self.head()
        cached = self._committed.get(folder)
        if cached is None or cached[0] != head:
            found = self.lab.committed_generated(folder) if self.lab and head else None
            cached = (head, found)
            self._committed[folder] = cached
        return cached[1]

    def watch_mode(self, mode: str) -> None:
        self.set_class(mode == "diff", "-diff")
        self._subtitle()

    def _subtitle(self) -> None:
        self.border_subtitle = (
            "diff against the last commit" if self.mode == "diff" else "generated"
        )

    def toggle(self) -> None:
        self.mode = "diff" if self.mode == "nix" else "nix"

    def scroll_to_file(self, name: str) -> None:
        """Bring the file (e.g. services.nix) to the top of the preview."""
        for path, line in self.starts.items():
            if path.endswith("/" + name):
                self.area.scroll_to(0, line, animate=False)
                return
