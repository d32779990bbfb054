"""Which health checks a host gets: its services' (the catalogue's) and its profile's."""

from __future__ import annotations

from pathlib import Path

from homelab.catalog import Checks
from homelab.deploy.checks import Check, checks_for
from homelab.lab import Lab
from homelab.profile.model import Deploy
from tests.deploy.labs import make_lab


def test_checks_come_from_the_catalogue_and_the_profile(tmp_path: Path) -> None:
    lab_root = make_lab(tmp_path / "lab", [], commit=False)
    folder = lab_root / "hosts" / "box"
    folder.mkdir()
    (folder / "profile.yaml").write_text(
        'host: {stateVersion: "24.05"}\n'
        "services:\n  uptime-kuma: {}\n  prometheus-node-exporter: {port: 9101}\n"
        "deploy:\n  checks:\n    units: [extra.service, uptime-kuma.service]\n    tcp: [8443]\n"
    )
    state = Lab(lab_root).load()
    profile = state.hosts["box"].profile
    assert profile is not None, state.hosts["box"].problems
    checks = checks_for(profile, state.catalog)
    assert Check("unit", "uptime-kuma.service") in checks
    assert Check("unit", "prometheus-node-exporter.service") in checks
    assert Check("tcp", "9101") in checks  # the catalogue's template, with the host's setting
    assert Check("http", "http://127.0.0.1:9101/metrics") in checks
    assert Check("unit", "extra.service") in checks and Check("tcp", "8443") in checks
    assert len(checks) == len(set(checks))  # uptime-kuma.service only once


def test_a_profiles_checks_are_the_catalogues_kind_of_checks() -> None:
    assert type(Deploy().checks) is Checks
