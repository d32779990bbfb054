"""The lab's DNS: every host asks the lab's DNS server first (unless its profile names its
own nameservers), and the server answers every host's name and every name under the domain.

What each host gets: `networking.nameservers` = [the server, lab.yaml's fallback...] at
lib.mkDefault (the server itself asks 127.0.0.1 first). NixOS's description of the option:
"The list of nameservers. It can be left empty if it is auto-detected through DHCP." A host
on DHCP or NetworkManager still gets the lab's server: NixOS hands these to resolvconf as
its static servers, listed before the ones DHCP brings, and systemd-resolved takes them as
its global DNS. A profile that names
its own (networking.nix) keeps them, and wiring.nix then writes none: the two never meet.

What the server answers (homelab.wiring's records): each host's bare name and NAME.DOMAIN at
its address, and each service name at the proxy's. The bare names are answered on purpose:
no host gets a search domain, so `ssh nas` from any machine of the lab asks the server for
"nas." itself, and a lab without a domain has no other names. Each server takes them in its
own configuration's words, read from the NixOS modules in nixpkgs:

- pihole (networking/pihole-ftl.nix, 01f01ea7c07abe381aa451581e84e51db3ddbe7a): `settings`
  is pihole.toml, a free-form TOML value; pihole-FTL v6 reads local records from its
  `dns.hosts`, a list of "ADDRESS NAME" lines. The entry writes `dns.upstreams` beside it;
  a list the person adds under settings.dns.hosts joins these.
- adguardhome (networking/adguardhome.nix, 055a242acd17d8f7498a43c0b6dfb6ea15fa105d, package
  0.107.74, schema_version 34): `settings` is AdGuardHome.yaml. Since schema 27 the rewrites
  live under `filtering.rewrites` (no longer `dns.rewrites`), each {domain, answer, enabled}:
  a rewrite without `enabled: true` is read as switched off. Writing any setting makes the
  file declarative: the module merges it into the file at every start (mutableSettings), and
  on a first start the file exists, so AdGuard Home's first-run wizard does not run (its
  admin account is then the entry's settings' `users` to give).
- blocky (networking/blocky.nix, 14fd976016aee7e8a52f362b145a16947e111515 and the entry's
  cc56f5cf2350a4e1d76bafc367b1c92caceb4fd3): `settings` is config.yml, free-form YAML;
  blocky's `customDNS.mapping` maps a name to its addresses, joined by commas (a mapped
  name also answers for the names under it). Each name at lib.mkDefault, so a mapping the
  person writes in the entry's settings for the same name wins instead of clashing.
- unbound (networking/unbound.nix, the settings-based module the entry was written from):
  `settings.server.local-data` is a list of strings written into unbound.conf as they are,
  so each holds its own quotes ("\"nas. A 192.168.1.30\"" in Nix). unbound.conf(5):
  local-data that is no subdomain of a local-zone gets a transparent local-zone of its own,
  so no local-zone is written: the listed names are answered, every other name under the
  domain (one facing the internet too) is resolved as before. The module listens on
  127.0.0.1 (and ::1) and lets only localhost ask, both at lib.mkDefault; the server's
  address and an access-control line for each host are added at lib.mkDefault too, so they
  join the module's, and a list the person gives in the entry (interfaces, accessControl)
  replaces all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from homelab.catalog import Catalog
from homelab.nix.expr import mk_default
from homelab.profile.model import Profile
from homelab.webnix import open_port, put
from homelab.wiring import Peer, Role, Wiring

DNS_PORT = 53


def host_part(
    tree: dict[str, Any], wiring: Wiring, role: Role, p: Profile, catalog: Catalog
) -> None:
    server = role.provider
    if p.folder == server.folder:
        _records(tree, wiring, role)
        for peer in _others(wiring, server):
            open_port(tree, peer.address, DNS_PORT, "udp")
            open_port(tree, peer.address, DNS_PORT, "tcp")
    if p.folder in wiring.own_nameservers:
        return  # the person chose this host's nameservers
    first = "127.0.0.1" if p.folder == server.folder else server.address
    put(tree, ["networking", "nameservers"], mk_default([first, *role.spec.fallback]))


def _others(wiring: Wiring, server: Peer) -> list[Peer]:
    return [peer for peer in wiring.peers.values() if peer.folder != server.folder]


def _records(tree: dict[str, Any], wiring: Wiring, role: Role) -> None:
    """The server's answers, in its own configuration's words."""
    records = wiring.records
    if role.service == "pihole":
        put(
            tree,
            ["services", "pihole-ftl", "settings", "dns", "hosts"],
            [f"{address} {name}" for name, address in records],
        )
    elif role.service == "adguardhome":
        put(
            tree,
            ["services", "adguardhome", "settings", "filtering", "rewrites"],
            [{"domain": n, "answer": a, "enabled": True} for n, a in records],
        )
    elif role.service == "blocky":
        mapping = {name: mk_default(",".join(a)) for name, a in _by_name(records).items()}
        put(tree, ["services", "blocky", "settings", "customDNS", "mapping"], mapping)
    elif role.service == "unbound":
        server = ["services", "unbound", "settings", "server"]
        put(tree, [*server, "local-data"], [_local_data(n, a) for n, a in records])
        put(tree, [*server, "interface"], mk_default([role.provider.address]))
        allowed = [f"{_host_block(peer.address)} allow" for peer in _others(wiring, role.provider)]
        if allowed:
            put(tree, [*server, "access-control"], mk_default(allowed))


def _by_name(records: Iterable[tuple[str, str]]) -> dict[str, Sequence[str]]:
    names: dict[str, list[str]] = {}
    for name, address in records:
        names.setdefault(name, []).append(address)
    return dict(names)


def _local_data(name: str, address: str) -> str:
    kind = "AAAA" if ":" in address else "A"
    return f'"{name}. {kind} {address}"'


def _host_block(address: str) -> str:
    """One address as the netblock unbound's access-control takes."""
    return f"{address}/128" if ":" in address else f"{address}/32"
