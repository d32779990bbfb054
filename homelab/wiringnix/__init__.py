"""A host's part of the lab's wiring as NixOS options (hosts/NAME/wiring.nix).

Each role has a module of its own here: what every host gets from the role's provider (its
nameserver, an exporter the monitoring host scrapes, a backup job, the broker's address)
and what the provider serves the others. Each opens its ports to the peers that need them
alone (homelab.webnix.open_port).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homelab.catalog import Catalog
from homelab.profile.model import Profile
from homelab.webnix import finish
from homelab.wiring import Role, Wiring
from homelab.wiringnix import backups, dns, monitoring, mqtt

TITLE = "The lab's wiring, derived from the lab (lab.yaml: wiring)"

Part = Callable[[dict[str, Any], Wiring, Role, Profile, Catalog], None]
_PARTS: tuple[tuple[str, Part], ...] = (
    ("dns", dns.host_part),
    ("monitoring", monitoring.host_part),
    ("backups", backups.host_part),
    ("mqtt", mqtt.host_part),
)


def wiring_module(wiring: Wiring | None, p: Profile, catalog: Catalog) -> dict[str, Any]:
    """The body of the host's wiring.nix ({} when the lab's roles ask nothing of it)."""
    if wiring is None or p.folder not in wiring.peers:
        return {}
    tree: dict[str, Any] = {}
    for name, part in _PARTS:
        role = wiring.role(name)
        if role is not None:
            part(tree, wiring, role, p, catalog)
    return finish(tree) if tree else {}
