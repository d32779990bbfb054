"""Bringing hosts back to an old revision without rewriting history: their profiles as
they were, rebuilt with today's lab, committed as a new commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from homelab.errors import InvalidInput, Place, Problem
from homelab.history.changes import Changes, subject_of
from homelab.history.commit import commit_paths, state_at
from homelab.history.log import _predates
from homelab.history.paths import host_folder, host_inputs
from homelab.history.repo import GitSource, LabRepo, check_writable, open_repository
from homelab.history.summary import host_changes
from homelab.labfiles import PROFILE, LabFiles, LabState
from homelab.source import DiskSource
from homelab.write import generated_files


@dataclass(frozen=True)
class Reverted:
    commit: str | None  # the new commit; None when the hosts already were as at the revision
    hosts: tuple[str, ...]
    # hosts whose merged profile still differs from the revision's, because something they
    # share with other hosts (a fragment, a catalogue entry) changed since: what differs
    still_differs: dict[str, list[str]] = field(default_factory=dict)


def _folders(
    lab: LabFiles, lr: LabRepo, target: LabState, sha: str, hosts: Sequence[str]
) -> list[str]:
    if not hosts:
        return sorted(target.hosts)
    now = lab.load()
    folders = []
    for host in hosts:
        try:
            folders.extend(lab.select(target, [host]))
        except InvalidInput:
            folder = lab.select(now, [host])[0]  # unknown anywhere: that message
            raise _predates(lr, folder, sha) from None
    return folders


def uncommitted(lr: LabRepo, paths: set[str]) -> list[Problem]:
    """Problems for those of these lab paths that differ from HEAD in the working tree or
    the index (a person's other files beside them do not count)."""
    spec = sorted({lr.path(p.rsplit("/", 1)[0] + "/") for p in paths})
    out = lr.run(
        "status", "--porcelain", "-z", "--no-renames", "--untracked-files=all", "--", *spec
    )
    changed = {lr.rel(e[3:]) for e in out.split("\0") if len(e) > 3}
    return [
        Problem(
            Place(p),
            "has changes that are not committed; a revert would mix them up",
            hint="commit them (`homelab build --commit`) or discard them (`git restore`) first",
        )
        for p in sorted(paths & {c for c in changed if c})
    ]


def revert_hosts(lab: LabFiles, rev: str, hosts: Sequence[str] = ()) -> Reverted:
    """Put the hosts' profiles (and hardware configuration) back as they were at `rev`,
    rebuild their generated files, and commit that as a new commit. Everything is checked
    before anything is written: a refusal changes nothing."""
    lr = open_repository(lab.root)
    check_writable(lr)
    head = lr.head()
    sha = lr.resolve(rev)
    target = state_at(lab, lr, sha)
    folders = _folders(lab, lr, target, sha, hosts)
    then = GitSource(lr, sha)
    # the host folders' own inputs as they were: profile, hardware configuration
    texts = {
        path: text
        for folder in folders
        for path in sorted(host_inputs(target, folder))
        if path.startswith(host_folder(folder)) and (text := then.read(path)) is not None
    }
    commit, after = write_and_commit(
        lab,
        lr,
        head,
        folders,
        texts,
        misfit=f"the profiles as they were at {sha[:7]} do not fit the lab as it is now",
        subject=lambda changes: f"Back to {sha[:7]} on {subject_of(changes)}",
        words=f"Back to the state of {named(lr, sha)}.",
    )
    still = {
        f: lines for f in folders if (lines := host_changes(_data(target, f), _data(after, f)))
    }
    return Reverted(commit, tuple(folders), still)


def named(lr: LabRepo, sha: str) -> str:
    """A commit for people: `a1b2c3d "pi: service pihole added"`."""
    return f'{sha[:7]} "{lr.run("show", "-s", "--format=%s", sha).strip()}"'


def write_and_commit(
    lab: LabFiles,
    lr: LabRepo,
    head: str | None,
    folders: Sequence[str],
    texts: dict[str, str],
    *,
    misfit: str,
    subject: Callable[[Changes], str],
    words: str,
) -> tuple[str | None, LabState]:
    """Write these files of the hosts' own folders (their profiles, hardware
    configuration), rebuild the hosts' generated files and commit them as a new commit
    (None: nothing changed); the lab as it is afterwards. Everything is checked first
    (the lab with these texts, uncommitted changes, hand-edited Nix): a refusal writes
    nothing."""
    from homelab.write import apply_plan, atomic_write

    proposed = lab.load(texts=texts)
    problems = proposed.all_problems(folders)
    if problems:
        raise InvalidInput([*problems, Problem(Place(str(lab.root)), misfit)])
    old = state_at(lab, lr, head)
    disk = DiskSource(lab.root)
    plan = lab.plan_build(proposed, folders)
    paths = {*texts, *plan.write, *plan.delete}
    for folder in folders:
        paths.add(f"hosts/{folder}/{PROFILE}")
        paths |= {p for p in host_inputs(old, folder) if p.startswith(host_folder(folder))}
        paths |= set(generated_files(disk, folder))
        if head:
            paths |= set(generated_files(GitSource(lr, head), folder))
    dirty = uncommitted(lr, paths)
    if dirty:
        raise InvalidInput(dirty)
    if plan.edited:
        apply_plan(lab.root, plan)  # refuses: hand-edited generated files; writes nothing
    # from here on, write: the profiles, then their generated files
    for path, text in texts.items():
        if disk.read(path) != text:
            atomic_write(lab.root / path, text)
    apply_plan(lab.root, plan)
    after = lab.load()
    done = commit_paths(
        lab, lr, paths, old, after, head, folders=folders, message=words, subject=subject
    )
    return (None if done is None else done[0]), after


def _data(state: LabState, folder: str) -> object:
    host = state.hosts.get(folder)
    return host.document.data if host is not None and host.document is not None else None
