"""The lab's web names: which host fronts which service under the lab's domain.

lab.yaml's `domain:` (and `proxy:`) plus each profile's `web: {name: wiki}` give a plan:
the sites (wiki.home.example.org -> the wiki's host and port), the host that proxies each,
and for every host what the plan asks of it (virtual hosts to serve, a backend port to open
to the proxy's address, settings a service needs behind a proxy). Pure: the profiles and
lab.yaml's model in, the plan and every problem at its place out. homelab.webnix turns a
host's part into Nix.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from homelab.catalog import Catalog, service_ports, web_name, web_port
from homelab.errors import Place, Problem, format_path
from homelab.hosthints import known_hosts
from homelab.profile.model import Profile, SecretUse, ServiceUse
from homelab.yamlfile import Path_

SERVERS = ("caddy", "nginx")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
_TAILSCALE_V4 = ipaddress.ip_network("100.64.0.0/10")
_TAILSCALE_V6 = ipaddress.ip_network("fd7a:115c:a1e0::/48")
_LAB_YAML = Place("lab.yaml")


@dataclass(frozen=True)
class Domain:
    """lab.yaml's `domain:` and `proxy:`."""

    name: str  # home.example.org
    email: str  # the ACME account's
    challenge: str  # http (HTTP-01) or dns (DNS-01)
    public: bool  # the names face the internet (else: only inside the lab)
    dns_provider: str | None = None  # lego's name for it, e.g. cloudflare
    credentials: str | None = None  # the encrypted secret with the provider's variables
    proxy_host: str | None = None  # the host fronting every name (None: each its own)
    server: str = "caddy"  # caddy or nginx
    proxy_place: Place = _LAB_YAML  # where proxy.host is written
    credentials_place: Place = _LAB_YAML

    @property
    def wildcard(self) -> bool:
        """DNS-01 gives one certificate for *.DOMAIN, which every virtual host uses."""
        return self.challenge == "dns"


@dataclass(frozen=True)
class Site:
    """One service by name: wiki.home.example.org -> a port on the host that runs it."""

    fqdn: str
    folder: str  # the host running the service
    service: str
    port: int
    websockets: bool = False
    upstream: str = "127.0.0.1"  # the service's address as the proxy reaches it
    proxy_folder: str = ""  # the host that fronts it
    proxy_address: str = "127.0.0.1"  # the proxy's address as the service sees it

    @property
    def url(self) -> str:
        return f"https://{self.fqdn}"

    @property
    def remote(self) -> bool:
        return self.folder != self.proxy_folder


@dataclass(frozen=True)
class HostWeb:
    """What the lab's names ask of one host."""

    domain: Domain
    fronts: tuple[Site, ...] = ()  # virtual hosts this host serves
    named: tuple[Site, ...] = ()  # this host's services that have a name

    def site_of(self, service: str) -> Site | None:
        return next((s for s in self.named if s.service == service), None)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The encrypted secrets the proxy needs (the DNS provider's credentials)."""
        if self.fronts and self.domain.wildcard and self.domain.credentials:
            return (self.domain.credentials,)
        return ()


@dataclass(frozen=True)
class WebPlan:
    domain: Domain
    sites: tuple[Site, ...]
    hosts: Mapping[str, HostWeb]  # by folder; hosts with no part are left out

    def names_of(self, folder: str) -> tuple[str, ...]:
        """The names of the host's own services, sorted."""
        return tuple(sorted(s.fqdn for s in self.sites if s.folder == folder))


def secret_uses(web: HostWeb | None) -> tuple[SecretUse, ...]:
    """The proxy's encrypted secrets as uses of its profile (owner root: systemd reads
    the ACME environment file before it drops to the acme user)."""
    if web is None:
        return ()
    place = web.domain.credentials_place
    return tuple(SecretUse(name, ("domain", "credentials"), place=place) for name in web.secrets)


def stable_address(p: Profile) -> tuple[str | None, str]:
    """The host's address that does not change, and where it comes from; (None, why not)."""
    found: list[tuple[str, str]] = []
    for iface in p.networking.interfaces:
        for written in iface.addresses:
            try:
                ip = ipaddress.ip_interface(written).ip
            except ValueError:
                continue
            found.append((str(ip), f"the static address of {iface.name}"))
    found.sort(key=lambda item: ":" in item[0])  # IPv4 first: firewall rules read simpler
    if found:
        return found[0]
    address = p.deploy.address
    if address and p.service("tailscale") is not None and _tailscale(address):
        return address, "its Tailscale address (deploy.address)"
    return None, (
        f"{p.name} has no static address (networking.interfaces.NAME.addresses) and no "
        "Tailscale address (deploy.address 100.x.y.z with the tailscale service)"
    )


def _tailscale(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip in (_TAILSCALE_V4 if ip.version == 4 else _TAILSCALE_V6)


def _reach(p: Profile) -> str:
    """How another host reaches this one: its stable address, else what apply connects to."""
    address, _ = stable_address(p)
    return address or p.deploy.address or p.name


PlaceOf = Callable[[str, Path_], Place]  # (folder, path in its merged profile) -> place


def plan(
    domain: Domain | None,
    profiles: Mapping[str, Profile],
    catalog: Catalog,
    place_of: PlaceOf,
) -> tuple[WebPlan | None, list[tuple[str | None, Problem]]]:
    """The lab's web plan from lab.yaml's domain and the valid hosts' profiles (by folder);
    each problem with the folder it belongs to (None: lab.yaml's own)."""
    problems: list[tuple[str | None, Problem]] = []
    named = [
        (folder, use, name)
        for folder, p in sorted(profiles.items())
        for use in p.services
        if (name := web_name(use.settings)) is not None
    ]
    if domain is None:
        for folder, use, _ in named:
            at = ("services", use.name, "web", "name")
            problems.append(
                (
                    folder,
                    Problem(
                        place_of(folder, at),
                        "a name needs the lab's domain, which lab.yaml does not give",
                        format_path(at),
                        hint="add to lab.yaml  domain: {name: home.example.org, email: "
                        "you@example.org, challenge: dns, ...}  (README: Names and HTTPS)",
                    ),
                )
            )
        return None, problems
    proxy_folder, said = _proxy_folder(domain, profiles)
    problems += [(None, p) for p in said]
    sites: list[Site] = []
    seen: dict[str, tuple[str, str]] = {}
    for folder, use, name in named:
        at = ("services", use.name, "web", "name")
        fqdn = f"{name}.{domain.name}"
        if fqdn in seen:
            other_folder, other_service = seen[fqdn]
            problems.append(
                (
                    folder,
                    Problem(
                        place_of(folder, at),
                        f"{fqdn} is also the name of {other_service} on "
                        f"{profiles[other_folder].name}",
                        format_path(at),
                        hint="give each service its own name under the domain",
                    ),
                )
            )
            continue
        seen[fqdn] = (folder, use.name)
        service = catalog.get(use.name)
        port = web_port(service, use.settings) if service is not None else None
        if service is None or service.web is None or port is None:
            continue  # validation says a service without a web port has no name
        front = proxy_folder or folder
        sites.append(
            Site(
                fqdn,
                folder,
                use.name,
                port,
                bool(service.web.get("websockets")),
                "127.0.0.1" if front == folder else _reach(profiles[folder]),
                front,
            )
        )
    if proxy_folder is not None and any(s.remote for s in sites):
        address, why = stable_address(profiles[proxy_folder])
        if address is None:
            problems.append(
                (
                    None,
                    Problem(
                        domain.proxy_place,
                        f"the proxy host {profiles[proxy_folder].name} has no stable address, "
                        "so its backends cannot open their ports to it alone",
                        "proxy.host",
                        hint=f"{why}: give it one, or leave proxy.host out so each host "
                        "fronts its own services",
                    ),
                )
            )
            return None, problems
        sites = [s if not s.remote else _with_proxy_address(s, address) for s in sites]
    for site in sites:
        problems += [(site.folder, p) for p in _listen_problems(site, profiles, catalog, place_of)]
        problems += [(site.folder, p) for p in _open_to_all(site, profiles, place_of)]
    for front in sorted({s.proxy_folder for s in sites}):
        problems += [
            (front, p) for p in _port_clashes(front, profiles[front], catalog, domain, place_of)
        ]
    hosts: dict[str, HostWeb] = {}
    for folder in sorted({*(s.folder for s in sites), *(s.proxy_folder for s in sites)}):
        hosts[folder] = HostWeb(
            domain,
            tuple(s for s in sites if s.proxy_folder == folder),
            tuple(s for s in sites if s.folder == folder),
        )
    return WebPlan(domain, tuple(sites), hosts), problems


def _with_proxy_address(site: Site, address: str) -> Site:
    return Site(
        site.fqdn, site.folder, site.service, site.port, site.websockets,
        site.upstream, site.proxy_folder, address,
    )  # fmt: skip


def _proxy_folder(
    domain: Domain, profiles: Mapping[str, Profile]
) -> tuple[str | None, list[Problem]]:
    if domain.proxy_host is None:
        return None, []
    for folder, p in profiles.items():
        if domain.proxy_host in (folder, p.name):
            return folder, []
    return None, [
        Problem(
            domain.proxy_place,
            f"no host named '{domain.proxy_host}' to be the proxy",
            "proxy.host",
            hint=known_hosts(p.name for p in profiles.values())
            if profiles
            else "add the host first (homelab add-host)",
        )
    ]


def _listen_problems(
    site: Site, profiles: Mapping[str, Profile], catalog: Catalog, place_of: PlaceOf
) -> list[Problem]:
    """A service the person told to listen on loopback cannot be fronted from elsewhere."""
    if not site.remote:
        return []
    service = catalog.get(site.service)
    use = profiles[site.folder].service(site.service)
    setting = service.web.get("listen") if service is not None and service.web else None
    if not setting or use is None or setting not in use.given:
        return []
    if str(use.settings.get(setting)) not in LOOPBACK:
        return []
    at = ("services", site.service, setting)
    return [
        Problem(
            place_of(site.folder, at),
            f"{site.service} listens on {use.settings.get(setting)} only, which the proxy on "
            f"{profiles[site.proxy_folder].name} cannot reach",
            format_path(at),
            hint=f"leave {setting} out (homelab then listens on every address and opens the "
            "port to the proxy alone), or set it to this host's address",
        )
    ]


def _open_to_all(site: Site, profiles: Mapping[str, Profile], place_of: PlaceOf) -> list[Problem]:
    """A named service whose own openFirewall opens its port to everyone: the proxy does
    not need that (homelab opens it to the proxy alone), and the name's HTTPS is bypassed."""
    use = profiles[site.folder].service(site.service)
    if (
        use is None
        or "openFirewall" not in use.given
        or use.settings.get("openFirewall") is not True
    ):
        return []
    at = ("services", site.service, "openFirewall")
    whom = (
        f"the proxy's address ({site.proxy_address}) alone"
        if site.remote
        else "nobody: the proxy is on this host"
    )
    return [
        Problem(
            place_of(site.folder, at),
            f"{site.service} is reached as {site.fqdn} through the proxy, but openFirewall "
            f"opens port {site.port} to every address, around HTTPS",
            format_path(at),
            hint=f"leave openFirewall out: homelab opens the port to {whom}",
            warning=True,
        )
    ]


def _port_clashes(
    folder: str, p: Profile, catalog: Catalog, domain: Domain, place_of: PlaceOf
) -> list[Problem]:
    """The proxy serves 80 and 443: a service of its host that wants them cannot run."""
    problems = []
    for use in p.services:
        service = catalog.get(use.name)
        if service is None:
            continue
        taken = sorted({x.port for x in service_ports(service, use.settings)} & {80, 443})
        if taken:
            at = ("services", use.name)
            problems.append(
                Problem(
                    place_of(folder, at),
                    f"{use.name} wants port {taken[0]}, which the lab's proxy "
                    f"({domain.server}, lab.yaml) serves on this host",
                    format_path(at),
                    hint="the lab's proxy fronts every named service: remove "
                    f"{use.name}, or make another host the proxy (proxy.host in lab.yaml)",
                )
            )
    return problems


def listen_override(site: Site | None, use: ServiceUse, catalog: Catalog) -> dict[str, str]:
    """The listen setting a service fronted from another host gets when the person left
    it out: every address (its port is opened to the proxy's address alone)."""
    service = catalog.get(use.name)
    if site is None or not site.remote or service is None or not service.web:
        return {}
    setting = service.web.get("listen")
    if not setting or setting in use.given:
        return {}
    return {setting: "::" if ":" in site.proxy_address else "0.0.0.0"}
