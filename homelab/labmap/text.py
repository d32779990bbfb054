"""The map as lines of text: each host with its services, ports and names, then the links
("pi → nas: dns"). The editor's map screen shows it."""

from __future__ import annotations

from homelab.labmap.model import KINDS, LabMap, MapHost


def host_lines(host: MapHost) -> list[str]:
    head = host.name + (f"  {host.address}" if host.address else "")
    if host.roles:
        head += "  (" + ", ".join(host.roles) + ")"
    if not host.valid:
        return [head + "  (its profile has mistakes: no services shown)"]
    if not host.services:
        return [head, "    no services"]
    width = max(len(s.name) for s in host.services)
    lines = [head]
    for s in host.services:
        said = " ".join(s.ports)
        by = f"(set by the lab: {s.wired})" if s.wired else ""
        lines.append(f"    {s.name:<{width}}  {said}  {by}".rstrip())
        lines += [f"    {'':<{width}}  https://{n}" for n in s.names]
    return lines


def link_lines(lab: LabMap) -> list[str]:
    order = sorted(lab.links, key=lambda link: KINDS.index(link.kind))
    return [
        f"{lab.name_of(link.source)} → {lab.name_of(link.target)}: {link.label}" for link in order
    ]
