"""Committing the lab: its managed files only, with a message written for people.

The commit is made beside the person's index, not through it: a temporary index starts
from HEAD, takes the managed files from the working tree, and becomes the commit's tree.
Afterwards only those paths are refreshed in the real index, so whatever else the person
had staged (or not) stays exactly as it was.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from homelab.catalog import Catalog
from homelab.errors import InvalidInput
from homelab.history.changes import Changes, commit_message, describe, subject_of
from homelab.history.paths import flake_inputs, host_folder, host_inputs, lab_inputs
from homelab.history.repo import (
    EmptySource,
    GitSource,
    LabRepo,
    changed_paths,
    check_writable,
    nul_list,
    open_repository,
)
from homelab.labfiles import HostState, LabFiles, LabState
from homelab.nix.meaning import same_meaning
from homelab.source import DiskSource, OnlyHosts, Source, Unreadable
from homelab.write import generated_files


@dataclass(frozen=True)
class Committed:
    """A commit homelab made."""

    sha: str
    subject: str  # the first line of its message

    @property
    def short(self) -> str:
        return self.sha[:7]


@dataclass(frozen=True)
class Pending:
    """What committing one host would say, before it is committed."""

    subject: str
    lines: tuple[str, ...]  # the body: per host, a line per changed setting


@dataclass(frozen=True)
class Known:
    """The lab at `head` (old) and on disk (new), as a caller loaded them."""

    head: str | None
    old: LabState
    new: LabState


def state_at(lab: LabFiles, lr: LabRepo, commit: str | None) -> LabState:
    """The lab as it was at a commit (nothing before the first one)."""
    source: Source = GitSource(lr, commit) if commit else EmptySource()
    return lab.load(source=source)


def managed_paths(
    lab: LabFiles,
    lr: LabRepo,
    old: LabState,
    new: LabState,
    head: str | None,
    folders: Sequence[str] | None = None,
) -> set[str]:
    """Lab-relative files homelab commits: for each host in scope its inputs and generated
    modules (before and after), lab.yaml with the flake.nix made from it and its overlays;
    for the whole lab also every fragment and catalogue entry. Never anything else (a
    hand-kept flake.nix, secrets, a person's notes)."""
    before: Source = GitSource(lr, head) if head else EmptySource()
    now = DiskSource(lab.root)
    if folders is None:
        scope = sorted(set(old.hosts) | set(new.hosts) | set(lab.orphan_folders()))
    else:
        scope = list(folders)
    paths: set[str] = set()
    for folder in scope:
        paths |= host_inputs(old, folder) | host_inputs(new, folder)
        paths |= set(generated_files(before, folder)) | set(generated_files(now, folder))
    if folders is None:
        paths |= lab_inputs(before) | lab_inputs(now)
    else:
        # every host is built with the flake lab.yaml makes: its change goes with any host's
        paths |= flake_inputs(before) | flake_inputs(now)
    return paths


def _stage(lab: LabFiles, lr: LabRepo, head: str | None, paths: Iterable[str]) -> str:
    """The tree of HEAD with these paths taken from the working tree (via a temporary
    index, leaving the person's index alone)."""
    index = lr.git_dir / f"homelab-index-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        if head:
            lr.run("read-tree", head, env=env)
        repo_paths = sorted(lr.path(p) for p in paths)
        present = [p for p in repo_paths if (lr.top / p).is_file()]
        absent = [p for p in repo_paths if p not in set(present)]
        if present:
            ignored = lr.run(
                "check-ignore",
                "-z",
                "--stdin",
                env={**env, "GIT_LITERAL_PATHSPECS": "0"},
                stdin=nul_list(present),
                ok=(0, 1),
            ).split("\0")
            present = [p for p in present if p not in set(ignored)]
        if present:
            lr.run(
                "add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul",
                env=env, stdin=nul_list(present),
            )  # fmt: skip
        if absent:
            lr.run(
                "rm", "--cached", "-q", "--ignore-unmatch", "--pathspec-from-file=-",
                "--pathspec-file-nul", env=env, stdin=nul_list(absent),
            )  # fmt: skip
        return lr.run("write-tree", env=env).strip()
    finally:
        index.unlink(missing_ok=True)
        index.with_name(index.name + ".lock").unlink(missing_ok=True)


def make_commit(lr: LabRepo, head: str | None, tree: str, message: str) -> str:
    """A commit of `tree` on top of HEAD, moving the branch (only if HEAD did not move)."""
    parents = ["-p", head] if head else []
    sha = lr.run("commit-tree", tree, *parents, "-F", "-", stdin=message).strip()
    first = message.splitlines()[0]
    reflog = f"commit: {first}" if head else f"commit (initial): {first}"
    lr.run("update-ref", "-m", reflog, "HEAD", sha, head or "")
    return sha


def commit_paths(
    lab: LabFiles,
    lr: LabRepo,
    paths: set[str],
    old: LabState,
    new: LabState,
    head: str | None,
    *,
    folders: Sequence[str] | None = None,
    message: str | None = None,
    subject: Callable[[Changes], str] | None = None,
    before_head_moves: Callable[[], None] | None = None,
) -> tuple[str, Changes] | None:
    """Commit these paths as they are in the working tree; None when nothing changed.
    `before_head_moves` runs once the commit is worked out, before HEAD moves to it (work
    that reads HEAD meanwhile, as an apply's diff, still sees the commit it started from);
    when it raises, nothing is committed."""
    tree = _stage(lab, lr, head, paths)
    head_tree = lr.run("rev-parse", f"{head}^{{tree}}").strip() if head else lr.empty_tree
    if tree == head_tree:
        return None
    changed = changed_paths(lr, head_tree, tree)
    changes = describe(
        old, new, changed, folders, _layout_only(lab, lr, head), _texts(lab, lr, head)
    )
    title = subject(changes) if subject is not None else None
    if before_head_moves is not None:
        before_head_moves()
    sha = make_commit(lr, head, tree, commit_message(changes, message, title))
    # the person's index: these paths now match the new commit, nothing else moves
    lr.run(
        "reset", "-q", sha, "--pathspec-from-file=-", "--pathspec-file-nul",
        stdin=nul_list(lr.path(p) for p in sorted(paths)),
    )  # fmt: skip
    return sha, changes


def _layout_only(lab: LabFiles, lr: LabRepo, head: str | None) -> Callable[[str], bool]:
    """Is a generated file on disk the same Nix as at HEAD, only laid out anew?"""
    before: Source = GitSource(lr, head) if head else EmptySource()
    now = DiskSource(lab.root)

    def same(path: str) -> bool:
        try:
            old, new = before.read(path), now.read(path)
        except (Unreadable, UnicodeDecodeError):
            return False
        return old is not None and new is not None and same_meaning(old, new)

    return same


def _texts(
    lab: LabFiles, lr: LabRepo, head: str | None
) -> Callable[[str], tuple[str | None, str | None]]:
    """A file's text at HEAD and on disk (None where it is not, or cannot be read)."""
    before: Source = GitSource(lr, head) if head else EmptySource()
    now = DiskSource(lab.root)

    def texts(path: str) -> tuple[str | None, str | None]:
        return _read(before, path), _read(now, path)

    return texts


def _read(source: Source, path: str) -> str | None:
    try:
        return source.read(path)
    except (Unreadable, UnicodeDecodeError):
        return None


def commit_lab(
    lab: LabFiles,
    message: str | None = None,
    hosts: Sequence[str] | None = None,
    *,
    subject: str | None = None,
    known: Known | None = None,
    before_head_moves: Callable[[], None] | None = None,
) -> Committed | None:
    """Commit the managed files of these host folders (all, with the lab's fragments and
    catalogue, when None) as they are on disk; None when nothing changed. A lab that is
    not yet in a git repository gets one. `known`: the lab at HEAD and on disk, loaded
    already by the caller (used while HEAD is still the commit they were loaded at).
    `before_head_moves`: commit_paths' (not run when nothing changed)."""
    lr = open_repository(lab.root, create=True)
    check_writable(lr)
    head = lr.head()
    if known is not None and known.head == head:
        old, new = known.old, known.new
    else:
        old, new = state_at(lab, lr, head), lab.load()
    folders = None if hosts is None else list(hosts)
    paths = managed_paths(lab, lr, old, new, head, folders)
    title = None if subject is None else (lambda _: subject)
    done = commit_paths(
        lab, lr, paths, old, new, head, folders=folders, message=message, subject=title,
        before_head_moves=before_head_moves,
    )  # fmt: skip
    if done is None:
        return None
    return Committed(done[0], lr.run("show", "-s", "--format=%s", done[0]).strip())


def pending_commit(lab: LabFiles, host: HostState, catalog: Catalog) -> Pending | None:
    """What a commit of this host would say, its profile compared with HEAD's: `host` as
    it is saved now (checked against `catalog`). None when nothing would be committed, or
    the lab is in no repository (its first commit says the whole lab)."""
    try:
        lr = open_repository(lab.root)
    except InvalidInput:
        return None
    folder = host.folder
    sha = lr.head()
    before: Source = GitSource(lr, sha) if sha else EmptySource()
    old_host = lab.load(source=OnlyHosts(before, {folder})).hosts.get(folder)
    old = LabState(catalog, {folder: old_host} if old_host else {})
    new = LabState(catalog, {folder: host})
    inputs = host_inputs(old, folder) | host_inputs(new, folder)
    paths = {host_folder(folder), *inputs, *generated_files(DiskSource(lab.root), folder)}
    changed = changed_paths(lr, sha, None, sorted(paths))
    changes = describe(
        old, new, changed, [folder], _layout_only(lab, lr, sha), _texts(lab, lr, sha)
    )
    if not changes:
        return None
    return Pending(subject_of(changes), tuple(changes.body()))
