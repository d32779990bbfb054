"""The editor's window on the lab's git history: what was committed, what a commit of a
host would say, which hosts wait for a deploy. Thin calls into homelab.history; every
function answers None (or nothing) when the lab is not in a git repository yet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homelab.errors import InvalidInput
from homelab.lab import HostState, Lab, LabState

if TYPE_CHECKING:
    from homelab.history.repo import LabRepo


def _repo(lab: Lab) -> LabRepo | None:
    """The lab's repository when it has a commit."""
    from homelab.history.repo import open_repository

    try:
        lr = open_repository(lab.root)
    except InvalidInput:
        return None
    return lr if lr.head() is not None else None


def head(lab: Lab) -> str | None:
    lr = _repo(lab)
    return None if lr is None else lr.head()


def committed_generated(lab: Lab, folder: str) -> dict[str, str] | None:
    """The host's generated modules as committed at HEAD (None: no commit yet)."""
    from homelab.history.repo import GitSource
    from homelab.write import generated_files

    lr = _repo(lab)
    sha = lr.head() if lr is not None else None
    if lr is None or sha is None:
        return None
    return generated_files(GitSource(lr, sha), folder)


def nix_diff(committed: Mapping[str, str], generated: Mapping[str, str]) -> list[str]:
    from homelab.history.nixdiff import unified

    return unified(committed, generated)


@dataclass(frozen=True)
class Pending:
    """What committing one host would say."""

    subject: str
    lines: tuple[str, ...]  # the body: one line per changed host


def pending_commit(
    lab: Lab, folder: str, host: HostState, catalog_state: LabState
) -> Pending | None:
    """The profile-level summary a commit of this host would carry (None: nothing to
    commit, or no repository). `host` is the host as saved now."""
    from homelab.history.changes import describe, subject_of
    from homelab.history.paths import host_folder, host_inputs
    from homelab.history.repo import EmptySource, GitSource, changed_paths, open_repository
    from homelab.source import DiskSource
    from homelab.tui.session import OnlyHosts
    from homelab.write import generated_files

    try:
        lr = open_repository(lab.root)
    except InvalidInput:
        return None
    sha = lr.head()
    before = GitSource(lr, sha) if sha else EmptySource()
    old_host = lab.load(source=OnlyHosts(before, {folder})).hosts.get(folder)
    old = LabState(catalog_state.catalog, {folder: old_host} if old_host else {})
    new = LabState(catalog_state.catalog, {folder: host})
    inputs = host_inputs(old, folder) | host_inputs(new, folder)
    paths = {host_folder(folder), *inputs, *generated_files(DiskSource(lab.root), folder)}
    changed = changed_paths(lr, sha, None, sorted(paths))
    changes = describe(old, new, changed, [folder])
    if not changes:
        return None
    return Pending(subject_of(changes), tuple(changes.lines()))


def commit_host(
    lab: Lab, folder: str, subject: str | None, words: str | None
) -> tuple[str, str] | None:
    """Commit the host's files; (short id, subject) or None when nothing changed."""
    from homelab.history import commit_lab

    commit = commit_lab(lab, message=words or None, hosts=[folder], subject=subject or None)
    if commit is None:
        return None
    return commit.hexsha[:7], str(commit.summary)


def deploy_marks(lab: Lab) -> dict[str, str]:
    """For each host folder: "never" (never deployed), "ahead" (HEAD or the working tree
    changes it since its deploy) or "" (deployed as is)."""
    from homelab.history.status import lab_status

    if _repo(lab) is None:
        return {}
    marks = {}
    for row in lab_status(lab):
        if row.record is None:
            marks[row.host] = "never"
        elif row.head_ahead or row.uncommitted:
            marks[row.host] = "ahead"
        else:
            marks[row.host] = ""
    return marks
