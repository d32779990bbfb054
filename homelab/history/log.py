"""History per host: the commits that touched it, newest first, with where each is deployed.

The lab is never loaded at each commit: the host's paths (its folder, the fragments it
includes, the catalogue entries of its services) come from the current state, and git
filters the log by them. Deploy marks come from one read of the deploy refs and one walk
of the commits between the deployed ones and the oldest commit shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from homelab.errors import InvalidInput, Place, Problem
from homelab.history.changes import describe
from homelab.history.commit import state_at
from homelab.history.nixdiff import unified
from homelab.history.paths import find_host, host_folder, host_pathspec, sketch
from homelab.history.records import DeployRecord, deployed
from homelab.history.repo import EmptySource, GitSource, LabRepo, changed_paths, open_repository
from homelab.labfiles import LabFiles, LabState
from homelab.source import DiskSource, Source
from homelab.write import generated_files

_SEP, _END = "\x1f", "\x1e"


@dataclass(frozen=True)
class Entry:
    """One commit in a host's history."""

    commit: str
    when: datetime
    author: str
    subject: str
    deployed: tuple[str, ...]  # hosts whose deployed commit contains this one

    @property
    def short(self) -> str:
        return self.commit[:7]


@dataclass(frozen=True)
class Shown:
    """One commit as it concerns one host."""

    commit: str
    when: datetime
    author: str
    message: str
    host: str
    changes: tuple[str, ...]  # profile-level change lines of this host
    nix: tuple[str, ...]  # unified diff of the host's generated Nix


def _folder(lab: LabFiles, state: LabState, lr: LabRepo, host: str) -> str | None:
    """The folder of a host by name; for a host no longer in the lab, None when the
    history has its folder (then only that folder is followed)."""
    try:
        return find_host(lab, state, host)
    except InvalidInput:
        spec = lr.path(host_folder(host))
        if "/" not in host and lr.run("log", "-1", "--format=%H", "HEAD", "--", spec).strip():
            return None
        raise


def host_history(lab: LabFiles, host: str | None = None, limit: int | None = None) -> list[Entry]:
    """Commits that touched the host (or any host with an @tag; every lab commit
    without one), newest first."""
    lr = open_repository(lab.root)
    if lr.head() is None:
        return []
    if host is None:
        paths = ["hosts/", "services/"]
    elif host.startswith("@"):
        state = sketch(DiskSource(lab.root))
        paths = sorted({p for f in lab.select(state, [host]) for p in host_pathspec(state, f)})
    else:
        state = sketch(DiskSource(lab.root))
        folder = _folder(lab, state, lr, host)
        paths = host_pathspec(state, folder) if folder else [host_folder(host)]
    count = [f"--max-count={limit}"] if limit else []
    fmt = "%H%x1f%at%x1f%an%x1f%s%x1e"
    out = lr.run("log", f"--format={fmt}", *count, "HEAD", "--", *(lr.path(p) for p in paths))
    rows = []
    for chunk in out.split(_END):
        parts = chunk.strip("\n").split(_SEP)
        if len(parts) == 4:
            sha, stamp, author, subject = parts
            rows.append(
                (sha, datetime.fromtimestamp(int(stamp), UTC).astimezone(), author, subject)
            )
    marks = _deployed_marks(lr, deployed(lab.root), [r[0] for r in rows])
    return [
        Entry(sha, when, author, subject, marks.get(sha, ())) for sha, when, author, subject in rows
    ]


def _deployed_marks(
    lr: LabRepo, records: Mapping[str, DeployRecord], shown: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """For each shown commit, the hosts whose deployed commit is it or descends from it."""
    if not records or not shown:
        return {}
    tips = sorted({r.commit for r in records.values()})
    # one walk: every commit reachable from a deployed one, down to the oldest shown
    out = lr.run("rev-list", "--parents", *tips, "--not", f"{shown[-1]}^@", "--")
    parents: dict[str, list[str]] = {}
    for line in out.splitlines():
        sha, *rest = line.split()
        parents[sha] = rest
    wanted = set(shown)
    reached: dict[str, set[str]] = {}
    for tip in tips:
        seen: set[str] = set()
        todo = [tip]
        while todo:
            sha = todo.pop()
            if sha in seen or sha not in parents:
                continue
            seen.add(sha)
            todo.extend(parents[sha])
        reached[tip] = seen & wanted
    marks: dict[str, list[str]] = {}
    for host, record in sorted(records.items()):
        for sha in reached[record.commit]:
            marks.setdefault(sha, []).append(host)
    return {sha: tuple(hosts) for sha, hosts in marks.items()}


def _predates(lr: LabRepo, host: str, sha: str) -> InvalidInput:
    first = lr.run(
        "log", "--format=%h %as", "--diff-filter=A", "--reverse", "HEAD", "--",
        lr.path(f"hosts/{host}/profile.yaml"),
    ).splitlines()  # fmt: skip
    hint = f"its profile was added in {first[0]}" if first else ""
    return InvalidInput(
        [Problem(Place(str(lr.root)), f"host '{host}' did not exist at {sha[:7]}", hint=hint)]
    )


def show_commit(lab: LabFiles, host: str, rev: str) -> Shown:
    """A commit as it concerns one host: its profile-level changes and the diff of the
    host's generated Nix (the committed files, as they were deployed)."""
    lr = open_repository(lab.root)
    sha = lr.resolve(rev)
    commit = lr.repo.commit(sha)
    parent = commit.parents[0].hexsha if commit.parents else None
    new = state_at(lab, lr, sha)
    folder = _folder_at(lab, lr, new, host, sha)
    old = state_at(lab, lr, parent)
    changes = describe(old, new, changed_paths(lr, parent, sha), [folder])
    before: Source = GitSource(lr, parent) if parent else EmptySource()
    nix = unified(generated_files(before, folder), generated_files(GitSource(lr, sha), folder))
    return Shown(
        commit=sha,
        when=datetime.fromtimestamp(commit.authored_date, UTC).astimezone(),
        author=f"{commit.author.name} <{commit.author.email}>",
        message=str(commit.message),
        host=folder,
        changes=tuple(changes.hosts.get(folder, ())),
        nix=tuple(nix),
    )


def _folder_at(lab: LabFiles, lr: LabRepo, state: LabState, host: str, sha: str) -> str:
    """The host's folder in a state loaded at `sha`; a clear refusal when it was not there."""
    try:
        return lab.select(state, [host])[0]
    except InvalidInput:
        now = lab.load()
        try:
            folder = lab.select(now, [host])[0]
        except InvalidInput:
            if lr.run("log", "-1", "--format=%H", "HEAD", "--", lr.path(host_folder(host))).strip():
                raise _predates(lr, host, sha) from None
            raise
        raise _predates(lr, folder, sha) from None
