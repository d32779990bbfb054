"""The lab's monitoring: every host runs Prometheus's node exporter, opened to the
monitoring host alone, which scrapes every one of them; a Grafana of the lab gets that
Prometheus as a data source.

Option paths and shapes as nixpkgs declares them (faukah/nixpkgs
3b20077cd82fd1f099e92e2792d73e3176d4869d): prometheus/default.nix `scrapeConfigs` is a list
of scrape_config submodules (job_name, static_configs: [{targets, labels}]), joined with the
catalogue entry's own list; prometheus/exporters/node.nix and exporters.nix: `enable`,
`port` (9100), `listenAddress` ("0.0.0.0"), `openFirewall` (false, kept so: the port is
opened to the Prometheus host alone); grafana.nix: `provision.enable` and
`provision.datasources.settings` (apiVersion 1, a `datasources` list joined with the
entry's).
"""

from __future__ import annotations

from typing import Any

from homelab.catalog import Catalog
from homelab.profile.model import Profile
from homelab.webnix import open_port, put
from homelab.wiring import NODE_EXPORTER_PORT, PROMETHEUS_PORT, Peer, Role, Wiring

# not "node": a scrape job the person writes in the prometheus entry is often called that,
# and Prometheus refuses two jobs of one name
JOB = "lab-node"
DATASOURCE = "Prometheus (lab)"


def host_part(
    tree: dict[str, Any], wiring: Wiring, role: Role, p: Profile, catalog: Catalog
) -> None:
    server = role.provider
    here = p.folder == server.folder
    _exporter(tree, p, server, here)
    for folder, _service, port, _path in wiring.scrapes:
        if folder == p.folder and not here:
            open_port(tree, server.address, port)  # its own metrics, to Prometheus alone
    if here:
        _scrape_targets(tree, wiring, server, _exporter_port(p))
        _service_jobs(tree, wiring, server)
        for peer in wiring.peers.values():
            if peer.folder != server.folder and wiring.runs(peer.folder, "grafana"):
                open_port(tree, peer.address, _prometheus_port(p))
    if p.service("grafana") is not None:
        port = wiring.port(server.folder, "prometheus", PROMETHEUS_PORT)
        _datasource(tree, p, server, here, port)


def _exporter(tree: dict[str, Any], p: Profile, server: Peer, here: bool) -> None:
    """The host's node exporter. The port stays the module's (9100) unless the host's own
    prometheus-node-exporter entry says otherwise: setting it here would conflict with it."""
    put(tree, ["services", "prometheus", "exporters", "node", "enable"], True)
    if not here:
        open_port(tree, server.address, _exporter_port(p))


def _exporter_port(p: Profile) -> int:
    use = p.service("prometheus-node-exporter")
    return int(use.settings.get("port", NODE_EXPORTER_PORT)) if use else NODE_EXPORTER_PORT


def _prometheus_port(p: Profile) -> int:
    use = p.service("prometheus")
    return int(use.settings.get("port", PROMETHEUS_PORT)) if use else PROMETHEUS_PORT


def _scrape_targets(tree: dict[str, Any], wiring: Wiring, server: Peer, own_port: int) -> None:
    """One static config a host, labelled with its name (the target is only an address),
    at the port its own prometheus-node-exporter entry says, else the module's."""

    def target(peer: Peer) -> str:
        if peer.folder == server.folder:
            return f"127.0.0.1:{own_port}"
        port = wiring.port(peer.folder, "prometheus-node-exporter", NODE_EXPORTER_PORT)
        return f"{peer.address}:{port}"

    configs = [
        {"targets": [target(peer)], "labels": {"host": peer.name}}
        for peer in sorted(wiring.peers.values(), key=lambda peer: peer.name)
    ]
    put(
        tree,
        ["services", "prometheus", "scrapeConfigs"],
        [{"job_name": JOB, "static_configs": configs}],
    )


def _service_jobs(tree: dict[str, Any], wiring: Wiring, server: Peer) -> None:
    """A job per service that serves its own metrics (the entry's `metrics:`), each target
    labelled with its host: lab-grafana, lab-loki, ..."""
    jobs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for folder, service, port, path in wiring.scrapes:
        peer = wiring.peers[folder]
        address = "127.0.0.1" if folder == server.folder else peer.address
        jobs.setdefault((service, path), []).append(
            {"targets": [f"{address}:{port}"], "labels": {"host": peer.name}}
        )
    configs = [
        {"job_name": f"lab-{service}", "metrics_path": path, "static_configs": targets}
        for (service, path), targets in sorted(jobs.items())
    ]
    if configs:
        found = tree["services"]["prometheus"]["scrapeConfigs"]
        found.extend(configs)


def _datasource(tree: dict[str, Any], p: Profile, server: Peer, here: bool, port: int) -> None:
    """Grafana provisions the lab's Prometheus; not as the default data source, which the
    person may have chosen (Grafana refuses two)."""
    url = f"http://{'127.0.0.1' if here else server.address}:{port}"
    put(tree, ["services", "grafana", "provision", "enable"], True)
    put(
        tree,
        ["services", "grafana", "provision", "datasources", "settings", "datasources"],
        [{"name": DATASOURCE, "type": "prometheus", "url": url}],
    )
