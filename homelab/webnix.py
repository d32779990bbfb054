"""A host's part of the lab's web plan as NixOS options (hosts/NAME/web.nix).

On the proxy host: the ACME account and certificate (security.acme), and a virtual host per
name (caddy or nginx) with HTTPS, HTTP -> HTTPS and websockets. On a service's host: its
port opened to the proxy's address alone, and the settings a service needs behind a proxy
(the entry's `web.behindProxy`). Option names and behaviour read from nixpkgs: see the notes
at each function.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from homelab.catalog import OMIT, Catalog, resolve, templates_of
from homelab.nix.expr import Apply, Block, NixValue, Raw, Ref, mk_default
from homelab.nix.render import attr_name
from homelab.profile.model import Profile
from homelab.webplan import Domain, HostWeb, Site

TITLE = "Names under the lab's domain, derived from the lab (lab.yaml: domain, proxy)"


def put(tree: dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def secret_path(name: str) -> Raw:
    """Where the machine has an encrypted secret once agenix decrypted it."""
    return Raw(f"config.age.secrets.{attr_name(name)}.path")


def web_module(web: HostWeb | None, p: Profile, catalog: Catalog) -> dict[str, Any]:
    """The body of the host's web.nix ({} when the lab's names ask nothing of it)."""
    if web is None:
        return {}
    tree: dict[str, Any] = {}
    if web.fronts:
        _acme(tree, web.domain)
        _proxy(tree, web.domain, web.fronts)
    for site in web.named:
        if site.remote:
            _open_to_proxy(tree, site)
        _behind_proxy(tree, site, p, catalog)
    return finish(tree)


def finish(tree: dict[str, Any]) -> dict[str, Any]:
    """A module body from a tree `put` and `open_port` filled: firewall rules joined into
    their scripts, a block per service."""
    _firewall_scripts(tree)
    return _blocks(tree)


def _acme(tree: dict[str, Any], domain: Domain) -> None:
    """security.acme (nixos/modules/security/acme/default.nix). HTTP-01 with caddy is
    caddy's own ACME client (services.caddy.email); the rest is NixOS's lego: nginx's
    enableACME makes one certificate per name, DNS-01 one for DOMAIN and *.DOMAIN that every
    virtual host uses (useACMEHost)."""
    if domain.server == "caddy" and not domain.wildcard:
        put(tree, ["services", "caddy", "email"], domain.email)
        return
    put(tree, ["security", "acme", "acceptTerms"], True)
    put(tree, ["security", "acme", "defaults", "email"], domain.email)
    if not domain.wildcard:
        return
    cert: dict[str, Any] = {
        "extraDomainNames": [f"*.{domain.name}"],
        "dnsProvider": domain.dns_provider,
    }
    if domain.credentials:
        cert["environmentFile"] = secret_path(domain.credentials)
    if domain.server == "nginx":
        # nginx's module asserts that a certificate it reads is in a group it runs as
        cert["group"] = Ref("config.services.nginx.group")
    put(tree, ["security", "acme", "certs", domain.name], Block(cert))


def _proxy(tree: dict[str, Any], domain: Domain, sites: Sequence[Site]) -> None:
    hosts: dict[str, Any] = {}
    for site in sites:
        target = _host_port(site.upstream, site.port)
        if domain.server == "caddy":
            # caddy redirects HTTP to HTTPS and passes websockets by itself
            vhost: dict[str, Any] = {"extraConfig": f"reverse_proxy {target}"}
            if domain.wildcard:
                vhost["useACMEHost"] = domain.name
        else:
            location: dict[str, Any] = {"proxyPass": f"http://{target}"}
            if site.websockets:
                location["proxyWebsockets"] = True
            vhost = {"forceSSL": True, "locations": {"/": location}}
            if domain.wildcard:
                vhost["useACMEHost"] = domain.name
            else:
                vhost["enableACME"] = True
        hosts[site.fqdn] = Block(vhost)
    server = domain.server
    put(tree, ["services", server, "enable"], True)
    if server == "nginx":
        # X-Forwarded-For/-Proto and Host, which the backends' trusted-proxy settings read
        put(tree, ["services", "nginx", "recommendedProxySettings"], True)
        put(tree, ["services", "nginx", "recommendedTlsSettings"], True)
    put(tree, ["services", server, "virtualHosts"], hosts)
    ports = [80, 443]
    put(tree, ["networking", "firewall", "allowedTCPPorts"], ports)
    if server == "caddy":
        put(tree, ["networking", "firewall", "allowedUDPPorts"], [443])  # HTTP/3


def _host_port(address: str, port: int) -> str:
    try:
        v6 = ipaddress.ip_address(address).version == 6
    except ValueError:
        v6 = False
    return f"[{address}]:{port}" if v6 else f"{address}:{port}"


def _open_to_proxy(tree: dict[str, Any], site: Site) -> None:
    open_port(tree, site.proxy_address, site.port)


def open_port(tree: dict[str, Any], source: str, port: int, protocol: str = "tcp") -> None:
    """A port opened to one address alone. The iptables firewall accepts through its
    nixos-fw chain's nixos-fw-accept target; the nftables one takes extraInputRules (and
    refuses extraCommands), so each is set only when that firewall is the one in use
    (`finish` joins the rules)."""
    v6 = ":" in source
    tool = "ip6tables" if v6 else "iptables"
    family = "ip6" if v6 else "ip"
    rule = f"{tool} -A nixos-fw -p {protocol} -s {source} --dport {port} -j nixos-fw-accept"
    nft = f"{family} saddr {source} {protocol} dport {port} accept"
    firewall = tree.setdefault("networking", {}).setdefault("firewall", {})
    if rule not in firewall.setdefault("extraCommands", []):
        firewall["extraCommands"].append(rule)
        firewall.setdefault("extraInputRules", []).append(nft)


def _behind_proxy(tree: dict[str, Any], site: Site, p: Profile, catalog: Catalog) -> None:
    """The entry's `web.behindProxy` options: a list joins the others' (a trusted proxy
    added to the entry's own), any other value at mkDefault (what the person sets wins)."""
    service = catalog.get(site.service)
    use = p.service(site.service)
    if service is None or use is None or not service.web:
        return
    templates = service.web.get("behindProxy") or {}
    values = {**use.settings, "fqdn": site.fqdn, "url": site.url, "proxy": site.proxy_address}
    for path, template in templates_of(templates):
        value = resolve(template, values)
        if value is not OMIT:
            put(tree, list(path), value if isinstance(value, list) else mk_default(value))


def _firewall_scripts(tree: dict[str, Any]) -> None:
    """The rules joined into the scripts of the firewall that is in use."""
    firewall = tree.get("networking", {}).get("firewall", {})
    rules = firewall.pop("extraCommands", None)
    nft = firewall.pop("extraInputRules", None)
    if not rules:
        return
    nftables = "config.networking.nftables.enable"
    firewall["extraCommands"] = _when(Raw(f"!{nftables}"), rules)
    firewall["extraInputRules"] = _when(Ref(nftables), nft or [])


def _when(condition: NixValue, lines: Sequence[str]) -> Apply:
    return Apply(Ref("lib.mkIf"), (condition, "\n".join(lines) + "\n"))


def _blocks(tree: Mapping[str, Any]) -> dict[str, Any]:
    """A block per service, as the other modules write them."""
    return {
        top: {k: Block(v) if isinstance(v, dict) else v for k, v in sub.items()}
        if isinstance(sub, dict)
        else sub
        for top, sub in tree.items()
    }
