"""Services that serve Prometheus metrics of their own (the catalogue's `metrics:`), scraped
by the lab's monitoring host: built by homelab and evaluated through nixpkgs' real module
system (tests/modulesystem.py). router runs Prometheus and a Grafana of its own; nas runs
Grafana and Loki; app runs a Grafana whose address its person wrote, the node exporter
entry and mosquitto (no metrics of its own). Prometheus gets a job per such service, each
target labelled with its host; a remote host opens the port to the Prometheus host alone,
and a Grafana left on its loopback default listens on every address there."""

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

KEY = "    secretKeyFile: /var/lib/secrets/grafana-key\n"
SERVICES = {
    "router": f"  prometheus: {{}}\n  grafana:\n{KEY}",
    "nas": f"  grafana:\n{KEY}  loki: {{}}\n",
    "app": f"  grafana:\n{KEY}    port: 3300\n    address: 127.0.0.1\n"
    "  prometheus-node-exporter: {}\n  mosquitto: {}\n",
}
ADDRESSES = {"router": ROUTER, "nas": NAS, "app": APP}

FIREWALL = [
    "networking.firewall.extraCommands",
    "networking.firewall.extraInputRules",
    "networking.firewall.allowedTCPPorts",
]
GRAFANA = [*FIREWALL, "services.grafana.settings.server.http_addr"]
PROMETHEUS = [*GRAFANA, "services.prometheus.scrapeConfigs"]
NFTABLES = "{ networking.nftables.enable = true; }"


def profile(name: str) -> str:
    address = ADDRESSES[name]
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
{SERVICES[name]}deploy:
  address: {address}
"""


def _lab(dest: Path) -> Lab:
    source = dest.parent / f"{dest.name}-source"
    for name in ADDRESSES:
        (source / "hosts" / name).mkdir(parents=True)
        (source / "hosts" / name / "profile.yaml").write_text(profile(name), encoding="utf-8")
    (source / "lab.yaml").write_text(LAB_YAML, encoding="utf-8")
    return Lab(copy_lab(source, dest))


def host_files(dest: Path) -> dict[str, dict[str, str]]:
    lab = _lab(dest)
    state = lab.load()
    assert state.all_problems() == [], state.all_problems()
    files = lab.generated(state)
    return {
        name: {rel: text for rel, text in files.items() if rel.startswith(f"hosts/{name}/")}
        for name in ADDRESSES
    }


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    files = host_files(tmp_path_factory.mktemp("metrics") / "lab")
    router, nas, app, nas_nft = eval_many(
        [
            Case(files["router"], PROMETHEUS),
            Case(files["nas"], GRAFANA),
            Case(files["app"], GRAFANA),
            Case(files["nas"], FIREWALL, declarations=NFTABLES),
        ]
    )
    return {"router": router, "nas": nas, "app": app, "nas-nft": nas_nft}


def jobs(evaluated: dict[str, Any]) -> dict[str, Any]:
    configs = evaluated["router"]["services.prometheus.scrapeConfigs"]
    return {job["job_name"]: job for job in configs}


def targets(job: dict[str, Any]) -> dict[str, list[str]]:
    return {config["labels"]["host"]: config["targets"] for config in job["static_configs"]}


def accepted(rules: str, port: int) -> list[str]:
    """The sources an iptables script accepts on a TCP port."""
    out = []
    for line in rules.splitlines():
        words = line.split()
        if f"--dport {port}" in line and "-s" in words and "-p tcp" in line:
            out.append(words[words.index("-s") + 1])
    return out


def test_prometheus_scrapes_grafana_on_every_host_at_its_metrics_path(
    evaluated: dict[str, Any],
) -> None:
    job = jobs(evaluated)["lab-grafana"]
    assert job["metrics_path"] == "/metrics"
    assert targets(job) == {
        "router": ["127.0.0.1:3000"],  # beside Prometheus: on loopback
        "nas": [f"{NAS}:3000"],
        # app's Grafana listens where its person said, on loopback: no one could reach it
    }


def test_loki_and_prometheus_itself_are_scraped_too(evaluated: dict[str, Any]) -> None:
    found = jobs(evaluated)
    assert targets(found["lab-loki"]) == {"nas": [f"{NAS}:3100"]}
    assert found["lab-loki"]["metrics_path"] == "/metrics"
    assert targets(found["lab-prometheus"]) == {"router": ["127.0.0.1:9090"]}


def test_services_without_metrics_of_their_own_get_no_job(evaluated: dict[str, Any]) -> None:
    # mosquitto serves none; the node exporter is the lab-node job already
    assert sorted(jobs(evaluated)) == ["lab-grafana", "lab-loki", "lab-node", "lab-prometheus"]


def test_a_remote_host_opens_each_metrics_port_to_the_prometheus_host_alone(
    evaluated: dict[str, Any],
) -> None:
    nas = evaluated["nas"]
    for port in (3000, 3100):
        assert accepted(nas["networking.firewall.extraCommands"], port) == [ROUTER], port
        assert port not in nas["networking.firewall.allowedTCPPorts"], port
    assert accepted(evaluated["app"]["networking.firewall.extraCommands"], 3300) == []


def test_with_nftables_the_metrics_ports_are_in_the_input_chain(
    evaluated: dict[str, Any],
) -> None:
    rules = evaluated["nas-nft"]["networking.firewall.extraInputRules"]
    for port in (3000, 3100):
        assert f"ip saddr {ROUTER} tcp dport {port} accept" in rules, port


def test_the_prometheus_host_opens_nothing_for_its_own_services(
    evaluated: dict[str, Any],
) -> None:
    rules = evaluated["router"]["networking.firewall.extraCommands"]
    assert accepted(rules, 3000) == []
    # 9090 opens to the Grafanas reading it as a data source, not for its own scrape
    assert sorted(accepted(rules, 9090)) == sorted([NAS, APP])


def test_grafana_left_on_loopback_listens_on_every_address_where_it_is_scraped(
    evaluated: dict[str, Any],
) -> None:
    assert evaluated["nas"]["services.grafana.settings.server.http_addr"] == "0.0.0.0"


def test_grafana_beside_prometheus_stays_on_loopback(evaluated: dict[str, Any]) -> None:
    assert evaluated["router"]["services.grafana.settings.server.http_addr"] == "127.0.0.1"


def test_an_address_the_person_wrote_is_kept(evaluated: dict[str, Any]) -> None:
    assert evaluated["app"]["services.grafana.settings.server.http_addr"] == "127.0.0.1"


def test_a_service_its_person_keeps_on_loopback_is_left_out_with_a_warning(
    tmp_path: Path,
) -> None:
    state = _lab(tmp_path / "lab").load()
    said = [w for w in state.all_warnings() if "cannot scrape its metrics" in w.message]
    assert [(w.place.file, w.path) for w in said] == [
        ("hosts/app/profile.yaml", "services.grafana.address")
    ]
    assert "leave address out" in said[0].hint
