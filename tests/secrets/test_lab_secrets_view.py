"""The lab's encrypted secrets as they stand (homelab.secrets.view, computed by
LabFiles.load): who uses each, who should read it and who can, read from each file's own
stanzas; and each problem as a person reads it, at its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.errors import Problem
from homelab.labfiles import LabFiles, LabState
from homelab.secrets.view import LabSecrets, SecretState, names_in
from tests.secrets.keyfiles import age_key, ssh_key
from tests.secrets.seclab import AT, NAMES, SecretsLab, make


@pytest.fixture
def lab(tmp_path: Path) -> SecretsLab:
    return make(tmp_path)


def load(lab: SecretsLab) -> tuple[LabState, LabSecrets]:
    state = LabFiles(lab.root).load()
    assert state.secrets is not None
    return state, state.secrets


def said(state: LabState) -> list[str]:
    """Every error and warning about secrets, as the CLI prints them."""
    out = [f"error: {p}" for p in state.all_problems()]
    out += [f"warning: {p}" for p in state.all_warnings() if "flake.lock" not in p.message]
    return out


def one(found: list[Problem], text: str) -> Problem:
    chosen = [p for p in found if text in p.message]
    assert len(chosen) == 1, f"{text!r} in {[p.message for p in found]}"
    return chosen[0]


def test_a_lab_whose_secrets_are_in_order_says_nothing(lab: SecretsLab) -> None:
    state, secrets = load(lab)
    assert said(state) == []
    assert sorted(secrets.secrets) == sorted(NAMES)
    for name in NAMES:
        s = secrets.secrets[name]
        assert (s.file, s.present, s.encrypted, s.hosts) == (
            f"encrypted/{name}.age",
            True,
            True,
            ("dns",),
        )
        assert [(r.name, r.kind) for r in s.wanted] == [("dns", "host"), ("alice", "admin")]
        # the host is matched by its key's tag; the admin's age key is only counted
        assert [can for _, can in s.readers()] == [True, None]
        assert (s.missing, s.others, s.stale) == ((), 0, False)
        assert str(s.uses[0].place) == AT[name]
    assert secrets.stale_for("dns") == []
    assert secrets.host_keys["dns"] is not None
    assert secrets.host_keys["dns"].text == lab.host_pub
    # how each is installed, as the profile says
    uses = {s.name: s.uses[0].secret for s in secrets.secrets.values()}
    assert (uses["grafana-key"].owner, uses["grafana-key"].at) == (
        "grafana",
        ("services", "grafana", "secretKeyFile"),
    )
    assert uses["ops-password"].at == ("users", "ops", "hashedPasswordFile")
    assert (uses["wifi"].owner, uses["wifi"].mode, uses["wifi"].target) == (
        "ops",
        "0440",
        "/var/lib/secrets/wifi.env",
    )


def test_a_secret_that_does_not_exist_is_an_error_at_each_use(lab: SecretsLab) -> None:
    (lab.root / "encrypted/tailscale-authkey.age").unlink()
    (lab.root / "encrypted/wifi.age").unlink()
    state, secrets = load(lab)
    assert not secrets.secrets["wifi"].present
    assert said(state) == [
        f"error: {AT['tailscale-authkey']}: services.tailscale.authKeyFile: secret "
        "tailscale-authkey does not exist: there is no encrypted/tailscale-authkey.age\n"
        "    hint: homelab secrets set tailscale-authkey < FILE (or homelab secrets edit "
        "tailscale-authkey)",
        f"error: {AT['wifi']}: secrets.wifi: secret wifi does not exist: there is no "
        "encrypted/wifi.age\n    hint: homelab secrets set wifi < FILE (or homelab secrets "
        "edit wifi)",
    ]
    assert state.hosts["dns"].problems  # the host cannot be built or applied


def test_a_secret_no_host_uses_is_a_warning_at_its_file(lab: SecretsLab) -> None:
    lab.encrypt("old-vpn")
    state, secrets = load(lab)
    assert secrets.secrets["old-vpn"].uses == ()
    assert said(state) == [
        "warning: encrypted/old-vpn.age:1:1: no host uses secret old-vpn\n"
        "    hint: name it in a setting as {secret: old-vpn}, or remove encrypted/old-vpn.age"
    ]
    assert state.all_problems() == []


def test_a_secret_encrypted_to_the_hosts_old_key_is_stale_for_that_host(
    lab: SecretsLab,
) -> None:
    _, old = ssh_key(lab.keys, "old_host_key")
    lab.encrypt("tailscale-authkey", old, lab.admin_pub)
    state, secrets = load(lab)
    s = secrets.secrets["tailscale-authkey"]
    assert s.stale and [r.name for r in s.missing] == ["dns"] and s.others == 1
    assert secrets.stale_for("dns") == [s]
    assert said(state) == [
        "warning: encrypted/tailscale-authkey.age:1:1: 1 key(s) that are no longer the "
        "lab's can still open tailscale-authkey\n    hint: run `homelab secrets rekey` (it "
        "needs an admin's key: see `homelab secrets list`); then change the value itself: "
        "the old key's owner may have kept a copy",
        f"warning: {AT['tailscale-authkey']}: services.tailscale.authKeyFile: "
        "encrypted/tailscale-authkey.age is not encrypted to dns's current host key: the "
        "machine cannot open it (apply refuses this host)\n    hint: run `homelab secrets "
        "rekey` (it needs an admin's key: see `homelab secrets list`)",
    ]
    # a warning for validate; apply is what refuses (stale_for)
    assert state.all_problems() == []


def test_a_removed_admin_who_can_still_open_a_secret_is_counted(lab: SecretsLab) -> None:
    _, bob = age_key(lab.keys, "bob")
    _, carol = ssh_key(lab.keys, "carol")
    lab.encrypt("wifi", lab.host_pub, lab.admin_pub, bob)
    lab.encrypt("grafana-key", lab.host_pub, lab.admin_pub, carol)
    state, secrets = load(lab)
    # an age key: one X25519 stanza more than the lab has admins with age keys
    assert (secrets.secrets["wifi"].others, secrets.secrets["wifi"].missing) == (1, ())
    # an SSH key: a stanza whose tag is nobody's
    assert secrets.secrets["grafana-key"].others == 1
    assert [p.split("\n")[0] for p in said(state)] == [
        "warning: encrypted/grafana-key.age:1:1: 1 key(s) that are no longer the lab's can "
        "still open grafana-key",
        "warning: encrypted/wifi.age:1:1: 1 key(s) that are no longer the lab's can still "
        "open wifi",
    ]
    assert secrets.stale_for("dns") == []  # the machine opens them all the same


def test_admins_age_keys_are_counted_not_named(lab: SecretsLab) -> None:
    _, bob = age_key(lab.keys, "bob")
    lab.edit("lab.yaml", "  alice:", f"  bob: {bob}\n  alice:")
    state, secrets = load(lab)
    # every file has one X25519 stanza for two age keys: neither admin can be sure
    s = secrets.secrets["wifi"]
    assert sorted(r.name for r in s.missing) == ["alice", "bob"]
    assert [p.split("\n")[0] for p in said(state)] == [
        f"warning: encrypted/{name}.age:1:1: admin bob, alice cannot open {name}" for name in NAMES
    ]
    lab.encrypt("wifi", lab.host_pub, lab.admin_pub, bob)
    _, secrets = load(lab)
    assert [can for _, can in secrets.secrets["wifi"].readers()] == [True, None, None]
    assert secrets.secrets["wifi"].stale is False


def test_a_plaintext_file_under_a_age_name_is_an_error(lab: SecretsLab) -> None:
    (lab.root / "encrypted/wifi.age").write_bytes(b"WPA_PSK=correct horse battery\n")
    state, secrets = load(lab)
    assert secrets.secrets["wifi"].present and not secrets.secrets["wifi"].encrypted
    assert said(state) == [
        "error: encrypted/wifi.age:1:1: is not an age file: a secret saved in plaintext "
        "under a .age name? It is readable by anyone with the repository\n    hint: encrypt "
        "it: homelab secrets set wifi < encrypted/wifi.age; if it was committed, change the "
        "value itself (git keeps the plaintext in history)"
    ]
    assert all("correct horse" not in line for line in said(state))


def test_uses_on_one_host_that_disagree_on_the_owner_are_an_error(lab: SecretsLab) -> None:
    lab.edit(
        "hosts/dns/profile.yaml",
        "    hashedPasswordFile: {secret: ops-password}\n",
        "    hashedPasswordFile: {secret: ops-password}\n  grafana:\n"
        "    hashedPasswordFile: {secret: grafana-key, owner: root}\n",
    )
    state, _ = load(lab)
    assert said(state) == [
        "error: hosts/dns/profile.yaml:16:25: users.grafana.hashedPasswordFile: secret "
        "grafana-key is installed with owner 'root' here, but with 'grafana' at "
        f"{AT['grafana-key']}\n    hint: a host has one copy of each secret: give it one "
        "owner, or use two secrets"
    ]


def test_secrets_without_the_agenix_input_in_lab_yaml_are_an_error(lab: SecretsLab) -> None:
    lab.edit("lab.yaml", '  agenix: {url: "github:ryantm/agenix"}\n', "  {}\n")
    lab.edit("lab.yaml", "inputs:\n  {}\n", "")
    state, _ = load(lab)
    assert said(state) == [
        f"error: {AT['tailscale-authkey']}: services.tailscale.authKeyFile: encrypted "
        "secrets need the agenix flake input, which lab.yaml does not have\n    hint: add to "
        'lab.yaml: `inputs: {agenix: {url: "github:ryantm/agenix"}}` (homelab secrets set '
        "and edit add it), then `nix flake lock`"
    ]


def test_a_host_deployed_with_channels_cannot_use_encrypted_secrets(lab: SecretsLab) -> None:
    lab.edit("hosts/dns/profile.yaml", "deploy:\n", "deploy:\n  method: channels\n")
    state, _ = load(lab)
    found = one(state.all_problems(), "this host deploys with channels")
    assert str(found.place) == AT["tailscale-authkey"]
    assert found.message == (
        "encrypted secrets need a flake (the agenix input): this host deploys with channels"
    )
    assert "deploy.method: flake" in found.hint and "source:" in found.hint


def test_a_lab_without_lab_yaml_is_warned_its_flake_must_have_agenix(lab: SecretsLab) -> None:
    (lab.root / "lab.yaml").unlink()
    state, secrets = load(lab)
    found = one(state.all_warnings(), "kept by hand")
    assert str(found.place) == AT["tailscale-authkey"]
    assert "agenix input" in found.message
    # no admins now: the files hold a key that is no longer the lab's
    assert secrets.secrets["wifi"].others == 1


@pytest.mark.parametrize(
    "pinned",
    [None, "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA=="],
    ids=["no-host-key", "ecdsa-host-key"],
)
def test_a_host_without_an_ed25519_key_is_warned(lab: SecretsLab, pinned: str | None) -> None:
    lab.edit(
        "hosts/dns/profile.yaml",
        f"  hostKey: {lab.host_pub}\n",
        f"  hostKey: {pinned}\n" if pinned else "",
    )
    state, secrets = load(lab)
    assert secrets.host_keys["dns"] is None
    found = [w for w in state.all_warnings() if "no ed25519 host key pinned" in w.message]
    assert sorted(str(w.place) for w in found) == sorted(AT.values())
    assert found[0].hint == "homelab apply --accept-new dns (or homelab adopt) pins it"
    # ageHostKey beside an ECDSA hostKey: the ed25519 key is the one secrets are for
    if pinned:
        lab.edit(
            "hosts/dns/profile.yaml", "  hostKey:", f"  ageHostKey: {lab.host_pub}\n  hostKey:"
        )
        state, secrets = load(lab)
        assert said(state) == []
        assert secrets.host_keys["dns"] is not None
        assert secrets.host_keys["dns"].text == lab.host_pub


def test_a_secret_used_by_two_hosts_must_open_for_both(lab: SecretsLab) -> None:
    _, other = ssh_key(lab.keys, "nas_host_key")
    other_pub = " ".join(other.split()[:2])
    nas = lab.root / "hosts/nas"
    nas.mkdir()
    text = lab.profile.read_text(encoding="utf-8").replace(lab.host_pub, other_pub)
    (nas / "profile.yaml").write_text(text.replace("192.168.1.2", "192.168.1.3"))
    state, secrets = load(lab)
    s: SecretState = secrets.secrets["wifi"]
    assert s.hosts == ("dns", "nas")
    assert [r.name for r in s.missing] == ["nas"]
    assert secrets.stale_for("dns") == []
    assert [x.name for x in secrets.stale_for("nas")] == sorted(NAMES)
    stale = [w for w in state.all_warnings() if "current host key" in w.message]
    assert {str(w.place).split(":")[0] for w in stale} == {"hosts/nas/profile.yaml"}


def test_a_host_that_runs_no_sshd_is_warned_agenix_has_no_key(lab: SecretsLab) -> None:
    lab.edit("hosts/dns/profile.yaml", "  openssh: {}\n", "")
    state, _ = load(lab)
    assert said(state) == [
        "warning: hosts/dns/profile.yaml:8:18: services.tailscale.authKeyFile: the machine "
        "opens encrypted secrets with its SSH host key, but this host does not run sshd: "
        "agenix would have no key (age.identityPaths is empty) and NixOS refuses the "
        "configuration\n    hint: add `openssh: {}` under services: (or set "
        "age.identityPaths under options:), unless a module or extraConfig of the host does"
    ]
    # sshd enabled as a NixOS option, or agenix's keys named: no warning
    for options in (
        "options:\n  services.openssh.enable: true\n",
        "options:\n  services.openssh: {enable: true}\n",
        'options:\n  age.identityPaths: ["/etc/ssh/ssh_host_ed25519_key"]\n',
    ):
        text = lab.profile.read_text(encoding="utf-8")
        lab.profile.write_text(text + options, encoding="utf-8")
        state, _ = load(lab)
        assert said(state) == [], options
        lab.profile.write_text(text, encoding="utf-8")


def test_only_age_files_in_encrypted_are_secrets(lab: SecretsLab) -> None:
    assert names_in(["b.age", "a.age", ".age", "README.md", ".b.x1y2.tmp", "secrets.nix"]) == [
        "a",
        "b",
    ]
    # a half-written temporary file beside them is no secret, and no warning
    (lab.root / "encrypted/.wifi.abc123.tmp").write_bytes(b"partial")
    (lab.root / "encrypted/secrets.nix").write_text("{ }\n")
    state, secrets = load(lab)
    assert sorted(secrets.secrets) == sorted(NAMES)
    assert said(state) == []


def test_a_secret_no_admin_can_open_says_to_set_it_again_not_to_rekey(lab: SecretsLab) -> None:
    # encrypted to the host alone: no admin's key can ever open it, so no rekey can help
    lab.encrypt("wifi", lab.host_pub)
    state, _ = load(lab)
    lines = [p for p in said(state) if p.startswith("warning: encrypted/wifi.age")]
    assert lines == [
        "warning: encrypted/wifi.age:1:1: admin alice cannot open wifi\n    hint: no admin's "
        "key opens it, so no rekey can: set its value again (homelab secrets set wifi < FILE)"
    ]
