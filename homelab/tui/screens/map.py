"""The map screen (f10): the lab drawn as text, as `homelab map` draws it as a picture: each
host with its address, the lab's roles it plays, its services with their ports and names
under the domain; then every link between two machines ("gateway → nas: https
grafana.home.example.org", "ha → gateway: dns"). Read only: Escape goes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header
from textual.worker import get_current_worker

from homelab.lab import Lab, LabState
from homelab.labmap import LabMap, MapHost, host_lines, link_lines
from homelab.tui.plain import Static
from homelab.tui.widgets.footer import Footer

NOTE = (
    "The lab's hosts, their services and names, and the links between machines "
    "(`homelab map` draws them as SVG or Mermaid). Escape goes back."
)
NO_LINKS = (
    "  none: no host fronts another's names and lab.yaml has no wiring: (dns, monitoring, "
    "backups, mqtt)"
)


def host_text(host: MapHost) -> Text:
    first, *rest = host_lines(host)
    text = Text()
    text.append(first, style="bold" if host.valid else "bold red")
    for line in rest:
        text.append("\n" + line, style="blue" if line.lstrip().startswith("https://") else "")
    return text


def links_text(drawn: LabMap) -> Text:
    text = Text()
    text.append("Links", style="bold")
    for line in link_lines(drawn) or [NO_LINKS]:
        text.append("\n  " + line if line != NO_LINKS else "\n" + line)
    return text


class MapLoaded(Message):
    def __init__(self, state: LabState) -> None:
        super().__init__()
        self.state = state


class MapScreen(Screen[None]):
    """The lab's map, as the editor's last load saw it, then redrawn from the files (with
    the unsaved edits) as they are now."""

    DEFAULT_CSS = """
    MapScreen #map-note { color: $text-muted; padding: 0 1; }
    MapScreen #map { padding: 0 1; width: 3fr; }
    MapScreen .map-host { margin: 1 0 0 0; height: auto; }
    MapScreen #map-links { padding: 0 1; width: 2fr; border-left: solid $primary 40%; }
    MapScreen #map-links Static { margin: 1 0 0 0; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f10", "back", "Back", show=False),
    ]

    def __init__(self, lab: Lab, state: LabState | None, texts: Callable[[], dict[str, str]]):
        super().__init__()
        self.lab = lab
        self.state = state
        self.texts = texts  # the editor's unsaved profile texts: the lab is loaded with them

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(NOTE, id="map-note")
        with Horizontal():
            yield VerticalScroll(id="map")
            with VerticalScroll(id="map-links"):
                yield Static("", id="map-links-text")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#map").focus()
        if self.state is None:
            await self.query_one("#map").mount(Static("loading the lab…", classes="map-host"))
        else:
            await self.show()
        self.reload(self.texts())

    @work(thread=True, exclusive=True, group="map")
    def reload(self, texts: dict[str, str]) -> None:
        worker = get_current_worker()
        state = self.lab.load(texts=texts)
        if not worker.is_cancelled:
            self.post_message(MapLoaded(state))

    async def on_map_loaded(self, message: MapLoaded) -> None:
        self.state = message.state
        await self.show()

    async def show(self) -> None:
        assert self.state is not None
        drawn = self.lab.lab_map(self.state)
        box = self.query_one("#map", VerticalScroll)
        await box.remove_children()
        await box.mount_all([Static(host_text(h), classes="map-host") for h in drawn.hosts])
        self.query_one("#map-links-text", Static).update(links_text(drawn))

    def action_back(self) -> None:
        self.dismiss(None)
