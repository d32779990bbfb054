"""Which files a host is made from, read quickly: its profile and the fragments it includes,
merged, neither validated nor compiled, without the catalogue.

`homelab history HOST` needs no more than this to hand git the host's paths, and it must
answer about as fast as `git log` itself: this module loads none of the lab's checks, the
catalogue or the compiler (homelab.labfiles and what it imports cost several times the
whole command). A full LabState works here too: host_inputs reads the same fields of both.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homelab.errors import Place, Problem
from homelab.source import Source, Unreadable, present

if TYPE_CHECKING:
    from homelab.labfiles import LabState
    from homelab.secrets.view import LabSecrets
    from homelab.yamlfile import Document

# as in homelab.labfiles (a test keeps them the same): importing it is what this module avoids
PROFILE = "profile.yaml"
COMMON = "common"


@dataclass(frozen=True)
class HostSketch:
    """One host's merged document and the fragments it includes; no profile (unchecked)."""

    folder: str
    document: Document | None
    includes: tuple[str, ...] = ()
    profile: None = None


@dataclass(frozen=True)
class Sketch:
    """The hosts of a lab, sketched (see the module's words); no secrets (unchecked)."""

    hosts: dict[str, HostSketch] = field(default_factory=dict)
    secrets: LabSecrets | None = None


def host_folder(folder: str) -> str:
    return f"hosts/{folder}/"


def sketch_hosts(source: Source, only: str | None = None) -> Sketch:
    """Every host of the source, sketched; with `only`, that host folder alone."""
    # deferred here and below: the YAML parser, which `homelab history HOST` needs only
    # when the paths it remembers no longer hold (homelab.history.pathcache)
    from homelab.profile.include import resolve

    fetch = _fetcher(source)
    hosts: dict[str, HostSketch] = {}
    for folder in host_folders(source) if only is None else [only]:
        doc, _ = fetch(f"hosts/{folder}/{PROFILE}")
        used: list[str] = []

        def tracking(path: str, used: list[str] = used) -> tuple[Document | None, list[Problem]]:
            used.append(path)
            return fetch(path)

        merged = resolve(doc, tracking)[0] if doc is not None else None
        hosts[folder] = HostSketch(folder, merged, tuple(used))
    return Sketch(hosts)


def host_folders(source: Source) -> list[str]:
    """As homelab.labload.host_folders: the folders under hosts/ holding a profile."""
    try:
        names = source.listdir("hosts")
    except Unreadable:
        from homelab.labload import host_folders  # its refusal, in its words

        return host_folders(source)
    return [name for name in names if name != COMMON and present(source, f"hosts/{name}/{PROFILE}")]


def _fetcher(source: Source) -> Callable[[str], tuple[Document | None, list[Problem]]]:
    """Each file read and parsed once; a file that is missing or cannot be read is None
    (a sketch says nothing about problems: validation does)."""
    from homelab.profile.options import tags_allowed
    from homelab.yamlfile import load_text

    cache: dict[str, tuple[Document | None, list[Problem]]] = {}

    def fetch(rel: str) -> tuple[Document | None, list[Problem]]:
        if rel not in cache:
            try:
                text = source.read(rel)
            except (UnicodeDecodeError, Unreadable):
                text = None
            if text is None:
                cache[rel] = (None, [Problem(Place(rel), f"no such file {rel}")])
            else:
                cache[rel] = load_text(rel, text, tags_allowed)
        return cache[rel]

    return fetch


def host_inputs(state: LabState | Sketch, folder: str) -> set[str]:
    """The files a host's configuration is made from: its profile, the fragments it
    includes, the catalogue entries of its services, its hardware configuration, the
    module files it imports (beside the profile or a fragment), the encrypted secrets it
    uses."""
    from homelab.profile import modules

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


def host_pathspec(state: LabState | Sketch, folder: str) -> list[str]:
    """Paths for `git log -- ...`: the whole host folder, its fragments, its catalogue
    entries. Taken from the current state: a fragment the host no longer includes is not
    followed back in time."""
    inputs = host_inputs(state, folder)
    return sorted(
        {host_folder(folder), *(p for p in inputs if not p.startswith(host_folder(folder)))}
    )


def find_folder(state: LabState | Sketch, word: str) -> str | None:
    """A host's folder from its folder or host.name (a sketch has no profiles: the name is
    read from its document); None when no host is called so."""
    for folder, host in state.hosts.items():
        data = host.document.data if host.document is not None else None
        named = data.get("host") if isinstance(data, dict) else None
        if folder == word or (isinstance(named, dict) and named.get("name") == word):
            return folder
    return None
