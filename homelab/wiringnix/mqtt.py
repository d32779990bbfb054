"""The lab's MQTT broker: zigbee2mqtt publishes to it and Home Assistant reads from it,
with one lab user whose password is an encrypted secret; the broker's port is opened to
those hosts alone.

Read from nixpkgs (NixOS/nixpkgs 0101675dad73660b4f037da356ccc5b00217b512 for
services/networking/mosquitto.nix, 3a7af10224da66eaef427a98290dad3bbb2c7e2f for
services/home-automation/zigbee2mqtt.nix):

- mosquitto's users belong to a listener (`listeners` is a list of submodules, each with
  `port`, `users.<name>.passwordFile` and `acl`), and a list element cannot be added to from
  another module: the lab's user goes into the catalogue entry's own listener through its
  settings (`broker_settings`), never into a second listener on the same port. The module
  gives every listener an ACL file, so a user without `acl` lines may use no topic.
- zigbee2mqtt has no password file option: its configuration.yaml takes
  `password: '!FILE KEY'`, read from FILE.yaml in its data folder at start (Zigbee2MQTT's
  lib/util/settings.ts, read() and parseValueRef; the data folder is the module's dataDir,
  ZIGBEE2MQTT_DATA). The unit gets the secret as a systemd credential (agenix leaves it
  readable by root alone) and writes that file before it starts; the password never enters
  the store. The module sets
  `settings.mqtt.server` at mkDefault itself, so the lab's is at normal priority.
- Home Assistant takes the broker in its UI since 2022.3 (its YAML `mqtt:` broker keys are
  gone): the lab gives it the MQTT integration's Python dependencies alone.
"""

from __future__ import annotations

from typing import Any

from homelab.catalog import Catalog
from homelab.nix.expr import Apply, Raw, Ref
from homelab.profile.model import Profile, SecretUse, ServiceUse
from homelab.webnix import open_port, put, secret_path
from homelab.wiring import MQTT_PORT, Role, Wiring

USER = "homelab"  # the lab's MQTT user, on the broker and in every client
ACL = ["readwrite #"]  # zigbee2mqtt's topics and Home Assistant's discovery both
CREDENTIAL = "homelab-mqtt"  # the systemd credential and zigbee2mqtt's FILE.yaml


def host_part(
    tree: dict[str, Any], wiring: Wiring, role: Role, p: Profile, catalog: Catalog
) -> None:
    broker = role.provider
    here = p.folder == broker.folder
    port = wiring.port(role.provider.folder, "mosquitto", MQTT_PORT)
    if here:
        for folder in wiring.mqtt_users:
            if folder != broker.folder:
                open_port(tree, wiring.peers[folder].address, port)
    zigbee = p.service("zigbee2mqtt")
    if zigbee is not None:
        host = "127.0.0.1" if here else broker.address
        _zigbee2mqtt(tree, zigbee, f"mqtt://{host}:{port}", role.spec.password)
    assistant = p.service("home-assistant")
    if assistant is not None:
        _home_assistant(tree, assistant)


def broker_settings(wiring: Wiring | None, p: Profile, use: ServiceUse) -> dict[str, Any]:
    """The mosquitto entry's settings the lab adds on the broker: the lab's user, beside the
    person's own, in the entry's one listener ({} elsewhere, or when the person named a
    user `homelab` themselves)."""
    if wiring is None or use.name != "mosquitto":
        return {}
    role = wiring.role("mqtt")
    if role is None or role.provider.folder != p.folder or role.spec.password is None:
        return {}
    users = dict(use.settings.get("users") or {})
    if USER in users:
        return {}
    secret = SecretUse(
        role.spec.password, ("wiring", "mqtt", "password"), place=role.spec.password_place
    )
    users[USER] = {"passwordFile": secret, "acl": list(ACL)}
    return {"users": users}


def _zigbee2mqtt(tree: dict[str, Any], use: ServiceUse, server: str, secret: str | None) -> None:
    """The broker's address, and the lab's user unless the person gave their own (their
    password then comes from their environment file)."""
    base = ["services", "zigbee2mqtt", "settings", "mqtt"]
    if "mqttServer" not in use.given:
        put(tree, [*base, "server"], server)
    if secret is None or {"mqttUser", "environmentFile"} & use.given:
        return
    put(tree, [*base, "user"], USER)
    put(tree, [*base, "password"], f"!{CREDENTIAL} password")
    unit = ["systemd", "services", "zigbee2mqtt"]
    path = secret_path(secret).text
    put(tree, [*unit, "serviceConfig", "LoadCredential"], [Raw(f'"{CREDENTIAL}:${{{path}}}"')])
    # jq writes the password as a JSON string, which YAML reads as it is (quotes, colons)
    put(
        tree,
        [*unit, "preStart"],
        Raw(
            f"\"${{pkgs.jq}}/bin/jq -Rn '{{password: input}}' "
            f'< \\"$CREDENTIALS_DIRECTORY/{CREDENTIAL}\\" '
            f'> \\"${{config.services.zigbee2mqtt.dataDir}}/{CREDENTIAL}.yaml\\""'
        ),
    )


def _home_assistant(tree: dict[str, Any], use: ServiceUse) -> None:
    """The MQTT integration's dependencies: beside the person's list, or beside the
    module's default one (a definition at mkOptionDefault joins the option's default
    instead of replacing it)."""
    path = ["services", "home-assistant", "extraComponents"]
    if "extraComponents" in use.given:
        if "mqtt" not in (use.settings.get("extraComponents") or ()):
            put(tree, path, ["mqtt"])
    else:
        put(tree, path, Apply(Ref("lib.mkOptionDefault"), (["mqtt"],)))
