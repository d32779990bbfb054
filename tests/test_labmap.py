"""The lab's map (homelab.labmap): every host, service, name and link between machines of a
three-host lab with a proxy and wiring, as data, Mermaid text and SVG that xml.etree reads;
a link follows its role when the role moves to another host; text from the lab is escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from homelab.lab import Lab
from homelab.labmap import (
    LabMap,
    Link,
    MapHost,
    MapService,
    host_lines,
    lab_map,
    link_lines,
    mermaid,
    svg,
)
from homelab.labmap.mermaid import label, node_id
from tests.compiled import copy_lab

PROXIED = Path(__file__).resolve().parent / "labs" / "proxied"
SVG = "{http://www.w3.org/2000/svg}"
WIRING = """
wiring:
  dns: {fallback: [9.9.9.9]}
  monitoring: {}
  backups: {host: nas, keep: {daily: 7}, password: {secret: restic}}
  mqtt: {}
"""
# tests/labs/proxied plus what plays each role: gateway answers DNS (blocky) and runs the
# broker, nas keeps Prometheus and the backups, ha's zigbee2mqtt talks to the broker
ADDED = {
    "gateway": ("  openssh: {}\n", "  openssh: {}\n  blocky: {}\n  mosquitto: {}\n"),
    "nas": ("  jellyfin:\n", "  prometheus: {}\n  jellyfin:\n"),
    "ha": ("  uptime-kuma: {}\n", "  uptime-kuma: {}\n  zigbee2mqtt: {}\n"),
}
# each host's services, and what the wiring runs there: the node exporter Prometheus
# scrapes on every host, the backup repository on nas
EXPORTER, REPOSITORY = "prometheus-node-exporter", "backup repository"
SERVICES = {
    "gateway": {"openssh", "blocky", "mosquitto", EXPORTER},
    "nas": {"grafana", "vaultwarden", "prometheus", "jellyfin", EXPORTER, REPOSITORY},
    "ha": {"home-assistant", "node-red", "uptime-kuma", "zigbee2mqtt", EXPORTER},
}
PROXIED_NAMES = {
    ("gateway", "nas", "https grafana.home.example.org"),
    ("gateway", "nas", "https vault.home.example.org"),
    ("gateway", "nas", "https media.home.example.org"),
    ("gateway", "ha", "https home.home.example.org"),
    ("gateway", "ha", "https flows.home.example.org"),
}
WIRED = {
    ("ha", "gateway", "dns"),
    ("nas", "gateway", "dns"),
    ("nas", "gateway", "scrape"),
    ("nas", "ha", "scrape"),
    ("gateway", "nas", "backup"),
    ("ha", "nas", "backup"),
    ("ha", "gateway", "mqtt"),
}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def wired_lab(dest: Path) -> Lab:
    """tests/labs/proxied with lab.yaml's wiring and the services that play its roles."""
    root = copy_lab(PROXIED, dest)
    with (root / "lab.yaml").open("a", encoding="utf-8") as f:
        f.write(WIRING)
    for host, (old, new) in ADDED.items():
        edit(root / "hosts" / host / "profile.yaml", old, new)
    return Lab(root)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return wired_lab(tmp_path / "lab")


def links_of(drawn: LabMap) -> set[tuple[str, str, str]]:
    return {(k.source, k.target, k.label) for k in drawn.links}


def test_every_host_service_name_and_link_is_on_the_map(lab: Lab) -> None:
    drawn = lab_map(lab.load())
    assert {h.folder: {s.name for s in h.services} for h in drawn.hosts} == SERVICES
    nas = drawn.host("nas")
    assert nas is not None and nas.address == "192.168.1.30"
    assert nas.roles == ("backups", "monitoring")
    grafana = nas.service("grafana")
    assert grafana == MapService("grafana", ("3000/tcp",), ("grafana.home.example.org",))
    blocky = drawn.host("gateway").service("blocky")  # type: ignore[union-attr]
    assert blocky is not None and {"53/udp", "53/tcp"} <= set(blocky.ports)
    assert nas.service(REPOSITORY) == MapService(REPOSITORY, ("8000/tcp",), wired="backups")
    assert (nas.service("prometheus"), nas.service(EXPORTER)) == (
        MapService("prometheus", ("9090/tcp",)),
        MapService(EXPORTER, ("9100/tcp",), wired="monitoring"),
    )
    said = "prometheus-node-exporter 9100/tcp (set by the lab: monitoring)"
    assert said in [" ".join(line.split()) for line in host_lines(nas)]
    assert links_of(drawn) == PROXIED_NAMES | WIRED
    assert "gateway → nas: https grafana.home.example.org" in link_lines(drawn)
    assert "ha → gateway: dns" in link_lines(drawn)


def test_a_link_follows_its_role_to_the_host_that_plays_it_now(lab: Lab) -> None:
    """blocky moves from gateway to nas: the DNS links to gateway are gone, nas is asked."""
    edit(lab.root / "hosts/gateway/profile.yaml", "  blocky: {}\n", "")
    edit(
        lab.root / "hosts/nas/profile.yaml",
        "  prometheus: {}\n",
        "  prometheus: {}\n  blocky: {}\n",
    )
    drawn = lab_map(lab.load())
    dns = {(k.source, k.target) for k in drawn.links if k.kind == "dns"}
    assert dns == {("gateway", "nas"), ("ha", "nas")}
    assert "dns" not in drawn.host("gateway").roles  # type: ignore[union-attr]
    assert "ha → gateway: dns" not in link_lines(drawn)


def test_a_container_is_on_the_map_with_the_ports_its_host_publishes(lab: Lab) -> None:
    with (lab.root / "hosts/ha/profile.yaml").open("a", encoding="utf-8") as f:
        f.write('containers:\n  whoami:\n    image: traefik/whoami\n'
                '    ports: ["127.0.0.1:8088:80", "5353:53/udp", "9000"]\n')  # fmt: skip
    ha = lab_map(lab.load()).host("ha")
    assert ha is not None
    container = ha.service("whoami (container)")
    assert container == MapService("whoami (container)", ("8088/tcp", "5353/udp"))


def test_a_role_no_host_plays_has_no_links(lab: Lab) -> None:
    edit(lab.root / "hosts/nas/profile.yaml", "  prometheus: {}\n", "")
    drawn = lab_map(lab.load())
    assert not [k for k in drawn.links if k.kind == "scrape"]
    assert not [h for h in drawn.hosts if h.service(EXPORTER) is not None]
    assert links_of(drawn) == PROXIED_NAMES | {k for k in WIRED if k[2] != "scrape"}


def test_mermaid_has_a_subgraph_per_host_and_a_labelled_edge_per_link(lab: Lab) -> None:
    drawn = lab_map(lab.load())
    text = mermaid(drawn)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    subgraphs = [line.split()[1].split("[")[0] for line in lines if line.startswith("  subgraph ")]
    assert subgraphs == [node_id(h) for h in ("gateway", "ha", "nas")]
    edges = [line for line in lines if '|"' in line]
    assert len(edges) == len(drawn.links)
    assert (
        f'  {node_id("gateway")} ==>|"https grafana.home.example.org"| '
        f"{node_id('nas', 'grafana')}" in lines
    )
    assert f'  {node_id("ha")} -.->|"dns"| {node_id("gateway", "blocky")}' in lines
    assert f'  {node_id("ha")} -->|"backup"| {node_id("nas", REPOSITORY)}' in lines
    scrape = f'  {node_id("nas", "prometheus")} -.->|"scrape"| {node_id("gateway", EXPORTER)}'
    assert scrape in lines
    assert (
        f'  {node_id("ha", "zigbee2mqtt")} -->|"mqtt"| {node_id("gateway", "mosquitto")}' in lines
    )
    ends = [re.fullmatch(r'  (\S+) [-.=]+>\|".*"\| (\S+)', e) for e in edges]
    ids = re.findall(r"^\s+(?:subgraph )?(\S+)\[", text, re.M)
    ids += [i for m in ends if m is not None for i in m.groups()]
    services = sum(len(h.services) for h in drawn.hosts)
    assert len(ids) == len(drawn.hosts) + services + 2 * len(edges)
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in ids), ids
    assert (
        'h_ha__home_2d_assistant["home-assistant<br/>8123/tcp<br/>home.home.example.org"]' in text
    )


def test_mermaid_ids_are_safe_and_distinct_and_labels_escaped() -> None:
    assert node_id("my-host") != node_id("my_host")
    assert re.fullmatch(r"[A-Za-z0-9_]+", node_id("a.b", "c d"))
    assert label('say "hi" <b>#1') == "say #quot;hi#quot; #lt;b#gt;#35;1"


def parsed(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def test_the_svg_has_a_group_per_host_a_text_per_service_and_an_edge_per_link(lab: Lab) -> None:
    drawn = lab_map(lab.load())
    root = parsed(svg(drawn))
    assert root.tag == f"{SVG}svg"
    hosts = {g.get("data-host"): g for g in root.iter(f"{SVG}g") if g.get("class") == "host"}
    assert set(hosts) == set(SERVICES)
    assert hosts["nas"].get("id") == "host-nas"
    for host, services in SERVICES.items():
        found = {
            t.get("data-service") for t in hosts[host].iter(f"{SVG}text") if t.get("data-service")
        }
        assert found == services
    texts = ["".join(t.itertext()) for t in hosts["nas"].iter(f"{SVG}text")]
    assert "grafana.home.example.org" in texts
    edges = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("link")]
    got = sorted((g.get("data-from"), g.get("data-to"), g.get("data-kind")) for g in edges)
    assert got == sorted((k.source, k.target, k.kind) for k in drawn.links)
    labels = {"".join(t.itertext()) for g in edges for t in g.iter(f"{SVG}text")}
    assert {k for _, _, k in PROXIED_NAMES} <= labels


def test_the_svg_escapes_the_labs_text() -> None:
    odd = 'a<b>&"c'
    drawn = LabMap(
        (
            MapHost("one", odd, "10.0.0.1", (MapService(odd, ("1/tcp",), (f"{odd}.x",)),)),
            MapHost("two", "two", "10.0.0.2"),
        ),
        (Link("one", "two", "proxy", f"https {odd}"),),
    )
    root = parsed(svg(drawn))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert odd in texts and f"https {odd}" in texts
    (service,) = [t for t in root.iter(f"{SVG}text") if t.get("data-service")]
    assert service.get("data-service") == odd
    assert "<b>" not in mermaid(drawn)


def test_a_host_whose_profile_cannot_be_read_is_still_on_the_map(lab: Lab) -> None:
    edit(lab.root / "hosts/ha/profile.yaml", "host: {name: ha,", "host: {nme: ha,")
    drawn = lab_map(lab.load())
    ha = drawn.host("ha")
    assert ha is not None and not ha.valid and ha.services == ()
    assert not [k for k in drawn.links if "ha" in (k.source, k.target)]
    hosts = [g.get("data-host") for g in parsed(svg(drawn)).iter(f"{SVG}g") if g.get("data-host")]
    assert hosts == ["gateway", "ha", "nas"]


def test_the_map_draws_builders_remote_builds_and_the_cache(tmp_path: Path) -> None:
    from tests.test_builds import GOOD, good_hosts, load

    state = load(tmp_path, GOOD, good_hosts())
    drawn = lab_map(state)
    got = {(k.source, k.target, k.kind, k.label, k.target_service) for k in drawn.links}
    assert got == {
        ("nuc", "pi", "build", "builds", None),
        ("pi", "nuc", "remote-build", "remote build", None),
        ("nas", "nuc", "remote-build", "remote build", None),
        ("pi", "nas", "cache", "cache", "binary cache"),
        ("nuc", "nas", "cache", "cache", "binary cache"),
    }
    nas, nuc = drawn.host("nas"), drawn.host("nuc")
    assert nas is not None and nuc is not None
    cache = nas.service("binary cache")
    assert cache is not None and cache.ports == ("5000/tcp",) and cache.wired == "builds"
    assert "builder" in nuc.roles
    assert "nuc → pi: builds" in link_lines(drawn)
    lines = mermaid(drawn).splitlines()
    assert f'  {node_id("nuc")} ==>|"builds"| {node_id("pi")}' in lines
    assert f'  {node_id("pi")} -.->|"cache"| {node_id("nas", "binary cache")}' in lines
    root = ET.fromstring(svg(drawn))
    kinds = {g.get("data-kind") for g in root.iter(f"{SVG}g") if g.get("data-kind")}
    assert {"build", "remote-build", "cache"} <= kinds
    markers = {m.get("id") for m in root.iter(f"{SVG}marker")}
    assert {"arrow-build", "arrow-remote-build", "arrow-cache"} <= markers
