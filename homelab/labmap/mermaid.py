"""The map as Mermaid text: a flowchart with a subgraph per host, its services (ports and
names) inside, and a labelled edge per link. Paste it where Mermaid renders (a README on
GitHub or Forgejo, a wiki)."""

from __future__ import annotations

from homelab.labmap.model import LabMap, MapHost, MapService

# the edge's line by kind: what the machine needs most is drawn heaviest
_ARROWS = {
    "proxy": "==>",
    "dns": "-.->",
    "scrape": "-.->",
    "backup": "-->",
    "mqtt": "-->",
    "build": "==>",
    "remote-build": "-->",
    "cache": "-.->",
}


def node_id(*parts: str) -> str:
    """A Mermaid id for a host or a host's service: letters, digits and underscores only,
    one to one (every other character written as _XX_ of its code), never a keyword."""
    said = [
        "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}_" for c in p) for p in parts
    ]
    return "h_" + "__".join(said)


def label(text: str) -> str:
    """Text inside a quoted Mermaid label: its quotes and markup characters as entities."""
    for c, entity in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(c, entity)
    return text


def mermaid(lab: LabMap) -> str:
    lines = ["flowchart LR"]
    for host in lab.hosts:
        lines += _subgraph(host)
    for link in lab.links:
        source = _end(lab, link.source, link.source_service)
        target = _end(lab, link.target, link.target_service)
        lines.append(f'  {source} {_ARROWS[link.kind]}|"{label(link.label)}"| {target}')
    return "\n".join(lines) + "\n"


def _subgraph(host: MapHost) -> list[str]:
    title = host.name + (f" ({host.address})" if host.address else "")
    if host.roles:
        title += " · " + ", ".join(host.roles)
    if not host.valid:
        title += " · its profile has mistakes"
    lines = [f'  subgraph {node_id(host.folder)}["{label(title)}"]']
    lines += [f'    {node_id(host.folder, s.name)}["{_service_label(s)}"]' for s in host.services]
    if not host.services:  # an empty subgraph is no box at all
        lines.append(f'    {node_id(host.folder, "")}["{label("no services")}"]')
    return [*lines, "  end"]


def _service_label(s: MapService) -> str:
    said = [label(s.said)]
    if s.ports:
        said.append(label(" ".join(s.ports)))
    said += [label(n) for n in s.names]
    return "<br/>".join(said)


def _end(lab: LabMap, folder: str, service: str | None) -> str:
    """The service's node when the host runs it, else the host's subgraph."""
    host = lab.host(folder)
    if service is not None and host is not None and host.service(service) is not None:
        return node_id(folder, service)
    return node_id(folder)
