"""What the editor says of a host's part in the lab's wiring: the host box's lines, the
note beside the nameservers and the line at the top of a service's form. A lab of four
hosts: router (DNS), nas (monitoring, backups), app (the MQTT broker, zigbee2mqtt), ha
(Home Assistant, Grafana)."""

from __future__ import annotations

from homelab.tui.labpart import NAMESERVERS, HostPart
from homelab.wiring import Peer, Role, RoleSpec, Wiring

PEERS = {
    "router": Peer("router", "router", "192.168.1.1"),
    "nas": Peer("nas", "nas", "192.168.1.30"),
    "app": Peer("app", "app", "192.168.1.40"),
    "ha": Peer("ha", "ha", "192.168.1.50"),
}


def lab(*, own_nameservers: frozenset[str] = frozenset(), password: bool = True) -> Wiring:
    secret = "mqtt" if password else None
    roles = {
        "dns": Role(RoleSpec("dns", fallback=("9.9.9.9",)), PEERS["router"], "blocky"),
        "monitoring": Role(RoleSpec("monitoring"), PEERS["nas"], "prometheus"),
        "backups": Role(RoleSpec("backups", host="nas", password="restic"), PEERS["nas"], None),
        "mqtt": Role(RoleSpec("mqtt", password=secret), PEERS["app"], "mosquitto"),
    }
    records = tuple(sorted((p.name, p.address) for p in PEERS.values()))
    backups = {"app": ("/var/lib/zigbee2mqtt",), "ha": ("/var/lib/hass",), "nas": ("/srv",)}
    return Wiring(roles, PEERS, records, backups, own_nameservers, mqtt_users=("app", "ha"))


def test_each_host_says_what_it_plays_and_what_it_gets() -> None:
    wiring = lab()
    assert HostPart(wiring, "router").lines() == [
        "plays: dns",
        "from the lab: scraped by nas",
    ]
    assert HostPart(wiring, "nas").lines() == [
        "plays: backups, monitoring",
        "from the lab: nameserver router; backed up to its own repository",
    ]
    assert HostPart(wiring, "ha").lines() == [
        "from the lab: nameserver router; scraped by nas; backed up to nas; MQTT broker app"
    ]
    assert HostPart(wiring, "app").lines() == [
        "plays: mqtt",
        "from the lab: nameserver router; scraped by nas; backed up to nas",
    ]


def test_a_host_that_names_its_own_nameservers_gets_none_from_the_lab() -> None:
    part = HostPart(lab(own_nameservers=frozenset({"ha"})), "ha")
    assert part.gets()[0] == "scraped by nas"
    note = part.notes()[NAMESERVERS]
    assert note.text(own=True) == "not used: the lab's dns (192.168.1.1, 9.9.9.9)"


def test_the_nameservers_note_names_the_lab_server_and_the_fallback() -> None:
    assert HostPart(lab(), "nas").notes()[NAMESERVERS].text(own=False) == (
        "set by the lab: dns (192.168.1.1, 9.9.9.9)"
    )
    # the DNS server asks itself first
    assert HostPart(lab(), "router").notes()[NAMESERVERS].value == "127.0.0.1, 9.9.9.9"


def test_no_wiring_and_a_host_outside_it_say_nothing() -> None:
    for part in (HostPart(None, "nas"), HostPart(lab(), "broken")):
        assert part.lines() == []
        assert part.notes() == {}
        assert part.service_line("prometheus-node-exporter", {}, True) == ""
        assert part.service_line("grafana", {}, True) == ""


def test_the_services_that_play_a_role_say_what_they_do_for_the_lab() -> None:
    wiring = lab()
    assert HostPart(wiring, "router").service_line("blocky", {}, True) == (
        "set by the lab: dns — answers 4 names of the lab"
    )
    assert HostPart(wiring, "nas").service_line("prometheus", {}, True) == (
        "set by the lab: monitoring — scrapes 4 hosts"
    )
    assert HostPart(wiring, "app").service_line("mosquitto", {}, True) == (
        "set by the lab: mqtt — the lab user homelab, its port open to ha"
    )
    # a prometheus elsewhere plays no role: the lab sets nothing of it
    assert HostPart(wiring, "ha").service_line("prometheus", {}, True) == ""


def test_the_services_the_wiring_sets_options_of_say_which() -> None:
    wiring = lab()
    ha, app = HostPart(wiring, "ha"), HostPart(wiring, "app")
    assert ha.service_line("grafana", {}, True) == (
        "set by the lab: monitoring — the data source nas's Prometheus"
    )
    assert ha.service_line("home-assistant", {}, True) == (
        "set by the lab: mqtt — the MQTT integration (extraComponents)"
    )
    assert ha.service_line("home-assistant", {"extraComponents": ["met", "mqtt"]}, True) == ""
    assert app.service_line("zigbee2mqtt", {}, True) == (
        "set by the lab: mqtt — the broker's address and the lab user"
    )
    assert app.service_line("zigbee2mqtt", {"mqttUser": "z2m"}, True) == (
        "set by the lab: mqtt — the broker's address"
    )
    assert app.service_line("zigbee2mqtt", {"mqttServer": "mqtt://x", "mqttUser": "z"}, True) == ""
    # a service the host does not run: the wiring sets nothing of it
    assert ha.service_line("grafana", {}, False) == ""


def test_every_host_runs_the_node_exporter_its_entry_enabled_or_not() -> None:
    wiring = lab()
    assert HostPart(wiring, "ha").service_line("prometheus-node-exporter", {}, False) == (
        "set by the lab: monitoring — runs here though not enabled, scraped by nas"
    )
    assert HostPart(wiring, "nas").service_line("prometheus-node-exporter", {}, True) == (
        "set by the lab: monitoring — runs here, scraped by this host"
    )


def test_a_broker_without_the_lab_password_has_no_lab_user() -> None:
    wiring = lab(password=False)
    assert HostPart(wiring, "app").service_line("mosquitto", {}, True) == (
        "set by the lab: mqtt — the lab's broker, its port open to ha"
    )
    assert HostPart(wiring, "app").service_line("zigbee2mqtt", {}, True) == (
        "set by the lab: mqtt — the broker's address"
    )


def test_a_service_whose_own_metrics_are_scraped_says_so() -> None:
    wiring = lab()
    scraped = Wiring(
        wiring.roles,
        PEERS,
        wiring.records,
        wiring.backups,
        mqtt_users=wiring.mqtt_users,
        scrapes=(("ha", "grafana", 3000, "/metrics"), ("ha", "loki", 3100, "/metrics")),
    )
    ha = HostPart(scraped, "ha")
    assert ha.service_line("grafana", {}, True) == (
        "set by the lab: monitoring — the data source nas's Prometheus; monitoring — its "
        "metrics (3000/metrics) scraped by nas's Prometheus"
    )
    assert ha.service_line("loki", {}, True) == (
        "set by the lab: monitoring — its metrics (3100/metrics) scraped by nas's Prometheus"
    )
    assert HostPart(scraped, "app").service_line("loki", {}, True) == ""
