"""What goes to a machine arrives whole, or the host fails saying why: every SFTP write is
checked, what arrived is compared (size and sha256) on the machine before anything is
swapped in, and whatever did not arrive is sent again by the next apply. Full disks are
real: a small tmpfs on the machine's state folder (that needs root)."""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import git

from homelab.deploy.target import sha256
from homelab.deploy.upload import CHECK, found_on_machine
from homelab.history.records import deploy_log
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.sshd.rig import Machine, Rig

SECRET_SIZE = 600_000
SECRET_TARGET = "/var/lib/secrets/big.key"
FILLER = "# " + "x" * 120 + "\n"


def summary_line(out: str, host: str) -> str:
    found = re.search(rf"^{re.escape(host)}\s+(ok|FAILED)\s+\S+\s+(.*)$", out, re.M)
    assert found, f"no summary line for {host} in:\n{out}"
    return found.group(1) + " " + found.group(2)


def lab_for(machine: Machine, tmp_path: Path) -> Path:
    lab = make_lab(tmp_path / "lab", [machine])
    # secrets stay out of git, as a person keeps them
    (lab / ".git" / "info" / "exclude").write_text("secrets/\n")
    return lab


def add_big_secret(lab: Path, host: str) -> bytes:
    """A 600,000-byte secret (random bytes: no compression helps it) and a profile change."""
    data = random.Random(9).randbytes(SECRET_SIZE)
    (lab / "secrets").mkdir(exist_ok=True)
    (lab / "secrets" / "big.key").write_bytes(data)
    profile = lab / "hosts" / host / "profile.yaml"
    text = profile.read_text().replace("packages: [hello]", "packages: [hello, vim]")
    profile.write_text(
        text + f"secrets:\n  big:\n    source: secrets/big.key\n    target: {SECRET_TARGET}\n"
    )
    return data


def grow_hardware_file(lab: Path, host: str, lines: int) -> str:
    path = lab / "hosts" / host / "hardware-configuration.nix"
    text = FILLER * lines + path.read_text()
    path.write_text(text)
    return text


def manifest_on(machine: Machine) -> dict[str, object]:
    text = (machine.state() / "config" / ".homelab-manifest.json").read_text()
    return dict(json.loads(text))


def runs_vim(machine: Machine) -> bool:
    """Does the system the machine runs hold the profile change (vim in its packages)?"""
    config = Path(machine.current()) / "config" / "hosts" / "web"
    return any("vim" in p.read_text() for p in config.glob("*.nix"))


def rebuilds(machine: Machine) -> list[str]:
    return [c for c in machine.lines("commands.log") if c.startswith("nixos-rebuild")]


def apply(run_cli: RunCli, lab: Path, *more: str) -> tuple[int, str]:
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", *more)
    return code, out + err


def assert_clean(lab: Path) -> None:
    """What went out is committed: nothing left over in the lab's working tree."""
    assert git.Repo(lab).git.status("--porcelain", "--untracked-files=all") == ""


def assert_untouched(machine: Machine, manifest: dict[str, object]) -> None:
    """The machine runs what it ran, its configuration in place is the old one, nothing
    of the failed upload is left, and no secret was installed."""
    assert machine.generation() == 2
    assert machine.current() == machine.system_of(2)
    assert not runs_vim(machine)
    assert manifest_on(machine) == manifest
    assert machine.staging_leftovers() == []
    assert not (machine.root / SECRET_TARGET.lstrip("/")).exists()
    assert len(rebuilds(machine)) == 1  # only the first apply's: nothing was built


def test_a_secret_the_machine_does_not_take_whole_fails_the_host_and_goes_again_next_time(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = lab_for(machine, tmp_path)
    code, out = apply(run_cli, lab)
    assert code == 0, out
    manifest = manifest_on(machine)
    data = add_big_secret(lab, "web")
    # the SFTP server can write no file past 128 KiB and answers its generic "Failure"
    machine.fault("max-file-size", str(128 * 1024))

    code, out = apply(run_cli, lab)

    assert code == 1, out
    line = summary_line(out, "web")
    assert re.search(
        r"^FAILED could not write secret big on the machine "
        r"\(131,072 of 600,000 bytes written: Failure\); nothing installed$",
        line,
    ), line
    assert f"{SECRET_TARGET}" in out  # the details say which secret went where
    assert_untouched(machine, manifest)
    assert sorted(r.result for r in deploy_log(lab, "web")) == ["failed", "ok"]

    machine.clear("max-file-size")
    code, out = apply(run_cli, lab)

    assert code == 0, out
    assert (machine.root / SECRET_TARGET.lstrip("/")).read_bytes() == data
    assert machine.generation() == 3
    assert runs_vim(machine)
    assert_clean(lab)


def test_a_file_that_did_not_arrive_whole_before_is_sent_again(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = lab_for(machine, tmp_path)
    code, out = apply(run_cli, lab)
    assert code == 0, out
    # what an apply of an older homelab left behind: a file cut short whose manifest entry
    # says it is whole
    rel = "hosts/web/hardware-configuration.nix"
    on_machine = machine.state() / "config" / rel
    whole = on_machine.read_bytes()
    on_machine.write_bytes(whole[: len(whole) // 2])

    # every apply that uploads checks every file (an up-to-date machine is left alone)
    code, out = apply(run_cli, lab, "--force")

    assert code == 0, out
    assert on_machine.read_bytes() == (lab / rel).read_bytes() == whole
    assert re.search(rf"^web\s*\| sent again, as it had not arrived whole: {rel}$", out, re.M), out
    assert_clean(lab)


def test_a_full_disk_fails_the_host_with_its_free_space_and_keeps_the_old_configuration(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    machine.small_disk(320)
    lab = lab_for(machine, tmp_path)
    code, out = apply(run_cli, lab)
    assert code == 0, out
    manifest = manifest_on(machine)
    data = add_big_secret(lab, "web")

    code, out = apply(run_cli, lab)

    assert code == 1, out
    line = summary_line(out, "web")
    assert re.search(
        r"^FAILED no space left on the machine: /var/lib/homelab has \d+ KiB free, "
        r"and secret big needs 586 KiB; nothing installed$",
        line,
    ), line
    assert "free some space on /var/lib/homelab" in out
    assert_untouched(machine, manifest)

    machine.resize_disk(4096)
    code, out = apply(run_cli, lab)

    assert code == 0, out
    assert (machine.root / SECRET_TARGET.lstrip("/")).read_bytes() == data
    assert runs_vim(machine)
    assert_clean(lab)


def test_a_configuration_too_big_for_the_disk_is_never_swapped_in_half_written(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    machine.small_disk(320)
    lab = lab_for(machine, tmp_path)
    code, out = apply(run_cli, lab)
    assert code == 0, out
    manifest = manifest_on(machine)
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [hello, vim]"))
    big = grow_hardware_file(lab, "web", 3300)  # about 400 KiB
    git.Repo(lab).git.commit("-am", "a big hardware file")

    code, out = apply(run_cli, lab)

    assert code == 1, out
    line = summary_line(out, "web")
    assert re.search(
        r"^FAILED no space left on the machine: /var/lib/homelab has \d+ KiB free, "
        r"and hosts/web/hardware-configuration.nix needs \d+ KiB; nothing installed$",
        line,
    ), line
    assert "the run never started" not in out
    assert_untouched(machine, manifest)

    machine.resize_disk(4096)
    code, out = apply(run_cli, lab)

    assert code == 0, out
    assert machine.running_config("hosts/web/hardware-configuration.nix") == big
    assert runs_vim(machine)
    assert_clean(lab)


def test_the_check_on_the_machine_is_read_file_by_file_with_missing_and_odd_names(
    tmp_path: Path,
) -> None:
    # the real shell and coreutils run the check script, as they do on a machine
    files = {
        "plain.nix": b"{ }\n",
        "with space.nix": b"x" * 70_000,
        "new\nline": b"",
        "back\\slash": b"\\",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "a-link").symlink_to(tmp_path / "plain.nix")
    paths = [str(tmp_path / n) for n in ["gone", *files, "a-link", "also-gone"]]

    ran = subprocess.run(["sh", "-c", CHECK, "homelab", *paths], capture_output=True, check=True)
    found = found_on_machine(paths, ran.stdout.decode())

    assert found == {str(tmp_path / n): (len(d), sha256(d)) for n, d in files.items()}
    assert found_on_machine(paths, "size 4\n") is None  # an answer cut short is no answer
