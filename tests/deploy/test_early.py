"""Connections started while the lab is still being built (homelab.deploy.early), against
real sshd machines: taken by the host that they were made for, and never left open."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from homelab.deploy.early import Early
from homelab.deploy.fanout import apply
from homelab.deploy.models import ApplyOptions
from homelab.deploy.plan import HostPlan, Refusal, endpoint_of
from homelab.deploy.ssh import Connection, Endpoint, HostKeyError, SshSettings
from homelab.deploy.workflow import prepare
from homelab.lab import Lab
from tests.deploy.labs import make_lab
from tests.sshd.rig import Rig


def closed(conn: Connection, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while conn.transport.is_active() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not conn.transport.is_active()


def test_a_host_takes_the_connection_made_for_its_endpoint(rig: Rig) -> None:
    rig.add("web")
    settings: SshSettings = rig.settings()  # type: ignore[assignment]
    early = Early({"web": Endpoint("web")}, settings)

    made = early.take("web", Endpoint("web"), settings)

    assert made is not None
    conn = made.result(timeout=10)
    assert conn.transport.is_active() and conn.transport.is_authenticated()
    assert early.take("web", Endpoint("web"), settings) is None  # taken once
    early.close()
    assert conn.transport.is_active()  # the host's own now: close leaves it alone
    conn.close()


def test_a_connection_for_another_key_or_settings_is_closed_not_used(rig: Rig) -> None:
    machine = rig.add("web")
    settings: SshSettings = rig.settings()  # type: ignore[assignment]
    early = Early({"web": Endpoint("web")}, settings)
    [(_, made)] = early._made.values()
    pinned = Endpoint("web", host_key=machine.ed25519_key)  # verified since: connect anew

    assert early.take("web", pinned, settings) is None
    assert closed(made.result(timeout=10))

    other = Early({"web": Endpoint("web")}, settings)
    accepting: SshSettings = rig.settings(accept_new=True)  # type: ignore[assignment]
    assert other.take("web", Endpoint("web"), accepting) is None
    other.close()


def test_an_apply_not_sent_leaves_no_connection_open(rig: Rig, tmp_path: Path) -> None:
    machines = [rig.add("web"), rig.add("db")]
    lab = make_lab(tmp_path / "lab", machines)
    ready = prepare(Lab(lab), [], ssh=rig.settings())  # type: ignore[arg-type]
    profiles = [ready.state.hosts[m.name].profile for m in machines]
    made = [
        ready.early.take(p.folder, endpoint_of(p), rig.settings())  # type: ignore[arg-type]
        for p in profiles
        if p is not None
    ]
    assert len(made) == 2
    assert all(m is not None for m in made)
    conns = [m.result(timeout=10) for m in made if m is not None]

    kept = prepare(Lab(lab), [], ssh=rig.settings())  # type: ignore[arg-type]
    futures = [f for _, f in kept.early._made.values()]
    kept.close()  # the person said no

    for future in futures:
        assert future.cancelled() or closed(future.result(timeout=10))
    for conn in conns:
        conn.close()


def test_an_unknown_host_key_found_early_is_refused_where_the_host_takes_it(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web", known=False)
    settings: SshSettings = rig.settings()  # type: ignore[assignment]
    early = Early({"web": Endpoint("web")}, settings)

    made = early.take("web", Endpoint("web"), settings)

    assert made is not None
    with pytest.raises(HostKeyError) as refused:
        made.result(timeout=10)
    assert refused.value.kind == "unknown"
    assert refused.value.presented.split()[:2] == machine.ed25519_key.split()[:2]


def test_a_host_refused_before_it_connects_closes_its_early_connection(rig: Rig) -> None:
    rig.add("web")
    settings: SshSettings = rig.settings()  # type: ignore[assignment]
    early = Early({"web": Endpoint("web")}, settings)
    [(_, made)] = early._made.values()
    plan = HostPlan("web", "web", Endpoint("web"), {}, refused=Refusal("its secrets are stale"))

    [result] = apply([plan], ApplyOptions(ssh=settings), early=early)

    assert not result.ok and result.summary == "its secrets are stale"
    assert closed(made.result(timeout=10))
