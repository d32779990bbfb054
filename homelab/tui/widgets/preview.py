"""The live preview: the selected host's generated Nix, or its diff against the last commit."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static, TextArea

from homelab.tui.widgets.nix import nix_area


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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.starts: dict[str, int] = {}
        self.folder = ""
        self._text = ""

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
