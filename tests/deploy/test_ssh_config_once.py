"""The ssh_config is read once for all the hosts of an apply, and again when it changes."""

from __future__ import annotations

import os
from pathlib import Path

import paramiko
import pytest

from homelab.deploy.ssh import Endpoint, SshSettings, resolve


def test_many_hosts_read_the_config_once_and_a_changed_config_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("Host web*\n  Port 2201\n  User deploy\n")
    reads: list[str] = []
    real = paramiko.SSHConfig.from_path

    def counted(path: str) -> paramiko.SSHConfig:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(paramiko.SSHConfig, "from_path", counted)
    settings = SshSettings(config_file=config)

    routes = [resolve(Endpoint(f"web{i}"), settings) for i in range(20)]

    assert {(r.port, r.user) for r in routes} == {(2201, "deploy")}
    assert len(reads) == 1
    config.write_text("Host web*\n  Port 2202\n  User deploy\n")
    os.utime(config, ns=(1, 1))  # a change within the same instant is seen too (its mtime)
    assert resolve(Endpoint("web1"), settings).port == 2202
    assert len(reads) == 2
