"""When an apply may leave a machine alone: every rule of homelab.deploy.uptodate, one at a
time, from a machine that is up to date."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from homelab.deploy.hostlock import Facts
from homelab.deploy.models import ApplyOptions
from homelab.deploy.plan import HostPlan
from homelab.deploy.ssh import Endpoint, SshSettings
from homelab.deploy.target import sha256
from homelab.deploy.upload import SecretFile
from homelab.deploy.uptodate import judge
from homelab.history.records import DeployRecord

SYSTEM = "/nix/store/aaaa-nixos-system-web"
FILES = {"flake.nix": b"{ }", "flake.lock": b"{}", "hosts/web/configuration.nix": b"{ }"}
SECRET = SecretFile("api", "/run/keys/api", b"hunter2")
LAST = DeployRecord("web", "c0ffee", "switch", "ok", datetime.now(UTC), system=SYSTEM)
PLAN = HostPlan("web", "web", Endpoint("web"), FILES, secrets=(SECRET,), last=LAST)
FACTS = Facts(
    current=SYSTEM,
    manifest={"host": "web", "files": {p: sha256(d) for p, d in FILES.items()}},
    secrets={SECRET.target: SECRET.digest},
)
OPTIONS = ApplyOptions(ssh=SshSettings())


def test_a_machine_on_its_last_switch_with_the_same_files_and_secrets_is_up_to_date() -> None:
    assert judge(PLAN, FACTS, OPTIONS).up_to_date


def _files(**changes: bytes | None) -> dict[str, bytes]:
    out = dict(FILES)
    for path, data in changes.items():
        path = path.replace("__", "/").replace("_", ".")
        if data is None:
            out.pop(path)
        else:
            out[path] = data
    return out


CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    # name: (plan changes, facts changes, options changes)
    "--force": ({}, {}, {"force": True}),
    "a test now": ({}, {}, {"mode": "test"}),
    "a boot now": ({}, {}, {"mode": "boot"}),
    "never deployed": ({"last": None}, {}, {}),
    "last one failed": ({"last": replace(LAST, result="failed")}, {}, {}),
    "last one rolled back": ({"last": replace(LAST, result="rolled-back")}, {}, {}),
    "last one interrupted": ({"last": replace(LAST, result="interrupted", run="r1")}, {}, {}),
    "an earlier run to confirm": ({"earlier_run": "r1"}, {}, {}),
    "last one a test": ({"last": replace(LAST, mode="test")}, {}, {}),
    "last one a boot": ({"last": replace(LAST, mode="boot")}, {}, {}),
    "last one a dry activation": ({"last": replace(LAST, mode="dry-activate")}, {}, {}),
    "last one a build": ({"last": replace(LAST, mode="build")}, {}, {}),
    "a record without its system": ({"last": replace(LAST, system="")}, {}, {}),
    "flake.lock changed": ({"files": _files(flake_lock=b'{"v":2}')}, {}, {}),
    "a module changed": ({"files": _files(hosts__web__configuration_nix=b"{ x }")}, {}, {}),
    "a file no longer sent": ({"files": _files(flake_lock=None)}, {}, {}),
    "a secret changed": ({"secrets": (replace(SECRET, data=b"new"),)}, {}, {}),
    "a secret's owner changed": ({"secrets": (replace(SECRET, owner="nobody"),)}, {}, {}),
    "a secret dropped": ({"secrets": ()}, {}, {}),
    "another host's manifest": ({}, {"manifest": {**FACTS.manifest, "host": "db"}}, {}),
    "no manifest": ({}, {"manifest": {}}, {}),
    "switched by hand": ({}, {"current": "/nix/store/bbbb-nixos-system-web"}, {}),
}


@pytest.mark.parametrize("name", CASES)
def test_anything_that_may_differ_rebuilds(name: str) -> None:
    plan, facts, options = CASES[name]

    verdict = judge(replace(PLAN, **plan), replace(FACTS, **facts), replace(OPTIONS, **options))

    assert not verdict.up_to_date


def test_a_machine_switched_by_hand_is_named_with_both_systems() -> None:
    facts = replace(FACTS, current="/nix/store/bbbb-nixos-system-web")

    note = judge(PLAN, facts, OPTIONS).note

    assert "/nix/store/bbbb-nixos-system-web" in note and SYSTEM in note
