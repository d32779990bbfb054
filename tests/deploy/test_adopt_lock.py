"""`homelab adopt` brings a running machine into the lab; `homelab lock` pins the flake's
inputs with Nix (here, or on a machine) and commits flake.lock."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from homelab.deploy.adopt import parse_address, release_of, starting_profile
from homelab.lab import Lab
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.sshd.rig import Rig


def test_adopt_writes_a_valid_host_with_the_pinned_key_and_commits(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("box", known=False)
    lab = make_lab(tmp_path / "lab", [])

    code, out, err = run_cli(
        "--lab", str(lab), "adopt", "newbox", f"root@127.0.0.1:{machine.port}", "--accept-new"
    )

    assert code == 0, out + err
    folder = lab / "hosts" / "newbox"
    profile = (folder / "profile.yaml").read_text()
    assert f"  hostKey: {machine.host_key}\n" in profile
    assert 'stateVersion: "23.11"' in profile  # as /etc/nixos/configuration.nix says
    assert "system: x86_64-linux" in profile
    assert f"port: {machine.port}" in profile
    hardware = (machine.root / "etc" / "nixos" / "hardware-configuration.nix").read_text()
    assert (folder / "hardware-configuration.nix").read_text() == hardware
    state = Lab(lab).load()
    assert state.hosts["newbox"].valid, state.hosts["newbox"].problems
    head = git.Repo(lab).head.commit
    assert "newbox" in head.message
    assert {"hosts/newbox/profile.yaml", "hosts/newbox/hardware-configuration.nix"} <= set(
        head.stats.files
    )
    # and it can be applied at once: the pinned key is the machine's
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "newbox")
    assert code == 0, out + err
    assert machine.generation() == 2


def test_adopt_refuses_bad_input_and_writes_nothing(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("box")
    lab = make_lab(tmp_path / "lab", [machine])
    before = sorted(p.name for p in (lab / "hosts").iterdir())
    for name, address, said in [
        ("box", f"root@127.0.0.1:{machine.port}", "hosts/box already exists"),
        ("other", "root@", "is not a host name or address"),
        ("other", "root@127.0.0.1:99999", "the port must be a number from 1 to 65535"),
        ("other", "@127.0.0.1", "nothing before the @"),
        ("Bad Name", f"root@127.0.0.1:{machine.port}", "Bad Name"),
    ]:
        code, out, err = run_cli("--lab", str(lab), "adopt", name, address, "--accept-new")
        assert code == 2, (name, address, out, err)
        assert said in err, err
    assert sorted(p.name for p in (lab / "hosts").iterdir()) == before


def test_adopt_without_trust_touches_nothing(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("box", known=False)
    lab = make_lab(tmp_path / "lab", [])
    code, out, err = run_cli("--lab", str(lab), "adopt", "newbox", f"127.0.0.1:{machine.port}")
    assert code == 1
    assert "unknown host key" in out + err
    assert not (lab / "hosts" / "newbox").exists()


def test_address_and_profile_words() -> None:
    assert str(parse_address("admin@[fe80::1]:2222")) == "admin@[fe80::1]:2222"
    assert parse_address("pi.lan").user is None
    for bad in ("root@[fe80::1", "root@host:port", "root@ho st", "Root Ä@host"):
        with pytest.raises(ValueError):
            parse_address(bad)
    assert release_of({"version": "24.11.20241201.abc"}) == "24.11"
    assert release_of({"os": 'nixos "23.05"'}) == "23.05"
    text = starting_profile(
        "pi",
        parse_address("admin@pi.lan"),
        "admin",
        {"system": "aarch64-linux"},
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmD5m8nY3Zt1m0eQd7T1sQ4kq9m6fG7qJ3vQ2c0Gm3a",
    )
    assert "  sudo: true\n" in text  # not root: the rebuild goes through sudo
    assert "system: aarch64-linux" in text


# ---- lock -----------------------------------------------------------------------------


def nix_or_skip() -> None:
    if shutil.which("nix") is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("nix is missing")
        pytest.skip("nix is missing")


def flake_with_a_local_input(lab: Path, tmp_path: Path) -> None:
    source = tmp_path / "input"
    source.mkdir()
    (source / "flake.nix").write_text("{ outputs = { self }: { }; }\n")
    (lab / "flake.nix").write_text(
        f'{{\n  inputs.pinned.url = "path:{source}";\n  outputs = {{ self, pinned }}: {{ }};\n}}\n'
    )
    repo = git.Repo(lab)
    repo.git.add("flake.nix")
    repo.index.commit("a flake with one input")


def test_lock_here_writes_and_commits_flake_lock(tmp_path: Path, run_cli: RunCli) -> None:
    nix_or_skip()
    lab = make_lab(tmp_path / "lab", [])
    flake_with_a_local_input(lab, tmp_path)
    (lab / "notes.txt").write_text("not to be committed\n")

    code, out, err = run_cli("--lab", str(lab), "lock")

    assert code == 0, out + err
    lock = (lab / "flake.lock").read_text()
    assert '"pinned"' in lock and str(tmp_path / "input") in lock
    head = git.Repo(lab).head.commit
    assert set(head.stats.files) == {"flake.lock"}
    code, out, err = run_cli("--lab", str(lab), "lock")
    assert code == 0
    assert "flake.lock did not change" in out


def test_lock_on_a_machine_brings_flake_lock_back(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    nix_or_skip()
    machine = rig.add("builder")
    lab = make_lab(tmp_path / "lab", [machine])
    flake_with_a_local_input(lab, tmp_path)

    temporary = set(Path("/tmp").glob("homelab-lock.*"))

    code, out, err = run_cli("--lab", str(lab), "lock", "builder", "--no-commit")

    assert code == 0, out + err
    assert '"pinned"' in (lab / "flake.lock").read_text()
    assert "flake.lock" in git.Repo(lab).untracked_files
    assert set(Path("/tmp").glob("homelab-lock.*")) == temporary  # cleaned up on the machine


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    yield
