"""The lab drawn: its hosts, services, names and the links between machines (homelab map,
the editor's map screen)."""

from homelab.labmap.mermaid import mermaid
from homelab.labmap.model import KINDS, LabMap, Link, MapHost, MapService, lab_map
from homelab.labmap.svg import svg
from homelab.labmap.text import host_lines, link_lines

__all__ = [
    "KINDS",
    "LabMap",
    "Link",
    "MapHost",
    "MapService",
    "host_lines",
    "lab_map",
    "link_lines",
    "mermaid",
    "svg",
]
