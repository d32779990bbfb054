"""`homelab options update`: make the option index of the lab's pinned nixpkgs and
home-manager, where Nix and the sources are.

Nix evaluates homelab/optionindex/index.nix over one host of the lab's flake
(nixosConfigurations.<host>, fromflake.nix), so the options of the modules the host
imports are indexed too. With Nix here it runs here; else on the lab machine the person
names, over SSH with the deploy code's host-key checks: the host's files as the last
commit holds them (its upload set, without secrets) and the two expressions go to a
temporary folder there, Nix fetches the pinned inputs itself, and the JSON comes back.

The index is a cache, not a lab file: .homelab/options/<nixpkgs>-<home-manager>.json.gz,
keyed by the revisions flake.lock pins. The figure that decided it: home-manager's index
alone is 0.4 MB gzipped (6,032 options, bench/options.py); NixOS's, about four times as
many options, is some 1.5 to 2 MB. Committed, every `homelab lock --update` would add
that to the lab's history forever, for a file Nix remakes from the pin.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from homelab.errors import LabFailure
from homelab.labconfig.lock import FLAKE_LOCK, Pin, read_lock
from homelab.localstate import local_folder
from homelab.nix.render import string as nix_string
from homelab.optionindex.model import OptionIndex
from homelab.optionindex.read import read_index
from homelab.optionindex.store import IndexUnreadable, dumps, loads

if TYPE_CHECKING:  # the SSH code loads when an index is made on a machine, not when read
    from homelab.deploy.ssh import Endpoint, SshSettings

NIX_FLAGS = ("--extra-experimental-features", "nix-command flakes")
FOLDER = "options"  # under .homelab/
SUFFIX = ".json.gz"
EXPRESSIONS = ("index.nix", "fromflake.nix")
MEMORY = (
    "note: Nix evaluates every NixOS option: this takes a few GB of memory and minutes "
    "(not a small board's job)"
)
_ERROR_LINES = 40  # the end of Nix's error shown when the evaluation fails
# a machine with less memory is not asked unless the person says so (a Raspberry Pi with
# 2 GB runs out evaluating every NixOS option)
SMALL_KIB = 3 * 1024 * 1024
MEMORY_SCRIPT = r"sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo"


def too_small(meminfo_kib: str) -> int | None:
    """The machine's memory in KiB when it is below SMALL_KIB; None when it is enough
    (or cannot be told)."""
    text = meminfo_kib.strip()
    if not text.isdigit():
        return None
    return int(text) if int(text) < SMALL_KIB else None


@dataclass(frozen=True)
class Pair:
    """The pinned (nixpkgs, home-manager) pair an index is made for."""

    nixpkgs: str
    home_manager: str  # "" when the lab has no home-manager input

    @property
    def file_name(self) -> str:
        return f"{_safe(self.nixpkgs)}-{_safe(self.home_manager or 'none')}{SUFFIX}"


def _safe(rev: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in rev)[:64]


def pinned_pair(pins: Mapping[str, Pin] | None) -> Pair | None:
    """The pair flake.lock pins; None without flake.lock or a pinned nixpkgs."""
    if not pins or "nixpkgs" not in pins:
        return None
    hm = pins.get("home-manager")
    return Pair(pins["nixpkgs"].rev, hm.rev if hm is not None else "")


def lock_pair(lab_root: Path) -> Pair | None:
    path = lab_root / FLAKE_LOCK
    text = path.read_text(encoding="utf-8") if path.is_file() else None
    return pinned_pair(read_lock(text))


def index_path(lab_root: Path, pair: Pair) -> Path:
    return lab_root / ".homelab" / FOLDER / pair.file_name


def read_cached(lab_root: Path) -> OptionIndex | None:
    """The index of the lab's current pin, None when none was made (or the file is
    damaged or of another format: `options update` makes it again)."""
    pair = lock_pair(lab_root)
    if pair is None:
        return None
    path = index_path(lab_root, pair)
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if _loaded.get(str(path), (None, None))[0] == key:
            return _loaded[str(path)][1]
        index = loads(path.read_bytes())
    except (OSError, IndexUnreadable):
        return None
    _loaded.clear()  # one index kept: reading it again costs a third of a second
    _loaded[str(path)] = (key, index)
    return index


_loaded: dict[str, tuple[tuple[str, int, int], OptionIndex]] = {}


def write_cached(lab_root: Path, pair: Pair, index: OptionIndex) -> Path:
    """Write the index (whole, then renamed into place); indexes of other pins go."""
    folder = local_folder(lab_root, FOLDER)
    path = folder / pair.file_name
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".index-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(dumps(index))
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    for old in folder.glob("*" + SUFFIX):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()
    return path


def expressions() -> dict[str, bytes]:
    """index.nix and fromflake.nix, as homelab ships them."""
    here = resources.files("homelab.optionindex")
    return {name: here.joinpath(name).read_bytes() for name in EXPRESSIONS}


def eval_command(lab_dir: str, host: str, expr_dir: str) -> list[str]:
    # Nix string literals, not JSON ones: JSON leaves `${` alone, which Nix would evaluate
    call = (
        f"import {nix_string(expr_dir + '/fromflake.nix')} "
        f"{{ lab = {nix_string('path:' + lab_dir)}; host = {nix_string(host)}; }}"
    )
    return ["nix", *NIX_FLAGS, "eval", "--json", "--impure", "--expr", call]


def _failed(where: str, err_text: str) -> LabFailure:
    lines = [line for line in err_text.strip().splitlines() if line.strip()]
    shown = "\n".join(lines[-_ERROR_LINES:]) or "(Nix said nothing)"
    return LabFailure(f"Nix could not evaluate the options {where} (nothing written):\n{shown}")


def _parse(out: bytes, where: str) -> object:
    try:
        return json.loads(out)
    except ValueError as e:
        raise LabFailure(f"Nix printed no JSON {where} ({e}): nothing written") from None


def evaluate_here(files: Mapping[str, bytes], host: str, on_line: Callable[[str], None]) -> object:
    """index.nix over the host, with the Nix of this computer: its JSON."""
    nix = shutil.which("nix")
    if nix is None:
        raise LabFailure(
            "Nix is not installed here: name a lab machine that has it "
            "(homelab options update HOST)"
        )
    with tempfile.TemporaryDirectory(prefix="homelab-options-") as folder:
        lab_dir, expr_dir = Path(folder) / "lab", Path(folder) / "expr"
        _write_tree(lab_dir, files)
        _write_tree(expr_dir, expressions())
        command = eval_command(str(lab_dir), host, str(expr_dir))
        with (Path(folder) / "err.txt").open("w+b") as err:
            process = subprocess.run(
                [nix, *command[1:]], cwd=folder, stdout=subprocess.PIPE, stderr=err, check=False
            )
            err.seek(0)
            err_text = err.read().decode("utf-8", "replace")
        for line in err_text.splitlines()[:-_ERROR_LINES] if process.returncode else ():
            on_line(line)
        if process.returncode != 0:
            raise _failed("here", err_text)
        return _parse(process.stdout, "here")


def _write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def evaluate_on(
    endpoint: Endpoint,
    settings: SshSettings,
    files: Mapping[str, bytes],
    host: str,
    on_line: Callable[[str], None],
    *,
    small: bool = False,
) -> object:
    """index.nix over the host, with the Nix of a lab machine: its JSON. A machine with
    less than 3 GB of memory is refused unless `small`."""
    from homelab.deploy import scripts
    from homelab.deploy.ssh import connect
    from homelab.deploy.target import Target

    conn = connect(endpoint, settings)
    target = Target(endpoint.label or endpoint.address, lambda: conn)
    folder = ""
    try:
        memory = too_small(target.run(scripts.command(MEMORY_SCRIPT), timeout=30).out)
        if memory is not None and not small:
            raise LabFailure(
                f"{endpoint.label or endpoint.address} has {memory / 1024 / 1024:.1f} GB of "
                "memory: evaluating every NixOS option may not fit (name a larger machine, "
                "or try anyway with --small)"
            )
        ran = target.run(scripts.command(scripts.TEMP_DIR), timeout=60)
        folder = ran.out.strip().splitlines()[-1] if ran.code == 0 and ran.out.strip() else ""
        if not folder.startswith("/"):
            raise LabFailure(f"cannot make a temporary folder on the machine: {ran.err.strip()}")
        known: set[str] = set()
        for rel, data in {
            **{f"lab/{k}": v for k, v in files.items()},
            **{f"expr/{k}": v for k, v in expressions().items()},
        }.items():
            parent = f"{folder}/{rel}".rsplit("/", 1)[0]
            target.make_dirs(parent, known)
            target.write_file(f"{folder}/{rel}", data)
        err_text = b""

        def err(data: bytes) -> None:
            nonlocal err_text
            err_text += data

        command = eval_command(f"{folder}/lab", host, f"{folder}/expr")
        # the JSON (tens of MB for NixOS) goes to a file there, read back over SFTP
        script = (
            "cd "
            + scripts.q(folder)
            + " && command -v nix >/dev/null || exit 127; "
            + " ".join(scripts.q(w) for w in command)
            + " > index.json"
        )
        code = target.stream(scripts.command(script), lambda _: None, err, timeout=3600)
        text = err_text.decode("utf-8", "replace")
        if code == 127:
            raise LabFailure(
                f"{endpoint.label or endpoint.address} has no Nix command (nix): "
                "name another lab machine, or install Nix here"
            )
        if code != 0:
            raise _failed("on the machine", text)
        return _parse(target.read_file(f"{folder}/index.json"), "on the machine")
    finally:
        if folder.startswith("/"):
            try:
                target.run(scripts.command('rm -rf "$1"', folder), timeout=60)
            except Exception:  # best effort: a temporary folder stays behind
                on_line(f"note: could not remove {folder} on the machine")
        target.close()


def build_index(raw: object, pair: Pair, host: str, modules: tuple[str, ...]) -> OptionIndex:
    """The evaluated JSON as the index of the pair; LabFailure when it is not index.nix's."""
    made_with = f"nixosConfigurations.{host}"
    if modules:
        made_with += " with " + ", ".join(modules)
    try:
        return read_index(
            raw, nixpkgs=pair.nixpkgs, home_manager=pair.home_manager, made_with=made_with
        )
    except IndexUnreadable as e:
        raise LabFailure(f"Nix's answer is not an option index ({e}): nothing written") from None
