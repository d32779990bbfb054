"""The lab of tests/labs/wired: router, nas and app with every role of the lab's wiring at
once (DNS, the proxy, monitoring, backups, MQTT), built by homelab and the three hosts
evaluated in one run of the lab's flake with nixpkgs' real lib and module system, the
passwords encrypted secrets. Each concern is one test: the records, the nameservers, the
scrape targets and Grafana's data source, the backup jobs and the repository, MQTT, and the
firewall (each port open to exactly the peers that need it). Then a fourth host, added in
one `homelab build --commit`, rewires the router and the nas, and the commit says how."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

from homelab import cli
from homelab.lab import Lab
from homelab.secrets import crypt
from homelab.secrets.keys import Recipient
from homelab.secrets.store import write_encrypted
from tests.compiled import copy_lab
from tests.conftest import RunCli
from tests.flakes import eval_flake
from tests.history.tools import count, git, identify, message, touched
from tests.secrets.keyfiles import age_key, recipient, ssh_key

WIRED = Path(__file__).resolve().parents[1] / "labs" / "wired"
DOMAIN = "home.example.org"
ROUTER, NAS, APP = "192.168.1.2", "192.168.1.30", "192.168.1.40"
# who opens each secret: the hosts that back up, the broker's host and its clients
READERS = {"restic": ("nas", "app"), "mqtt": ("app",)}


def pin_host_key(root: Path, host: str, keys: Path) -> Recipient:
    """A new SSH host key for `host`, written into its profile's deploy: section."""
    _, line = ssh_key(keys, f"{host}_host_ed25519_key")
    public = " ".join(line.split()[:2])
    profile = root / "hosts" / host / "profile.yaml"
    text = profile.read_text(encoding="utf-8")
    assert "deploy:\n" in text
    profile.write_text(text.replace("deploy:\n", f"deploy:\n  hostKey: {public}\n", 1), "utf-8")
    return recipient(public)


def encrypt(root: Path, name: str, readers: list[Recipient]) -> None:
    write_encrypted(root, name, crypt.encrypt(f"not-a-real-{name}-password\n".encode(), readers))


def readers(root: Path, hosts: tuple[str, ...]) -> list[Recipient]:
    """The pinned keys of `hosts` and the lab's admins' keys, as the lab's files say them."""
    found = []
    for host in hosts:
        text = (root / "hosts" / host / "profile.yaml").read_text(encoding="utf-8")
        (key,) = re.findall(r"^  hostKey: (.+)$", text, re.M)
        found.append(recipient(key))
    lab_yaml = (root / "lab.yaml").read_text(encoding="utf-8")
    return [*found, *(recipient(k) for k in re.findall(r"^  \w+: (age1\w+)$", lab_yaml, re.M))]


def wired_lab(dest: Path) -> Lab:
    """tests/labs/wired in `dest`/lab with alice as its admin, the hosts' keys pinned and
    both passwords encrypted to the hosts that read them and to alice."""
    keys = dest / "keys"
    keys.mkdir(parents=True)
    _, admin = age_key(keys, "alice")
    root = copy_lab(WIRED, dest / "lab")
    with (root / "lab.yaml").open("a", encoding="utf-8") as f:
        f.write(f"admins:\n  alice: {admin}\n")
    for host in ("router", "nas", "app"):
        pin_host_key(root, host, keys)
    for name, hosts in READERS.items():
        encrypt(root, name, readers(root, hosts))
    return Lab(root)


ROUTER_READS = [
    "services.blocky.settings.customDNS.mapping",
    "services.caddy.virtualHosts",
]
NAS_READS = [
    "services.prometheus.scrapeConfigs",
    "services.grafana.provision.enable",
    "services.grafana.provision.datasources.settings",
    "services.restic.server",
    "age.secrets",
]
APP_READS = [
    "services.zigbee2mqtt.settings",
    "systemd.services.zigbee2mqtt.serviceConfig",
    "services.mosquitto.listeners",
    "services.home-assistant.extraComponents",
    "age.secrets",
]
EVERY_HOST = [
    "networking.nameservers",
    "networking.firewall.extraCommands",
    "networking.firewall.allowedTCPPorts",
    "networking.firewall.allowedUDPPorts",
    "services.prometheus.exporters.node.enable",
    "services.prometheus.exporters.node.port",
    "services.restic.backups",
    "assertions",
]
Evaluated = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    lab = wired_lab(tmp_path_factory.mktemp("wired"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["--lab", str(lab.root), "build"]) == 0
    return lab


@pytest.fixture(scope="module")
def evaluated(built: Lab) -> Evaluated:
    """The three hosts' configurations, read in one evaluation of the lab's flake."""
    lab = built
    reads = {
        "router": [*EVERY_HOST, *ROUTER_READS],
        "nas": [*EVERY_HOST, *NAS_READS],
        "app": [*EVERY_HOST, *APP_READS],
    }
    return eval_flake(lab.root, reads, packages=["rage", "jq"])


def failed(host: dict[str, Any]) -> list[str]:
    return [a["message"] for a in host["assertions"] if not a["assertion"]]


@pytest.mark.parametrize("host", ["router", "nas", "app"])
def test_every_host_evaluates_with_no_failed_assertion(evaluated: Evaluated, host: str) -> None:
    assert failed(evaluated[host]) == []


def test_the_router_answers_every_host_and_every_name_at_the_proxy(
    evaluated: Evaluated,
) -> None:
    assert evaluated["router"]["services.blocky.settings.customDNS.mapping"] == {
        "router": ROUTER,
        f"router.{DOMAIN}": ROUTER,
        "nas": NAS,
        f"nas.{DOMAIN}": NAS,
        "app": APP,
        f"app.{DOMAIN}": APP,
        # the named services are reached through the proxy, whatever host runs them
        f"grafana.{DOMAIN}": ROUTER,
        f"home.{DOMAIN}": ROUTER,
    }


def test_the_proxy_forwards_each_name_to_the_host_that_runs_it(evaluated: Evaluated) -> None:
    hosts = evaluated["router"]["services.caddy.virtualHosts"]
    assert {name: host["extraConfig"] for name, host in hosts.items()} == {
        f"grafana.{DOMAIN}": f"reverse_proxy {NAS}:3000",
        f"home.{DOMAIN}": f"reverse_proxy {APP}:8123",
    }


def test_every_host_asks_the_router_first_and_the_fallback_after(evaluated: Evaluated) -> None:
    assert {host: got["networking.nameservers"] for host, got in evaluated.items()} == {
        "router": ["127.0.0.1", "9.9.9.9"],  # the DNS server asks itself
        "nas": [ROUTER, "9.9.9.9"],
        "app": [ROUTER, "9.9.9.9"],
    }


def test_prometheus_on_the_nas_scrapes_every_hosts_exporter(evaluated: Evaluated) -> None:
    jobs = {j["job_name"]: j for j in evaluated["nas"]["services.prometheus.scrapeConfigs"]}
    # Prometheus and Grafana on the nas serve metrics of their own, scraped on loopback
    assert sorted(jobs) == ["lab-grafana", "lab-node", "lab-prometheus"]
    for service, port in (("grafana", 3000), ("prometheus", 9090)):
        (config,) = jobs[f"lab-{service}"]["static_configs"]
        assert config == {"targets": [f"127.0.0.1:{port}"], "labels": {"host": "nas"}}
    targets = {c["labels"]["host"]: c["targets"] for c in jobs["lab-node"]["static_configs"]}
    assert targets == {
        "router": [f"{ROUTER}:9100"],
        "nas": ["127.0.0.1:9100"],
        "app": [f"{APP}:9100"],
    }
    for host, got in evaluated.items():
        assert got["services.prometheus.exporters.node.enable"] is True, host
        assert got["services.prometheus.exporters.node.port"] == 9100, host


def test_grafana_reads_the_labs_prometheus(evaluated: Evaluated) -> None:
    nas = evaluated["nas"]
    assert nas["services.grafana.provision.enable"] is True
    sources = nas["services.grafana.provision.datasources.settings"]["datasources"]
    assert [(s["name"], s["type"], s["url"]) for s in sources] == [
        ("Prometheus (lab)", "prometheus", "http://127.0.0.1:9090")  # on the same host
    ]


# the state folders the catalogue names for each host's services (services/*.yaml state:)
SSH_KEYS = ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"]
STATE = {
    "nas": [*SSH_KEYS, "/var/lib/grafana", "/var/lib/prometheus2"],
    "app": [*SSH_KEYS, "/var/lib/hass", "/var/lib/mosquitto", "/var/lib/zigbee2mqtt"],
}


def test_each_host_with_state_backs_it_up_to_its_repository_on_the_nas(
    evaluated: Evaluated,
) -> None:
    for host, server in (("nas", "127.0.0.1"), ("app", NAS)):
        jobs = evaluated[host]["services.restic.backups"]
        assert sorted(jobs) == ["lab"], host
        job = jobs["lab"]
        assert job["repository"] == f"rest:http://{server}:8000/{host}", host
        assert sorted(job["paths"]) == sorted(STATE[host]), host
        assert job["passwordFile"] == "/run/agenix/restic", host
        assert job["timerConfig"] == {"OnCalendar": "daily", "Persistent": True}, host
        assert evaluated[host]["age.secrets"]["restic"]["file"].endswith("/encrypted/restic.age")
    # the router keeps nothing (a DNS server without state, and the proxy)
    assert evaluated["router"]["services.restic.backups"] == {}


def test_the_nas_serves_the_backup_repository(evaluated: Evaluated) -> None:
    server = evaluated["nas"]["services.restic.server"]
    assert server["enable"] is True
    assert server["listenAddress"] == "8000"
    assert server["extraFlags"] == ["--no-auth"]


def test_zigbee2mqtt_and_the_broker_meet_on_port_user_and_password(
    evaluated: Evaluated,
) -> None:
    app = evaluated["app"]
    (listener,) = app["services.mosquitto.listeners"]
    mqtt = app["services.zigbee2mqtt.settings"]["mqtt"]
    # the broker is on the same host: loopback, at the port its one listener has
    assert mqtt["server"] == f"mqtt://127.0.0.1:{listener['port']}"
    assert listener["port"] == 1883
    # the lab's user, known to the listener, may publish anywhere
    assert mqtt["user"] == "homelab"
    assert listener["users"]["homelab"]["acl"] == ["readwrite #"]
    # one password: the listener reads the secret's file, zigbee2mqtt gets the same file as a
    # credential at start (its settings name it, never hold it)
    assert listener["users"]["homelab"]["passwordFile"] == "/run/agenix/mqtt"
    assert mqtt["password"] == "!homelab-mqtt password"
    service = app["systemd.services.zigbee2mqtt.serviceConfig"]
    assert service["LoadCredential"] == ["homelab-mqtt:/run/agenix/mqtt"]
    assert app["age.secrets"]["mqtt"]["file"].endswith("/encrypted/mqtt.age")


def test_home_assistant_gets_the_mqtt_integration(evaluated: Evaluated) -> None:
    assert "mqtt" in evaluated["app"]["services.home-assistant.extraComponents"]


def test_each_secret_reaches_exactly_the_hosts_that_read_it(
    built: Lab, evaluated: Evaluated
) -> None:
    assert sorted(evaluated["app"]["age.secrets"]) == ["mqtt", "restic"]
    assert sorted(evaluated["nas"]["age.secrets"]) == ["restic"]
    # the router reads neither, so it gets no secrets file at all
    assert not (built.root / "hosts/router/encrypted-secrets.nix").exists()
    secrets = built.secrets_state().secrets
    assert {name: state.hosts for name, state in secrets.items()} == {
        "mqtt": ("app",),
        "restic": ("app", "nas"),
    }
    assert not any(state.stale for state in secrets.values())


RULE = re.compile(
    r"iptables -A nixos-fw -p (?P<proto>tcp|udp) -s (?P<source>\S+) "
    r"--dport (?P<port>\d+) -j nixos-fw-accept"
)


def opened(commands: str) -> set[tuple[int, str, str]]:
    """(port, protocol, source) of every rule an iptables script adds; any other line fails."""
    out = set()
    for line in commands.splitlines():
        if not line.strip():
            continue
        found = RULE.fullmatch(line.strip())
        assert found, line
        out.add((int(found["port"]), found["proto"], found["source"]))
    return out


def both(port: int, source: str) -> set[tuple[int, str, str]]:
    return {(port, "udp", source), (port, "tcp", source)}


def test_each_port_opens_to_the_peers_that_need_it_alone(evaluated: Evaluated) -> None:
    rules = {h: opened(got["networking.firewall.extraCommands"]) for h, got in evaluated.items()}
    assert rules == {
        # DNS for the other hosts, the exporter for Prometheus
        "router": both(53, NAS) | both(53, APP) | {(9100, "tcp", NAS)},
        # the repository for app (the nas backs up on loopback), Grafana for the proxy
        "nas": {(8000, "tcp", APP), (3000, "tcp", ROUTER)},
        # the exporter for Prometheus, Home Assistant for the proxy; the broker's clients
        # are on app itself, so 1883 opens to nobody
        "app": {(9100, "tcp", NAS), (8123, "tcp", ROUTER)},
    }
    wired = {53, 1883, 3000, 8000, 8123, 9090, 9100}
    for host, got in evaluated.items():
        for kind in ("allowedTCPPorts", "allowedUDPPorts"):
            assert wired.isdisjoint(got[f"networking.firewall.{kind}"]), (host, kind)


# ---- what the command line shows of it ------------------------------------------------------


def test_hosts_lists_each_host_with_its_services_names_and_roles(
    built: Lab, run_cli: RunCli
) -> None:
    code, out, err = run_cli("--lab", str(built.root), "hosts")
    assert code == 0, err
    assert re.split(r"\s{2,}", out.splitlines()[0])[-2:] == ["NAMES", "ROLES"]
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert sorted(rows) == ["app", "nas", "router"]
    for host, address, services, names, roles in (
        ("router", ROUTER, "blocky", "(proxy for 2 names)", "dns"),
        ("nas", NAS, "openssh, prometheus, grafana", f"grafana.{DOMAIN}", "backups, monitoring"),
        ("app", APP, "openssh, home-assistant, mosquitto, zigbee2mqtt", f"home.{DOMAIN}", "mqtt"),
    ):
        got = re.split(r"\s{2,}", rows[host])[2:]
        assert got == [address, services, names, roles], rows[host]


def test_show_marks_the_routers_files_derived_from_the_lab(built: Lab, run_cli: RunCli) -> None:
    code, out, err = run_cli("--lab", str(built.root), "show", "router")
    assert code == 0, err
    headers = [line for line in out.splitlines() if line.startswith("# ==> ")]
    assert headers == [
        "# ==> hosts/router/boot.nix <==",
        "# ==> hosts/router/configuration.nix <==",
        "# ==> hosts/router/networking.nix <==",
        "# ==> hosts/router/services.nix <==",
        "# ==> hosts/router/system.nix <==",
        "# ==> hosts/router/web.nix <== (derived from the lab: lab.yaml's domain and proxy)",
        "# ==> hosts/router/wiring.nix <== (derived from the lab: lab.yaml's wiring)",
    ]
    wiring = out.split("# ==> hosts/router/wiring.nix <==")[1]
    assert f'settings.customDNS.mapping."home.{DOMAIN}" = lib.mkDefault "{ROUTER}";' in wiring


# ---- a fourth host rewires the others in one build -----------------------------------------

BOX = "192.168.1.50"
BOX_PROFILE = f"""\
# A status page under its name behind the router.
host: {{name: box, stateVersion: "26.05"}}
hardware:
  fileSystems:
    /: {{device: /dev/disk/by-label/nixos, fsType: ext4}}
networking:
  interfaces:
    eth0: {{addresses: [{BOX}/24]}}
services:
  openssh: {{}}
  uptime-kuma:
    web: {{name: status}}
deploy:
  address: {BOX}
"""


def add_box(tmp_path: Path, run_cli: RunCli) -> tuple[Path, int]:
    """The wired lab, built and committed; then box added, the backup password encrypted
    to its key as well (box keeps state), and built and committed once more. Returns the
    lab and how many commits it had before box."""
    root = wired_lab(tmp_path).root
    git(root, "init", "-q", "-b", "main")
    identify(root)
    code, _, err = run_cli("--lab", str(root), "build", "--commit")
    assert code == 0, err
    before = count(root)
    (root / "hosts/box").mkdir()
    (root / "hosts/box/profile.yaml").write_text(BOX_PROFILE, encoding="utf-8")
    box = pin_host_key(root, "box", tmp_path / "keys")
    encrypt(root, "restic", [*readers(root, READERS["restic"]), box])
    code, _, err = run_cli("--lab", str(root), "build", "--commit")
    assert code == 0, err
    return root, before


def test_a_fourth_host_rewires_the_others_in_one_commit(tmp_path: Path, run_cli: RunCli) -> None:
    root, before = add_box(tmp_path, run_cli)
    assert count(root) == before + 1
    changed = touched(root, "HEAD")
    for rel in ("hosts/router/web.nix", "hosts/router/wiring.nix", "hosts/nas/wiring.nix"):
        assert rel in changed, rel
    body = message(root)
    assert "router:\n" in body and "nas:\n" in body, body
    lines = set(body.splitlines())
    assert {
        f"- wiring: dns answers + box + box.{DOMAIN} + status.{DOMAIN}",
        f"- wiring: proxy serves + status.{DOMAIN}",
        "- wiring: monitoring scrapes + box",
        "- wiring: backups keep + box",
    } <= lines, body
    assert "generated files rebuilt" not in body
    # and the files say the same
    router = (root / "hosts/router/wiring.nix").read_text(encoding="utf-8")
    assert f'settings.customDNS.mapping."status.{DOMAIN}" = lib.mkDefault "{ROUTER}";' in router
    assert f'settings.customDNS.mapping.box = lib.mkDefault "{BOX}";' in router
    proxy = (root / "hosts/router/web.nix").read_text(encoding="utf-8")
    assert f"reverse_proxy {BOX}:3001" in proxy
    nas = (root / "hosts/nas/wiring.nix").read_text(encoding="utf-8")
    assert f'targets = [ "{BOX}:9100" ];' in nas
    assert f"iptables -A nixos-fw -p tcp -s {BOX} --dport 8000 -j nixos-fw-accept" in nas


def test_every_reader_of_the_reencrypted_password_says_so(tmp_path: Path, run_cli: RunCli) -> None:
    root, _ = add_box(tmp_path, run_cli)
    sections: dict[str, list[str]] = {}
    for line in message(root).splitlines()[1:]:
        if line.endswith(":") and not line.startswith("- "):
            sections[line.removesuffix(":")] = []
        elif line.startswith("- ") and sections:
            sections[list(sections)[-1]].append(line)
    assert {"app", "box", "nas", "router"} <= set(sections), sections
    for host in ("app", "nas"):
        assert "- encrypted/restic.age changed" in sections[host], (host, sections)
