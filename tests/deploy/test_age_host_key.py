"""deploy.ageHostKey: the machine's ed25519 host key (age encrypts a host's secrets to it),
read from /etc/ssh over the verified connection when `adopt` or `apply --accept-new` pins
a host key, and pinned only when deploy.hostKey is not already that key. The rig's
`ecdsa` machines present an ECDSA key, as paramiko may negotiate with a real one."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import git
import pytest

from homelab.deploy.hostkeys import age_pin, pin_profile
from homelab.deploy.models import ApplyOptions
from homelab.deploy.ssh import ed25519_line
from homelab.deploy.workflow import prepare, send
from homelab.lab import Lab
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.secretlabs import admin_identity, age_open, make_secret_lab, need_age
from tests.sshd.rig import Rig

ED_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILc6Ya/nG9YA/DnGsvSieQSwuJNtIgNEuOHIdwMuXETJ"
ED_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPdxKxJRvD7q8BpJbWCb9AE4sbxWQmfnW5xcY9aBUp8s"
ECDSA = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBE5p0KTY7YB"
    "NMZbVTRoJ2h7JZzw7k8c1BqnK0X8wz7Jv3o0oIuH9m3p7ZC9gTq8bqUXzw2B6Vx8c0f0p2P6nQ1E="
)


def test_age_pin_is_the_ed25519_key_unless_host_key_is_it() -> None:
    assert age_pin(ECDSA, ED_A) == ED_A
    assert age_pin(None, ED_A) == ED_A
    assert age_pin(ED_A, ED_A) is None
    assert age_pin(ED_A + " a comment", ED_A) is None
    assert age_pin(ED_B, ED_A) == ED_A
    assert age_pin(ECDSA, None) is None


def test_ed25519_line_takes_only_one_ed25519_public_key() -> None:
    assert ed25519_line(ED_A + " root@pi\n") == ED_A
    assert ed25519_line(ECDSA) is None
    assert ed25519_line("") is None
    assert ed25519_line("ssh-ed25519 AAAA") is None
    assert ed25519_line("ssh-ed25519 " + ECDSA.split()[1]) is None  # another key's blob
    assert ed25519_line("cat: /etc/ssh/ssh_host_ed25519_key.pub: No such file") is None


def test_pin_profile_sets_replaces_and_removes_age_host_key_keeping_comments(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("# pi\nhost: {stateVersion: '24.05'}  # keep\ndeploy:\n  address: pi\n")
    assert pin_profile(tmp_path, "profile.yaml", ECDSA, ED_A)
    text = profile.read_text()
    assert f"  hostKey: {ECDSA}\n" in text and f"  ageHostKey: {ED_A}\n" in text
    assert "# keep" in text and text.startswith("# pi\n")
    assert not pin_profile(tmp_path, "profile.yaml", None, ED_A)  # nothing new
    assert pin_profile(tmp_path, "profile.yaml", None, ED_B)  # the machine's key changed
    assert f"  ageHostKey: {ED_B}\n" in profile.read_text()
    assert pin_profile(tmp_path, "profile.yaml", ED_B, ED_B)  # hostKey is that key now
    assert "ageHostKey" not in profile.read_text()
    assert f"  hostKey: {ED_B}\n" in profile.read_text()


def test_adopt_pins_the_ed25519_key_beside_an_ecdsa_host_key(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("box", known=False, ecdsa=True)
    assert machine.host_key.startswith("ecdsa-sha2-nistp256 ")
    lab = make_lab(tmp_path / "lab", [])

    code, out, err = run_cli(
        "--lab", str(lab), "adopt", "box", f"{getpass.getuser()}@127.0.0.1:{machine.port}",
        "--accept-new",
    )  # fmt: skip

    assert code == 0, out + err
    profile = (lab / "hosts" / "box" / "profile.yaml").read_text()
    assert f"hostKey: {machine.host_key}\n" in profile
    assert f"ageHostKey: {machine.ed25519_key}\n" in profile
    head = git.Repo(lab).head.commit
    assert "ageHostKey" in (head.tree / "hosts/box/profile.yaml").data_stream.read().decode()


def test_adopt_of_an_ed25519_machine_pins_no_age_host_key(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("box", known=False)
    lab = make_lab(tmp_path / "lab", [])
    code, out, err = run_cli(
        "--lab", str(lab), "adopt", "box", f"{getpass.getuser()}@127.0.0.1:{machine.port}",
        "--accept-new",
    )  # fmt: skip
    assert code == 0, out + err
    profile = (lab / "hosts" / "box" / "profile.yaml").read_text()
    assert f"hostKey: {machine.host_key}\n" in profile
    assert "ageHostKey" not in profile


def test_accept_new_pins_the_ed25519_key_of_a_host_without_secrets(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web", known=False, ecdsa=True)
    lab = make_lab(tmp_path / "lab", [machine])

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--accept-new")

    assert code == 0, out + err
    assert "pinned web's ed25519 host key for its secrets" in out
    profile = (lab / "hosts" / "web" / "profile.yaml").read_text()
    assert f"  hostKey: {machine.host_key}\n" in profile
    assert f"  ageHostKey: {machine.ed25519_key}\n" in profile
    head = git.Repo(lab).head.commit
    assert "host key pinned" in head.message
    assert set(head.stats.files) == {"hosts/web/profile.yaml"}


def test_a_host_pinned_by_its_ecdsa_key_gets_its_ed25519_key_and_its_secrets_in_one_run(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_age()
    identity, admin = admin_identity(tmp_path / "admin")
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(identity))
    pi = rig.add("pi", ecdsa=True)
    lab = make_secret_lab(
        tmp_path / "lab", [pi], {"pi": ["wifi-psk"]}, {"wifi-psk": b"psk-PLAIN-7"}, admin
    )
    # hostKey is ECDSA, which age cannot encrypt to: the file was made for the admin only
    assert age_open(lab / "encrypted" / "wifi-psk.age", pi.host_private_key) is None

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")  # the key is verified

    assert code == 0, out + err
    assert "pinned pi's ed25519 host key" in out
    assert "re-encrypted 1 secret to pi's new host key (wifi-psk)" in out
    profile = (lab / "hosts" / "pi" / "profile.yaml").read_text()
    assert f"  hostKey: {pi.host_key}\n" in profile  # unchanged
    assert f"  ageHostKey: {pi.ed25519_key}\n" in profile
    sent = pi.state() / "config" / "encrypted" / "wifi-psk.age"
    assert age_open(sent, pi.host_private_key) == b"psk-PLAIN-7"
    assert re.search(r"^pi\s+ok\s", out, re.M), out


def test_the_editor_way_a_checked_key_is_accepted_and_no_other(
    rig: Rig, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The editor shows the fingerprint of the refused host's key, the person trusts it,
    and the next apply accepts exactly that key (accept_keys): pinned, secrets re-encrypted,
    deployed; a key the person did not check is still refused."""
    need_age()
    identity, admin = admin_identity(tmp_path / "admin")
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(identity))
    pi = rig.add("pi", known=False)
    lab = make_secret_lab(
        tmp_path / "lab", [pi], {"pi": ["wifi-psk"]}, {"wifi-psk": b"psk-PLAIN-8"}, admin,
        pinned=False,
    )  # fmt: skip
    notes: list[str] = []

    first = send(prepare(Lab(lab), []), ApplyOptions(ssh=rig.settings()), on_note=notes.append)
    assert [r.unknown_key for r in first.results] == [pi.host_key]  # shown to be checked

    other = {"pi": ED_A}  # not the machine's key
    again = send(prepare(Lab(lab), []), ApplyOptions(ssh=rig.settings(accept_keys=other)))
    assert not again.results[0].ok and "unknown host key" in again.results[0].summary

    checked = {"pi": pi.host_key}
    done = send(
        prepare(Lab(lab), []),
        ApplyOptions(ssh=rig.settings(accept_keys=checked)),
        on_note=notes.append,
    )
    assert done.results[0].ok, done.results[0]
    assert "re-encrypted 1 secret to pi's new host key (wifi-psk)" in notes
    sent = pi.state() / "config" / "encrypted" / "wifi-psk.age"
    assert age_open(sent, pi.host_private_key) == b"psk-PLAIN-8"
