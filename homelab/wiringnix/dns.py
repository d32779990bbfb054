"""The lab's DNS: every host asks the lab's DNS server first (unless its profile names its
own nameservers), and the server answers every host's name and every name under the domain.
"""

from __future__ import annotations

from typing import Any

from homelab.catalog import Catalog
from homelab.nix.expr import mk_default
from homelab.profile.model import Profile
from homelab.webnix import open_port, put
from homelab.wiring import Role, Wiring


def host_part(
    tree: dict[str, Any], wiring: Wiring, role: Role, p: Profile, catalog: Catalog
) -> None:
    server = role.provider
    if p.folder == server.folder:
        _records(tree, wiring, role)
        for peer in wiring.peers.values():
            if peer.folder != server.folder:
                open_port(tree, peer.address, 53, "udp")
                open_port(tree, peer.address, 53, "tcp")
    if p.folder in wiring.own_nameservers:
        return  # the person chose this host's nameservers
    first = "127.0.0.1" if p.folder == server.folder else server.address
    put(tree, ["networking", "nameservers"], mk_default([first, *role.spec.fallback]))


def _records(tree: dict[str, Any], wiring: Wiring, role: Role) -> None:
    """The server's answers, in its own configuration's words."""
    records = wiring.records
    if role.service == "pihole":
        # pihole-FTL's dns.hosts: "ADDRESS NAME" lines (services.pihole-ftl.settings)
        put(
            tree,
            ["services", "pihole-ftl", "settings", "dns", "hosts"],
            [f"{a} {n}" for n, a in records],
        )
    elif role.service == "adguardhome":
        put(
            tree,
            ["services", "adguardhome", "settings", "filtering", "rewrites"],
            [{"domain": n, "answer": a} for n, a in records],
        )
    elif role.service == "blocky":
        put(tree, ["services", "blocky", "settings", "customDNS", "mapping"], dict(records))
    elif role.service == "unbound":
        put(
            tree,
            ["services", "unbound", "settings", "server", "local-data"],
            [f'"{n}. A {a}"' for n, a in records if ":" not in a]
            + [f'"{n}. AAAA {a}"' for n, a in records if ":" in a],
        )
