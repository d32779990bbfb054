"""Which files belong to a host: what it is made from, and what homelab generates for it."""

from __future__ import annotations

from collections.abc import Iterable

from homelab.catalog import Catalog
from homelab.history.sketch import (
    COMMON,
    Sketch,
    find_folder,
    host_folder,
    host_inputs,
    host_pathspec,
    sketch_hosts,
)
from homelab.labfiles import HostState, LabFiles, LabState
from homelab.source import Source

__all__ = [
    "as_state",
    "find_host",
    "flake_inputs",
    "host_folder",
    "host_inputs",
    "host_pathspec",
    "lab_inputs",
    "owners",
    "sketch",
]


def lab_inputs(source: Source) -> set[str]:
    """Files every host may draw on: the fragments in hosts/common and the catalogue."""
    fragments = {
        f"hosts/{COMMON}/{name}"
        for name in source.listdir(f"hosts/{COMMON}")
        if name.endswith(".yaml")
    }
    catalogue = {
        f"services/{name}" for name in source.listdir("services") if name.endswith(".yaml")
    }
    return fragments | catalogue | flake_inputs(source)


def flake_inputs(source: Source) -> set[str]:
    """lab.yaml, the flake.nix generated from it and its overlay files; nothing for a lab
    without lab.yaml (its flake.nix is a person's, committed by them)."""
    from homelab import labconfig
    from homelab.compile import body_hash_matches
    from homelab.source import Unreadable

    def read(rel: str) -> str | None:
        try:
            return source.read(rel)
        except (UnicodeDecodeError, Unreadable):
            return None

    lab_yaml = read(labconfig.LAB_YAML)
    if lab_yaml is None:
        return set()
    paths = {labconfig.LAB_YAML}
    flake = read(labconfig.FLAKE)
    if flake is not None and body_hash_matches(flake) is not None:
        paths.add(labconfig.FLAKE)
    config, _ = labconfig.parse(lab_yaml, read)
    if config is not None:
        paths.update(o.file for o in config.overlays if o.file is not None)
    return paths


def owners(states: Iterable[LabState], path: str) -> set[str]:
    """Host folders that `path` belongs to in any of the states."""
    found = set()
    for state in states:
        for folder in state.hosts:
            if path.startswith(host_folder(folder)) or path in host_inputs(state, folder):
                found.add(folder)
    return found


def sketch(source: Source) -> LabState:
    """The hosts with their merged documents and included fragments, neither validated
    nor compiled, and without the catalogue: enough to know which files belong to which
    host, and quick (history and status must answer fast)."""
    return as_state(sketch_hosts(source))


def as_state(sketched: Sketch) -> LabState:
    """A sketch as a LabState (no profiles, no catalogue), for what asks for one."""
    hosts = {
        folder: HostState(folder, h.document, (), None, h.includes)
        for folder, h in sketched.hosts.items()
    }
    return LabState(Catalog({}), hosts)


def find_host(lab: LabFiles, state: LabState, word: str) -> str:
    """A host's folder from its folder or host.name (also in a sketch, which has no
    profiles); an unknown name gets LabFiles.select's message."""
    return find_folder(state, word) or lab.select(state, [word])[0]
