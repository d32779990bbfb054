"""The rig plays builders: one machine builds other hosts' systems (`nix build`), signs
them (`nix store sign`) and copies them (`nix copy`, the real ssh) to a target whose sshd
lets the build key in only to receive (`nix-store --serve --write`), once the target's own
configuration authorizes it; the copied system activates on the target as its own, and
activation opens the target's encrypted secrets with its host key (agenix)."""

from __future__ import annotations

import base64
import io
import os
import shlex
import stat
import subprocess
import tarfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from homelab.nix.expr import Module
from homelab.nix.render import render_file
from tests.deploy.secretlabs import need_age
from tests.sshd import standin
from tests.sshd.rig import Machine, Rig, keygen

BUILD = "nix --extra-experimental-features 'nix-command flakes' build --no-link --print-out-paths"
SIGN = "nix --extra-experimental-features nix-command store sign"
COPY = "nix --extra-experimental-features nix-command copy"
# what the target's authorized_keys line allows the build key (OpenSSH options)
RECEIVE_ONLY = 'restrict,command="nix-store --serve --write"'


def toplevel(folder: Path, host: str) -> str:
    return shlex.quote(f"{folder}#nixosConfigurations.{host}.config.system.build.toplevel")


def nix_file(body: dict[str, object], header: tuple[str, ...] = ()) -> str:
    return render_file(Module(args=(), body=body), list(header))


def host(user: str, keys: tuple[str, ...] = (), header: tuple[str, ...] = ()) -> dict[str, str]:
    """A host's files: a configuration.nix, with users.nix when it authorizes keys."""
    config: dict[str, object] = {"system": {"stateVersion": "24.05"}}
    files = {"configuration.nix": nix_file(config, header)}
    if keys:
        ssh = {"openssh": {"authorizedKeys": {"keys": list(keys)}}}
        files["users.nix"] = nix_file({"users": {"users": {user: ssh}}})
    return files


def lab(folder: Path, hosts: dict[str, dict[str, str]]) -> Path:
    """An uploaded flake: flake.nix, flake.lock and hosts/NAME/*.nix."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flake.nix").write_text(nix_file({"description": "a lab"}))
    (folder / "flake.lock").write_text('{"nodes": {"root": {}}, "root": "root", "version": 7}\n')
    for name, files in hosts.items():
        for rel, text in files.items():
            (folder / "hosts" / name).mkdir(parents=True, exist_ok=True)
            (folder / "hosts" / name / rel).write_text(text)
    return folder


def build(
    rig: Rig, builder: Machine, folder: Path, *hosts: str
) -> subprocess.CompletedProcess[str]:
    return rig.ssh(builder, " ".join([BUILD, *(toplevel(folder, h) for h in hosts)]))


def sshopts(key: Path, known: Path, target: Machine) -> str:
    """NIX_SSHOPTS as homelab sets it for a builder's copy."""
    return (
        f"-i {key} -o UserKnownHostsFile={known} -o GlobalKnownHostsFile=/dev/null "
        f"-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes -p {target.port}"
    )


def copy(
    rig: Rig, builder: Machine, target: Machine, key: Path, known: Path, *paths: str
) -> subprocess.CompletedProcess[str]:
    env = "NIX_SSHOPTS=" + shlex.quote(sshopts(key, known, target))
    to = f"ssh://{target.user}@127.0.0.1"
    return rig.ssh(builder, f"{COPY} --to {to} {' '.join(map(shlex.quote, paths))}", env=env)


def build_key(builder: Machine) -> tuple[Path, str]:
    """The lab's build key where agenix puts it on the builder; its public line."""
    key = builder.root / "run" / "agenix" / "build-key"
    key.parent.mkdir(parents=True, exist_ok=True)
    return key, keygen(key, "lab-build")


def pinned(builder: Machine, target: Machine, host_key: str | None = None) -> Path:
    """The builder's known-hosts file with the target's pinned host key."""
    known = builder.root / "etc" / "ssh" / "lab_known_hosts"
    known.write_text(f"[127.0.0.1]:{target.port} {host_key or target.host_key}\n")
    return known


def authorize(rig: Rig, target: Machine, public: str) -> None:
    """The target switches to its own configuration, which authorizes the build key for
    receiving only (as the lab's first deploy of it does)."""
    own = lab(
        target.state() / "config", {"target": host(target.user, (f"{RECEIVE_ONLY} {public}",))}
    )
    ran = rig.ssh(target, f"nixos-rebuild switch --flake {own}#target")
    assert ran.returncode == 0, ran.stderr


# ---- nix build ------------------------------------------------------------------------


def test_one_nix_build_builds_every_host_in_the_time_of_one_build(rig: Rig) -> None:
    builder = rig.add("builder")
    builder.fault("rebuild-seconds", "1.5")
    folder = lab(builder.state() / "config", {"pi": host("x"), "nas": host("x")})

    started = time.monotonic()
    ran = build(rig, builder, folder, "pi", "nas")
    took = time.monotonic() - started

    assert ran.returncode == 0, ran.stderr
    paths = ran.stdout.split()
    assert [Path(p).name.split("-", 1)[1] for p in paths] == [
        "nixos-system-pi-24.05",
        "nixos-system-nas-24.05",
    ]
    assert all(Path(p).parent == builder.root / "nix" / "store" for p in paths)
    assert (Path(paths[0]) / "config" / "hosts" / "pi" / "configuration.nix").is_file()
    assert not (Path(paths[0]) / "config" / "hosts" / "nas").exists()
    assert 1.5 <= took < 2.9  # one build's time, not two
    assert builder.built() == ["pi", "nas"]
    assert "these 2 derivations will be built:" in ran.stderr
    assert [c for c in builder.lines("commands.log") if c.startswith("nix ")] == [
        f"nix build --no-link --print-out-paths {folder}#nixosConfigurations.pi.config.system"
        f".build.toplevel {folder}#nixosConfigurations.nas.config.system.build.toplevel"
    ]

    # nas changes: pi's system is the same, nas gets a new one
    (folder / "hosts" / "nas" / "configuration.nix").write_text(
        nix_file({"system": {"stateVersion": "24.11"}})
    )
    again = build(rig, builder, folder, "pi", "nas")
    assert again.returncode == 0, again.stderr
    assert again.stdout.split()[0] == paths[0]
    assert again.stdout.split()[1] != paths[1]
    assert builder.built() == ["pi", "nas", "pi", "nas"]


def test_a_host_that_fails_to_build_fails_the_whole_build_and_says_which(rig: Rig) -> None:
    builder = rig.add("builder")
    folder = lab(
        builder.state() / "config",
        {"pi": host("x"), "nas": host("x", header=("rig: fail-build",))},
    )

    ran = build(rig, builder, folder, "pi", "nas")

    assert ran.returncode == 1
    assert ran.stdout == ""
    assert "error: builder for '/nix/store/" in ran.stderr
    assert "-nixos-system-nas-24.05.drv' failed with exit code 1" in ran.stderr
    assert "nixos-system-pi-24.05.drv' failed" not in ran.stderr
    assert builder.built() == []


def test_a_file_that_does_not_parse_fails_its_host_only(rig: Rig) -> None:
    builder = rig.add("builder")
    folder = lab(builder.state() / "config", {"pi": host("x"), "nas": host("x")})
    broken = folder / "hosts" / "nas" / "configuration.nix"
    broken.write_text("{ system.stateVersion = ;\n}\n")

    both = build(rig, builder, folder, "pi", "nas")
    alone = build(rig, builder, folder, "pi")

    assert both.returncode == 1 and both.stdout == ""
    assert "syntax error" in both.stderr and str(broken) in both.stderr  # nix-instantiate's
    assert alone.returncode == 0, alone.stderr
    assert builder.built() == ["pi"]


def test_a_host_the_flake_does_not_have_and_a_wrong_attribute_are_nix_errors(rig: Rig) -> None:
    builder = rig.add("builder")
    folder = lab(builder.state() / "config", {"pi": host("x")})

    missing = build(rig, builder, folder, "pi", "mqtt")
    wrong = rig.ssh(builder, f"{BUILD} {shlex.quote(f'{folder}#packages.x86_64-linux.pi')}")
    builder.fault("eval-error", "error: attribute 'nope' missing\n")
    refused = build(rig, builder, folder, "pi")

    assert missing.returncode == 1 and missing.stdout == ""
    assert f"error: path '{folder}/hosts/mqtt/configuration.nix' does not exist" in missing.stderr
    assert wrong.returncode == 1
    assert "does not provide attribute 'packages.x86_64-linux.packages" in wrong.stderr
    assert refused.returncode == 1
    assert refused.stderr == "error: attribute 'nope' missing\n"
    assert builder.built() == []


# ---- nix store sign -------------------------------------------------------------------


def signing_key(builder: Machine) -> tuple[Path, Path]:
    """A Nix signing key made by the real nix-store (NAME:BASE64 files)."""
    secret = builder.root / "run" / "agenix" / "signing-key"
    public = builder.folder / "signing-key.pub"
    secret.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["nix-store", "--generate-binary-cache-key", "lab-1", str(secret), str(public)],
        check=True,
    )
    return secret, public


def test_store_sign_signs_each_path_with_the_key_for_real(rig: Rig) -> None:
    builder = rig.add("builder")
    folder = lab(builder.state() / "config", {"pi": host("x")})
    (path,) = build(rig, builder, folder, "pi").stdout.split()
    secret, public = signing_key(builder)

    ran = rig.ssh(builder, f"{SIGN} --key-file {secret} --recursive {path}")

    assert ran.returncode == 0, ran.stderr
    (line,) = builder.signatures(Path(path).name)
    name, _, signature = line.partition(":")
    assert name == "lab-1"
    verifier = Ed25519PublicKey.from_public_bytes(
        base64.b64decode(public.read_text().strip().partition(":")[2])
    )
    verifier.verify(base64.b64decode(signature), Path(path).name.encode())  # raises if wrong
    again = rig.ssh(builder, f"{SIGN} --key-file {secret} --recursive {path}")
    assert again.returncode == 0 and builder.signatures(Path(path).name) == [line]


def test_store_sign_refuses_a_missing_or_bad_key_and_a_path_outside_the_store(rig: Rig) -> None:
    builder = rig.add("builder")
    folder = lab(builder.state() / "config", {"pi": host("x")})
    (path,) = build(rig, builder, folder, "pi").stdout.split()
    secret, _ = signing_key(builder)
    bad = builder.root / "run" / "agenix" / "bad-key"
    bad.write_text("lab-1:bm90IGEga2V5\n")

    missing = rig.ssh(builder, f"{SIGN} --key-file {secret}.gone --recursive {path}")
    corrupt = rig.ssh(builder, f"{SIGN} --key-file {bad} --recursive {path}")
    outside = rig.ssh(builder, f"{SIGN} --key-file {secret} {builder.root}/etc/hostname")

    assert missing.returncode == 1
    assert missing.stderr.startswith(f"error: opening file '{secret}.gone': No such file")
    assert corrupt.returncode == 1 and f"error: secret key in '{bad}' is corrupt" in corrupt.stderr
    assert outside.returncode == 1
    assert f"error: path '{builder.root}/etc/hostname' is not in the Nix store" in outside.stderr
    assert builder.signatures(Path(path).name) == []


# ---- nix copy over the real ssh -------------------------------------------------------


def test_the_builder_copies_a_signed_system_the_target_activates_as_its_own(rig: Rig) -> None:
    builder, target = rig.add("builder"), rig.add("target")
    key, public = build_key(builder)
    known = pinned(builder, target)
    receive = f"{RECEIVE_ONLY} {public}"
    # before the target's configuration authorizes the build key, it is not let in
    folder = lab(builder.state() / "config", {"target": host(target.user, (receive,))})
    (path,) = build(rig, builder, folder, "target").stdout.split()
    early = copy(rig, builder, target, key, known, path)
    assert early.returncode == 255
    assert "error: cannot connect to " in early.stderr and "Permission denied" in early.stderr
    assert target.received() == []

    authorize(rig, target, public)
    authorized = target.root / "etc" / "ssh" / "authorized_keys.d" / target.user
    assert authorized.read_text() == receive + "\n"  # the Nix string's \" undone
    secret, _ = signing_key(builder)
    signed = rig.ssh(builder, f"{SIGN} --key-file {secret} --recursive {path}")
    assert signed.returncode == 0, signed.stderr
    ran = copy(rig, builder, target, key, known, path)

    assert ran.returncode == 0, ran.stderr
    name = Path(path).name
    assert f"copying path '{path}' to 'ssh://{target.user}@127.0.0.1'" in ran.stderr
    assert target.received() == [name]
    assert name in target.store()
    assert target.signatures(name) == builder.signatures(name)
    assert "nix-store --serve --write" in target.lines("commands.log")
    assert target.built() == []  # it switched to its own configuration, built no other's

    # the copied system activates on the target as the target's own
    arrived = target.root / "nix" / "store" / name
    switched = rig.ssh(target, f"{arrived}/bin/switch-to-configuration test")
    assert switched.returncode == 0, switched.stderr
    assert target.current() == str(arrived)
    assert target.lines("activations.log")[-1] == f"test {arrived}"
    assert builder.current() != str(Path(path))  # the builder itself did not switch

    # sent again: the path already there is left alone
    twice = copy(rig, builder, target, key, known, path)
    assert twice.returncode == 0, twice.stderr
    assert target.received() == [name, name]
    assert target.current() == str(arrived)


def test_the_build_key_can_only_receive_on_the_target(rig: Rig) -> None:
    builder, target = rig.add("builder"), rig.add("target")
    key, public = build_key(builder)
    known = pinned(builder, target)
    authorize(rig, target, public)

    ran = subprocess.run(
        ["ssh", *sshopts(key, known, target).split(), f"{target.user}@127.0.0.1", "echo hacked"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr  # the forced command got an empty input
    assert "hacked" not in ran.stdout
    assert target.lines("commands.log")[-1] == "nix-store --serve --write"
    assert target.received() == []


def test_a_wrong_pinned_host_key_stops_the_copy_before_anything_arrives(rig: Rig) -> None:
    builder, target = rig.add("builder"), rig.add("target")
    key, public = build_key(builder)
    authorize(rig, target, public)
    other = keygen(builder.folder / "not-the-target", "someone-else")
    known = pinned(builder, target, other)
    folder = lab(builder.state() / "config", {"target": host(target.user)})
    (path,) = build(rig, builder, folder, "target").stdout.split()

    ran = copy(rig, builder, target, key, known, path)

    assert ran.returncode == 255
    assert ran.stderr.index("error: cannot connect to ") < ran.stderr.index(
        "Host key verification failed."
    )
    assert target.received() == []
    assert Path(path).name not in target.store()


def test_a_key_the_target_does_not_authorize_is_refused(rig: Rig) -> None:
    builder, target = rig.add("builder"), rig.add("target")
    _, public = build_key(builder)
    authorize(rig, target, public)
    stranger = builder.root / "run" / "agenix" / "stranger"
    keygen(stranger, "stranger")
    known = pinned(builder, target)
    folder = lab(builder.state() / "config", {"target": host(target.user)})
    (path,) = build(rig, builder, folder, "target").stdout.split()

    ran = copy(rig, builder, target, stranger, known, path)

    assert ran.returncode == 255
    assert f"error: cannot connect to '{target.user}@127.0.0.1'" in ran.stderr
    assert "Permission denied (publickey)" in ran.stderr
    assert target.received() == []


def test_copy_refuses_paths_outside_the_store_and_other_stores(rig: Rig) -> None:
    builder, target = rig.add("builder"), rig.add("target")
    key, _ = build_key(builder)
    known = pinned(builder, target)
    elsewhere = f"{target.root}/nix/store/{target.current().rsplit('/', 1)[1]}"

    outside = copy(rig, builder, target, key, known, f"{builder.root}/etc/hostname")
    other = copy(rig, builder, target, key, known, elsewhere)
    local = rig.ssh(builder, f"{COPY} --to file:///tmp/cache {builder.current()}")

    assert outside.returncode == 1
    assert f"error: path '{builder.root}/etc/hostname' is not in the Nix store" in outside.stderr
    assert other.returncode == 1 and "is not in the Nix store" in other.stderr
    assert local.returncode == 1 and "only copies --to ssh://HOST" in local.stderr
    assert target.received() == []


# ---- agenix on activation -------------------------------------------------------------


def encrypt(value: str, recipient: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["age", "-r", recipient, "-o", str(dest)], input=value.encode(), check=True)


def test_activation_opens_the_secrets_the_host_key_opens_and_skips_the_others(rig: Rig) -> None:
    need_age()
    builder, target = rig.add("builder"), rig.add("target")
    key, public = build_key(builder)
    known = pinned(builder, target)
    authorize(rig, target, public)
    folder = lab(builder.state() / "config", {"target": host(target.user)})
    encrypt("psk-of-target\n", target.ed25519_key, folder / "encrypted" / "wifi-psk.age")
    encrypt("the builder's\n", builder.ed25519_key, folder / "encrypted" / "signing-key.age")
    (path,) = build(rig, builder, folder, "target").stdout.split()
    assert copy(rig, builder, target, key, known, path).returncode == 0

    arrived = target.root / "nix" / "store" / Path(path).name
    switched = rig.ssh(target, f"{arrived}/bin/switch-to-configuration switch")

    assert switched.returncode == 0, switched.stderr
    opened = target.root / "run" / "agenix" / "wifi-psk"
    assert opened.read_text() == "psk-of-target\n"
    assert stat.S_IMODE(opened.stat().st_mode) == 0o400
    assert not (target.root / "run" / "agenix" / "signing-key").exists()
    # the private host key is where NixOS keeps it, readable by its owner only
    private = target.root / "etc" / "ssh" / "ssh_host_ed25519_key"
    assert private.read_bytes() == target.host_private_key.read_bytes()
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    # a reinstall: the new key no longer opens the old secret, and the next activation
    # leaves no secret behind
    target.new_host_key()
    rig.know(target)
    again = rig.ssh(target, f"{arrived}/bin/switch-to-configuration test")
    assert again.returncode == 0, again.stderr
    assert not (target.root / "run" / "agenix" / "wifi-psk").exists()
    assert os.path.isdir(target.root / "run" / "agenix")


def test_the_target_refuses_what_is_not_store_paths_and_keeps_nothing(rig: Rig) -> None:
    builder, target = rig.add("builder"), rig.add("target")
    key, public = build_key(builder)
    known = pinned(builder, target)
    authorize(rig, target, public)
    before = target.store()
    hostile = io.BytesIO()
    with tarfile.open(fileobj=hostile, mode="w") as tar:
        member = tarfile.TarInfo("store/../../etc/ssh/authorized_keys.d/evil")
        member.size = 4
        tar.addfile(member, io.BytesIO(b"evil"))

    ran = subprocess.run(
        ["ssh", *sshopts(key, known, target).split(), f"{target.user}@127.0.0.1", "x"],
        input=hostile.getvalue(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    garbage = subprocess.run(
        ["ssh", *sshopts(key, known, target).split(), f"{target.user}@127.0.0.1", "x"],
        input=b"not a tar\n",
        capture_output=True,
        timeout=30,
        check=False,
    )

    assert ran.returncode == 1
    assert b"error: unexpected 'store/../../etc/ssh/authorized_keys.d/evil'" in ran.stderr
    assert garbage.returncode == 1
    assert b"error: the paths received are not readable" in garbage.stderr
    assert target.received() == [] and target.store() == before
    assert not (target.root / "etc" / "ssh" / "evil").exists()


def test_authorized_keys_are_read_as_nix_strings() -> None:
    text = (
        "{\n  users.users.a.openssh.authorizedKeys.keys = [\n"
        '    # "not a key" ]\n'
        '    "restrict,command=\\"nix-store --serve --write\\" ssh-ed25519 AAAA b"\n'
        '    /* "nor this" */ "ssh-ed25519 BBBB c\\\\d"\n'
        '  ];\n  other = [ "no" ];\n}\n'
    )

    (match,) = standin.AUTHORIZED_KEYS.finditer(text)

    assert standin.nix_strings(text, match.end()) == [
        'restrict,command="nix-store --serve --write" ssh-ed25519 AAAA b',
        "ssh-ed25519 BBBB c\\d",
    ]
