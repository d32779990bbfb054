"""Undoing one commit on some hosts: the reverse of its changes to their own files
(profile, hardware configuration), laid on those files as they are now by git's
three-way merge, in memory. When later commits changed the same lines the undo is refused,
naming them: a profile never gets conflict markers. And what a host's history offers for
one of its commits: undo it, go back to it, or why not (never a no-op)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from homelab.errors import InvalidInput, LabFailure, Place, Problem
from homelab.history.changes import subject_of
from homelab.history.commit import state_at
from homelab.history.paths import host_folder, host_inputs
from homelab.history.repo import (
    EmptySource,
    GitSource,
    LabRepo,
    changed_paths,
    check_writable,
    open_repository,
)
from homelab.history.revert import Reverted, named, uncommitted, write_and_commit
from homelab.history.summary import host_changes
from homelab.labfiles import PROFILE, LabFiles, LabState
from homelab.source import OnlyHosts, Source

LATER_MAX = 50  # later commits of a file looked at to name those in the way


@dataclass(frozen=True)
class Choices:
    """What a host's history offers for one of its commits: for each of "undo this commit"
    and "go back to this state", why it is not offered ("" when it is), and what it would
    change in the host, in profile terms."""

    undo: str
    back: str
    undoes: tuple[str, ...] = ()
    goes_back: tuple[str, ...] = ()


def merge3(current: str, base: str, other: str) -> tuple[str, int]:
    """`current` with the change from `base` to `other` laid on it (git merge-file), and
    the number of conflicts (0: the text is clean). Only temporary files are written."""
    with tempfile.TemporaryDirectory(prefix="homelab-undo-") as tmp:
        names = []
        for name, text in (("current", current), ("base", base), ("other", other)):
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            names.append(str(path))
        done = subprocess.run(
            ["git", "merge-file", "-p", "-q", *names],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
    if done.returncode < 0 or done.returncode > 127:
        raise LabFailure(f"git merge-file failed: {done.stderr.strip()}")
    return done.stdout, done.returncode


def _source(lr: LabRepo, sha: str | None) -> Source:
    return GitSource(lr, sha) if sha else EmptySource()


def _own(state: LabState, folder: str) -> set[str]:
    """A host's own inputs: the files of its folder it is made from."""
    return {p for p in host_inputs(state, folder) if p.startswith(host_folder(folder))}


@dataclass(frozen=True)
class _Commit:
    """A commit to undo: it, its parent, the lab before and after it, what it changed."""

    sha: str
    parent: str | None
    before: LabState
    after: LabState
    changed: frozenset[str]

    def own_changes(self, folder: str) -> list[str]:
        own = _own(self.before, folder) | _own(self.after, folder)
        return sorted(p for p in self.changed if p in own)

    def shared_changes(self, folder: str) -> list[str]:
        """Files it changed that this host draws on with other hosts (fragments, entries)."""
        shared = host_inputs(self.before, folder) | host_inputs(self.after, folder)
        return sorted(p for p in self.changed if p in shared and p not in self.own_changes(folder))


def _load_commit(lab: LabFiles, lr: LabRepo, sha: str, only: str | None = None) -> _Commit:
    """The commit, with the lab before and after it (only that host folder, when given)."""
    parents = lr.run("rev-list", "--parents", "-n", "1", sha).split()[1:]
    parent = parents[0] if parents else None
    return _Commit(
        sha,
        parent,
        _state(lab, lr, parent, only),
        _state(lab, lr, sha, only),
        frozenset(changed_paths(lr, parent, sha)),
    )


def _state(
    lab: LabFiles,
    lr: LabRepo,
    sha: str | None,
    only: str | None = None,
    texts: dict[str, str] | None = None,
) -> LabState:
    """The lab at a commit (only one host folder, when given; these texts on top)."""
    if only is None and not texts:
        return state_at(lab, lr, sha)
    source: Source = _source(lr, sha)
    return lab.load(texts=texts, source=source if only is None else OnlyHosts(source, {only}))


def _later(lr: LabRepo, commit: _Commit, head: str, path: str) -> list[str]:
    """The commits after `commit` that made undoing it in `path` conflict: walking them
    oldest first, those after which the undo has more conflicts than before."""
    shas = lr.run(
        "rev-list", "--reverse", f"--max-count={LATER_MAX}", f"{commit.sha}..{head}",
        "--", lr.path(path),
    ).split()  # fmt: skip
    base, other = _source(lr, commit.sha).read(path), _source(lr, commit.parent).read(path)
    found, conflicts = [], 0
    for sha in shas:
        now = GitSource(lr, sha).read(path)
        if now is None or base is None or other is None:
            continue
        count = merge3(now, base, other)[1]
        if count > conflicts:
            found.append(named(lr, sha))
        conflicts = count
    return found or [named(lr, s) for s in shas[-1:]]


def _undone_texts(
    lab: LabFiles, lr: LabRepo, commit: _Commit, folders: Sequence[str], head: str
) -> tuple[dict[str, str], list[Problem]]:
    """The hosts' own files with the commit undone (only those it changes), or why not."""
    now = _source(lr, head)
    before, after = _source(lr, commit.parent), _source(lr, commit.sha)
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for folder in folders:
        own = commit.own_changes(folder)
        if not own:
            shared = commit.shared_changes(folder)
            said = f" (it changed {', '.join(shared)}, shared with other hosts)" if shared else ""
            problems.append(
                Problem(
                    Place(f"hosts/{folder}/{PROFILE}"),
                    f"{commit.sha[:7]} changed nothing in this host's own profile{said}",
                    hint="go back to a state instead (`homelab revert REV HOST`), "
                    "or edit the shared file",
                )
            )
            continue
        profile = f"hosts/{folder}/{PROFILE}"
        if profile in own and before.read(profile) is None:
            problems.append(
                Problem(
                    Place(profile),
                    f"{commit.sha[:7]} added this host: undoing it would remove the host",
                    hint="remove the host instead (the editor's Remove host)",
                )
            )
            continue
        for path in own:
            was, then, current = before.read(path), after.read(path), now.read(path)
            if was is None or then is None:
                what = "added" if was is None else "deleted"
                problems.append(
                    Problem(
                        Place(path),
                        f"{commit.sha[:7]} {what} this file: undo only takes back changes "
                        "inside files",
                        hint="change the file by hand, or go back to a state (`homelab revert`)",
                    )
                )
                continue
            if current is None:
                problems.append(
                    Problem(Place(path), f"is gone since {commit.sha[:7]}: nothing to undo in it")
                )
                continue
            text, conflicts = merge3(current, then, was)
            if conflicts:
                later = _later(lr, commit, head, path)
                problems.append(
                    Problem(
                        Place(path),
                        f"not undone: later commits changed the same lines as "
                        f"{commit.sha[:7]}: {'; '.join(later)}",
                        hint="go back to a state instead (`homelab revert REV HOST`), "
                        "or make the change by hand; nothing was written",
                    )
                )
            elif text != current:
                texts[path] = text
    return texts, problems


def _hosts_of(lab: LabFiles, commit: _Commit, hosts: Sequence[str]) -> list[str]:
    if hosts:
        known = LabState(commit.after.catalog, {**commit.before.hosts, **commit.after.hosts})
        return lab.select(known, hosts)
    folders = sorted(set(commit.before.hosts) | set(commit.after.hosts))
    return [f for f in folders if commit.own_changes(f)]


def undo_commit(lab: LabFiles, rev: str, hosts: Sequence[str] = ()) -> Reverted:
    """Take back what commit `rev` changed in these hosts' own files (all it changed,
    when no hosts are named), rebuild them, and commit that as a new commit. Refused,
    with nothing written, when later commits changed the same lines, or the result does
    not fit the lab."""
    lr = open_repository(lab.root)
    check_writable(lr)
    head = lr.head()
    sha = lr.resolve(rev)
    if head is None or not lr.succeeds("merge-base", "--is-ancestor", sha, head):
        raise InvalidInput(
            [Problem(Place(str(lab.root)), f"{sha[:7]} is not in the history of this branch")]
        )
    commit = _load_commit(lab, lr, sha)
    folders = _hosts_of(lab, commit, hosts)
    if not folders:
        raise InvalidInput(
            [Problem(Place(str(lab.root)), f"{sha[:7]} changed no host's own profile")]
        )
    texts, problems = _undone_texts(lab, lr, commit, folders, head)
    if problems:
        raise InvalidInput(problems)
    if not texts:
        return Reverted(None, tuple(folders))
    done, _ = write_and_commit(
        lab,
        lr,
        head,
        folders,
        texts,
        misfit=f"the profiles with {sha[:7]} undone do not fit the lab as it is now",
        subject=lambda changes: f"Undo on {subject_of(changes)}",
        words=f"Undoes {named(lr, sha)}.",
    )
    return Reverted(done, tuple(folders))


def choices(lab: LabFiles, folder: str, rev: str) -> Choices:
    """What the history of `folder` offers for commit `rev`, each with its reason when it
    is not offered: never an undo or a going back that would change nothing."""
    lr = open_repository(lab.root)
    head = lr.head()
    sha = lr.resolve(rev)
    if head is None:
        return Choices("nothing is committed yet", "nothing is committed yet")
    commit = _load_commit(lab, lr, sha, folder)
    current = _state(lab, lr, head, folder)
    now = _data(current, folder)
    dirty = uncommitted(lr, _own(current, folder))
    if dirty:  # either would be refused: the person's uncommitted work comes first
        why = f"{dirty[0].place.file} {dirty[0].message}; {dirty[0].hint}"
        return Choices(why, why)
    texts, problems = _undone_texts(lab, lr, commit, [folder], head)
    undo = f"{problems[0].place.file}: {problems[0].message}" if problems else ""
    if not undo and not texts:
        undo = f"what {sha[:7]} changed in hosts/{folder} is already undone"
    undone = _data(_state(lab, lr, head, folder, texts), folder) if not undo else now
    back = _back_reason(lr, commit, folder, head)
    then = {p: t for p in _own(commit.after, folder) if (t := _source(lr, sha).read(p)) is not None}
    went_back = _data(_state(lab, lr, head, folder, then), folder) if not back else now
    return Choices(
        undo, back, tuple(host_changes(now, undone)), tuple(host_changes(now, went_back))
    )


def _data(state: LabState, folder: str) -> object:
    host = state.hosts.get(folder)
    return host.document.data if host is not None and host.document is not None else None


def _back_reason(lr: LabRepo, commit: _Commit, folder: str, head: str) -> str:
    if folder not in commit.after.hosts:
        return f"hosts/{folder} did not exist yet at {commit.sha[:7]}"
    then, now = _source(lr, commit.sha), _source(lr, head)
    if all(then.read(p) == now.read(p) for p in _own(commit.after, folder)):
        return f"hosts/{folder} is already as it was at {commit.sha[:7]}: nothing to go back to"
    return ""
