"""`homelab lock`: pin the flake's inputs (nixpkgs, home-manager) in flake.lock, so that
every machine builds from the same nixpkgs.

A lab with lab.yaml has its flake.nix generated first: Nix locks the inputs flake.nix
names, and drops from flake.lock those it no longer names, so an input taken out of
lab.yaml leaves flake.lock too.

Locking needs Nix. A laptop without Nix asks a machine that has it: flake.nix (and the
old flake.lock) go to a temporary folder there, `nix flake lock` (or `update`) runs, and
flake.lock comes back into the lab.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from homelab import labconfig
from homelab.deploy import scripts
from homelab.deploy.ssh import Endpoint, SshSettings, connect
from homelab.deploy.target import Lines, Target
from homelab.errors import InvalidInput, LabFailure
from homelab.history.commit import commit_paths, state_at
from homelab.history.repo import check_writable, open_repository
from homelab.labfiles import LabFiles
from homelab.write import apply_plan, atomic_write, plan

NIX_FLAGS = ("--extra-experimental-features", "nix-command flakes")


def nix_command(update: bool) -> list[str]:
    return ["nix", *NIX_FLAGS, "flake", "update" if update else "lock"]


def flake_files(lab_root: Path) -> dict[str, bytes]:
    files = {}
    for name in ("flake.nix", "flake.lock"):
        if (lab_root / name).is_file():
            files[name] = (lab_root / name).read_bytes()
    return files


def lock_here(lab_root: Path, update: bool, on_line: Callable[[str], None]) -> bytes:
    """Run Nix on this computer, in a copy of the flake (the lab's own folder may be a
    git repository, which Nix would copy whole)."""
    nix = shutil.which("nix")
    if nix is None:
        raise LabFailure("Nix is not installed here: name a host that has it (homelab lock HOST)")
    with tempfile.TemporaryDirectory(prefix="homelab-lock-") as folder:
        for name, data in flake_files(lab_root).items():
            (Path(folder) / name).write_bytes(data)
        process = subprocess.Popen(
            [nix, *nix_command(update)[1:]],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            on_line(line.rstrip("\n"))
        if process.wait() != 0:
            raise LabFailure(f"`nix flake {'update' if update else 'lock'}` failed here")
        lock = Path(folder) / "flake.lock"
        if not lock.is_file():
            raise LabFailure("Nix wrote no flake.lock")
        return lock.read_bytes()


def lock_on(
    endpoint: Endpoint,
    settings: SshSettings,
    lab_root: Path,
    update: bool,
    on_line: Callable[[str], None],
) -> bytes:
    """Run Nix on a machine, in a temporary folder there."""
    conn = connect(endpoint, settings)
    target = Target(endpoint.label or endpoint.address, lambda: conn)
    folder = ""
    try:
        ran = target.run(scripts.command(scripts.TEMP_DIR), timeout=60)
        folder = ran.out.strip().splitlines()[-1] if ran.code == 0 and ran.out.strip() else ""
        if not folder.startswith("/"):
            raise LabFailure(f"cannot make a temporary folder on the machine: {ran.err.strip()}")
        for name, data in flake_files(lab_root).items():
            target.write_file(f"{folder}/{name}", data)
        out = Lines(on_line)
        command = (
            "cd " + scripts.q(folder) + " && " + " ".join(scripts.q(w) for w in nix_command(update))
        )
        code = target.stream(scripts.command(command), out, out, timeout=3600)
        out.end()
        if code == 127:
            raise LabFailure("the machine has no Nix command (nix): choose another host")
        if code != 0:
            raise LabFailure(f"`nix flake {'update' if update else 'lock'}` failed on the machine")
        try:
            return target.read_file(f"{folder}/flake.lock")
        except FileNotFoundError:
            raise LabFailure("Nix wrote no flake.lock on the machine") from None
    finally:
        if folder.startswith("/"):
            try:
                target.run(scripts.command('rm -rf "$1"', folder), timeout=30)
            except Exception:  # best effort: a temporary folder stays behind
                on_line(f"note: could not remove {folder} on the machine")
        target.close()


def _text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def write_flake(lab_root: Path) -> bool:
    """flake.nix as lab.yaml makes it, before Nix locks it; False when it was already
    (or the lab has no lab.yaml: its flake.nix is a person's). InvalidInput when lab.yaml
    is not valid, or flake.nix was edited by hand (never overwritten here)."""
    config, problems = labconfig.load(lambda rel: _text(lab_root / rel))
    if problems:
        raise InvalidInput(problems)
    if config is None:
        return False
    from homelab.labconfig.flake import flake_text  # deferred: start-up, as the compiler

    the_plan = plan(lab_root, {labconfig.FLAKE: flake_text(config)}, [])
    apply_plan(lab_root, the_plan)
    return bool(the_plan.write)


def write_lock(lab_root: Path, data: bytes) -> bool:
    """flake.lock into the lab (atomically); False when it did not change."""
    path = lab_root / "flake.lock"
    if path.is_file() and path.read_bytes() == data:
        return False
    atomic_write(path, data.decode("utf-8"))
    return True


def commit_lock(lab_root: Path, message: str) -> str | None:
    """Commit flake.lock, with the lab.yaml and flake.nix it was locked from when the lab
    has lab.yaml (nothing else the person has changed)."""
    lab = LabFiles(lab_root)
    lr = open_repository(lab_root, create=True)
    check_writable(lr)
    head = lr.head()
    paths = {"flake.lock"}
    if (lab_root / labconfig.LAB_YAML).is_file():
        paths |= {labconfig.LAB_YAML, labconfig.FLAKE}
    done = commit_paths(
        lab,
        lr,
        paths,
        state_at(lab, lr, head),
        lab.load(),
        head,
        subject=lambda _: message,
    )
    return None if done is None else done[0]
