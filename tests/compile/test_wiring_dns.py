"""The lab's DNS (lab.yaml `wiring: {dns: ...}`), built by homelab and evaluated through
nixpkgs' real module system (tests/modulesystem.py): the three hosts of tests/labs/proxied
with a DNS server on the gateway, once for each of pihole, adguardhome, blocky and unbound.
The server answers every host's name, NAME.DOMAIN and every service name (at the proxy's
address) in its own configuration's words; every host asks it first and lab.yaml's fallback
after; port 53 opens to each other host of the lab alone; a host whose profile names its
own nameservers keeps them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homelab.lab import Lab
from tests.compiled import copy_lab
from tests.modulesystem import DEFINED, Case, eval_many

PROXIED = Path(__file__).resolve().parents[1] / "labs" / "proxied"
DOMAIN = "home.example.org"
GATEWAY, NAS, HA = "192.168.1.2", "192.168.1.30", "192.168.1.40"
FALLBACK = "9.9.9.9"
HA_OWN = ["1.1.1.1"]  # ha's profile names its own nameservers

# what the lab's DNS answers: hosts by bare name and under the domain, named services at
# the gateway (the proxy)
RECORDS = {
    "gateway": GATEWAY,
    f"gateway.{DOMAIN}": GATEWAY,
    "nas": NAS,
    f"nas.{DOMAIN}": NAS,
    "ha": HA,
    f"ha.{DOMAIN}": HA,
    **{f"{n}.{DOMAIN}": GATEWAY for n in ("grafana", "vault", "media", "home", "flows")},
}
SERVERS = ("pihole", "adguardhome", "blocky", "unbound")
RECORDS_OPTION = {
    "pihole": "services.pihole-ftl.settings.dns.hosts",
    "adguardhome": "services.adguardhome.settings.filtering.rewrites",
    "blocky": "services.blocky.settings.customDNS.mapping",
    "unbound": "services.unbound.settings.server.local-data",
}
FIREWALL = ["networking.firewall.extraCommands", "networking.firewall.extraInputRules"]
NAMESERVERS = "networking.nameservers"
NFTABLES = "{ networking.nftables.enable = true; }"
# the unbound module's own listening address and access, at lib.mkDefault as it sets them
# (networking/unbound.nix, the settings-based module)
UNBOUND_MODULE = """{ lib, ... }: {
  services.unbound.settings.server = {
    interface = lib.mkDefault [ "127.0.0.1" "::1" ];
    access-control = lib.mkDefault [ "127.0.0.0/8 allow" "::1/128 allow" ];
  };
}"""


def dns_lab(dest: Path, server: str, *, fallback: bool = True, settings: str = "{}") -> Lab:
    """tests/labs/proxied with `server` on the gateway as the lab's DNS (its profile's
    `settings`, YAML), and ha naming its own nameservers."""
    root = copy_lab(PROXIED, dest)
    wiring = f"{{fallback: [{FALLBACK}]}}" if fallback else "{}"
    with (root / "lab.yaml").open("a", encoding="utf-8") as f:
        f.write(f"wiring:\n  dns: {wiring}\n")
    gateway = root / "hosts" / "gateway" / "profile.yaml"
    text = gateway.read_text(encoding="utf-8")
    assert "  openssh: {}\n" in text
    gateway.write_text(
        text.replace("  openssh: {}\n", f"  openssh: {{}}\n  {server}: {settings}\n")
    )
    ha = root / "hosts" / "ha" / "profile.yaml"
    text = ha.read_text(encoding="utf-8")
    old = "    eth0: {addresses: [192.168.1.40/24]}\n"
    assert old in text
    ha.write_text(text.replace(old, f"{old}  nameservers: [{HA_OWN[0]}]\n"))
    return Lab(root)


def generated(lab: Lab) -> dict[str, dict[str, str]]:
    state = lab.load()
    assert state.all_problems() == [], state.all_problems()
    files = lab.generated(state)
    return {
        host: {rel: text for rel, text in files.items() if rel.startswith(f"hosts/{host}/")}
        for host in ("gateway", "nas", "ha")
    }


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each server's lab, the three hosts evaluated in one batch; the gateway also with
    nftables on, and unbound's beside the module's own listening defaults."""
    cases: list[Case] = []
    keys: list[str] = []
    for server in SERVERS:
        files = generated(dns_lab(tmp_path_factory.mktemp(server) / "lab", server))
        extra = UNBOUND_MODULE if server == "unbound" else "{ }"
        gateway_attrs = [DEFINED, RECORDS_OPTION[server], NAMESERVERS, *FIREWALL]
        if server == "unbound":
            gateway_attrs += [
                "services.unbound.settings.server.interface",
                "services.unbound.settings.server.access-control",
            ]
        cases += [
            Case(files["gateway"], gateway_attrs, declarations=extra),
            Case(files["gateway"], FIREWALL, declarations=NFTABLES),
            Case(files["nas"], [DEFINED, NAMESERVERS, *FIREWALL]),
            Case(files["ha"], [NAMESERVERS]),
        ]
        keys += [server, f"{server}-nft", f"{server}-nas", f"{server}-ha"]
    return dict(zip(keys, eval_many(cases), strict=True))


def answers(server: str, value: Any) -> dict[str, str]:
    """The server's records option read back as {name: address}."""
    if server == "pihole":
        pairs = [line.split(" ") for line in value]
        assert all(len(p) == 2 for p in pairs), value
        return {name: address for address, name in pairs}
    if server == "adguardhome":
        assert all(r["enabled"] is True for r in value), value  # else read as switched off
        return {r["domain"]: r["answer"] for r in value}
    if server == "blocky":
        return dict(value)
    out = {}
    for line in value:
        # written into unbound.conf as it is: the string holds its own quotes
        assert line.startswith('"') and line.endswith('"'), line
        name, kind, address = line.strip('"').split(" ")
        assert name.endswith(".") and kind == ("AAAA" if ":" in address else "A"), line
        out[name.removesuffix(".")] = address
    return out


@pytest.mark.parametrize("server", SERVERS)
def test_the_server_answers_every_host_and_name(
    evaluated: dict[str, dict[str, Any]], server: str
) -> None:
    gateway = evaluated[server]
    assert answers(server, gateway[RECORDS_OPTION[server]]) == RECORDS


@pytest.mark.parametrize("server", SERVERS)
def test_every_host_asks_the_lab_dns_first_and_the_fallback_after(
    evaluated: dict[str, dict[str, Any]], server: str
) -> None:
    assert evaluated[server][NAMESERVERS] == ["127.0.0.1", FALLBACK]  # the server itself
    assert evaluated[f"{server}-nas"][NAMESERVERS] == [GATEWAY, FALLBACK]


@pytest.mark.parametrize("server", SERVERS)
def test_a_host_that_names_its_own_nameservers_keeps_them(
    evaluated: dict[str, dict[str, Any]], server: str
) -> None:
    assert evaluated[f"{server}-ha"][NAMESERVERS] == HA_OWN


@pytest.mark.parametrize("server", SERVERS)
def test_port_53_opens_to_each_other_host_alone(
    evaluated: dict[str, dict[str, Any]], server: str
) -> None:
    lines = set(evaluated[server]["networking.firewall.extraCommands"].split("\n")) - {""}
    assert lines == {
        f"iptables -A nixos-fw -p {proto} -s {peer} --dport 53 -j nixos-fw-accept"
        for peer in (NAS, HA)
        for proto in ("udp", "tcp")
    }
    assert evaluated[server]["networking.firewall.extraInputRules"] == ""
    nft = set(evaluated[f"{server}-nft"]["networking.firewall.extraInputRules"].split("\n"))
    assert nft - {""} == {
        f"ip saddr {peer} {proto} dport 53 accept" for peer in (NAS, HA) for proto in ("udp", "tcp")
    }
    assert evaluated[f"{server}-nft"]["networking.firewall.extraCommands"] == ""
    # the hosts that ask it open nothing for DNS
    assert "--dport 53" not in evaluated[f"{server}-nas"]["networking.firewall.extraCommands"]


def test_unbound_listens_on_the_lab_address_and_lets_the_lab_hosts_ask(
    evaluated: dict[str, dict[str, Any]],
) -> None:
    gateway = evaluated["unbound"]
    # joined with the module's own loopback defaults, not in their place
    assert sorted(gateway["services.unbound.settings.server.interface"]) == sorted(
        ["127.0.0.1", "::1", GATEWAY]
    )
    assert sorted(gateway["services.unbound.settings.server.access-control"]) == sorted(
        ["127.0.0.0/8 allow", "::1/128 allow", f"{NAS}/32 allow", f"{HA}/32 allow"]
    )


def test_a_lab_without_fallback_asks_the_lab_dns_alone(tmp_path: Path) -> None:
    files = generated(dns_lab(tmp_path / "lab", "blocky", fallback=False))
    gateway, nas = eval_many(
        [Case(files["gateway"], [NAMESERVERS]), Case(files["nas"], [NAMESERVERS])]
    )
    assert gateway[NAMESERVERS] == ["127.0.0.1"]
    assert nas[NAMESERVERS] == [GATEWAY]


# ---- what the person writes in the server's entry meets what the lab writes ----------------

PRINTER = "192.168.1.9"
OWN_SETTINGS = {
    # blocky: the person maps nas elsewhere; theirs wins, the rest stays the lab's
    "blocky": "{settings: {customTTL: 1h, customDNS: {mapping: {nas: 10.0.0.9}}}}",
    # adguardhome: a rewrite of their own joins the lab's
    "adguardhome": "{settings: {dns: {bootstrap_dns: [9.9.9.10]}, filtering: {rewrites: "
    f"[{{domain: printer.lan, answer: '{PRINTER}', enabled: true}}]}}}}}}",
    # unbound: their own listening addresses and access replace the lab's and the module's;
    # their local-data joins the lab's
    "unbound": "{interfaces: [0.0.0.0], accessControl: [192.168.1.0/24 allow], settings: "
    f"{{server: {{local-data: ['\"printer.lan. A {PRINTER}\"']}}}}}}",
}


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    cases = []
    for server, settings in OWN_SETTINGS.items():
        lab = dns_lab(tmp_path_factory.mktemp(server) / "lab", server, settings=settings)
        attrs = [DEFINED, RECORDS_OPTION[server]]
        if server == "unbound":
            attrs += [
                "services.unbound.settings.server.interface",
                "services.unbound.settings.server.access-control",
            ]
        extra = UNBOUND_MODULE if server == "unbound" else "{ }"
        cases.append(Case(generated(lab)["gateway"], attrs, declarations=extra))
    return dict(zip(OWN_SETTINGS, eval_many(cases), strict=True))


def test_a_name_the_person_maps_in_blocky_wins_over_the_lab(own: dict[str, Any]) -> None:
    mapping = own["blocky"][RECORDS_OPTION["blocky"]]
    assert mapping == {**RECORDS, "nas": "10.0.0.9"}
    assert own["blocky"][DEFINED]["services.blocky.settings"]["customTTL"] == "1h"


def test_the_persons_own_records_join_the_labs(own: dict[str, Any]) -> None:
    for server in ("adguardhome", "unbound"):
        assert answers(server, own[server][RECORDS_OPTION[server]]) == {
            **RECORDS,
            "printer.lan": PRINTER,
        }, server
    settings = own["adguardhome"][DEFINED]["services.adguardhome.settings"]
    assert settings["dns"]["bootstrap_dns"] == ["9.9.9.10"]


def test_unbound_addresses_the_person_gives_replace_the_labs(own: dict[str, Any]) -> None:
    unbound = own["unbound"]
    assert unbound["services.unbound.settings.server.interface"] == ["0.0.0.0"]
    assert unbound["services.unbound.settings.server.access-control"] == ["192.168.1.0/24 allow"]
