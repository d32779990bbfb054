"""Edits typed into a text area are posted once typing pauses, or when asked for (a save,
switching hosts): never one edit per keystroke, and never lost."""

from __future__ import annotations

from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

PAUSE = 0.3  # seconds without a keystroke that count as a pause


class TypingPause(Widget):
    """A widget whose `pending()` edits are posted after a pause in typing."""

    _pause: Timer | None = None

    def pending(self) -> list[Message]:
        """The edits typed since the last ones were taken."""
        return []

    def wait_for_pause(self) -> None:
        """A keystroke: post the pending edits once typing pauses."""
        if self._pause is not None:
            self._pause.stop()
        self._pause = self.set_timer(PAUSE, self.post_pending)

    def end_pause(self) -> None:
        """The edits are being taken now: no pause is waited for any more."""
        if self._pause is not None:
            self._pause.stop()
            self._pause = None

    def post_pending(self) -> None:
        for message in self.pending():
            self.post_message(message)
