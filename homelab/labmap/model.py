"""The map as data: every host with its services, ports and names, and every link between
two machines (the proxy to its backends, the wiring's DNS, scrape, backup and MQTT, and
where systems are built: a builder to the hosts it builds, remote builds, the cache).

Pure: a loaded lab in, the map out. homelab.labmap.mermaid and .svg draw it; the editor's
map screen shows homelab.labmap.text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homelab.builds import CACHE_PORT, Builds
from homelab.catalog import Catalog, service_ports
from homelab.wiring import MQTT_CLIENTS, NODE_EXPORTER_PORT, REPOSITORY_PORT, Wiring

if TYPE_CHECKING:
    from homelab.labfiles import HostState, LabState
    from homelab.webplan import WebPlan

# the links' kinds, in the order the map lists them
KINDS = ("proxy", "dns", "scrape", "backup", "mqtt", "build", "remote-build", "cache")
# what the wiring runs on a host besides its profile's services
EXPORTER = "prometheus-node-exporter"  # the catalogue's name: a host may run its own
REPOSITORY = "backup repository"  # restic's REST server, homelab's own
CACHE = "binary cache"  # harmonia, serving the host's store to the lab (lab.yaml builds.cache)
# the plan's words for its links (homelab.builds.Builds.links) -> the map's kinds
_BUILD_KINDS = {"builds": "build", "remote build": "remote-build", "cache": "cache"}


@dataclass(frozen=True)
class MapService:
    name: str
    ports: tuple[str, ...] = ()  # "53/udp"
    names: tuple[str, ...] = ()  # its names under the lab's domain
    wired: str | None = None  # the role for which the wiring runs it (not the profile)

    @property
    def said(self) -> str:
        """Its name, and who set it when the lab did."""
        return self.name + (f" (set by the lab: {self.wired})" if self.wired else "")


@dataclass(frozen=True)
class MapHost:
    folder: str
    name: str
    address: str = ""
    services: tuple[MapService, ...] = ()
    roles: tuple[str, ...] = ()  # the lab's roles it plays: proxy, dns, monitoring...
    valid: bool = True  # False: its profile cannot be read, drawn without its services

    def service(self, name: str) -> MapService | None:
        return next((s for s in self.services if s.name == name), None)


@dataclass(frozen=True)
class Link:
    """One machine needs another: source -> target (folders), the target's service it
    talks to when there is one (the proxy's backend, the DNS server, the broker)."""

    source: str
    target: str
    kind: str  # one of KINDS
    label: str  # what the map writes on it: "https wiki.home.example.org", "dns"
    source_service: str | None = None
    target_service: str | None = None


@dataclass(frozen=True)
class LabMap:
    hosts: tuple[MapHost, ...]  # by folder
    links: tuple[Link, ...]
    domain: str | None = None

    def host(self, folder: str) -> MapHost | None:
        return next((h for h in self.hosts if h.folder == folder), None)

    def name_of(self, folder: str) -> str:
        host = self.host(folder)
        return host.name if host is not None else folder


def lab_map(state: LabState) -> LabMap:
    """The map of a loaded lab. A host whose profile has mistakes is still on it (without
    its services); links come from the web plan and the wiring as the load made them."""
    hosts = tuple(_host(folder, h, state) for folder, h in sorted(state.hosts.items()))
    links = _proxy_links(state.web) + _wiring_links(state.wiring) + _build_links(state.builds)
    domain = state.web.domain.name if state.web is not None else None
    return LabMap(hosts, tuple(links), domain)


def _host(folder: str, host: HostState, state: LabState) -> MapHost:
    p = host.profile
    if p is None:
        return MapHost(folder, folder, valid=False)
    names = _names(state.web, folder)
    services = tuple(
        MapService(u.name, _ports(state.catalog, u.name, u.settings), names.get(u.name, ()))
        for u in p.services
    )
    services += tuple(
        MapService(f"{c.name} (container)", _published(c.ports)) for c in p.containers
    )
    services += _wired_services(state.wiring, folder, {s.name for s in services})
    if state.builds is not None and state.builds.of(folder).serves_cache:
        services += (MapService(CACHE, (f"{CACHE_PORT}/tcp",), wired="builds"),)
    peer = state.wiring.peers.get(folder) if state.wiring is not None else None
    address = peer.address if peer is not None else (p.deploy.address or "")
    return MapHost(folder, p.name, address, services, _roles(state, folder))


def _wired_services(wiring: Wiring | None, folder: str, own: set[str]) -> tuple[MapService, ...]:
    """The node exporter every host runs for the lab's Prometheus, and the repository on
    the host that keeps the backups."""
    if wiring is None or folder not in wiring.peers:
        return ()
    found = []
    if "monitoring" in wiring.roles and EXPORTER not in own:
        port = wiring.port(folder, EXPORTER, NODE_EXPORTER_PORT)
        found.append(MapService(EXPORTER, (f"{port}/tcp",), wired="monitoring"))
    backups = wiring.roles.get("backups")
    if backups is not None and backups.provider.folder == folder:
        found.append(MapService(REPOSITORY, (f"{REPOSITORY_PORT}/tcp",), wired="backups"))
    return tuple(found)


def _published(ports: tuple[str, ...]) -> tuple[str, ...]:
    """A container's ports as the host publishes them: "8080:80/udp" -> "8080/udp"."""
    out = []
    for spec in ports:
        mapping, _, protocol = spec.partition("/")
        parts = mapping.rsplit(":", 2)
        if len(parts) >= 2:  # a container port alone gets a random host port: none to say
            out.append(f"{parts[-2]}/{protocol or 'tcp'}")
    return tuple(out)


def _ports(catalog: Catalog, name: str, settings: Mapping[str, object]) -> tuple[str, ...]:
    service = catalog.get(name)
    if service is None:
        return ()
    return tuple(f"{port.port}/{port.protocol}" for port in service_ports(service, settings))


def _names(web: WebPlan | None, folder: str) -> dict[str, tuple[str, ...]]:
    """The host's services' names under the domain, by service."""
    found: dict[str, tuple[str, ...]] = {}
    for site in web.sites if web is not None else ():
        if site.folder == folder:
            found[site.service] = (*found.get(site.service, ()), site.fqdn)
    return found


def _roles(state: LabState, folder: str) -> tuple[str, ...]:
    roles = []
    web = state.web
    if web is not None and any(s.proxy_folder == folder and s.remote for s in web.sites):
        roles.append("proxy")
    if state.wiring is not None:
        roles += [n for n, r in sorted(state.wiring.roles.items()) if r.provider.folder == folder]
    mine = state.builds.of(folder) if state.builds is not None else None
    if mine is not None and (mine.builds_for or mine.remote_builder):
        roles.append("builder")
    return tuple(roles)


def _proxy_links(web: WebPlan | None) -> list[Link]:
    """The proxy host to each backend it fronts on another host, one link a name."""
    return [
        Link(s.proxy_folder, s.folder, "proxy", f"https {s.fqdn}", target_service=s.service)
        for s in (web.sites if web is not None else ())
        if s.remote
    ]


def _wiring_links(wiring: Wiring | None) -> list[Link]:
    if wiring is None:
        return []
    links = []
    for source, target, what in wiring.links():
        role = wiring.roles.get(_ROLE_OF.get(what, what))
        service = role.service if role is not None else None
        if what == "scrape":  # Prometheus reaches out to each host's node exporter
            links.append(Link(source, target, what, what, service, EXPORTER))
        elif what == "backup":
            links.append(Link(source, target, what, what, target_service=REPOSITORY))
        else:
            client = _client(wiring, source) if what == "mqtt" else None
            links.append(Link(source, target, what, what, client, service))
    return links


_ROLE_OF = {"scrape": "monitoring", "backup": "backups"}


def _build_links(builds: Builds | None) -> list[Link]:
    """A builder to each host it builds (deploy.buildOn), each host to the remote builders
    it sends builds to, and each host to the lab's cache (the cache host's service)."""
    if builds is None:
        return []
    links = []
    for source, target, what in builds.links():
        kind = _BUILD_KINDS[what]
        to = CACHE if kind == "cache" else None
        links.append(Link(source, target, kind, what, target_service=to))
    return links


def _client(wiring: Wiring, folder: str) -> str | None:
    """The host's service that talks to the broker."""
    return next((s for s in MQTT_CLIENTS if wiring.runs(folder, s)), None)
