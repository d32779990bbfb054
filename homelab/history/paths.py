"""Which files belong to a host: what it is made from, and what homelab generates for it."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from homelab.errors import Place, Problem
from homelab.labfiles import COMMON, PROFILE, HostState, LabFiles, LabState, fetcher, host_folders
from homelab.profile import modules
from homelab.source import Source


def host_folder(folder: str) -> str:
    return f"hosts/{folder}/"


def host_inputs(state: LabState, folder: str) -> set[str]:
    """The files a host's configuration is made from: its profile, the fragments it
    includes, the catalogue entries of its services, its hardware configuration, the
    module files it imports (beside the profile or a fragment), the encrypted secrets it
    uses."""
    host = state.hosts.get(folder)
    if host is None:
        return set()
    paths = {f"hosts/{folder}/{PROFILE}", *host.includes}
    data = host.document.data if host.document is not None else None
    if isinstance(data, dict):
        services = data.get("services")
        if isinstance(services, dict):
            paths.update(f"services/{name}.yaml" for name in services if isinstance(name, str))
        hardware = data.get("hardware")
        conf = hardware.get("configuration") if isinstance(hardware, dict) else None
        if isinstance(conf, str) and conf:
            path = posixpath.normpath(posixpath.join(f"hosts/{folder}", conf))
            if not path.startswith("../") and path != "..":
                paths.add(path)
        document = host.document
        assert document is not None
        top = Place(f"hosts/{folder}/{PROFILE}")
        paths |= modules.files(data, lambda where: document.marks.value(where, top).file)
    if host.profile is not None and state.secrets is not None:
        # the encrypted secrets it uses, but never a file that is not age (plaintext
        # saved under a .age name would go into git for good)
        for name in host.profile.secret_names:
            found = state.secrets.secrets.get(name)
            if found is not None and found.encrypted:
                paths.add(found.file)
    return paths


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


def host_pathspec(state: LabState, folder: str) -> list[str]:
    """Paths for `git log -- ...`: the whole host folder, its fragments, its catalogue
    entries. Taken from the current state: a fragment the host no longer includes is not
    followed back in time."""
    inputs = host_inputs(state, folder)
    return sorted(
        {host_folder(folder), *(p for p in inputs if not p.startswith(host_folder(folder)))}
    )


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
    from homelab.catalog import Catalog
    from homelab.profile.include import resolve
    from homelab.yamlfile import Document

    fetch = fetcher(source)
    hosts: dict[str, HostState] = {}
    for folder in host_folders(source):
        rel = f"hosts/{folder}/{PROFILE}"
        doc, _ = fetch(rel)
        used: list[str] = []

        def tracking(path: str, used: list[str] = used) -> tuple[Document | None, list[Problem]]:
            used.append(path)
            return fetch(path)

        merged = resolve(doc, tracking)[0] if doc is not None else None
        hosts[folder] = HostState(folder, merged, (), None, tuple(used))
    return LabState(Catalog({}), hosts)


def find_host(lab: LabFiles, state: LabState, word: str) -> str:
    """A host's folder from its folder or host.name (also in a sketch, which has no
    profiles); an unknown name gets LabFiles.select's message."""
    for folder, host in state.hosts.items():
        data = host.document.data if host.document is not None else None
        named = data.get("host") if isinstance(data, dict) else None
        if folder == word or (isinstance(named, dict) and named.get("name") == word):
            return folder
    return lab.select(state, [word])[0]
