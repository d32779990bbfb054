"""What the last build read and wrote, so an unchanged lab builds in a blink.

`.homelab/build.json` (local, not committed) keeps, per host, the hash of every file its
build read (profile, included fragments, the catalogue, the names in its folder) and of
every file it wrote. When none of those changed, the outputs are what a new build would
write: validation and compilation are deterministic in their inputs and homelab's version.
Any difference, or no cache at all, means a real build.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from homelab import __version__
from homelab.localstate import local_folder
from homelab.source import Unreadable, read_file

CACHE = ".homelab/build.json"
# The code that decides what the generated Nix says and how it is laid out: a cache made
# by other code (a newer homelab, even of the same version) must not skip a rebuild.
_COMPILER = ("compile.py", "nix/render.py", "nix/expr.py")


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def _file(root: Path, rel: str) -> str:
    # read as the lab reads it: a FIFO here must not hang the quick check
    try:
        data = read_file(root, rel)
    except Unreadable:
        return "!"  # not "-" (missing): a file that turns unreadable is a change
    return "-" if data is None else _hash(data)


@functools.cache
def _compiler() -> str:
    here = Path(__file__).parent
    try:
        return _hash(b"".join((here / name).read_bytes() for name in _COMPILER))
    except OSError:
        return __version__


def _listing(root: Path, rel: str) -> str:
    try:
        names = sorted(os.listdir(root / rel))
    except OSError:
        return "-"
    return _hash("\n".join(names).encode())


def _catalogue(root: Path) -> str:
    parts = [_listing(root, "services")]
    try:
        names = sorted(n for n in os.listdir(root / "services") if n.endswith(".yaml"))
    except OSError:
        names = []
    parts += [_file(root, f"services/{n}") for n in names]
    return _hash("\n".join(parts).encode())


def host_inputs(
    root: Path,
    folder: str,
    includes: Iterable[str],
    catalogue: str,
    file: Callable[[str], str] | None = None,
) -> dict[str, str]:
    """The hashes of what a build of the host reads; `file` hashes a lab file (one that
    remembers, when many hosts share fragments)."""
    if file is None:
        file = functools.partial(_file, root)
    base = f"hosts/{folder}"
    inputs = {f"{base}/profile.yaml": file(f"{base}/profile.yaml")}
    for rel in includes:
        inputs[rel] = file(rel)
    inputs[f"{base}/"] = _listing(root, base)
    inputs["services/"] = catalogue
    # lab.yaml's domain and proxy reach into every host's modules (web.nix)
    inputs["lab.yaml"] = file("lab.yaml")
    return inputs


def _recorded_includes(folder: str, inputs: Mapping[str, Any]) -> list[str]:
    own = f"hosts/{folder}/profile.yaml"
    return [rel for rel in inputs if not rel.endswith("/") and rel != own and rel != "lab.yaml"]


def valid_at_last_build(root: Path, folders: Iterable[str]) -> set[str]:
    """The host folders that the last build checked and whose inputs are as it read
    them: still valid, as validation reads nothing else (the build records only valid
    hosts). Their generated files may differ; this is not what `unchanged` answers."""
    data = _read(root)
    hosts = data.get("hosts") if data is not None else None
    if not isinstance(hosts, dict):
        return set()
    catalogue = _catalogue(root)
    file = functools.cache(functools.partial(_file, root))  # fragments are shared
    out = set()
    for folder in folders:
        entry = hosts.get(folder)
        recorded = entry.get("inputs") if isinstance(entry, dict) else None
        if not isinstance(recorded, dict):
            continue
        includes = _recorded_includes(folder, recorded)
        if host_inputs(root, folder, includes, catalogue, file) == recorded:
            out.add(folder)
    return out


def record(
    root: Path,
    hosts: Mapping[str, tuple[Iterable[str], Mapping[str, str]]],
    all_folders: Iterable[str],
    lab_wide: bool = False,
) -> None:
    """After a build: hosts maps folder -> (files it included, {file it wrote: its text,
    as it now is on disk}).
    `lab_wide`: each host's modules read the other hosts' profiles too (the lab's names:
    the proxy's virtual hosts, the backends' ports opened to it), so any host's change is
    every host's."""
    catalogue = _catalogue(root)
    previous = _read(root)
    entries = dict(previous.get("hosts", {})) if previous else {}
    for folder, entry in list(entries.items()):
        # the lab's names join the hosts: this build may have changed what another host's
        # modules should say (the proxy's virtual hosts), so its next build is a real one
        if folder not in hosts and (lab_wide or (isinstance(entry, dict) and entry.get("lab"))):
            del entries[folder]
    file = functools.cache(functools.partial(_file, root))  # fragments are shared
    for folder, (includes, outputs) in hosts.items():
        entries[folder] = {
            "inputs": host_inputs(root, folder, includes, catalogue, file),
            # hashed from the text: reading back every file just written cost more
            "outputs": {rel: _hash(outputs[rel].encode()) for rel in sorted(outputs)},
            "lab": lab_wide,
        }
    data = {
        "version": __version__,
        "compiler": _compiler(),
        "folders": sorted(all_folders),
        "hosts": entries,
    }
    path = local_folder(root) / Path(CACHE).name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _read(root: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((root / CACHE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != __version__:
        return None
    if data.get("compiler") != _compiler():
        return None
    return data


def unchanged(root: Path, folders: Iterable[str] | None, current_folders: Iterable[str]) -> bool:
    """True when building these host folders (all when None) would change nothing."""
    data = _read(root)
    if data is None:
        return False
    hosts = data.get("hosts")
    if not isinstance(hosts, dict):
        return False
    current = sorted(current_folders)
    if folders is None:
        if data.get("folders") != current:
            return False  # a host came or went
        folders = current
    folders = list(folders)
    if any(isinstance(hosts.get(f), dict) and hosts[f].get("lab") for f in folders):
        if data.get("folders") != current:
            return False
        folders = current  # one host's names are in the others' modules
    catalogue = _catalogue(root)
    file = functools.cache(functools.partial(_file, root))  # fragments are shared
    for folder in folders:
        entry = hosts.get(folder)
        if not isinstance(entry, dict):
            return False
        recorded_inputs = entry.get("inputs", {})
        includes = _recorded_includes(folder, recorded_inputs)
        if host_inputs(root, folder, includes, catalogue, file) != recorded_inputs:
            return False
        for rel, digest in entry.get("outputs", {}).items():
            if _file(root, rel) != digest:
                return False
    return True
