"""The lab's monitoring: every host runs Prometheus's node exporter, opened to the
monitoring host alone, which scrapes every one of them; a Grafana of the lab gets that
Prometheus as a data source."""

from __future__ import annotations

from typing import Any

from homelab.catalog import Catalog
from homelab.profile.model import Profile
from homelab.webnix import open_port, put
from homelab.wiring import NODE_EXPORTER_PORT, PROMETHEUS_PORT, Role, Wiring


def host_part(
    tree: dict[str, Any], wiring: Wiring, role: Role, p: Profile, catalog: Catalog
) -> None:
    server = role.provider
    put(tree, ["services", "prometheus", "exporters", "node", "enable"], True)
    put(tree, ["services", "prometheus", "exporters", "node", "port"], NODE_EXPORTER_PORT)
    if p.folder != server.folder:
        open_port(tree, server.address, NODE_EXPORTER_PORT)
    if p.folder == server.folder:
        targets = [
            f"{'127.0.0.1' if peer.folder == server.folder else peer.address}:{NODE_EXPORTER_PORT}"
            for peer in wiring.peers.values()
        ]
        put(
            tree,
            ["services", "prometheus", "scrapeConfigs"],
            [{"job_name": "node", "static_configs": [{"targets": targets}]}],
        )
    if p.service("grafana") is not None:
        url = (
            f"http://127.0.0.1:{PROMETHEUS_PORT}"
            if p.folder == server.folder
            else f"http://{server.address}:{PROMETHEUS_PORT}"
        )
        put(
            tree,
            ["services", "grafana", "provision", "datasources", "settings", "datasources"],
            [{"name": "Prometheus (lab)", "type": "prometheus", "url": url}],
        )
    if p.folder == server.folder:
        for peer in wiring.peers.values():
            if peer.folder != server.folder and wiring.runs(peer.folder, "grafana"):
                open_port(tree, peer.address, PROMETHEUS_PORT)
