"""History per host: the commits that touched it, newest first, with where each is deployed.

The lab is never loaded at each commit, nor checked now: the host's paths (its folder, the
fragments it includes, the catalogue entries of its services) come from a sketch of the
current state (homelab.history.sketch), remembered while the host's files read the same
(homelab.history.pathcache), and git filters the log by them. Deploy marks come from one
read of the deploy refs and one walk of the commits between the deployed ones and the
oldest commit shown. The repository's own questions, the log and the read of the refs do
not wait for each other: git runs them at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from homelab.errors import InvalidInput, Place, Problem
from homelab.history.pathcache import host_paths, recall
from homelab.history.records import DEPLOYED_QUERIES, DeployRecord, deployed_from
from homelab.history.repo import WHERE, LabRepo, check_done, open_repository, run_in
from homelab.source import DiskSource

if TYPE_CHECKING:
    from homelab.history.sketch import Sketch
    from homelab.labfiles import LabFiles, LabState

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


def _folder(root: Path, lr: LabRepo, host: str) -> str | None:
    """The folder of a host by name; for a host no longer in the lab, None when the
    history has its folder (then only that folder is followed)."""
    # deferred, here and below: the sketch, which a host's remembered paths spare
    from homelab.history.sketch import PROFILE, find_folder, host_folder, sketch_hosts

    if "/" not in host and (root / host_folder(host) / PROFILE).is_file():
        return host  # its folder: no need to read every profile for the names
    sketched = sketch_hosts(DiskSource(root))
    found = find_folder(sketched, host)
    if found is not None:
        return found
    if lr.head() is None:  # no commit yet: no history to find it in (and none to show)
        return None
    spec = lr.path(host_folder(host))
    if "/" not in host and lr.run("log", "-1", "--format=%H", "HEAD", "--", spec).strip():
        return None
    raise _unknown(root, host, sketched)


def _unknown(root: Path, word: str, sketched: Sketch) -> InvalidInput:
    """LabFiles.select's refusal of a host or @tag it does not know (its words, its hint),
    from the sketch the search read (every profile once, not once more for the refusal)."""
    from homelab.history.paths import as_state  # deferred: the lab's checks, for the refusal
    from homelab.labfiles import LabFiles

    try:
        LabFiles(root).select(as_state(sketched), [word])
    except InvalidInput as refused:
        return refused
    raise AssertionError(f"{word} names a host, yet it was not found")


def _tagged(root: Path, tag: str) -> list[str]:
    """The paths of every host with an @tag."""
    # deferred: tags are read from full hosts
    from homelab.history.paths import host_pathspec, sketch
    from homelab.labfiles import LabFiles

    state = sketch(DiskSource(root))
    return sorted({p for f in LabFiles(root).select(state, [tag]) for p in host_pathspec(state, f)})


def host_history(lab: LabFiles, host: str | None = None, limit: int | None = None) -> list[Entry]:
    """Commits that touched the host (or any host with an @tag; every lab commit
    without one), newest first."""
    return history_of(lab.root, host, limit)


def history_of(root: Path, host: str | None = None, limit: int | None = None) -> list[Entry]:
    """host_history from the lab's folder alone: what `homelab history` runs, without
    loading the lab (see the module's words)."""
    root = Path(root).resolve()
    lr: LabRepo | None = None
    paths = ["hosts/", "services/"] if host is None else _remembered(root, host)
    if host is not None and paths is None:
        # the repository first: finding the paths may need it, and writes a note of them
        lr = open_repository(root)
        if host.startswith("@"):
            if lr.head() is None:  # no commit yet: nothing to show, whatever the tag
                return []
            paths = _tagged(root, host)
        else:
            from homelab.history.sketch import host_folder

            folder = _folder(root, lr, host)
            paths = [host_folder(host)] if folder is None else host_paths(root, folder)
    assert paths is not None
    count = [f"--max-count={limit}"] if limit else []
    fmt = "%H%x1f%at%x1f%an%x1f%s%x1e"
    log = ("log", f"--format={fmt}", *count, "HEAD", "--", *paths)
    # in the lab's folder (the paths are the lab's), all at once: the repository's own
    # questions when not asked yet, the log, the deploy records
    first = [] if lr is not None else [WHERE]
    done = run_in(root, *first, log, *DEPLOYED_QUERIES)
    ran, answers = done[len(first)], done[len(first) + 1 :]
    lr = lr or open_repository(root, found=done[0])
    out = check_done(log, ran, ok=(0, 128))
    if not out:  # nothing, no commit yet (git refuses to read HEAD), or git's own failure
        if lr.head() is None:
            return []
        out = check_done(log, ran)
    rows = []
    for chunk in out.split(_END):
        parts = chunk.strip("\n").split(_SEP)
        if len(parts) == 4:
            sha, stamp, author, subject = parts
            rows.append(
                (sha, datetime.fromtimestamp(int(stamp), UTC).astimezone(), author, subject)
            )
    records = deployed_from(
        lr, [check_done(q, a) for q, a in zip(DEPLOYED_QUERIES, answers, strict=True)]
    )
    marks = _deployed_marks(lr, records, [r[0] for r in rows])
    return [
        Entry(sha, when, author, subject, marks.get(sha, ())) for sha, when, author, subject in rows
    ]


def _remembered(root: Path, host: str) -> list[str] | None:
    """The paths of a host named by its folder, as remembered (homelab.history.pathcache:
    they hold while its profile reads as it did, so the folder is a host's); None when they
    must be found again, or it is no folder's name."""
    return None if host.startswith(("@", ".")) or "/" in host else recall(root, host)


def _deployed_marks(
    lr: LabRepo, records: Mapping[str, DeployRecord], shown: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """For each shown commit, the hosts whose deployed commit is it or descends from it."""
    if not records or not shown:
        return {}
    tips = sorted({r.commit for r in records.values()})
    # one walk: every commit reachable from a deployed one, down to the oldest shown,
    # children before parents; each passes on to its parents the deployed commits it is
    # reached from (one bit each)
    out = lr.run("rev-list", "--topo-order", "--parents", *tips, "--not", f"{shown[-1]}^@", "--")
    bit = {tip: 1 << n for n, tip in enumerate(tips)}
    reached = dict(bit)
    walked = set()
    for line in out.splitlines():
        sha, *parents = line.split()
        walked.add(sha)
        bits = reached.get(sha, 0)
        for parent in parents:
            reached[parent] = reached.get(parent, 0) | bits
    marks: dict[str, tuple[str, ...]] = {}
    for sha in shown:
        bits = reached.get(sha, 0) if sha in walked else 0
        hosts = tuple(h for h, r in sorted(records.items()) if bits & bit[r.commit])
        if hosts:
            marks[sha] = hosts
    return marks


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
    # deferred: the lab's checks and the compiler, which the log itself never needs
    from homelab.history.changes import describe
    from homelab.history.commit import state_at
    from homelab.history.nixdiff import unified
    from homelab.history.repo import EmptySource, GitSource, changed_paths
    from homelab.source import Source
    from homelab.write import generated_files

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
            from homelab.history.sketch import host_folder

            if lr.run("log", "-1", "--format=%H", "HEAD", "--", lr.path(host_folder(host))).strip():
                raise _predates(lr, host, sha) from None
            raise
        raise _predates(lr, folder, sha) from None
