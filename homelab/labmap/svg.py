"""The map as SVG, laid out here: the hosts side by side as boxes listing their services,
ports and names; each link an arc under the boxes, from one host to the other, with its
label at the arc's lowest point and an arrowhead at its end. Each arc runs at its own depth
(shorter spans nearer the boxes), so no two labels share a line.

Drawn for reading and for tests alike: each host a <g class="host" id=...>, each service a
<text class="service" data-service=...>, each link a <g class="link" data-from data-to
data-kind> (folders), every text escaped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from homelab.labmap.model import KINDS, LabMap, Link, MapHost

CHAR = 7.3  # width of a character of the 12px monospace font
LINE = 17  # height of a line of text
PAD = 10  # inside a box
GAP = 60  # between boxes
MARGIN = 20
STEP = 24  # between two arcs' depths
COLOURS = {
    "proxy": "#1f6feb",
    "dns": "#8250df",
    "scrape": "#bf8700",
    "backup": "#1a7f37",
    "mqtt": "#cf222e",
    "build": "#0a3069",
    "remote-build": "#57606a",
    "cache": "#953800",
}


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    width: float
    height: float


def svg(lab: LabMap) -> str:
    lines = {h.folder: _lines(h) for h in lab.hosts}
    chars = max((len(line.text) for said in lines.values() for line in said), default=10)
    width = max(160.0, chars * CHAR + 2 * PAD)
    height = max((len(said) for said in lines.values()), default=1) * LINE + 2 * PAD
    boxes = {
        h.folder: _Box(MARGIN + i * (width + GAP), MARGIN, width, height)
        for i, h in enumerate(lab.hosts)
    }
    links = [link for link in lab.links if link.source in boxes and link.target in boxes]
    ends = _ends(links, boxes)
    ordered = sorted(links, key=lambda k: (_span(k, boxes), KINDS.index(k.kind), k.label))
    base = MARGIN + height
    body = [_host(h, boxes[h.folder], lines[h.folder]) for h in lab.hosts]
    widest = MARGIN + len(lab.hosts) * (width + GAP)
    for depth, link in enumerate(ordered, 1):
        drawn, right = _link(link, ends[id(link)], base, depth * STEP + 16)
        body.append(drawn)
        widest = max(widest, right)
    bottom = base + 0.75 * (len(ordered) * STEP + 16) + 2 * LINE
    body.append(_legend(MARGIN, bottom - LINE / 2))
    return _document(widest + MARGIN, bottom + MARGIN, body)


@dataclass(frozen=True)
class _Line:
    """A line of text in a host's box."""

    text: str
    cls: str  # its class in the style sheet
    service: str | None = None  # the service it names


def _lines(host: MapHost) -> list[_Line]:
    head = [_Line(host.name, "name")]
    under = " ".join(filter(None, [host.address, *(f"[{r}]" for r in host.roles)]))
    if under:
        head.append(_Line(under, "address"))
    if not host.valid:
        return [*head, _Line("profile has mistakes", "note")]
    out = list(head)
    for s in host.services:
        cls = "service wired" if s.wired else "service"
        out.append(_Line(" ".join([s.name, *s.ports]), cls, s.name))
        if s.wired:
            out.append(_Line(f"set by the lab: {s.wired}", "wired-by"))
        out += [_Line(n, "web-name") for n in s.names]
    return out if host.services else [*out, _Line("no services", "note")]


def _span(link: Link, boxes: dict[str, _Box]) -> float:
    return abs(boxes[link.source].x - boxes[link.target].x)


def _ends(links: list[Link], boxes: dict[str, _Box]) -> dict[int, tuple[float, float]]:
    """Where each link leaves and reaches the boxes' bottoms: a host's ends spread along
    its bottom, ordered by where the other end is, so arcs do not cross at the box."""
    at: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    for n, link in enumerate(links):
        at[link.source].append((boxes[link.target].x, n, 0))
        at[link.target].append((boxes[link.source].x, n, 1))
    xs: dict[tuple[int, int], float] = {}
    for folder, found in at.items():
        box = boxes[folder]
        found.sort()
        for k, (_, n, side) in enumerate(found):
            xs[(n, side)] = box.x + box.width * (k + 1) / (len(found) + 1)
    return {id(link): (xs[(n, 0)], xs[(n, 1)]) for n, link in enumerate(links)}


def _host(host: MapHost, box: _Box, lines: list[_Line]) -> str:
    attrs = f'class="host" id={quoteattr("host-" + _safe(host.folder))}'
    attrs += f" data-host={quoteattr(host.folder)}"
    out = [
        f"<g {attrs}>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
        f'height="{box.height:.1f}" rx="6" class="box{"" if host.valid else " invalid"}"/>',
    ]
    y = box.y + PAD + LINE - 4
    for line in lines:
        text, cls = line.text, line.cls
        indent = 2 * CHAR if cls in ("web-name", "wired-by") else 0
        data = f" data-service={quoteattr(line.service)}" if line.service is not None else ""
        x = box.x + PAD + indent
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}"{data}>{escape(text)}</text>')
        y += LINE
    return "\n".join([*out, "</g>"])


def _link(link: Link, ends: tuple[float, float], base: float, depth: float) -> tuple[str, float]:
    """The link's arc and label, and how far right its label reaches."""
    (x1, x2), colour = ends, COLOURS[link.kind]
    path = f"M {x1:.1f} {base:.1f} C {x1:.1f} {base + depth:.1f} {x2:.1f} {base + depth:.1f} "
    path += f"{x2:.1f} {base + 6:.1f}"  # ends short of the box: the arrowhead touches it
    mid, low = (x1 + x2) / 2, base + 0.75 * depth
    attrs = " ".join(
        f"data-{k}={quoteattr(v)}"
        for k, v in (("from", link.source), ("to", link.target), ("kind", link.kind))
    )
    drawn = (
        f'<g class="link {link.kind}" {attrs}>\n'
        f'<path d="{path}" stroke="{colour}" marker-end="url(#arrow-{link.kind})"/>\n'
        f'<text x="{mid:.1f}" y="{low + 4:.1f}" class="label" fill="{colour}">'
        f"{escape(link.label)}</text>\n</g>"
    )
    return drawn, mid + len(link.label) * CHAR / 2


def _legend(x: float, y: float) -> str:
    out = ['<g class="legend">']
    for kind in KINDS:
        colour = COLOURS[kind]
        out.append(f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 24:.1f}" y2="{y - 4:.1f}" '
                   f'stroke="{colour}" stroke-width="2"/>')  # fmt: skip
        out.append(f'<text x="{x + 30:.1f}" y="{y:.1f}">{kind}</text>')
        x += 30 + len(kind) * CHAR + 24
    return "\n".join([*out, "</g>"])


def _markers() -> str:
    return "\n".join(
        f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="{colour}"/></marker>'
        for kind, colour in COLOURS.items()
    )


_STYLE = """
text { font: 12px monospace; fill: #1f2328; }
text.name { font-weight: bold; font-size: 13px; }
text.address, text.note { fill: #59636e; }
text.web-name { fill: #1f6feb; }
text.wired { font-style: italic; }
text.wired-by { fill: #59636e; font-style: italic; font-size: 11px; }
text.label { text-anchor: middle; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; }
rect.box { fill: #f6f8fa; stroke: #59636e; }
rect.invalid { stroke: #cf222e; stroke-dasharray: 4 3; }
g.link path { fill: none; stroke-width: 1.6; }
"""


def _document(width: float, height: float, body: list[str]) -> str:
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}">',
            f"<style>{_STYLE}</style>",
            f"<defs>\n{_markers()}\n</defs>",
            f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
            *body,
            "</svg>",
            "",
        ]
    )


def _safe(folder: str) -> str:
    return "".join(
        c if c.isascii() and (c.isalnum() or c in "-_") else f"_{ord(c):x}_" for c in folder
    )
