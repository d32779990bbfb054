"""Planning: how each host is reached and how it takes its configuration, from its profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.deploy.models import Method
from homelab.deploy.plan import plan_connection, plan_hosts
from homelab.deploy.ssh import Endpoint
from homelab.errors import InvalidInput
from homelab.lab import Lab
from tests.deploy.labs import make_lab, write_host


def test_a_plan_says_how_to_reach_the_host_and_how_it_takes_its_configuration(
    tmp_path: Path,
) -> None:
    root = make_lab(tmp_path / "lab", [], commit=False)
    write_host(root, "web")
    write_host(root, "pi", extra="  method: channels\n  port: 2222\n  user: admin\n  sudo: true\n")
    state = Lab(root).load()

    web, pi = plan_connection(state, "web"), plan_connection(state, "pi")

    assert web.endpoint == Endpoint("web", label="web", pin_file="hosts/web/profile.yaml")
    assert (web.method, web.attr, web.sudo, web.files) == (Method.FLAKE, "web", False, {})
    pinned_in = "hosts/pi/profile.yaml"
    assert pi.endpoint == Endpoint("pi", 2222, "admin", label="pi", pin_file=pinned_in)
    assert (pi.method, pi.sudo) == (Method.CHANNELS, True)


def test_nothing_committed_is_nothing_to_send(tmp_path: Path) -> None:
    root = make_lab(tmp_path / "lab", [], commit=False)
    write_host(root, "web")
    lab = Lab(root)
    state = lab.load()
    with pytest.raises(InvalidInput, match="nothing is committed yet"):
        plan_hosts(lab, state, ["web"], "")
