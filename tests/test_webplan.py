"""The lab's web plan (homelab/webplan.py) on small labs: which address of the proxy the
backends open their ports to, which host is the proxy, and when a backend is told to listen
on every address."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from homelab.catalog import Catalog
from homelab.errors import Place, Problem
from homelab.lab import Lab
from homelab.profile.model import Profile
from homelab.webplan import Domain, WebPlan, listen_override, plan, stable_address
from homelab.yamlfile import Path_
from tests.conftest import REPO

HEAD = """\
host: {name: NAME, stateVersion: "26.05"}
hardware:
  boot: {loader: systemd-boot, efi: true}
  fileSystems:
    /: {device: /dev/disk/by-label/nixos, fsType: ext4}
"""

GATEWAY = """\
networking:
  interfaces:
    eth0: {addresses: [192.168.1.2/24]}
"""

NAS = """\
networking:
  interfaces:
    eth0: {addresses: [192.168.1.30/24]}
services:
  vaultwarden: {web: {name: vault}}
  jellyfin: {web: {name: media}}
"""


def profile(name: str, body: str) -> str:
    return HEAD.replace("NAME", name) + body


def load(tmp_path: Path, hosts: Mapping[str, str]) -> tuple[dict[str, Profile], Catalog]:
    """The profiles of a lab of these hosts ({folder: profile text}) and its catalogue."""
    root = tmp_path / "lab"
    shutil.copytree(REPO / "services", root / "services")
    for folder, text in hosts.items():
        (root / "hosts" / folder).mkdir(parents=True)
        (root / "hosts" / folder / "profile.yaml").write_text(text, encoding="utf-8")
    state = Lab(root).load()
    profiles = {}
    for folder, host in state.hosts.items():
        assert host.profile is not None, host.problems
        profiles[folder] = host.profile
    return profiles, state.catalog


def place_of(folder: str, path: Path_) -> Place:
    return Place(f"hosts/{folder}/profile.yaml")


def domain(proxy: str | None = "gateway") -> Domain:
    return Domain("home.example.org", "admin@example.org", "http", True, proxy_host=proxy)


def planned(
    profiles: Mapping[str, Profile], catalog: Catalog, proxy: str | None = "gateway"
) -> tuple[WebPlan | None, list[tuple[str | None, Problem]]]:
    return plan(domain(proxy), profiles, catalog, place_of)


def messages(problems: list[tuple[str | None, Problem]]) -> list[str]:
    return [p.message for _, p in problems]


# ---- stable_address -------------------------------------------------------------------------


def test_the_static_ipv4_address_comes_first(tmp_path: Path) -> None:
    body = """\
networking:
  interfaces:
    eth0: {addresses: ["fd00::2/64"]}
    eth1: {addresses: [192.168.1.2/24, 10.0.0.2/8]}
deploy: {address: 100.101.102.103}
services:
  tailscale: {}
"""
    profiles, _ = load(tmp_path, {"gateway": profile("gateway", body)})
    # an IPv6 address written first, and a Tailscale address, give way to the IPv4 one
    assert stable_address(profiles["gateway"]) == ("192.168.1.2", "the static address of eth1")


def test_an_ipv6_address_when_it_is_the_only_static_one(tmp_path: Path) -> None:
    body = 'networking:\n  interfaces:\n    eth0: {addresses: ["fd00::2/64"]}\n'
    profiles, _ = load(tmp_path, {"gateway": profile("gateway", body)})
    assert stable_address(profiles["gateway"]) == ("fd00::2", "the static address of eth0")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # deploy.address in Tailscale's range, and the tailscale service runs: stable
        (
            "deploy: {address: 100.101.102.103}\nservices:\n  tailscale: {}\n",
            "100.101.102.103",
        ),
        (
            'deploy: {address: "fd7a:115c:a1e0::7"}\nservices:\n  tailscale: {}\n',
            "fd7a:115c:a1e0::7",
        ),
        # the same address without the tailscale service: nothing says it stays
        ("deploy: {address: 100.101.102.103}\n", None),
        # the tailscale service, but deploy.address is a LAN address from DHCP
        ("deploy: {address: 192.168.1.50}\nservices:\n  tailscale: {}\n", None),
        ("deploy: {address: gateway.lan}\nservices:\n  tailscale: {}\n", None),
    ],
)
def test_a_tailscale_address_counts_only_with_the_tailscale_service(
    tmp_path: Path, body: str, expected: str | None
) -> None:
    profiles, _ = load(tmp_path, {"gateway": profile("gateway", body)})
    address, why = stable_address(profiles["gateway"])
    assert address == expected
    if expected is None:
        assert why.startswith("gateway has no static address")
    else:
        assert why == "its Tailscale address (deploy.address)"


# ---- the proxy host ------------------------------------------------------------------------


def test_a_proxy_with_only_dhcp_is_refused(tmp_path: Path) -> None:
    dhcp = "networking:\n  interfaces:\n    eth0: {dhcp: true}\ndeploy: {address: 192.168.1.2}\n"
    profiles, catalog = load(
        tmp_path, {"gateway": profile("gateway", dhcp), "nas": profile("nas", NAS)}
    )
    found, problems = planned(profiles, catalog)
    assert found is None
    assert len(problems) == 1
    folder, problem = problems[0]
    assert folder is None  # lab.yaml's, at proxy.host
    assert problem.message == (
        "the proxy host gateway has no stable address, so its backends cannot open their "
        "ports to it alone"
    )
    assert "gateway has no static address" in problem.hint
    assert "leave proxy.host out" in problem.hint


def test_a_proxy_with_only_dhcp_may_front_its_own_names(tmp_path: Path) -> None:
    # no other host opens a port to it: its address does not matter
    dhcp = (
        "networking:\n  interfaces:\n    eth0: {dhcp: true}\n"
        "services:\n  vaultwarden: {web: {name: vault}}\n"
    )
    profiles, catalog = load(tmp_path, {"gateway": profile("gateway", dhcp)})
    found, problems = planned(profiles, catalog)
    assert problems == []
    assert found is not None
    (site,) = found.sites
    assert (site.upstream, site.proxy_address, site.remote) == ("127.0.0.1", "127.0.0.1", False)


@pytest.mark.parametrize("proxy", ["box1", "gateway"])
def test_the_proxy_is_named_by_its_folder_or_its_host_name(tmp_path: Path, proxy: str) -> None:
    profiles, catalog = load(
        tmp_path, {"box1": profile("gateway", GATEWAY), "nas": profile("nas", NAS)}
    )
    found, problems = planned(profiles, catalog, proxy)
    assert problems == []
    assert found is not None
    assert {(s.fqdn, s.proxy_folder, s.upstream, s.proxy_address) for s in found.sites} == {
        ("vault.home.example.org", "box1", "192.168.1.30", "192.168.1.2"),
        ("media.home.example.org", "box1", "192.168.1.30", "192.168.1.2"),
    }
    assert [s.fqdn for s in found.hosts["box1"].fronts] == [
        "vault.home.example.org",
        "media.home.example.org",
    ]
    assert found.hosts["box1"].named == ()
    assert found.names_of("nas") == ("media.home.example.org", "vault.home.example.org")


def test_a_proxy_that_is_no_host_is_refused_with_the_hosts_there_are(tmp_path: Path) -> None:
    profiles, catalog = load(
        tmp_path, {"box1": profile("gateway", GATEWAY), "nas": profile("nas", NAS)}
    )
    _, problems = planned(profiles, catalog, "gw")
    assert messages(problems) == ["no host named 'gw' to be the proxy"]
    assert problems[0][1].hint == "hosts: gateway, nas"


def test_without_a_proxy_each_host_fronts_its_own_names(tmp_path: Path) -> None:
    profiles, catalog = load(
        tmp_path, {"gateway": profile("gateway", GATEWAY), "nas": profile("nas", NAS)}
    )
    found, problems = planned(profiles, catalog, None)
    assert problems == []
    assert found is not None
    assert {(s.proxy_folder, s.upstream, s.remote) for s in found.sites} == {
        ("nas", "127.0.0.1", False)
    }
    assert sorted(found.hosts) == ["nas"]  # the gateway has no part


# ---- listen_override -----------------------------------------------------------------------


def _override(
    tmp_path: Path, nas: str, service: str, gateway: str = GATEWAY, proxy: str = "gateway"
) -> dict[str, str]:
    profiles, catalog = load(
        tmp_path, {"gateway": profile("gateway", gateway), "nas": profile("nas", nas)}
    )
    found, problems = planned(profiles, catalog, proxy)
    assert problems == [] and found is not None
    use = profiles["nas"].service(service)
    assert use is not None
    return listen_override(found.hosts["nas"].site_of(service), use, catalog)


def test_a_backend_listens_on_every_address_when_the_proxy_is_elsewhere(tmp_path: Path) -> None:
    assert _override(tmp_path, NAS, "vaultwarden") == {"address": "0.0.0.0"}


def test_an_ipv6_proxy_gets_every_ipv6_address(tmp_path: Path) -> None:
    v6 = 'networking:\n  interfaces:\n    eth0: {addresses: ["fd00::2/64"]}\n'
    assert _override(tmp_path, NAS, "vaultwarden", gateway=v6) == {"address": "::"}


def test_the_address_the_person_wrote_is_kept(tmp_path: Path) -> None:
    nas = NAS.replace("{web: {name: vault}}", "{web: {name: vault}, address: 192.168.1.30}")
    assert _override(tmp_path, nas, "vaultwarden") == {}


def test_a_backend_on_the_proxy_itself_keeps_its_address(tmp_path: Path) -> None:
    assert _override(tmp_path, NAS, "vaultwarden", proxy="nas") == {}


def test_an_entry_without_a_listen_setting_is_left_alone(tmp_path: Path) -> None:
    assert _override(tmp_path, NAS, "jellyfin") == {}


def test_a_service_without_a_name_is_left_alone(tmp_path: Path) -> None:
    nas = NAS + "  uptime-kuma: {}\n"
    assert _override(tmp_path, nas, "uptime-kuma") == {}
