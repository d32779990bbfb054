"""A service's name under the lab's domain: `web: {name: wiki}` edited as one text field.

The catalogue puts `web` into the settings of every entry with a web port; as a generic
group it would show a lone "Name" and, emptied, leave `web: {}` behind (which validation
refuses). Here the field says which domain the name is under, writes `web: {name: ...}`
when there was none, only the name after that (comments around it stay), and removes
`web` whole when emptied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical

from homelab.tui.messages import FieldEdited
from homelab.tui.plain import Label, Static, plain
from homelab.tui.schema import MISSING, FieldSpec, Path
from homelab.tui.widgets.fields.base import same
from homelab.tui.widgets.fields.text import TextField

NO_DOMAIN = "lab.yaml has no domain: add  domain:  to it (README: Names and HTTPS)"


def web_spec(schema: Mapping[str, Any], root: Mapping[str, Any]) -> FieldSpec:
    """The field's spec: the `name` inside `web` (so problems about it land here)."""
    name = (schema.get("properties") or {}).get("name") or {}
    return FieldSpec(("web", "name"), "name", "text", name, root)


def title(domain: str | None) -> str:
    return f"Name under {domain}" if domain else "Name under the lab's domain"


class WebNameField(TextField):
    """The name a service has under the lab's domain (vault gives vault.DOMAIN)."""

    # the input and the note under it in the value's column (a note spanning both
    # columns of the field's grid was given one line, whatever its length)
    DEFAULT_CSS = """
    WebNameField > .web-value { height: auto; }
    WebNameField .web-note { color: $text-muted; height: auto; }
    """

    def __init__(
        self, spec: FieldSpec, base: Path, own: Any = MISSING, inherited: Any = MISSING
    ) -> None:
        super().__init__(spec, base, own, inherited)
        self.domain: str | None = None
        self.domain_known = False  # the lab is loaded: no domain then means lab.yaml has none

    def compose(self) -> ComposeResult:
        name = Label(title(self.domain), classes="field-name")
        name.tooltip = plain(str(self.spec.schema.get("description") or ""))
        yield name
        with Vertical(classes="web-value"):
            yield from self.compose_control()
            yield Static(self._note(), classes="web-note")

    def show_domain(self, domain: str | None, *, known: bool = True) -> None:
        """The lab's domain (None: lab.yaml has none, or the lab is not loaded yet)."""
        if (domain, known) == (self.domain, self.domain_known):
            return
        self.domain, self.domain_known = domain, known
        if self.is_mounted:
            self.query_one(".field-name", Label).update(title(domain))
            self.show_value()

    @property
    def web_path(self) -> Path:
        return self.path[:-1]

    def _placeholder(self) -> str:
        said = super()._placeholder()  # what an included fragment names it
        if said or self.domain is None:
            return said or "none"
        return f"none (wiki gives wiki.{self.domain})"

    def _note(self) -> str:
        if self.domain is None:
            return NO_DOMAIN if self.domain_known else ""
        name = self.own if isinstance(self.own, str) and self.own.strip() else None
        if name is None or getattr(self, "problems", None):
            return ""  # a name that is not valid gives no address
        return f"https://{name}.{self.domain}"

    def _show_note(self) -> None:
        for note in self.query(".web-note"):
            if isinstance(note, Static):
                note.update(self._note())

    def _show_problems(self) -> None:
        super()._show_problems()
        self._show_note()

    def show_value(self) -> None:
        super().show_value()
        self._show_note()

    def changed(self, value: Any) -> None:
        if same(value, self.own) or (value is MISSING and self.own is MISSING):
            return
        before, self.own = self.own, value
        if value is MISSING:
            self.post_message(FieldEdited(self.web_path, remove=True))
        elif before is MISSING:  # no name yet (no web, or a web without one): write it whole
            self.post_message(FieldEdited(self.web_path, {"name": value}))
        else:
            self.post_message(FieldEdited(self.path, value))
        self._show_note()
