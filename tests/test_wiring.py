"""The lab's wiring plan (homelab/wiring.py) on small labs: the DNS server a role finds, the
records it answers, and what it warns of."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from homelab.lab import Lab
from homelab.labfiles import LabState
from tests.conftest import REPO

HEAD = """\
host: {name: NAME, stateVersion: "26.05"}
hardware: {fileSystems: {/: {device: /dev/vda1}}}
networking: {interfaces: {eth0: {addresses: [ADDRESS/24]}}}
"""

LAB_YAML = """\
release: "26.05"
domain: {name: home.example.org, email: admin@example.org, public: true, challenge: http}
wiring:
  dns: {fallback: [9.9.9.9]}
"""


def _load(tmp_path: Path, hosts: Mapping[str, tuple[str, str]]) -> LabState:
    """A lab of these hosts ({name: (address, services: YAML lines)})."""
    root = tmp_path / "lab"
    shutil.copytree(REPO / "services", root / "services")
    (root / "lab.yaml").write_text(LAB_YAML, encoding="utf-8")
    for name, (address, services) in hosts.items():
        (root / "hosts" / name).mkdir(parents=True)
        text = HEAD.replace("NAME", name).replace("ADDRESS", address) + services
        (root / "hosts" / name / "profile.yaml").write_text(text, encoding="utf-8")
    return Lab(root).load()


def test_the_dns_server_answers_every_host_by_name_and_under_the_domain(tmp_path: Path) -> None:
    state = _load(
        tmp_path,
        {"pi": ("192.168.1.2", "services:\n  blocky: {}\n"), "nas": ("192.168.1.30", "")},
    )
    assert state.all_problems() == []
    assert state.wiring is not None
    role = state.wiring.role("dns")
    assert role is not None and (role.provider.name, role.service) == ("pi", "blocky")
    assert state.wiring.records == (
        ("nas", "192.168.1.30"),
        ("nas.home.example.org", "192.168.1.30"),
        ("pi", "192.168.1.2"),
        ("pi.home.example.org", "192.168.1.2"),
    )
    assert ("nas", "pi", "dns") in state.wiring.links()


def test_adguard_home_as_the_lab_dns_without_an_account_is_warned_of(tmp_path: Path) -> None:
    state = _load(tmp_path, {"pi": ("192.168.1.2", "services:\n  adguardhome: {}\n")})
    warnings = [w for w in state.all_warnings() if "setup wizard" in w.message]
    assert len(warnings) == 1
    assert warnings[0].place.file == "hosts/pi/profile.yaml" and warnings[0].place.line == 5
    assert "htpasswd -nbB" in warnings[0].hint
    with_account = "services:\n  adguardhome:\n    settings: {users: [{name: a, password: x}]}\n"
    state = _load(tmp_path / "2", {"pi": ("192.168.1.2", with_account)})
    assert not [w for w in state.all_warnings() if "setup wizard" in w.message]
