"""Connecting: ssh_config, keys from the agent and from files, host keys checked against
known_hosts and the profile's pin, --accept-new pinning the key in the profile."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from homelab.deploy.ssh import (
    ConnectError,
    Endpoint,
    HostKeyError,
    SshSettings,
    check_host_key,
    connect,
    fingerprint,
    resolve,
)
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.sshd.rig import Rig, keygen

ED_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmD5m8nY3Zt1m0eQd7T1sQ4kq9m6fG7qJ3vQ2c0Gm3a"
ED_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq3zV1pWkG2vXy7d0m3T3B9k2pS7a1qW9fJt6cZrYx1"
RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"


def test_host_key_verdicts() -> None:
    assert check_host_key(ED_A, ED_A, []).trusted
    assert check_host_key(ED_A, ED_A + " a comment", []).trusted
    assert check_host_key(ED_A, ED_B, [ED_A]).kind == "changed"  # the pin wins over known_hosts
    assert check_host_key(ED_A, None, [ED_A]).trusted
    assert check_host_key(ED_A, None, [ED_B]).kind == "changed"
    assert check_host_key(ED_A, None, [RSA]).kind == "unknown"  # another type: not a change
    assert check_host_key(ED_A, None, []).kind == "unknown"


def test_fingerprint_is_what_ssh_keygen_prints(tmp_path: Path) -> None:
    line = keygen(tmp_path / "k", "x")
    shown = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(tmp_path / "k.pub")], capture_output=True, text=True
    ).stdout.split()[1]
    assert fingerprint(line) == shown


def test_ssh_config_is_honoured_and_the_profile_wins(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "Host box\n  HostName 10.1.2.3\n  Port 2222\n  User admin\n"
        "  IdentityFile ~/.ssh/box_key\n  ProxyJump gate,admin@gate2:2200\n"
    )
    settings = SshSettings(config_file=config)
    route = resolve(Endpoint("box"), settings)
    assert (route.hostname, route.port, route.user) == ("10.1.2.3", 2222, "admin")
    assert route.identity_files == (Path(os.path.expanduser("~/.ssh/box_key")),)
    assert route.proxy_jump == ("gate", "admin@gate2:2200")
    assert route.known_name == "[10.1.2.3]:2222"
    route = resolve(Endpoint("box", port=22, user="root"), settings)
    assert (route.port, route.user, route.known_name) == (22, "root", "10.1.2.3")


def test_keys_from_the_agent(rig: Rig, tmp_path: Path) -> None:
    machine = rig.add("web")
    agent = subprocess.run(["ssh-agent", "-s", "-a", str(tmp_path / "agent.sock")],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", agent).group(1))  # type: ignore[union-attr]
    try:
        env = {**os.environ, "SSH_AUTH_SOCK": str(tmp_path / "agent.sock")}
        subprocess.run(["ssh-add", "-q", str(rig.key)], env=env, check=True)
        os.environ["SSH_AUTH_SOCK"] = env["SSH_AUTH_SOCK"]
        settings = rig.settings(use_agent=True, key_files=())
        conn = connect(Endpoint("web"), settings)  # type: ignore[arg-type]
        conn.close()
        without = rig.settings(use_agent=False, key_files=())
        with pytest.raises(ConnectError, match="no keys at all"):
            connect(Endpoint("web"), without)  # type: ignore[arg-type]
    finally:
        os.environ.pop("SSH_AUTH_SOCK", None)
        os.kill(pid, 15)
    assert machine.running()


def test_proxy_jump_goes_through_the_jump_host(rig: Rig) -> None:
    jump = rig.add("jump")
    inner = rig.add("inner")
    with rig.ssh_config.open("a") as f:
        f.write(f"Host hidden\n  HostName 127.0.0.1\n  Port {inner.port}\n  ProxyJump jump\n")
    conn = connect(Endpoint("hidden"), rig.settings())  # type: ignore[arg-type]
    assert len(conn.jumps) == 1
    conn.close()
    jump.stop()
    with pytest.raises(ConnectError) as caught:
        connect(Endpoint("hidden"), rig.settings())  # type: ignore[arg-type]
    assert caught.value.short == "connection refused"


def test_a_pinned_key_is_enough_and_a_wrong_pin_is_refused(rig: Rig) -> None:
    machine = rig.add("web", known=False)
    settings = rig.settings()
    connect(Endpoint("web", host_key=machine.host_key), settings).close()  # type: ignore[arg-type]
    with pytest.raises(HostKeyError) as caught:
        connect(Endpoint("web", host_key=ED_B, pin_file="hosts/web/profile.yaml"), settings)  # type: ignore[arg-type]
    assert caught.value.kind == "changed"
    assert "hosts/web/profile.yaml pins" in str(caught.value)
    # even --accept-new never accepts a changed key
    accepting = rig.settings(accept_new=True)
    with pytest.raises(HostKeyError):
        connect(Endpoint("web", host_key=ED_B), accepting)  # type: ignore[arg-type]


def test_accept_new_pins_the_key_in_the_profile_keeping_its_comments(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web", known=False)
    lab = make_lab(tmp_path / "lab", [machine])
    profile = lab / "hosts" / "web" / "profile.yaml"
    text = profile.read_text().replace("packages: [hello]", "packages: [hello]   # keep this")
    profile.write_text(text)

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 1
    assert "--accept-new" in out
    assert machine.generation() == 1

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--accept-new")
    assert code == 0, out + err
    assert machine.generation() == 2
    assert f"pinned the host key of web ({fingerprint(machine.host_key)})" in out
    pinned = profile.read_text()
    assert f"  hostKey: {machine.host_key}\n" in pinned
    assert pinned.replace(f"  hostKey: {machine.host_key}\n", "") == text
    head = git.Repo(lab).head.commit  # in a commit of its own, to be reviewed
    assert "host key pinned" in head.message
    assert set(head.stats.files) == {"hosts/web/profile.yaml"}
    assert (head.tree / "hosts/web/profile.yaml").data_stream.read().decode() == pinned
    # from now on the pin is enough, and a reinstalled machine is refused loudly
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 0, out + err
    machine.new_host_key()
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--accept-new")
    assert code == 1
    assert "HOST KEY CHANGED for web" in out
    assert machine.generation() == 2


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    yield
