"""The editor checks the shown host against the catalogue entries its profile names, not
against the whole catalogue: parsing every entry was about 30 ms of a 1000-host lab's
opening, and a host uses a few of some fifty.

Which entries a profile names is found from its text, with no check: every key and every
text of the profile and of the fragments it includes, followed as `include:` says. That
is a superset of the services it uses (and of groups that share a service's name). Each
later check first reads the entries its host names that are not read yet (`extend`),
so that no host is ever told of a service "unknown" because its entry was not read; the
whole catalogue and its problems are read beside the UI once the first host is shown
(`rest`, with what a thread read), or at once where every entry is needed first (the
Services tab offers them all), else they come with the background load of the lab.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

import yaml

from homelab.catalog import Catalog
from homelab.editing.session import Session
from homelab.errors import Problem
from homelab.lab import Lab
from homelab.labstate import PROFILE
from homelab.source import DiskSource, OnlyHosts, Source, Unreadable
from homelab.yamlfile import load_plain

CATALOGUE = "services"
MOST_FILES = 32  # includes followed, at most (a deeper chain: the whole catalogue)


class FirstLook(OnlyHosts):
    """A source showing one host folder (none for ""), the shared fragments, and the
    catalogue entries in `entries` (file names, e.g. caddy.yaml)."""

    def __init__(self, base: Source, folder: str, entries: frozenset[str]) -> None:
        super().__init__(base, {folder} if folder else set())
        self.entries = entries

    def listdir(self, rel: str) -> list[str]:
        names = super().listdir(rel)
        if rel.strip("/") == CATALOGUE:
            return [n for n in names if n in self.entries]
        return names


def first_look(session: Session[Lab], folder: str) -> frozenset[str] | None:
    """Give the session, before its first check of folder, the catalogue of the entries
    the host names, and the lab's problems with lab.yaml, its secrets and those entries;
    the entries read, or None when nothing was given (the check reads the whole
    catalogue itself, as it does after `rest`)."""
    if session.catalog is not None:
        return None
    disk = DiskSource(session.lab.root)
    entries = named_entries(disk, folder, session.text(folder))
    if entries is None:
        return None
    look = FirstLook(disk, folder, entries)
    state = session.lab.load(texts=session.unsaved(), source=look, index=session.option_index())
    session.catalog = state.catalog
    session.lab_problems, session.lab_warnings = state.problems, state.warnings
    return entries


def extend(session: Session[Lab], folder: str, entries: frozenset[str]) -> frozenset[str] | None:
    """Before a check of folder: the entries it names that the catalogue lacks, read and
    added with their problems; the entries read now, or None when that cannot be told
    (the whole catalogue is then needed: `rest`)."""
    disk = DiskSource(session.lab.root)
    named = named_entries(disk, folder, session.text(folder))
    if named is None or session.catalog is None:
        return None
    missing = named - entries
    if not missing:
        return entries
    look = FirstLook(disk, "", missing)  # no host: the entries, and what every load reads
    state = session.lab.load(texts=session.unsaved(), source=look)
    session.catalog = Catalog({**session.catalog.services, **state.catalog.services})
    files = {f"{CATALOGUE}/{name}" for name in missing}
    more = [p for p in state.problems if p.place.file in files]
    session.lab_problems = (*session.lab_problems, *more)
    return entries | missing


def rest(
    session: Session[Lab],
    entries: frozenset[str],
    read: tuple[Catalog, list[Problem]] | None = None,
) -> list[Problem]:
    """The whole catalogue after a first look that read `entries` (`read`: the lab's
    catalogue() already read, e.g. in a thread), and the problems of the entries it did
    not read, with the lab's; those problems are returned."""
    catalog, problems = read or session.lab.catalogue()
    session.catalog = catalog
    more = rest_problems(problems, entries, session.lab_problems)
    session.lab_problems = (*session.lab_problems, *more)
    return more


def named_entries(source: Source, folder: str, text: str) -> frozenset[str] | None:
    """The catalogue files (of services/) whose name the host's profile `text` or a
    fragment it includes mentions; None when that cannot be told (the text or a
    fragment does not parse, includes go too deep, a service has no entry, whose
    problem's hint names the entries near it): the whole catalogue then."""
    words: set[str] = set()
    services: set[str] = set()
    todo = [(f"hosts/{folder}/{PROFILE}", text)]
    seen: set[str] = set()
    while todo:
        rel, body = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        if len(seen) > MOST_FILES:
            return None
        try:
            data = load_plain(body, rel)
        except yaml.YAMLError:
            return None
        _words(data, words)
        named = data.get("services") if isinstance(data, dict) else None
        if isinstance(named, dict):
            services.update(k for k in named if isinstance(k, str))
        for name in _includes(data):
            path = posixpath.normpath(posixpath.join(posixpath.dirname(rel), name))
            try:
                fragment = source.read(path)
            except (Unreadable, UnicodeDecodeError):
                continue  # the check says what is wrong with it
            if fragment is not None:
                todo.append((path, fragment))
    try:
        listing = source.listdir(CATALOGUE)
    except Unreadable:
        return None
    entries = {n[: -len(".yaml")] for n in listing if n.endswith(".yaml")}
    if not services <= entries:
        return None
    return frozenset(f"{n}.yaml" for n in entries & words)


def _includes(data: Any) -> list[str]:
    found = data.get("include") if isinstance(data, dict) else None
    if isinstance(found, str):
        found = [found]
    return [n for n in found if isinstance(n, str) and n] if isinstance(found, list) else []


def _words(data: Any, into: set[str]) -> None:
    """Every key and every text in the data (a walk without recursion)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str):
                    into.add(key)
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            into.add(value)


def rest_problems(
    problems: Iterable[Problem], entries: frozenset[str], shown: Iterable[Problem]
) -> list[Problem]:
    """The whole catalogue's problems that the first look did not read (those of entries
    outside `entries`), and none already `shown`."""
    first = {f"{CATALOGUE}/{name}" for name in entries}
    said = set(shown)
    return [p for p in problems if p.place.file not in first and p not in said]
