"""Three hosts behind the lab's proxy (tests/labs/proxied), built by homelab and evaluated
through nixpkgs' real module system (tests/modulesystem.py, tests/flakes.py): the gateway's
virtual hosts and certificates with caddy and with nginx, by HTTP-01 and by DNS-01 with the
provider's credentials as an encrypted secret, the backends' ports opened to the gateway's
address alone and the settings their services need behind it; and the same names with no
proxy host, where each host fronts its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homelab.lab import Lab
from homelab.secrets import crypt
from homelab.secrets.store import write_encrypted
from tests.compiled import copy_lab
from tests.conftest import RunCli
from tests.flakes import eval_flake
from tests.modulesystem import Case, eval_many
from tests.secrets.keyfiles import age_key, recipient, ssh_key

PROXIED = Path(__file__).resolve().parents[1] / "labs" / "proxied"
GATEWAY = "192.168.1.2"
DOMAIN = "home.example.org"

# each named service: (host, address the gateway reaches it at, its web port)
NAMED = {
    "grafana": ("nas", "192.168.1.30", 3000),
    "vault": ("nas", "192.168.1.30", 8222),
    "media": ("nas", "192.168.1.30", 8096),
    "home": ("ha", "192.168.1.40", 8123),
    "flows": ("ha", "192.168.1.40", 1880),
}
UNNAMED_PORT = 3001  # ha's uptime-kuma: a web UI without a name

# the backends again, on the nftables firewall
NFTABLES = "{ networking.nftables.enable = true; }"


def fqdn(name: str) -> str:
    return f"{name}.{DOMAIN}"


def names_on(host: str) -> dict[str, int]:
    return {name: port for name, (h, _, port) in NAMED.items() if h == host}


def lab_copy(dest: Path, lab_yaml: str | None = None) -> Lab:
    root = copy_lab(PROXIED, dest)
    if lab_yaml is not None:
        (root / "lab.yaml").write_text(lab_yaml, encoding="utf-8")
    return Lab(root)


def generated(lab: Lab) -> dict[str, dict[str, str]]:
    """Each host's generated files, the lab valid."""
    state = lab.load()
    assert state.all_problems() == [], state.all_problems()
    files = lab.generated(state)
    return {
        host: {rel: text for rel, text in files.items() if rel.startswith(f"hosts/{host}/")}
        for host in ("gateway", "nas", "ha")
    }


def lab_yaml(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BACKEND = [
    "networking.firewall.extraCommands",
    "networking.firewall.extraInputRules",
    "networking.firewall.allowedTCPPorts",
    "services.caddy.enable",
]
NAS = [
    *BACKEND,
    "services.vaultwarden.config",
    "services.vaultwarden.domain",
    "services.grafana.settings.server",
    "services.jellyfin.enable",
]
HA = [
    *BACKEND,
    "services.home-assistant.config.http",
    "services.node-red.enable",
    "services.uptime-kuma.settings",
]
CADDY = [
    "services.caddy.enable",
    "services.caddy.email",
    "services.caddy.virtualHosts",
    "networking.firewall.allowedTCPPorts",
    "networking.firewall.allowedUDPPorts",
    "networking.firewall.extraCommands",
    "security.acme.certs",
]


# ---- caddy by HTTP-01: the fixture lab as it is ----------------------------------------------


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The three hosts, evaluated in one batch; the backends also with nftables on."""
    files = generated(lab_copy(tmp_path_factory.mktemp("proxied") / "lab"))
    cases = [
        Case(files["gateway"], CADDY),
        Case(files["nas"], NAS),
        Case(files["ha"], HA),
        Case(files["nas"], BACKEND, declarations=NFTABLES),
        Case(files["ha"], BACKEND, declarations=NFTABLES),
    ]
    gateway, nas, ha, nas_nft, ha_nft = eval_many(cases)
    return {"gateway": gateway, "nas": nas, "ha": ha, "nas-nft": nas_nft, "ha-nft": ha_nft}


def test_the_gateway_fronts_exactly_the_named_services(proxied: dict[str, Any]) -> None:
    gateway = proxied["gateway"]
    assert gateway["services.caddy.enable"] is True
    vhosts = gateway["services.caddy.virtualHosts"]
    # ha's uptime-kuma has no name: no virtual host
    assert sorted(vhosts) == sorted(fqdn(n) for n in NAMED)
    for name, (_, address, port) in NAMED.items():
        vhost = vhosts[fqdn(name)]
        assert vhost["extraConfig"] == f"reverse_proxy {address}:{port}", name
        assert vhost["hostName"] == fqdn(name)
        assert vhost["useACMEHost"] is None  # HTTP-01: caddy gets each certificate itself
    # caddy's own ACME client, with the lab's e-mail; NixOS's lego has nothing to do
    assert gateway["services.caddy.email"] == "admin@example.org"
    assert gateway["security.acme.certs"] == {}
    assert {80, 443} <= set(gateway["networking.firewall.allowedTCPPorts"])
    assert 443 in gateway["networking.firewall.allowedUDPPorts"]  # HTTP/3
    assert gateway["networking.firewall.extraCommands"] == ""  # it opens nothing to anyone


@pytest.mark.parametrize("host", ["nas", "ha"])
def test_each_backend_opens_its_named_ports_to_the_gateway_alone(
    proxied: dict[str, Any], host: str
) -> None:
    found = proxied[host]
    rules = found["networking.firewall.extraCommands"].splitlines()
    assert rules == [
        f"iptables -A nixos-fw -p tcp -s {GATEWAY} --dport {port} -j nixos-fw-accept"
        for port in names_on(host).values()
    ]
    assert all(f"-s {GATEWAY} " in rule for rule in rules)  # no other source
    assert f"--dport {UNNAMED_PORT} " not in found["networking.firewall.extraCommands"]
    # nftables is off: its rules are not there (nixpkgs refuses extraInputRules then)
    assert found["networking.firewall.extraInputRules"] == ""
    # not opened to the world, and no proxy of its own
    assert not set(names_on(host).values()) & set(found["networking.firewall.allowedTCPPorts"])
    assert found["services.caddy.enable"] is False


@pytest.mark.parametrize("host", ["nas", "ha"])
def test_with_nftables_the_rules_go_to_its_input_chain(proxied: dict[str, Any], host: str) -> None:
    found = proxied[f"{host}-nft"]
    assert found["networking.firewall.extraCommands"] == ""
    assert found["networking.firewall.extraInputRules"].splitlines() == [
        f"ip saddr {GATEWAY} tcp dport {port} accept" for port in names_on(host).values()
    ]


def test_the_backends_listen_where_the_gateway_reaches_them(proxied: dict[str, Any]) -> None:
    nas = proxied["nas"]
    # the entries' own default is 127.0.0.1, which the gateway cannot reach
    assert nas["services.vaultwarden.config"]["ROCKET_ADDRESS"] == "0.0.0.0"
    assert nas["services.vaultwarden.config"]["ROCKET_PORT"] == 8222
    assert nas["services.grafana.settings.server"]["http_addr"] == "0.0.0.0"
    assert nas["services.grafana.settings.server"]["http_port"] == 3000
    assert nas["services.jellyfin.enable"] is True
    # no name, no override: uptime-kuma keeps the module's own address
    assert "HOST" not in proxied["ha"]["services.uptime-kuma.settings"]


def test_the_backends_know_their_public_names_and_trust_the_gateway(
    proxied: dict[str, Any],
) -> None:
    nas = proxied["nas"]
    server = nas["services.grafana.settings.server"]
    assert server["domain"] == fqdn("grafana")
    assert server["root_url"] == f"https://{fqdn('grafana')}/"
    assert nas["services.vaultwarden.domain"] == fqdn("vault")
    http = proxied["ha"]["services.home-assistant.config.http"]
    assert http["use_x_forwarded_for"] is True
    assert GATEWAY in http["trusted_proxies"]
    assert proxied["ha"]["services.node-red.enable"] is True


# ---- nginx by HTTP-01 ------------------------------------------------------------------------


def test_nginx_serves_each_name_with_https_and_its_own_certificate(tmp_path: Path) -> None:
    text = (PROXIED / "lab.yaml").read_text(encoding="utf-8")
    lab = lab_copy(
        tmp_path / "lab",
        lab_yaml(text, "proxy: {host: gateway}", "proxy: {host: gateway, server: nginx}"),
    )
    files = generated(lab)
    (gateway,) = eval_many(
        [
            Case(
                files["gateway"],
                [
                    "services.nginx.enable",
                    "services.nginx.virtualHosts",
                    "services.nginx.recommendedProxySettings",
                    "services.caddy.enable",
                    "security.acme.acceptTerms",
                    "security.acme.defaults.email",
                    "security.acme.certs",
                    "networking.firewall.allowedTCPPorts",
                ],
            )
        ]
    )
    assert gateway["services.nginx.enable"] is True
    assert gateway["services.caddy.enable"] is False
    assert gateway["services.nginx.recommendedProxySettings"] is True
    vhosts = gateway["services.nginx.virtualHosts"]
    # "localhost" is the module's own default virtual host
    assert sorted(set(vhosts) - {"localhost"}) == sorted(fqdn(n) for n in NAMED)
    for name, (_, address, port) in NAMED.items():
        vhost = vhosts[fqdn(name)]
        assert (vhost["forceSSL"], vhost["enableACME"], vhost["useACMEHost"]) == (True, True, None)
        location = vhost["locations"]["/"]
        assert location["proxyPass"] == f"http://{address}:{port}", name
        assert location["recommendedProxySettings"] is True
    # Home Assistant's frontend is a websocket, which nginx passes only when told
    assert vhosts[fqdn("home")]["locations"]["/"]["proxyWebsockets"] is True
    assert gateway["security.acme.acceptTerms"] is True
    assert gateway["security.acme.defaults.email"] == "admin@example.org"
    # enableACME makes one certificate per name in nixpkgs' nginx module; the option
    # declarations of tests/nixos-options.nix do not model that, so none is defined here
    assert gateway["security.acme.certs"] == {}
    assert {80, 443} <= set(gateway["networking.firewall.allowedTCPPorts"])


# ---- caddy by DNS-01: one wildcard certificate, credentials as an encrypted secret ----------


DNS_LAB = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
admins:
  alice: ADMIN
domain:
  name: home.example.org
  email: admin@example.org
  challenge: dns
  dnsProvider: cloudflare
  credentials: {secret: cloudflare}
proxy: {host: gateway}
"""


def dns_lab(tmp_path: Path) -> Lab:
    """The lab with DNS-01: cloudflare.age encrypted to the gateway's host key and alice."""
    keys = tmp_path / "keys"
    keys.mkdir()
    _, host_line = ssh_key(keys, "ssh_host_ed25519_key")
    _, admin = age_key(keys, "alice")
    lab = lab_copy(tmp_path / "lab", DNS_LAB.replace("ADMIN", admin))
    host_pub = " ".join(host_line.split()[:2])
    profile = lab.root / "hosts/gateway/profile.yaml"
    text = profile.read_text(encoding="utf-8")
    profile.write_text(
        lab_yaml(
            text, "  address: 192.168.1.2\n", f"  address: 192.168.1.2\n  hostKey: {host_pub}\n"
        )
    )
    value = b"CF_DNS_API_TOKEN=not-a-real-token\n"
    write_encrypted(
        lab.root, "cloudflare", crypt.encrypt(value, [recipient(host_pub), recipient(admin)])
    )
    return lab


def test_dns_gives_one_wildcard_certificate_that_only_the_gateway_can_open(
    tmp_path: Path, run_cli: RunCli
) -> None:
    lab = dns_lab(tmp_path)
    code, out, err = run_cli("--lab", str(lab.root), "build")
    assert code == 0, err
    files = generated(lab)
    # the backends neither use nor name the credentials
    for host in ("nas", "ha"):
        for rel, text in files[host].items():
            assert "cloudflare" not in text and "agenix" not in text, rel
    cert = f'security.acme.certs."{DOMAIN}"'
    got = eval_flake(
        lab.root,
        {
            "gateway": [
                f"{cert}.extraDomainNames",
                f"{cert}.dnsProvider",
                f"{cert}.environmentFile",
                f"{cert}.email",
                "services.caddy.virtualHosts",
                "age.secrets",
            ],
            "nas": ["networking.firewall.extraCommands", "services.vaultwarden.domain"],
        },
        packages=["rage"],
    )
    gateway = got["gateway"]
    assert gateway[f"{cert}.extraDomainNames"] == [f"*.{DOMAIN}"]
    assert gateway[f"{cert}.dnsProvider"] == "cloudflare"
    assert gateway[f"{cert}.environmentFile"] == "/run/agenix/cloudflare"
    assert gateway[f"{cert}.email"] == "admin@example.org"
    vhosts = gateway["services.caddy.virtualHosts"]
    assert sorted(vhosts) == sorted(fqdn(n) for n in NAMED)
    for name, (_, address, port) in NAMED.items():
        assert vhosts[fqdn(name)]["useACMEHost"] == DOMAIN, name
        assert vhosts[fqdn(name)]["extraConfig"] == f"reverse_proxy {address}:{port}"
    assert sorted(gateway["age.secrets"]) == ["cloudflare"]
    assert gateway["age.secrets"]["cloudflare"]["file"].endswith("/encrypted/cloudflare.age")
    # the backends are as with HTTP-01
    assert got["nas"]["services.vaultwarden.domain"] == fqdn("vault")
    assert (
        f"-s {GATEWAY} --dport 8222 -j nixos-fw-accept"
        in (got["nas"]["networking.firewall.extraCommands"])
    )
    # the lab's secrets say the gateway is the one reader among the hosts
    (state,) = [s for n, s in lab.secrets_state().secrets.items() if n == "cloudflare"]
    assert state.hosts == ("gateway",)
    assert not state.stale
    code, out, err = run_cli("--lab", str(lab.root), "secrets", "list")
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if line.startswith("cloudflare")]
    assert row.split()[1] == "gateway"
    assert "lab.yaml" in row  # where it is used: domain.credentials


# ---- no proxy host: each host fronts its own names -------------------------------------------


def test_without_a_proxy_host_each_host_fronts_its_own_names(tmp_path: Path) -> None:
    text = (PROXIED / "lab.yaml").read_text(encoding="utf-8")
    lab = lab_copy(tmp_path / "lab", lab_yaml(text, "proxy: {host: gateway}\n", ""))
    files = generated(lab)
    # the gateway has no name of its own: the lab's names ask nothing of it
    assert "hosts/gateway/web.nix" not in files["gateway"]
    own = [
        "services.caddy.enable",
        "services.caddy.virtualHosts",
        "networking.firewall.allowedTCPPorts",
        "networking.firewall.extraCommands",
        "networking.firewall.extraInputRules",
    ]
    gateway, nas, ha = eval_many(
        [
            Case(
                files["gateway"], ["services.caddy.enable", "networking.firewall.allowedTCPPorts"]
            ),
            Case(
                files["nas"], [*own, "services.vaultwarden.config", "services.vaultwarden.domain"]
            ),
            Case(files["ha"], [*own, "services.home-assistant.config.http"]),
        ]
    )
    assert gateway["services.caddy.enable"] is False
    assert not {80, 443} & set(gateway["networking.firewall.allowedTCPPorts"])
    for host, found in (("nas", nas), ("ha", ha)):
        assert found["services.caddy.enable"] is True
        vhosts = found["services.caddy.virtualHosts"]
        assert {name: v["extraConfig"] for name, v in vhosts.items()} == {
            fqdn(name): f"reverse_proxy 127.0.0.1:{port}" for name, port in names_on(host).items()
        }
        assert {80, 443} <= set(found["networking.firewall.allowedTCPPorts"])
        assert found["networking.firewall.extraCommands"] == ""
        assert found["networking.firewall.extraInputRules"] == ""
    # the proxy is on the same host: the services keep listening on loopback only
    assert nas["services.vaultwarden.config"]["ROCKET_ADDRESS"] == "127.0.0.1"
    assert nas["services.vaultwarden.domain"] == fqdn("vault")
    assert "127.0.0.1" in ha["services.home-assistant.config.http"]["trusted_proxies"]
    assert GATEWAY not in ha["services.home-assistant.config.http"]["trusted_proxies"]


# ---- the command line ------------------------------------------------------------------------


def test_hosts_lists_each_hosts_names_and_the_proxys_count(tmp_path: Path, run_cli: RunCli) -> None:
    lab = lab_copy(tmp_path / "lab")
    code, out, err = run_cli("--lab", str(lab.root), "hosts")
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split()[-1] == "NAMES"
    by_host = {row.split()[0]: row for row in rows}
    assert by_host["gateway"].endswith("(proxy for 5 names)")
    for host in ("nas", "ha"):
        expected = ", ".join(sorted(fqdn(n) for n in names_on(host)))
        assert by_host[host].endswith(expected), by_host[host]


def test_show_marks_web_nix_as_derived_from_the_lab(tmp_path: Path, run_cli: RunCli) -> None:
    lab = lab_copy(tmp_path / "lab")
    code, out, err = run_cli("--lab", str(lab.root), "show", "gateway")
    assert code == 0, err
    heads = [line for line in out.splitlines() if line.startswith("# ==> ")]
    (web,) = [h for h in heads if "web.nix" in h]
    assert (
        web == "# ==> hosts/gateway/web.nix <== (derived from the lab: lab.yaml's domain and proxy)"
    )
    assert all("derived" not in h for h in heads if h != web)


# ---- rebuilding: one backend's name is in the proxy's web.nix --------------------------------


def rename_vault(lab: Lab) -> None:
    profile = lab.root / "hosts/nas/profile.yaml"
    text = profile.read_text(encoding="utf-8")
    profile.write_text(lab_yaml(text, "web: {name: vault}", "web: {name: passwords}"))


def test_a_new_name_on_a_backend_rewrites_the_proxys_web_nix(
    tmp_path: Path, run_cli: RunCli
) -> None:
    lab = lab_copy(tmp_path / "lab")
    assert run_cli("--lab", str(lab.root), "build")[0] == 0
    code, out, _ = run_cli("--lab", str(lab.root), "build")
    assert (code, out) == (0, "nothing to do: generated files are up to date\n")
    rename_vault(lab)
    code, out, err = run_cli("--lab", str(lab.root), "build")
    assert code == 0, err
    assert "wrote hosts/gateway/web.nix" in out.splitlines()
    assert "wrote hosts/nas/web.nix" in out.splitlines()
    web = (lab.root / "hosts/gateway/web.nix").read_text(encoding="utf-8")
    assert f'virtualHosts."{fqdn("passwords")}"' in web
    assert fqdn("vault") not in web
    code, out, _ = run_cli("--lab", str(lab.root), "build")
    assert (code, out) == (0, "nothing to do: generated files are up to date\n")


def test_building_the_backend_alone_still_leaves_the_proxy_to_rebuild(
    tmp_path: Path, run_cli: RunCli
) -> None:
    lab = lab_copy(tmp_path / "lab")
    assert run_cli("--lab", str(lab.root), "build")[0] == 0
    rename_vault(lab)
    code, out, err = run_cli("--lab", str(lab.root), "build", "nas")
    assert code == 0, err
    web = lab.root / "hosts/gateway/web.nix"
    if fqdn("passwords") not in web.read_text(encoding="utf-8"):
        # nas's build left the proxy as it was: the whole lab's build must see that
        code, out, _ = run_cli("--lab", str(lab.root), "build", "--check")
        assert code == 1 and "stale: hosts/gateway/web.nix" in out
        code, out, _ = run_cli("--lab", str(lab.root), "build")
        assert "wrote hosts/gateway/web.nix" in out.splitlines()
    assert fqdn("passwords") in web.read_text(encoding="utf-8")
