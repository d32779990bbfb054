"""The lab's MQTT role (lab.yaml `wiring: {mqtt: {password: {secret: mqtt}}}`) on three
hosts, built by homelab and evaluated through nixpkgs' real module system (the lab's flake,
tests/flakes.py, with the password an encrypted secret): zigbee2mqtt on one host publishes
to the broker on another with the lab's user, its password read at start from the secret
(never written in the store), Home Assistant gets the MQTT integration, and the broker's port
is opened to those two hosts alone. The broker's own listener holding the lab's user waits
for compile to pass the entry the lab's settings (`homelab.wiringnix.mqtt.broker_settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homelab.lab import Lab
from homelab.profile.model import SecretUse, ServiceUse
from homelab.secrets import crypt
from homelab.secrets.store import write_encrypted
from homelab.wiringnix.mqtt import broker_settings
from tests.compiled import copy_lab
from tests.conftest import RunCli
from tests.flakes import eval_flake
from tests.secrets.keyfiles import age_key, recipient, ssh_key

HUB, ZIG, HA, APP = "192.168.1.10", "192.168.1.20", "192.168.1.40", "192.168.1.50"

LAB_YAML = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
admins:
  alice: ADMIN
wiring:
  mqtt: {password: {secret: mqtt}}
"""


def _profile(name: str, address: str, services: str, key: str) -> str:
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
  hostKey: {key}
"""


# hub: the broker, with a user of the person's own; zig: zigbee2mqtt; ha: Home Assistant with
# its own integrations listed; app: no MQTT client (its port stays closed to it)
SERVICES = {
    "hub": (
        HUB,
        "  mosquitto:\n    users:\n      alice: {passwordFile: /var/lib/secrets/alice}\n",
    ),
    "zig": (ZIG, "  zigbee2mqtt: {serialPort: /dev/ttyUSB0}\n"),
    "ha": (HA, "  home-assistant: {extraComponents: [default_config, met]}\n"),
    "app": (APP, "  uptime-kuma: {}\n"),
}


def make_lab(tmp_path: Path, services: dict[str, tuple[str, str]] = SERVICES) -> Lab:
    """The lab with mqtt.age encrypted to every host's key and alice's."""
    keys = tmp_path / "keys"
    keys.mkdir()
    _, admin = age_key(keys, "alice")
    source = tmp_path / "source"
    recipients = [recipient(admin)]
    for folder, (address, lines) in services.items():
        _, line = ssh_key(keys, f"{folder}_host_key")
        key = " ".join(line.split()[:2])
        recipients.append(recipient(key))
        (source / "hosts" / folder).mkdir(parents=True)
        (source / "hosts" / folder / "profile.yaml").write_text(
            _profile(folder, address, lines, key), encoding="utf-8"
        )
    (source / "lab.yaml").write_text(LAB_YAML.replace("ADMIN", admin), encoding="utf-8")
    lab = Lab(copy_lab(source, tmp_path / "lab"))
    write_encrypted(lab.root, "mqtt", crypt.encrypt(b"not-a-real-password\n", recipients))
    return lab


def accepted(rules: str, port: int) -> list[str]:
    """The sources an iptables script accepts on a TCP port."""
    out = []
    for line in rules.splitlines():
        words = line.split()
        if f"--dport {port}" in line and "-s" in words and "-p tcp" in line:
            out.append(words[words.index("-s") + 1])
    return out


ZIGBEE = [
    "services.zigbee2mqtt.settings",
    "systemd.services.zigbee2mqtt.serviceConfig",
    "systemd.services.zigbee2mqtt.preStart",
    "age.secrets",
]


def test_the_lab_builds_and_every_client_host_gets_the_secret(
    tmp_path: Path, run_cli: RunCli
) -> None:
    lab = make_lab(tmp_path)
    code, _, err = run_cli("--lab", str(lab.root), "build")
    assert code == 0, err
    got = eval_flake(
        lab.root,
        {
            "hub": ["services.mosquitto.listeners", "networking.firewall.extraCommands"],
            "zig": ZIGBEE,
            "ha": ["services.home-assistant.extraComponents", "age.secrets"],
            "app": ["networking.firewall.extraCommands"],
        },
        packages=["rage", "jq"],
    )
    # the broker's port, opened to its clients alone
    assert sorted(accepted(got["hub"]["networking.firewall.extraCommands"], 1883)) == [ZIG, HA]
    # one listener on 1883: the entry's, with the person's user
    (listener,) = got["hub"]["services.mosquitto.listeners"]
    assert listener["port"] == 1883
    assert "alice" in listener["users"]
    # zigbee2mqtt: the broker, the lab's user, a password it reads from the secret at start
    zig = got["zig"]
    mqtt = zig["services.zigbee2mqtt.settings"]["mqtt"]
    assert mqtt["server"] == f"mqtt://{HUB}:1883"
    assert mqtt["user"] == "homelab"
    assert mqtt["password"] == "!homelab-mqtt password"
    service = zig["systemd.services.zigbee2mqtt.serviceConfig"]
    assert service["LoadCredential"] == ["homelab-mqtt:/run/agenix/mqtt"]
    script = zig["systemd.services.zigbee2mqtt.preStart"]
    assert '"$CREDENTIALS_DIRECTORY/homelab-mqtt"' in script
    assert '> "/var/lib/zigbee2mqtt/homelab-mqtt.yaml"' in script
    assert sorted(zig["age.secrets"]) == ["mqtt"]
    assert zig["age.secrets"]["mqtt"]["file"].endswith("/encrypted/mqtt.age")
    # Home Assistant: the MQTT integration joins the person's list
    ha = got["ha"]
    assert sorted(ha["services.home-assistant.extraComponents"]) == [
        "default_config",
        "met",
        "mqtt",
    ]
    # a host with no MQTT client has no rule for the broker, and no secret
    assert "1883" not in got["app"]["networking.firewall.extraCommands"]
    (state,) = [s for n, s in lab.secrets_state().secrets.items() if n == "mqtt"]
    assert sorted(state.hosts) == ["ha", "hub", "zig"]


def test_clients_on_the_broker_host_use_loopback_and_open_nothing(
    tmp_path: Path, run_cli: RunCli
) -> None:
    services = {
        "hub": (HUB, "  mosquitto: {port: 1884}\n  zigbee2mqtt: {}\n  home-assistant: {}\n"),
        "app": SERVICES["app"],
    }
    lab = make_lab(tmp_path, services)
    code, _, err = run_cli("--lab", str(lab.root), "build")
    assert code == 0, err
    got = eval_flake(
        lab.root,
        {"hub": [*ZIGBEE, "services.home-assistant.extraComponents"]},
        packages=["rage", "jq"],
    )["hub"]
    assert got["services.zigbee2mqtt.settings"]["mqtt"]["server"] == "mqtt://127.0.0.1:1884"
    # no list of the person's: the integration joins the module's default list
    assert sorted(got["services.home-assistant.extraComponents"]) == [
        "default_config",
        "esphome",
        "met",
        "mqtt",
    ]


def test_a_zigbee2mqtt_user_of_the_persons_own_is_left_alone(
    tmp_path: Path, run_cli: RunCli
) -> None:
    services = {
        **SERVICES,
        "zig": (
            ZIG,
            "  zigbee2mqtt:\n    mqttUser: zigbee\n"
            "    environmentFile: /var/lib/secrets/zigbee2mqtt.env\n",
        ),
    }
    lab = make_lab(tmp_path, services)
    code, _, err = run_cli("--lab", str(lab.root), "build")
    assert code == 0, err
    got = eval_flake(lab.root, {"zig": ZIGBEE[:2]}, packages=["rage"])["zig"]
    mqtt = got["services.zigbee2mqtt.settings"]["mqtt"]
    assert mqtt["server"] == f"mqtt://{HUB}:1883"  # the broker is still the lab's
    assert mqtt["user"] == "zigbee"
    assert "password" not in mqtt
    assert "LoadCredential" not in got["systemd.services.zigbee2mqtt.serviceConfig"]


def _mosquitto(users: dict[str, Any]) -> ServiceUse:
    return ServiceUse("mosquitto", {"port": 1883, "users": users}, frozenset({"users"}))


def test_broker_settings_add_the_lab_user_beside_the_persons(tmp_path: Path) -> None:
    lab = make_lab(tmp_path)
    state = lab.load()
    hub = next(p for p in state.profiles() if p.name == "hub")
    alice = {"passwordFile": "/var/lib/secrets/alice"}
    users = broker_settings(state.wiring, hub, _mosquitto({"alice": alice}))["users"]
    assert users["alice"] == alice
    secret = users["homelab"]["passwordFile"]
    assert isinstance(secret, SecretUse) and secret.name == "mqtt"
    assert users["homelab"]["acl"] == ["readwrite #"]
    # a user the person named homelab is theirs; another host's mosquitto is not the broker's
    assert broker_settings(state.wiring, hub, _mosquitto({"homelab": alice})) == {}
    zig = next(p for p in state.profiles() if p.name == "zig")
    assert broker_settings(state.wiring, zig, _mosquitto({})) == {}


def test_the_brokers_one_listener_holds_the_lab_user(tmp_path: Path, run_cli: RunCli) -> None:
    lab = make_lab(tmp_path)
    code, _, err = run_cli("--lab", str(lab.root), "build")
    assert code == 0, err
    got = eval_flake(
        lab.root, {"hub": ["services.mosquitto.listeners", "age.secrets"]}, packages=["rage"]
    )["hub"]
    (listener,) = got["services.mosquitto.listeners"]
    assert sorted(listener["users"]) == ["alice", "homelab"]
    assert listener["users"]["homelab"]["passwordFile"] == "/run/agenix/mqtt"
    assert listener["users"]["homelab"]["acl"] == ["readwrite #"]
