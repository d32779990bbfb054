"""pytest fixtures of the SSH test rig. A test folder's conftest.py imports them
(`from tests.sshd.fixtures import home, rig`) and lists them in its __all__."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sshd.rig import Rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """Simulated machines (`rig.add(name)`), stopped with every process they left."""
    made = Rig(tmp_path / "rig")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def home(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line's SSH setup is the rig's: HOME with its key, known_hosts and
    ssh_config; no ssh-agent."""
    monkeypatch.setenv("HOME", str(rig.home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return rig.home
