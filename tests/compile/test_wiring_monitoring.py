"""The lab's monitoring role (lab.yaml `wiring: {monitoring: {}}`) on three hosts, built by
homelab and evaluated through nixpkgs' real module system (tests/modulesystem.py): every
host's node exporter on, the Prometheus host scraping each of them, each exporter opened
to the Prometheus host alone, and a Grafana on another host given that Prometheus as a
data source, its port opened to the Grafana host alone. The entries' own scrape jobs and
data sources join the lab's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homelab.lab import Lab
from tests.compiled import copy_lab
from tests.modulesystem import Case, eval_many

ROUTER, NAS, APP = "192.168.1.1", "192.168.1.30", "192.168.1.40"

LAB_YAML = """\
release: "26.05"
wiring:
  monitoring: {}
"""


def _profile(name: str, address: str, services: str) -> str:
    return f"""\
host: {{name: {name}, stateVersion: "26.05"}}
hardware:
  boot: {{loader: systemd-boot, efi: true}}
  fileSystems:
    /: {{device: /dev/disk/by-label/nixos, fsType: ext4}}
networking:
  interfaces:
    eth0: {{addresses: [{address}/24]}}
services:
{services}deploy:
  address: {address}
"""


# router runs Prometheus with a scrape job of its own; nas runs Grafana with a data source of
# its own; app runs the node exporter entry (which sets the exporter too)
PROFILES = {
    "router": _profile(
        "router",
        ROUTER,
        "  prometheus:\n"
        "    scrapeConfigs:\n"
        "      - {job_name: node, static_configs: [{targets: ['127.0.0.1:9100']}]}\n",
    ),
    "nas": _profile(
        "nas",
        NAS,
        "  grafana:\n"
        "    secretKeyFile: /var/lib/secrets/grafana-key\n"
        "    datasources:\n"
        "      - {name: Loki, type: loki, url: 'http://127.0.0.1:3100'}\n",
    ),
    "app": _profile("app", APP, "  prometheus-node-exporter: {}\n"),
}

EXPORTER = [
    "services.prometheus.exporters.node.enable",
    "services.prometheus.exporters.node.port",
    "services.prometheus.exporters.node.openFirewall",
    "networking.firewall.extraCommands",
    "networking.firewall.extraInputRules",
    "networking.firewall.allowedTCPPorts",
]
PROMETHEUS = [*EXPORTER, "services.prometheus.scrapeConfigs", "services.prometheus.port"]
GRAFANA = [
    *EXPORTER,
    "services.grafana.provision.enable",
    "services.grafana.provision.datasources.settings",
]
NFTABLES = "{ networking.nftables.enable = true; }"


def make_lab(dest: Path, profiles: dict[str, str] = PROFILES, lab_yaml: str = LAB_YAML) -> Lab:
    source = dest.parent / f"{dest.name}-source"
    for folder, text in profiles.items():
        (source / "hosts" / folder).mkdir(parents=True)
        (source / "hosts" / folder / "profile.yaml").write_text(text, encoding="utf-8")
    (source / "lab.yaml").write_text(lab_yaml, encoding="utf-8")
    return Lab(copy_lab(source, dest))


def generated(lab: Lab) -> dict[str, dict[str, str]]:
    state = lab.load()
    assert state.all_problems() == [], state.all_problems()
    files = lab.generated(state)
    return {
        host: {rel: text for rel, text in files.items() if rel.startswith(f"hosts/{host}/")}
        for host in sorted({rel.split("/")[1] for rel in files if rel.startswith("hosts/")})
    }


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    files = generated(make_lab(tmp_path_factory.mktemp("monitored") / "lab"))
    router, nas, app, nas_nft = eval_many(
        [
            Case(files["router"], PROMETHEUS),
            Case(files["nas"], GRAFANA),
            Case(files["app"], EXPORTER),
            Case(files["nas"], EXPORTER, declarations=NFTABLES),
        ]
    )
    return {"router": router, "nas": nas, "app": app, "nas-nft": nas_nft}


def accepted(rules: str, port: int) -> list[str]:
    """The sources an iptables script accepts on a TCP port."""
    out = []
    for line in rules.splitlines():
        words = line.split()
        if f"--dport {port}" in line and "-s" in words and "-p tcp" in line:
            out.append(words[words.index("-s") + 1])
    return out


@pytest.mark.parametrize("host", ["router", "nas", "app"])
def test_every_host_runs_a_node_exporter_closed_to_the_world(
    monitored: dict[str, Any], host: str
) -> None:
    got = monitored[host]
    assert got["services.prometheus.exporters.node.enable"] is True
    assert got["services.prometheus.exporters.node.port"] == 9100
    assert got["services.prometheus.exporters.node.openFirewall"] is False
    assert 9100 not in got["networking.firewall.allowedTCPPorts"]


def test_prometheus_scrapes_every_host_beside_its_own_jobs(monitored: dict[str, Any]) -> None:
    jobs = {
        job["job_name"]: job for job in monitored["router"]["services.prometheus.scrapeConfigs"]
    }
    # the entry's job is kept; Grafana and Prometheus serve metrics of their own, each
    # scraped in a job of its own (tests/compile/test_wiring_metrics.py)
    assert sorted(jobs) == ["lab-grafana", "lab-node", "lab-prometheus", "node"]
    targets = {
        config["labels"]["host"]: config["targets"] for config in jobs["lab-node"]["static_configs"]
    }
    assert targets == {
        "app": [f"{APP}:9100"],
        "nas": [f"{NAS}:9100"],
        "router": ["127.0.0.1:9100"],
    }


@pytest.mark.parametrize("host", ["nas", "app"])
def test_each_exporter_is_opened_to_the_prometheus_host_alone(
    monitored: dict[str, Any], host: str
) -> None:
    rules = monitored[host]["networking.firewall.extraCommands"]
    assert accepted(rules, 9100) == [ROUTER]


def test_with_nftables_the_exporter_rule_is_in_the_input_chain(monitored: dict[str, Any]) -> None:
    got = monitored["nas-nft"]
    assert f"ip saddr {ROUTER} tcp dport 9100 accept" in got["networking.firewall.extraInputRules"]
    assert "9100" not in got["networking.firewall.extraCommands"]


def test_the_prometheus_host_scrapes_itself_without_opening_its_exporter(
    monitored: dict[str, Any],
) -> None:
    assert accepted(monitored["router"]["networking.firewall.extraCommands"], 9100) == []


def test_grafana_gets_the_lab_prometheus_beside_its_own_data_sources(
    monitored: dict[str, Any],
) -> None:
    got = monitored["nas"]
    assert got["services.grafana.provision.enable"] is True
    settings = got["services.grafana.provision.datasources.settings"]
    assert settings["apiVersion"] == 1
    sources = {s["name"]: s for s in settings["datasources"]}
    assert sorted(sources) == ["Loki", "Prometheus (lab)"]
    lab = sources["Prometheus (lab)"]
    assert (lab["type"], lab["url"]) == ("prometheus", f"http://{ROUTER}:9090")
    # Grafana refuses two default data sources: the lab's does not claim it
    assert not lab.get("isDefault")


def test_the_prometheus_port_is_opened_to_the_grafana_host_alone(
    monitored: dict[str, Any],
) -> None:
    assert accepted(monitored["router"]["networking.firewall.extraCommands"], 9090) == [NAS]
    assert 9090 not in monitored["router"]["networking.firewall.allowedTCPPorts"]


def test_grafana_beside_prometheus_reads_it_on_loopback(tmp_path: Path) -> None:
    profiles = {
        "router": _profile(
            "router",
            ROUTER,
            "  prometheus: {port: 9091}\n  grafana: {secretKeyFile: /var/lib/secrets/key}\n",
        ),
        "app": PROFILES["app"],
    }
    files = generated(make_lab(tmp_path / "lab", profiles))
    (router,) = eval_many([Case(files["router"], GRAFANA)])
    (source,) = router["services.grafana.provision.datasources.settings"]["datasources"]
    assert source["url"] == "http://127.0.0.1:9091"
    assert accepted(router["networking.firewall.extraCommands"], 9091) == []


def test_a_host_exporter_on_another_port_is_opened_on_that_port(tmp_path: Path) -> None:
    profiles = {
        "router": PROFILES["router"],
        "app": _profile("app", APP, "  prometheus-node-exporter: {port: 9101}\n"),
    }
    files = generated(make_lab(tmp_path / "lab", profiles))
    (app,) = eval_many([Case(files["app"], EXPORTER)])
    assert app["services.prometheus.exporters.node.port"] == 9101
    assert accepted(app["networking.firewall.extraCommands"], 9101) == [ROUTER]
