"""The lab's wiring: what one machine does for the others, declared once in lab.yaml.

`wiring:` in lab.yaml names roles (dns, monitoring, backups, mqtt). Each is played by one
host: the one lab.yaml names, or the one that runs the role's service (pihole, prometheus,
mosquitto...). From the roles and the profiles this module plans, for every host, what it
gets from the others (its nameserver, a node exporter its Prometheus scrapes, a backup job
to the lab's repository, the broker's address) and what the provider gets (records for every
host and name, scrape targets, the repository, the broker's users). Pure: lab.yaml's model
and the profiles in, the plan and every problem at its place out; homelab.wiringnix writes
each host's part as Nix (wiring.nix).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homelab.catalog import Catalog, metrics_endpoint, service_ports, service_state
from homelab.errors import Place, Problem, format_path
from homelab.hosthints import known_hosts
from homelab.profile.model import Profile, SecretUse, ServiceUse
from homelab.webplan import PlaceOf, WebPlan, stable_address

# the services that play each role, in the order a role looks for them
DNS_SERVERS = ("pihole", "adguardhome", "blocky", "unbound")
ROLE_SERVICES: Mapping[str, tuple[str, ...]] = {
    "dns": DNS_SERVERS,
    "monitoring": ("prometheus",),
    "mqtt": ("mosquitto",),
    "backups": (),  # the repository is homelab's own (a restic REST server): no service
}
NODE_EXPORTER_PORT = 9100
PROMETHEUS_PORT = 9090
REPOSITORY_PORT = 8000
MQTT_PORT = 1883
ROLE_WHAT = {"dns": "DNS server", "monitoring": "Prometheus", "mqtt": "MQTT broker"}
_LAB_YAML = Place("lab.yaml")


@dataclass(frozen=True)
class RoleSpec:
    """One role as lab.yaml says it: the host that plays it (None: the one that runs its
    service), and the role's own settings."""

    role: str
    host: str | None = None
    place: Place = _LAB_YAML  # the role's key in lab.yaml
    host_place: Place = _LAB_YAML
    fallback: tuple[str, ...] = ()  # dns: nameservers after the lab's
    schedule: str = "daily"  # backups: systemd OnCalendar
    keep: Mapping[str, int] = field(default_factory=dict)  # backups: restic forget --keep-*
    password: str | None = None  # backups, mqtt: the encrypted secret's name
    password_place: Place = _LAB_YAML


@dataclass(frozen=True)
class Peer:
    """A host as the others reach it."""

    folder: str
    name: str
    address: str  # stable, else what apply connects to, else the host name


@dataclass(frozen=True)
class Role:
    """A role and the host that plays it."""

    spec: RoleSpec
    provider: Peer
    service: str | None  # the catalogue service it runs for the role (None: homelab's own)


@dataclass(frozen=True)
class Wiring:
    roles: Mapping[str, Role]  # by role name
    peers: Mapping[str, Peer]  # every valid host, by folder
    records: tuple[tuple[str, str], ...] = ()  # dns: (name, address), sorted
    backups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # folder -> paths
    own_nameservers: frozenset[str] = frozenset()  # hosts whose profile names its own
    mqtt_users: tuple[str, ...] = ()  # hosts running an MQTT client service
    # monitoring: (folder, service, port, path) of each service serving its own metrics
    scrapes: tuple[tuple[str, str, int, str], ...] = ()
    # folder -> service -> its settings (defaults filled): a peer's ports, as it set them
    settings: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)

    def runs(self, folder: str, service: str) -> bool:
        return service in self.settings.get(folder, {})

    def port(self, folder: str, service: str, default: int, setting: str = "port") -> int:
        """A port a peer's service listens on, as its settings say (else `default`)."""
        value = self.settings.get(folder, {}).get(service, {}).get(setting)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def role(self, name: str) -> Role | None:
        return self.roles.get(name)

    def secrets_of(self, folder: str) -> tuple[SecretUse, ...]:
        """The encrypted secrets the wiring gives a host (the backup password, the MQTT
        password), said at lab.yaml's line."""
        uses = []
        backups = self.roles.get("backups")
        if backups and backups.spec.password and folder in self.backups:
            uses.append(_use(backups.spec, "backups"))
        mqtt = self.roles.get("mqtt")
        if mqtt and mqtt.spec.password and folder in self.mqtt_clients(mqtt):
            uses.append(_use(mqtt.spec, "mqtt"))
        return tuple(uses)

    def mqtt_clients(self, mqtt: Role) -> tuple[str, ...]:
        """The broker and the hosts that talk to it (zigbee2mqtt, home-assistant)."""
        return tuple(sorted({mqtt.provider.folder, *self.mqtt_users}))

    def links(self) -> list[tuple[str, str, str]]:
        """(from folder, to folder, what) of every cross-machine link, for the map."""
        out: list[tuple[str, str, str]] = []
        for name, role in sorted(self.roles.items()):
            to = role.provider.folder
            if name == "dns":
                out += [(f, to, "dns") for f in sorted(self.peers) if f not in self.own_nameservers]
            elif name == "monitoring":
                out += [(to, f, "scrape") for f in sorted(self.peers)]
            elif name == "backups":
                out += [(f, to, "backup") for f in sorted(self.backups)]
            elif name == "mqtt":
                out += [(f, to, "mqtt") for f in self.mqtt_users]
        return [(a, b, what) for a, b, what in out if a != b]


MQTT_CLIENTS = ("zigbee2mqtt", "home-assistant")


def _use(spec: RoleSpec, role: str) -> SecretUse:
    assert spec.password is not None
    return SecretUse(spec.password, ("wiring", role, "password"), place=spec.password_place)


def _peer(folder: str, p: Profile) -> Peer:
    address, _ = stable_address(p)
    return Peer(folder, p.name, address or p.deploy.address or p.name)


def plan(
    specs: Mapping[str, RoleSpec],
    profiles: Mapping[str, Profile],
    catalog: Catalog,
    place_of: PlaceOf,
    web: WebPlan | None = None,
    domain: str | None = None,
    elsewhere: frozenset[str] = frozenset(),
) -> tuple[Wiring | None, list[tuple[str | None, Problem]]]:
    """The lab's wiring from lab.yaml's roles and the valid hosts' profiles (by folder);
    each problem with the folder it belongs to (None: lab.yaml's). `elsewhere`: services
    that hosts with mistakes in their profiles name (a role they may play waits for them)."""
    problems: list[tuple[str | None, Problem]] = []
    if not specs:
        return None, problems
    peers = {f: _peer(f, p) for f, p in sorted(profiles.items())}
    roles: dict[str, Role] = {}
    for name, spec in sorted(specs.items()):
        role, said = _role(spec, profiles, peers, place_of, elsewhere)
        problems += said
        if role is not None:
            roles[name] = role
    records: list[tuple[str, str]] = []
    dns = roles.get("dns")
    if dns is not None and not _is_ip(dns.provider.address):
        _, why = stable_address(profiles[dns.provider.folder])
        problems.append(
            (
                None,
                Problem(
                    dns.spec.host_place if dns.spec.host else dns.spec.place,
                    f"the lab's DNS server {dns.provider.name} has no stable address, so no "
                    "host can name it as its nameserver",
                    "wiring.dns",
                    hint=f"{why}: give it one",
                ),
            )
        )
        del roles["dns"]
        dns = None
    if dns is not None and dns.service is not None:
        service = catalog.get(dns.service)
        use = profiles[dns.provider.folder].service(dns.service)
        ports = service_ports(service, use.settings) if service and use else []
        if ports and not any(x.port == 53 and x.protocol == "udp" for x in ports):
            problems.append(
                (
                    dns.provider.folder,
                    Problem(
                        place_of(dns.provider.folder, ("services", dns.service)),
                        f"{dns.service} answers DNS on port {ports[0].port}, and hosts ask "
                        "their nameservers on port 53 only",
                        format_path(("services", dns.service)),
                        hint="let it answer on 53, or name another DNS server in lab.yaml",
                    ),
                )
            )
            del roles["dns"]
            dns = None
    if dns is not None and dns.service == "adguardhome":
        problems += _adguard_wizard(dns, profiles, place_of)
    if dns is not None:
        for peer in peers.values():
            records.append((peer.name, peer.address))
            if domain:
                records.append((f"{peer.name}.{domain}", peer.address))
        if web is not None:
            for site in web.sites:
                records.append((site.fqdn, peers[site.proxy_folder].address))
    backups: dict[str, tuple[str, ...]] = {}
    if "backups" in roles:
        for folder, p in profiles.items():
            paths: list[str] = []
            for use in p.services:
                service = catalog.get(use.name)
                if service is not None:
                    paths += [s for s in service_state(service, use.settings) if s not in paths]
            if paths:
                backups[folder] = tuple(paths)
    users = tuple(
        sorted(
            f for f, p in profiles.items() if any(p.service(s) is not None for s in MQTT_CLIENTS)
        )
    )
    own = frozenset(f for f, p in profiles.items() if p.networking.nameservers)
    records = [(n, a) for n, a in records if _is_ip(a)]  # a name is no A record
    settings = {f: {u.name: u.settings for u in p.services} for f, p in profiles.items()}
    scrapes = []
    monitoring = roles.get("monitoring")
    if monitoring is not None:
        for folder, p in sorted(profiles.items()):
            for use in p.services:
                service = catalog.get(use.name)
                found = metrics_endpoint(service, use.settings) if service else None
                if found is None or service is None:
                    continue
                listen = str((service.web or {}).get("listen") or "")
                if (
                    folder != monitoring.provider.folder
                    and listen in use.given
                    and str(use.settings.get(listen)) in ("127.0.0.1", "::1", "localhost")
                ):
                    at = ("services", use.name, listen)
                    problems.append(
                        (
                            folder,
                            Problem(
                                place_of(folder, at),
                                f"{use.name} listens on {use.settings.get(listen)} only, so "
                                f"the lab's Prometheus on {monitoring.provider.name} cannot "
                                "scrape its metrics: it is left out",
                                format_path(at),
                                hint=f"leave {listen} out (it then listens on every address, "
                                "its port opened to the Prometheus host alone)",
                                warning=True,
                            ),
                        )
                    )
                    continue
                scrapes.append((folder, use.name, *found))
    return Wiring(
        roles,
        peers,
        tuple(sorted(set(records))),
        backups,
        own,
        users,
        tuple(scrapes),
        settings,
    ), problems


def metrics_listen(
    wiring: Wiring | None, folder: str, use: ServiceUse, catalog: Catalog
) -> dict[str, str]:
    """The listen setting of a service whose metrics the monitoring host scrapes from
    another host, when the person left it out: every address (its port is opened to the
    Prometheus host alone), as for a name behind the lab's proxy."""
    role = wiring.role("monitoring") if wiring is not None else None
    service = catalog.get(use.name)
    if role is None or role.provider.folder == folder or service is None:
        return {}
    if not service.metrics or not service.web or not service.web.get("listen"):
        return {}
    setting = str(service.web["listen"])
    if setting in use.given or str(use.settings.get(setting)) not in (
        "127.0.0.1",
        "::1",
        "localhost",
    ):
        return {}
    return {setting: "0.0.0.0"}


def _adguard_wizard(
    dns: Role, profiles: Mapping[str, Profile], place_of: PlaceOf
) -> list[tuple[str | None, Problem]]:
    """AdGuard Home runs its setup wizard (where its first account is made) only while it
    has no configuration; the lab's records give it one."""
    folder = dns.provider.folder
    use = profiles[folder].service("adguardhome")
    given = use.settings.get("settings") if use is not None else None
    if isinstance(given, Mapping) and given.get("users"):
        return []
    at = ("services", "adguardhome")
    return [
        (
            folder,
            Problem(
                place_of(folder, at),
                "the lab's DNS records give AdGuard Home a configuration, so its setup "
                "wizard (which makes its first account) will not run",
                format_path(at),
                hint="give its account in settings: {users: [{name: admin, password: "
                "BCRYPT-HASH}]} (htpasswd -nbB admin PASSWORD prints one)",
                warning=True,
            ),
        )
    ]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _role(
    spec: RoleSpec,
    profiles: Mapping[str, Profile],
    peers: Mapping[str, Peer],
    place_of: PlaceOf,
    elsewhere: frozenset[str] = frozenset(),
) -> tuple[Role | None, list[tuple[str | None, Problem]]]:
    """The host that plays a role: lab.yaml's, or the one running the role's service."""
    services = ROLE_SERVICES.get(spec.role, ())
    running = [
        (folder, s)
        for folder, p in sorted(profiles.items())
        for s in services
        if p.service(s) is not None
    ]
    what = " or ".join(services) if services else ""
    if spec.host is not None:
        folder = next((f for f, p in profiles.items() if spec.host in (f, p.name)), None)
        if folder is None:
            return None, [
                (
                    None,
                    Problem(
                        spec.host_place,
                        f"no host named '{spec.host}' to play {spec.role}",
                        f"wiring.{spec.role}.host",
                        hint=known_hosts(p.name for p in profiles.values()),
                    ),
                )
            ]
        mine = [s for f, s in running if f == folder]
        if services and not mine:
            return None, [
                (
                    None,
                    Problem(
                        spec.host_place,
                        f"{profiles[folder].name} runs no {what}, so it cannot play {spec.role}",
                        f"wiring.{spec.role}.host",
                        hint=f"add {services[0] if len(services) == 1 else 'one of them'} "
                        f"to {profiles[folder].name}'s services, or leave host out: the host "
                        "that runs it plays the role",
                    ),
                )
            ]
        return Role(spec, peers[folder], mine[0] if mine else None), []
    if not services:
        return None, [
            (
                None,
                Problem(
                    spec.place,
                    f"{spec.role} needs the host that keeps them: wiring.{spec.role}.host",
                    f"wiring.{spec.role}",
                    hint=f"{spec.role}: {{host: nas}} (a host with room for them)",
                ),
            )
        ]
    hosts = sorted({f for f, _ in running})
    if not hosts and elsewhere & set(services):
        return None, []  # a host with a mistake runs it: its own problem is said
    if not hosts:
        return None, [
            (
                None,
                Problem(
                    spec.place,
                    f"no host runs {what}, so no host can play {spec.role}",
                    f"wiring.{spec.role}",
                    hint=f"add {services[0]} to a host's services, or name the host: "
                    f"{spec.role}: {{host: NAME}}",
                ),
            )
        ]
    if len(hosts) > 1:
        said: list[tuple[str | None, Problem]] = []
        for folder, s in running:
            others = ", ".join(profiles[f].name for f in hosts if f != folder)
            said.append(
                (
                    folder,
                    Problem(
                        place_of(folder, ("services", s)),
                        f"{profiles[folder].name} and {others} both run a "
                        f"{ROLE_WHAT.get(spec.role, spec.role)} ({s} here): which one plays "
                        f"the lab's {spec.role}?",
                        format_path(("services", s)),
                        hint=f"say it once in lab.yaml: wiring: {{{spec.role}: "
                        f"{{host: {profiles[folder].name}}}}}",
                    ),
                )
            )
        return None, said
    folder = hosts[0]
    return Role(spec, peers[folder], next(s for f, s in running if f == folder)), []
