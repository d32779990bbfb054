"""The help line under the tabs: what the focused field is, as the keys move the focus.

Its description (from the profile schema, or the catalogue entry's settings schema), the
kind of value it takes (type, range, choices), its default, where it is in the profile,
and the NixOS options it sets. Four lines always, so that the form never jumps as the
focus moves.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import OptionList

from homelab.catalog import Catalog
from homelab.lab import Lab
from homelab.tui.optionhelp import lookup, option_line
from homelab.tui.plain import Static
from homelab.tui.schema import MISSING, FieldSpec, resolve, shown, takes_secret, types
from homelab.tui.widgets.fields import Field

IDLE = (
    "Tab and shift+Tab move between fields. The focused one is\n"
    "explained here: its values, default and NixOS option.\n"
    "? or F1: the keys of this screen."
)

_TYPE_WORDS = {
    "string": "text",
    "integer": "whole number",
    "number": "number",
    "boolean": "true or false",
    "object": "map",
    "array": "list",
}


def range_text(schema: Mapping[str, Any]) -> str:
    """'1 to 65535', 'at least 1', '1 to 63 characters', '' when unbounded."""
    for low, high, unit in (
        ("minimum", "maximum", ""),
        ("minLength", "maxLength", " characters"),
        ("minItems", "maxItems", " items"),
    ):
        lo, hi = schema.get(low), schema.get(high)
        if lo is not None and hi is not None:
            return f"{lo} to {hi}{unit}"
        if lo is not None:
            return f"at least {lo}{unit}"
        if hi is not None:
            return f"at most {hi}{unit}"
    return ""


def kind_text(schema: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    """The kind of value a schema takes, in words: 'whole number, 1 to 65535',
    'one of: grub, systemd-boot', 'list of text'."""
    if takes_secret(schema):
        return "a path on the machine, or {secret: NAME}: the lab's encrypted/NAME.age"
    choices = schema.get("enum")
    if choices:
        return "one of: " + ", ".join(shown(c) for c in choices)
    kinds = [k for k in types(schema) if k != "null"]
    words = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds) or "any YAML value"
    if kinds == ["array"]:
        items = resolve(schema.get("items") or {}, root)
        if items:
            words = "list of " + kind_text(items, root)
    bits = [words]
    if "null" in types(schema):
        bits.append("or null")
    limits = range_text(schema)
    if limits:
        bits.append(limits)
    if schema.get("format"):
        bits.append(f"format {schema['format']}")
    return ", ".join(bits)


def describe(field: Field, options: list[str], own_tool: bool = False, about: str = "") -> Text:
    """The four lines for a field: name and description; default and kind; where it is
    in the profile; the NixOS options it sets (about: the first one's type and
    description, from the option index)."""
    spec: FieldSpec = field.spec
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(spec.label, style="bold")
    text.append(": " + (spec.description or "no description in the schema"))
    text.append("\n")
    facts = [kind_text(spec.schema, spec.root)]
    if spec.default is not MISSING:
        facts.insert(0, f"default {shown(spec.default)}")  # first: a long list of choices is cut
    text.append(" · ".join(facts))
    text.append("\n")
    text.append("profile: ", style="bold")
    text.append(field.path_text + "\n")
    if options:
        text.append("NixOS: ", style="bold")
        text.append(", ".join(options))
        if about:
            text.append(" · " + about, style="dim")
    elif own_tool:
        text.append("homelab's own setting: it sets no NixOS option", style="dim")
    else:
        text.append("NixOS: no option of its own named by homelab", style="dim")
    return text


# parts of a profile that only homelab reads (how it reaches the machine, what it merges)
HOMELAB_ONLY = ("deploy", "include")


class FieldHelp(Static):
    """The focused field explained (or the service highlighted in the catalogue); how to
    see the screen's keys (? / F1) when neither has the focus."""

    DEFAULT_CSS = """
    FieldHelp { height: 4; padding: 0 1; background: $boost; text-wrap: nowrap;
                text-overflow: ellipsis; }
    """

    def __init__(self, catalog: Callable[[], Catalog | None], *, id: str | None = None) -> None:
        super().__init__(IDLE, id=id)
        self.catalog = catalog
        self.field: Field | None = None
        self._watched: weakref.WeakSet[OptionList] = weakref.WeakSet()  # service lists

    def on_mount(self) -> None:
        self.watch(self.screen, "focused", self.follow, init=True)

    def follow(self, focused: Widget | None) -> None:
        field = None
        if focused is not None:
            field = next((n for n in focused.ancestors_with_self if isinstance(n, Field)), None)
        if field is self.field and field is not None:
            return
        self.field = field
        if field is not None:
            options = Lab.nixos_options(field.path, self.catalog())
            own_tool = str(field.path[0]) in HOMELAB_ONLY
            self.update(describe(field, options, own_tool, self.about(options)))
        elif isinstance(focused, OptionList) and focused.has_class("service-list"):
            self.follow_services(focused)
        else:
            self.update(IDLE)

    def about(self, options: list[str]) -> str:
        """The first option's type and description, when the lab has an option index."""
        index = getattr(self.app, "option_index", lambda: None)()
        for name in options:
            option = lookup(index, name)
            if option is not None:
                return option_line(option)
        return ""

    # ---- the catalogue: the highlighted service, as it moves ---------------------------

    def follow_services(self, services: OptionList) -> None:
        if services not in self._watched:
            self._watched.add(services)
            self.watch(services, "highlighted", lambda _: self._moved(services), init=False)
        self._moved(services)

    def _moved(self, services: OptionList) -> None:
        if self.screen.focused is not services:
            return  # the focus went elsewhere: that is shown
        option = services.highlighted_option
        catalog = self.catalog()
        service = catalog.get(option.id) if catalog and option and option.id else None
        if service is None:
            self.update(IDLE)
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(service.name, style="bold")
        text.append(": " + service.description + "\n")
        text.append("space: enable or disable it on this host\n")
        text.append("profile: ", style="bold")
        text.append(f"services.{service.name}\n")
        text.append("NixOS: ", style="bold")
        text.append(", ".join(Lab.nixos_options(("services", service.name), catalog)))
        self.update(text)
