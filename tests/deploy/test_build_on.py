"""deploy.buildOn on the rig: a builder machine (its own sshd) builds the target's system,
signs it and copies it over SSH to the target's sshd with the lab's build key, checking
the target's pinned host key; the target only activates what arrived. A builder that is
down fails its targets, and the other hosts deploy."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.deploy.buildlabs import change, make_build_lab
from tests.deploy.secretlabs import admin_identity, need_age
from tests.sshd.rig import Machine, Rig


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    need_age()
    path, public = admin_identity(tmp_path / "admin")
    (tmp_path / "admin.pub").write_text(public + "\n")
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(path))
    return path, public


def rebuilds(machine: Machine) -> list[str]:
    return [c for c in machine.lines("commands.log") if c.startswith("nixos-rebuild")]


def nix_builds(machine: Machine) -> list[str]:
    return [c for c in machine.lines("commands.log") if c.startswith("nix build")]


def first_apply(run_cli: RunCli, lab: Path) -> None:
    """The first apply: the target's running system does not let the builder in yet, so
    it builds itself once; its new system authorizes the build key."""
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 0, out + err
    assert "does not let nuc in yet" in out + err
    # the builder is deployed first: its targets connect only once it is done
    nuc_done = re.search(r"^nuc\s*: done", out, re.M)
    connecting = [m.start() for m in re.finditer(r"^pi\d?\s*: connecting", out, re.M)]
    assert nuc_done and connecting and nuc_done.start() < min(connecting), out


def test_the_builder_builds_and_copies_and_the_target_only_activates(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, admin: tuple[Path, str]
) -> None:
    nuc, pi = rig.add("nuc"), rig.add("pi")
    lab = make_build_lab(tmp_path / "lab", nuc, [pi])
    first_apply(run_cli, lab)
    assert len(rebuilds(pi)) == 1  # built itself, this once
    assert (nuc.root / "run" / "agenix" / "build-ssh-key").exists()  # agenix on the builder
    change(lab, "pi", "htop")

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "pi")

    assert code == 0, out + err
    assert "pi: built on nuc, which copies the system to it" in out
    assert re.search(r"^pi\s+ok\s.*built on nuc", out, re.M), out
    assert len(rebuilds(pi)) == 1  # nothing built on the target this time
    built = nix_builds(nuc)
    assert len(built) == 1 and "#nixosConfigurations.pi.config" in built[0]
    assert nuc.built() == ["pi"]
    # the copy went over the target's real sshd, with the build key, as its forced command
    assert pi.lines("received.log")
    key = subprocess.run(
        ["ssh-keygen", "-lf", str(tmp_path / "build-keys" / "build.pub")],
        capture_output=True, text=True, check=True,
    ).stdout.split()[1]  # fmt: skip
    assert f"ED25519 {key}" in pi.log()  # sshd: "Accepted publickey for ... ED25519 SHA256:..."
    assert f"ED25519 {key}" not in nuc.log()  # the laptop never used it
    system = Path(pi.current())
    assert system.is_relative_to(pi.root / "nix" / "store")  # the target's own store
    assert "htop" in (system / "packages").read_text()
    assert pi.generation() == 3


def test_a_builder_that_is_down_fails_its_targets_and_the_others_deploy(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, admin: tuple[Path, str]
) -> None:
    nuc, pi, nas = rig.add("nuc"), rig.add("pi"), rig.add("nas")
    lab = make_build_lab(tmp_path / "lab", nuc, [pi], [nas])
    first_apply(run_cli, lab)
    for host in ("pi", "nas"):
        change(lab, host, "htop")
    nuc.stop()

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "pi", "nas")

    assert code == 1, out + err
    assert re.search(r"^pi\s+FAILED\s.*its builder nuc cannot be reached", out, re.M), out
    assert re.search(r"^nas\s+ok\s", out, re.M), out
    assert pi.generation() == 2  # untouched since the first apply
    assert "htop" not in Path(pi.current(), "packages").read_text()
    assert "htop" in Path(nas.current(), "packages").read_text()


def test_a_builder_in_the_apply_is_deployed_first_and_its_failure_fails_its_targets(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, admin: tuple[Path, str]
) -> None:
    nuc, pi = rig.add("nuc"), rig.add("pi")
    lab = make_build_lab(tmp_path / "lab", nuc, [pi])
    first_apply(run_cli, lab)
    change(lab, "pi", "htop")
    hardware = lab / "hosts" / "nuc" / "hardware-configuration.nix"
    hardware.write_text(hardware.read_text() + "# rig: fail-build\n")

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 1, out + err
    assert re.search(r"^nuc\s+FAILED", out, re.M), out
    assert re.search(r"^pi\s+FAILED\s.*its builder nuc failed to deploy", out, re.M), out
    assert nix_builds(nuc) == []
    assert pi.generation() == 2


def test_an_unchanged_target_is_up_to_date_and_nothing_is_built(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, admin: tuple[Path, str]
) -> None:
    nuc, pi = rig.add("nuc"), rig.add("pi")
    lab = make_build_lab(tmp_path / "lab", nuc, [pi])
    first_apply(run_cli, lab)
    change(lab, "pi", "htop")
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "pi")
    assert code == 0, out + err

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "pi")

    assert code == 0, out + err
    assert re.search(r"^pi\s+up to date\s", out, re.M), out
    assert len(nix_builds(nuc)) == 1  # the one build before, none now


def test_three_hosts_on_one_builder_are_built_in_one_nix_build_and_each_gets_its_own(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, admin: tuple[Path, str]
) -> None:
    nuc = rig.add("nuc")
    pis = [rig.add(f"pi{i}") for i in range(3)]
    lab = make_build_lab(tmp_path / "lab", nuc, pis)
    first_apply(run_cli, lab)
    for pi in pis:
        change(lab, pi.name, f"tool{pi.name}")

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 0, out + err
    assert re.search(r"^nuc\s+up to date\s", out, re.M), out
    built = nix_builds(nuc)
    assert len(built) == 1  # what they share is built once
    assert sorted(nuc.built()) == ["pi0", "pi1", "pi2"]
    for pi in pis:
        assert re.search(rf"^{pi.name}\s+ok\s.*built on nuc", out, re.M), out
        packages = Path(pi.current(), "packages").read_text()
        assert f"tool{pi.name}" in packages  # its own system, not another's
        assert [p for p in ("pi0", "pi1", "pi2") if f"tool{p}" in packages] == [pi.name]
        assert len(rebuilds(pi)) == 1  # only the first apply's


def test_a_target_without_a_pinned_host_key_builds_itself_until_the_apply_pins_it(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, admin: tuple[Path, str]
) -> None:
    nuc, pi = rig.add("nuc"), rig.add("pi", known=False)
    lab = make_build_lab(tmp_path / "lab", nuc, [pi], pin_targets=False)

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--accept-new")

    assert code == 0, out + err
    assert "its host key is not pinned yet, and nuc would check it" in out + err
    assert len(rebuilds(pi)) == 1 and nix_builds(nuc) == []
    assert f"hostKey: {pi.host_key}" in (lab / "hosts" / "pi" / "profile.yaml").read_text()
    change(lab, "pi", "htop")

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "pi")

    assert code == 0, out + err
    assert re.search(r"^pi\s+ok\s.*built on nuc", out, re.M), out
    assert len(rebuilds(pi)) == 1 and len(nix_builds(nuc)) == 1


def test_a_change_that_touches_the_builders_modules_says_to_apply_the_builder_too(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path, admin: tuple[Path, str]
) -> None:
    nuc, pi = rig.add("nuc"), rig.add("pi")
    lab = make_build_lab(tmp_path / "lab", nuc, [pi])
    first_apply(run_cli, lab)
    profile = lab / "hosts" / "pi" / "profile.yaml"
    profile.write_text(profile.read_text().replace("host:\n", "host:\n  system: aarch64-linux\n"))

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "pi")

    assert code == 0, out + err
    # nuc now emulates aarch64-linux for pi: its builds.nix changed, and it is not applied
    assert "change nuc's modules too, and nuc is not in this apply: apply nuc too" in err
    builds = lab / "hosts" / "nuc" / "builds.nix"
    assert "aarch64-linux" not in builds.read_text()  # nuc's files wait for nuc's apply
    code, out, err = run_cli("--lab", str(lab), "build")
    assert code == 0, out + err
    assert "emulatedSystems" in builds.read_text() and "aarch64-linux" in builds.read_text()
