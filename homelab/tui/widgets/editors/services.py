"""The catalogue on a host (the Services tab): one line per service with its description;
space enables or disables the highlighted one; its settings form is generated from its
JSON Schema, so a new catalogue entry needs no new code here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets.option_list import Option

from homelab.catalog import Catalog
from homelab.errors import Problem
from homelab.tui.labpart import HostPart
from homelab.tui.messages import FieldEdited
from homelab.tui.plain import Static
from homelab.tui.schema import Path, dig, fields
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors.base import Data, FieldsScroll, as_map
from homelab.tui.widgets.editors.listdetail import EntryList, ListDetail
from homelab.tui.widgets.fields.webname import WebNameField, web_spec

# the lab's domain as the editor knows it: (domain or None, whether the lab is loaded)
DomainOf = Callable[[], tuple[str | None, bool]]


def _short(description: str, width: int = 30) -> str:
    """The description's first clause, cut to fit a list line."""
    head = description.split(" (")[0].split(", ")[0].split("; ")[0]
    return head if len(head) <= width else head[: width - 1].rstrip() + "…"


class ServiceList(EntryList):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "act('toggle')", "Enable/disable")]
    noun = "service"
    filterable = True  # show() keeps the highlight by position within what is shown


class ServicesEditor(ListDetail, Horizontal):
    """Every service of the catalogue, and the highlighted one's settings."""

    DEFAULT_CSS = """
    ServicesEditor { layout: horizontal; height: 1fr; }
    ServicesEditor ServiceList { text-wrap: nowrap; text-overflow: ellipsis; width: 32;
                                 height: 1fr; border: round $primary 40%; }
    ServicesEditor .service-side { width: 1fr; height: 1fr; padding: 0 1; }
    ServicesEditor .service-title { text-style: bold; }
    ServicesEditor .service-about { color: $text-muted; padding: 0 0 1 0; }
    ServicesEditor .service-state { height: auto; padding: 0 0 1 0; }
    ServicesEditor .service-lab { color: $text-muted; height: auto; }
    ServicesEditor .service-fields.-off { opacity: 60%; }
    ServicesEditor .service-error { color: $text-error; }
    """

    def __init__(
        self,
        catalog: Catalog,
        own: Data,
        merged: Data,
        *,
        domain: DomainOf = lambda: (None, False),
        lab: Callable[[], HostPart] = lambda: HostPart(None, None),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.catalog = catalog
        self.domain = domain
        self.lab = lab  # the shown host's part in the lab's wiring, as last loaded
        self.own, self.merged = own, merged
        self.selected: str | None = None
        self._built_for: str | None = None

    def enabled(self, data: Data) -> dict[str, Any]:
        return as_map(data.get("services"))

    def names(self) -> list[str]:
        # unknown services the profile names (a typo) are listed too, to be removed
        known = self.catalog.names()
        return [*known, *(n for n in self.enabled(self.own) if n not in known)]

    def prefix(self, name: str) -> Path:
        return ("services", name)

    def detail(self) -> Widget:
        return self.query_one(".service-fields")

    def compose(self) -> ComposeResult:
        names = self.catalog.names()
        self.selected = names[0] if names else None
        services = ServiceList(*self._options(), classes="service-list detail-list")
        services.border_title = "Catalogue"
        services.border_subtitle = "space: enable/disable"
        yield services
        with FieldsScroll(classes="service-side"):
            yield Static("", classes="service-title")
            yield Static("", classes="service-about")
            yield Static("", classes="service-lab")
            yield Static("", classes="service-state")
            yield Static("", classes="service-error")
            yield Vertical(classes="service-fields")

    def on_mount(self) -> None:
        self.show_selected()

    def _options(self) -> list[Option]:
        own, merged = self.enabled(self.own), self.enabled(self.merged)
        options = []
        for name in self.names():
            service = self.catalog.get(name)
            if service is None:
                text = Text.assemble(("✗ ", "red"), name, ("  not in the catalogue", "red"))
                options.append(Option(text, id=name))
                continue
            text = Text(no_wrap=True, overflow="ellipsis")
            if name in own:
                text.append("● ", style="green")
            elif name in merged:
                text.append("◐ ", style="green")
            else:
                text.append("○ ", style="dim")
            text.append(name)
            text.append("  " + _short(service.description), style="dim")
            options.append(Option(text, id=name))
        return options

    def show(self, own: Data, merged: Data) -> None:
        self.own, self.merged = own, merged
        services = self.entries
        highlighted = services.highlighted
        services.clear_options()
        services.add_options(self._options())
        if highlighted is not None and services.option_count:
            services.highlighted = min(highlighted, services.option_count - 1)
        self.show_selected()

    def show_selected(self) -> None:
        name = self.selected
        if name is None:
            return
        service = self.catalog.get(name)
        self.query_one(".service-title", Static).update(name)
        self.query_one(".service-about", Static).update(
            service.description if service else "not in the catalogue: remove it (space)"
        )
        own, merged = self.enabled(self.own), self.enabled(self.merged)
        if name in own:
            state = Text("● enabled on this host  (space: disable)", style="green")
        elif name in merged:
            state = Text("◐ enabled by an included fragment", style="green")
        else:
            state = Text("○ not enabled  (space: enable, then set its settings)", style="dim")
        self.query_one(".service-state", Static).update(state)
        box = self.query_one(".service-fields", Vertical)
        on = name in own or name in merged
        box.set_class(not on, "-off")
        box.disabled = not on
        base = self.prefix(name)
        values = as_map(dig(self.own, base)), as_map(dig(self.merged, base))
        if self._built_for != name:
            box.remove_children()
            if service is not None:
                box.mount_all(self._fields(service.settings_schema, base, *values))
            self._built_for = name
        else:
            f.fill(box, base, *values)
        self.show_domain()
        self.show_lab()

    def _fields(self, schema: Mapping[str, Any], base: Path, own: Any, merged: Any) -> list[Widget]:
        """The settings' fields, then the name under the lab's domain, a field of its own
        (last, where the generic `web` group was: Tab into a form still reaches its first
        setting)."""
        web = (schema.get("properties") or {}).get("web")
        specs = fields(schema, schema, skip=frozenset({"web"}))
        widgets = list(f.build(specs, base, own, merged))
        if isinstance(web, dict):
            spec = web_spec(web, schema)
            widgets.append(WebNameField(spec, base, dig(own, spec.rel), dig(merged, spec.rel)))
        return widgets

    def show_domain(self) -> None:
        """The lab's domain on the name field (known once the whole lab is loaded)."""
        domain, known = self.domain()
        for field in self.query(WebNameField):
            field.show_domain(domain, known=known)

    def show_lab(self) -> None:
        """The line saying which of the service's options the lab's wiring sets."""
        name = self.selected
        if name is None:
            return
        merged = self.enabled(self.merged)
        line = self.lab().service_line(name, as_map(merged.get(name)), name in merged)
        said = self.query_one(".service-lab", Static)
        said.update(line)
        said.display = bool(line)

    def act(self, what: str) -> None:
        name = self.entries.highlighted_option
        if what != "toggle" or name is None or not name.id:
            return
        own, merged = self.enabled(self.own), self.enabled(self.merged)
        if name.id in own:
            self.post_message(FieldEdited(self.prefix(name.id), remove=True))
        elif name.id in merged:
            self.app.notify(
                f"{name.id} is enabled by an included fragment: disable it there",
                severity="warning",
            )
        else:
            self.post_message(FieldEdited(self.prefix(name.id), {}))

    def say_left(self, problems: Sequence[Problem]) -> None:
        self.query_one(".service-error", Static).update(
            "\n".join(p.message + (f" ({p.hint})" if p.hint else "") for p in problems)
        )
