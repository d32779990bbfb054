"""A number, typed as text: read as a number when it is one, else kept as typed."""

from __future__ import annotations

from typing import Any

from homelab.tui.schema import MISSING, read_number
from homelab.tui.widgets.fields.text import TextField


class NumberField(TextField):
    """A number in an input; text that is not a number is kept, so validation names it."""

    def _read(self, text: str) -> Any:
        if not text.strip():
            return MISSING
        return read_number(text, self.spec.schema)
