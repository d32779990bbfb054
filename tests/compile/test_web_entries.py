"""The catalogue's `web:` data behind the lab's proxy: each entry with `behindProxy` gives its
service, named under the lab's domain and fronted by a proxy on another host, the options it
needs there (its public URL, the proxy as trusted, its name as an allowed host), and each
`listen:` setting makes the service listen where that proxy reaches it.

Read from what homelab writes (web.nix, services.nix), not evaluated: the Nix side of these
modules is another test's."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from homelab.catalog import templates_of
from homelab.lab import Lab
from homelab.labfiles import LabState
from homelab.nix.expr import Apply, Block
from homelab.webnix import web_module
from tests.compile.test_catalogue_entries import value_at
from tests.compiled import REPO, copy_lab
from tests.modulesystem import DEFINED, Case, eval_many

DOMAIN = "home.example.org"
PROXY = "192.168.1.2"  # the gateway's address, as the services see the proxy

LAB_YAML = f"""\
release: "26.05"
domain: {{name: {DOMAIN}, email: admin@example.org, public: true}}
proxy: {{host: gateway, server: nginx}}
"""

BASE = """\
host: {stateVersion: "26.05"}
hardware:
  boot: {loader: systemd-boot, efi: true}
  fileSystems:
    /: {device: /dev/disk/by-label/nixos, fsType: ext4}
"""

GATEWAY = BASE + f"networking:\n  interfaces:\n    eth0: {{addresses: [{PROXY}/24]}}\n"

# entry -> (its name under the domain, the settings it cannot do without)
NAMED: dict[str, tuple[str, dict[str, Any]]] = {
    "home-assistant": ("home", {}),
    "nextcloud": (
        "cloud",
        {"hostName": "cloud.home.arpa", "adminPasswordFile": "/run/keys/nextcloud-admin"},
    ),
    "vaultwarden": ("vault", {}),
    "grafana": ("grafana", {"secretKeyFile": "/run/keys/grafana-key"}),
    "forgejo": ("git", {}),
    "paperless-ngx": ("paper", {}),
    "mealie": ("recipes", {}),
    "transmission": ("torrents", {}),
    "syncthing": ("sync", {}),
    "homepage-dashboard": ("start", {}),
    "audiobookshelf": ("books", {}),
    "immich": ("photos", {}),
    "uptime-kuma": ("status", {}),
    "esphome": ("esphome", {}),
}

DEFAULT = "lib.mkDefault"  # what the person's own value outranks
JOINS = "joins"  # a list at normal priority, joined with the other definitions

# entry -> option path -> (value, how it is written)
EXPECTED: dict[str, dict[str, tuple[Any, str]]] = {
    "home-assistant": {
        "services.home-assistant.config.http.use_x_forwarded_for": (True, DEFAULT),
        "services.home-assistant.config.http.trusted_proxies": ([PROXY], JOINS),
    },
    "nextcloud": {
        "services.nextcloud.https": (True, DEFAULT),
        "services.nextcloud.settings.trusted_domains": ([f"cloud.{DOMAIN}"], JOINS),
        "services.nextcloud.settings.trusted_proxies": ([PROXY], JOINS),
        "services.nextcloud.settings.overwriteprotocol": ("https", DEFAULT),
        "services.nextcloud.settings.overwrite.cli.url": (f"https://cloud.{DOMAIN}", DEFAULT),
    },
    "vaultwarden": {"services.vaultwarden.domain": (f"vault.{DOMAIN}", DEFAULT)},
    "grafana": {
        "services.grafana.settings.server.domain": (f"grafana.{DOMAIN}", DEFAULT),
        "services.grafana.settings.server.root_url": (f"https://grafana.{DOMAIN}/", DEFAULT),
    },
    "forgejo": {
        "services.forgejo.settings.server.DOMAIN": (f"git.{DOMAIN}", DEFAULT),
        "services.forgejo.settings.server.ROOT_URL": (f"https://git.{DOMAIN}/", DEFAULT),
    },
    "paperless-ngx": {
        "services.paperless.settings.PAPERLESS_URL": (f"https://paper.{DOMAIN}", DEFAULT),
    },
    "mealie": {"services.mealie.settings.BASE_URL": (f"https://recipes.{DOMAIN}", DEFAULT)},
    "transmission": {
        "services.transmission.settings.rpc-host-whitelist": (f"torrents.{DOMAIN}", DEFAULT),
        "services.transmission.settings.rpc-whitelist": (f"127.0.0.1,::1,{PROXY}", DEFAULT),
    },
    "syncthing": {"services.syncthing.settings.gui.insecureSkipHostcheck": (True, DEFAULT)},
    "homepage-dashboard": {
        "services.homepage-dashboard.allowedHosts": (
            f"localhost:8082,127.0.0.1:8082,start.{DOMAIN}",
            DEFAULT,
        ),
    },
}

# what a listen address reads as in services.nix, by entry (syncthing's is host:port)
LISTENS_EVERYWHERE = {
    "vaultwarden": 'config.ROCKET_ADDRESS = "0.0.0.0";',
    "grafana": 'settings.server.http_addr = "0.0.0.0";',
    "paperless-ngx": 'address = "0.0.0.0";',
    "transmission": 'settings.rpc-bind-address = "0.0.0.0";',
    "syncthing": 'guiAddress = "0.0.0.0:8384";',
    "audiobookshelf": 'host = "0.0.0.0";',
    "immich": 'host = "0.0.0.0";',
    "uptime-kuma": 'settings.HOST = "0.0.0.0";',
    "esphome": 'address = "0.0.0.0";',
}

ENTRIES = sorted(p.stem for p in (REPO / "services").glob("*.yaml"))


def _entry(name: str) -> dict[str, Any]:
    found = yaml.safe_load((REPO / "services" / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found


def _profile(service: str, name: str, settings: Mapping[str, Any]) -> str:
    given = {**settings, "web": {"name": name}}
    return BASE + yaml.safe_dump({"services": {service: given}}, sort_keys=False)


def _lab(root: Path, lab_yaml: str, hosts: Mapping[str, str]) -> Lab:
    """A lab of the repository's catalogue and these hosts (folder -> profile)."""
    (root / "fixture" / "hosts").mkdir(parents=True)
    path = copy_lab(root / "fixture", root / "lab")
    (path / "lab.yaml").write_text(lab_yaml)
    for folder, text in hosts.items():
        (path / "hosts" / folder).mkdir()
        (path / "hosts" / folder / "profile.yaml").write_text(text)
    return Lab(path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """Every named service on a host of its own, fronted by nginx on the gateway."""
    hosts = {s: _profile(s, name, settings) for s, (name, settings) in NAMED.items()}
    return _lab(tmp_path_factory.mktemp("web"), LAB_YAML, {"gateway": GATEWAY, **hosts})


@pytest.fixture(scope="module")
def state(lab: Lab) -> LabState:
    found = lab.load()
    assert not found.all_problems(), found.all_problems()
    return found


def _written(value: Any) -> tuple[Any, str]:
    if isinstance(value, Apply) and value.fn.name == "lib.mkDefault":
        return value.args[0], DEFAULT
    return value, JOINS if isinstance(value, list) else "normal"


def _options(tree: Mapping[str, Any], at: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(dotted option path, value as written) of each option a module body sets."""
    for key, value in tree.items():
        if isinstance(value, Block):
            value = value.value
        if isinstance(value, Mapping):
            yield from _options(value, (*at, key))
        else:
            yield ".".join((*at, key)), _written(value)


def _web_nix(state: LabState, folder: str) -> dict[str, tuple[Any, str]]:
    """The options web.nix sets on a host."""
    assert state.web is not None
    profile = state.hosts[folder].profile
    assert profile is not None
    return dict(_options(web_module(state.web.hosts[folder], profile, state.catalog)))


def _behind_proxy(state: LabState, folder: str) -> dict[str, tuple[Any, str]]:
    """The options web.nix sets on the service's host, but for the firewall's and proxy's."""
    return {
        path: v
        for path, v in _web_nix(state, folder).items()
        if not path.startswith(("networking.", "security.acme.", "services.nginx."))
    }


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_a_named_service_behind_a_proxy_on_another_host_gets_what_it_needs_there(
    state: LabState, service: str
) -> None:
    assert _behind_proxy(state, service) == EXPECTED[service]


def test_a_service_with_nothing_to_set_behind_a_proxy_gets_only_its_port_opened(
    state: LabState,
) -> None:
    # Immich keeps its public URL in its own config, edited in its web UI
    assert _behind_proxy(state, "immich") == {}
    assert f"-s {PROXY} --dport 2283 -j nixos-fw-accept" in _firewall_rules(state, "immich")


def _firewall_rules(state: LabState, service: str) -> str:
    """The iptables lines web.nix adds on the service's host (lib.mkIf FIREWALL LINES)."""
    rules, _ = _web_nix(state, service)["networking.firewall.extraCommands"]
    assert isinstance(rules, Apply) and rules.fn.name == "lib.mkIf"
    return str(rules.args[1])


@pytest.mark.parametrize("service", sorted(LISTENS_EVERYWHERE))
def test_a_service_fronted_from_another_host_listens_beyond_loopback(
    lab: Lab, state: LabState, service: str
) -> None:
    services_nix = lab.generated(state, [service])[f"hosts/{service}/services.nix"]
    assert LISTENS_EVERYWHERE[service] in services_nix


@pytest.mark.parametrize("entry", ENTRIES)
def test_web_names_only_settings_the_entry_has(entry: str) -> None:
    data = _entry(entry)
    web = data.get("web")
    if not web:
        return
    settings = set((data.get("settings") or {}).get("properties") or {})
    listen = web.get("listen")
    assert listen is None or listen in settings, f"{entry}: listen: {listen} is no setting"
    known = settings | {"fqdn", "url", "proxy"}
    for path, template in templates_of(web.get("behindProxy") or {}):
        read = _reads(template)
        assert read <= known, f"{entry}: {'.'.join(path)} reads {sorted(read - known)}"


def _reads(template: Any) -> set[str]:
    """The names a template reads ({setting: NAME}, {template: "...{NAME}..."}, {if: NAME})."""
    if isinstance(template, list):
        return {name for item in template for name in _reads(item)}
    if not isinstance(template, dict):
        return set()
    found: set[str] = set()
    for key, value in template.items():
        if key in ("setting", "if") and isinstance(value, str):
            found.add(value)
        elif key == "template" and isinstance(value, str):
            found |= set(re.findall(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}", value))
        else:
            found |= _reads(value)
    return found


def test_on_the_proxys_own_host_the_proxy_is_loopback_and_the_service_listens_as_before(
    tmp_path: Path,
) -> None:
    own = f'release: "26.05"\ndomain: {{name: {DOMAIN}, email: a@example.org, public: true}}\n'
    profile = BASE + yaml.safe_dump(
        {
            "services": {
                "home-assistant": {"web": {"name": "home"}},
                "vaultwarden": {"web": {"name": "vault"}},
            }
        }
    )
    lab = _lab(tmp_path, own, {"hub": profile})
    state = lab.load()
    assert not state.all_problems(), state.all_problems()
    trusted = "services.home-assistant.config.http.trusted_proxies"
    assert _behind_proxy(state, "hub")[trusted] == (["127.0.0.1"], JOINS)
    services_nix = lab.generated(state, ["hub"])["hosts/hub/services.nix"]
    assert 'config.ROCKET_ADDRESS = lib.mkDefault "127.0.0.1";' in services_nix


def test_what_the_person_wrote_outranks_what_the_entry_sets_behind_a_proxy(
    tmp_path: Path,
) -> None:
    given = {"domain": "vw.home.arpa", "address": "192.168.1.7"}
    lab = _lab(
        tmp_path,
        LAB_YAML,
        {"gateway": GATEWAY, "vault": _profile("vaultwarden", "vault", given)},
    )
    state = lab.load()
    assert not state.all_problems(), state.all_problems()
    services_nix = lab.generated(state, ["vault"])["hosts/vault/services.nix"]
    assert 'domain = "vw.home.arpa";' in services_nix  # beside web.nix's lib.mkDefault
    assert 'config.ROCKET_ADDRESS = "192.168.1.7";' in services_nix
    assert _behind_proxy(state, "vault") == EXPECTED["vaultwarden"]


def test_every_named_service_behind_the_remote_proxy_evaluates_with_its_listen_address(
    lab: Lab, state: LabState
) -> None:
    """Through the real module system: the listen address and the behindProxy options
    merge with what each module sets itself (a module's own mkDefault listen address and
    a second mkDefault would be a conflict), and the gateway's nginx serves every name."""
    folders = ["gateway", *sorted(NAMED)]
    listen = {s: _listen_option(s) for s in sorted(LISTENS_EVERYWHERE)}
    attrs = {
        f: [DEFINED] if f == "gateway" else [listen[f]] if f in listen else [DEFINED]
        for f in folders
    }
    values = eval_many([Case(lab.generated(state, [f]), attrs[f]) for f in folders])
    got = dict(zip(folders, values, strict=True))
    for service, option in listen.items():
        value = got[service][option]
        assert str(value).startswith("0.0.0.0"), f"{service}: {option} = {value!r}"
    hosts = value_at(got["gateway"][DEFINED], "services.nginx.virtualHosts", "gateway")
    assert sorted(hosts) == sorted(f"{name}.{DOMAIN}" for name, _ in NAMED.values())


def _listen_option(service: str) -> str:
    """The option a listen line of LISTENS_EVERYWHERE sets, as a path."""
    entry = _entry(service)
    line = LISTENS_EVERYWHERE[service].split(" = ")[0]
    prefix = next(
        ".".join(path[:2])
        for path, _ in templates_of(entry["nixos"])
        if len(path) > 2 and path[0] == "services"
    )
    return f"{prefix}.{line}"
