"""`homelab validate` on whatever a profile may hold: random bytes, random YAML, YAML
built of aliases of aliases. Each run is a real process: it exits 0 or 2, prints no
traceback, ends within seconds, and writes nothing into the lab."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import copy_lab, tree_hash

FEW = settings(
    max_examples=int(os.environ.get("HOMELAB_FUZZ_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SECONDS = 8.0  # a validate of the small lab takes well under one


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_lab("basic", tmp_path_factory.mktemp("fuzz") / "lab")


def validate_profile(lab: Path, data: bytes) -> None:
    """Put data in as a host's profile.yaml and check how `homelab validate` takes it."""
    profile = lab / "hosts/fuzz/profile.yaml"
    profile.parent.mkdir(exist_ok=True)
    profile.write_bytes(data)
    before = tree_hash(lab)
    env = {k: v for k, v in os.environ.items() if k != "HOMELAB_LAB"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "homelab", "--lab", str(lab), "validate"],
            capture_output=True,
            text=True,
            env=env,
            timeout=SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"validate ran past {SECONDS} s on {data[:300]!r}")
    took = time.monotonic() - started
    shown = f"{data[:300]!r}\n{done.stderr[-2000:]}"
    assert done.returncode in (0, 2), shown
    assert "Traceback" not in done.stderr, shown
    assert took < SECONDS, shown
    if done.returncode == 2:
        assert "error: " in done.stderr, shown
    assert tree_hash(lab) == before, "validate wrote into the lab"


@FEW
@given(st.binary(max_size=400))
def test_random_bytes_are_a_message_never_a_crash(lab: Path, data: bytes) -> None:
    validate_profile(lab, data)


_words = st.sampled_from(
    ["host", "stateVersion", "name", "users", "services", "packages", "deploy", "include",
     "hardware", "networking", "secrets", "containers", "extraConfig", "openssh", "alice",
     "groups", "sshKeys", "tags", "address", "port", "boot", "loader", "x", "", "<<", "24.05"]
)  # fmt: skip
_scalars = st.one_of(
    _words,
    st.text(max_size=12),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_words, inner, max_size=4),
    max_leaves=25,
)


@FEW
@given(st.dictionaries(_words, _values, max_size=6), st.booleans())
def test_random_yaml_is_a_message_never_a_crash(lab: Path, data: object, flow: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    validate_profile(lab, text.encode("utf-8", "surrogatepass"))


@st.composite
def aliased(draw: st.DrawFn) -> str:
    """Anchors whose values repeat earlier anchors, width and depth drawn: from a few
    shared values up to an alias bomb; sometimes an alias inside its own anchor."""
    width = draw(st.integers(1, 12))
    depth = draw(st.integers(1, 12))
    flow = draw(st.booleans())
    lines = ['host: {stateVersion: "24.05"}', "x:", '  a0: &a0 ["lol", {k: v}]']
    for level in range(1, depth + 1):
        refs = [f"*a{draw(st.integers(max(0, level - 2), level - 1))}" for _ in range(width)]
        if flow:
            lines.append(f"  a{level}: &a{level} [{', '.join(refs)}]")
        else:
            lines.append(f"  a{level}: &a{level}")
            lines += [f"    - {ref}" for ref in refs]
    if draw(st.booleans()):
        lines.append(f"users: {{bob: {{groups: *a{depth}}}}}")
    if draw(st.integers(0, 5)) == 0:
        lines.append("loop: &self [1, *self]")
    return "\n".join(lines) + "\n"


@FEW
@given(aliased())
def test_aliased_yaml_is_a_message_never_a_crash(lab: Path, text: str) -> None:
    validate_profile(lab, text.encode())
