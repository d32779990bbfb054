"""The lab's MQTT broker: zigbee2mqtt publishes to it and Home Assistant reads from it,
with one lab user whose password is an encrypted secret; the broker's port is opened to
those hosts alone."""

from __future__ import annotations

from typing import Any

from homelab.catalog import Catalog
from homelab.profile.model import Profile
from homelab.webnix import open_port, put
from homelab.wiring import MQTT_PORT, Role, Wiring


def host_part(
    tree: dict[str, Any], wiring: Wiring, role: Role, p: Profile, catalog: Catalog
) -> None:
    broker = role.provider
    if p.folder == broker.folder:
        for folder in wiring.mqtt_users:
            if folder != broker.folder:
                open_port(tree, wiring.peers[folder].address, MQTT_PORT)
    host = "127.0.0.1" if p.folder == broker.folder else broker.address
    if p.service("zigbee2mqtt") is not None:
        put(
            tree,
            ["services", "zigbee2mqtt", "settings", "mqtt", "server"],
            f"mqtt://{host}:{MQTT_PORT}",
        )
