"""The profile as text (the YAML tab), for anything the forms do not cover; comments and
all. Its edit is the whole text, posted once typing pauses."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TextArea

from homelab.tui.plain import Static
from homelab.tui.widgets.editors.base import Data, Editor
from homelab.tui.widgets.textbox import TextBox


class YamlEditor(Editor, Vertical):
    """The profile's text in a text area with line numbers."""

    DEFAULT_CSS = """
    YamlEditor { layout: vertical; height: 1fr; }
    YamlEditor > .yaml-help { color: $text-muted; padding: 0 1; }
    YamlEditor > TextArea { height: 1fr; }
    """

    class TextReplaced(Message):
        """The whole profile text was edited."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(
            "The profile as written: edits here show in the forms and the preview.",
            classes="yaml-help",
        )
        area = TextBox(self.text, id="yaml-text", show_line_numbers=True)
        area.indent_width = 2
        yield area

    @property
    def area(self) -> TextArea:
        return self.query_one(TextArea)

    def show(self, own: Data, merged: Data) -> None:
        pass  # the screen hands the text with show_text

    def show_text(self, text: str) -> None:
        self.text = text
        if self.area.text != text:
            cursor = self.area.cursor_location
            with self.prevent(TextArea.Changed):
                self.area.load_text(text)
            lines = text.count("\n")
            self.area.cursor_location = (min(cursor[0], lines), cursor[1])

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.wait_for_pause()

    def pending(self) -> list[Message]:
        self.end_pause()
        if not self.composed or self.area.text == self.text:
            return []
        self.text = self.area.text
        return [self.TextReplaced(self.text)]

    def go_to(self, line: int, column: int) -> None:
        self.area.cursor_location = (max(line - 1, 0), max(column - 1, 0))
        self.area.scroll_cursor_visible(center=True)
