"""What the working tree would change on each host, compared with a revision: by default
what the host last got deployed, else HEAD. Uncommitted and unbuilt edits count: the
working tree's profiles are compiled in memory, and compared with the generated files
committed at the revision (what was, or would have been, deployed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from homelab.errors import InvalidInput, Place, Problem
from homelab.history.changes import describe, input_lines
from homelab.history.commit import state_at
from homelab.history.log import _predates
from homelab.history.nixdiff import unified
from homelab.history.notes import generated_notes
from homelab.history.paths import host_folder, host_inputs
from homelab.history.records import deployed
from homelab.history.repo import EmptySource, GitSource, LabRepo, changed_paths, open_repository
from homelab.labconfig import LAB_YAML, lock
from homelab.labfiles import LabFiles, LabState
from homelab.source import DiskSource, Source, Unreadable
from homelab.write import generated_files


@dataclass(frozen=True)
class HostDiff:
    host: str  # folder under hosts/
    base: str | None  # the commit compared with (None: before the first commit)
    base_kind: str  # "deployed", "HEAD" or "revision"
    changes: tuple[str, ...]  # profile-level change lines
    nix: tuple[str, ...]  # unified diff of the generated Nix

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.nix)

    @property
    def never_deployed(self) -> bool:
        """No deploy of the host is recorded: all of it is new to its machine (the changes
        are then those since HEAD, the edits not committed yet)."""
        return self.base_kind == "HEAD"


def committed_generated(lab: LabFiles, folder: str) -> dict[str, str] | None:
    """The host's generated modules as committed at HEAD (what a diff of its Nix starts
    from); None when there is no commit yet, or no repository."""
    try:
        lr = open_repository(lab.root)
    except InvalidInput:
        return None
    sha = lr.head()
    return None if sha is None else generated_files(GitSource(lr, sha), folder)


def committed_profile(lab: LabFiles, folder: str) -> str | None:
    """The host's own profile.yaml as committed at HEAD (what the editor's diff of the
    profile starts from); None when there is none there, no commit, or no repository."""
    try:
        lr = open_repository(lab.root)
    except InvalidInput:
        return None
    sha = lr.head()
    if sha is None:
        return None
    try:
        return GitSource(lr, sha).read(f"{host_folder(folder)}profile.yaml")
    except UnicodeDecodeError:
        return None


def split_words(lab: LabFiles, words: Sequence[str]) -> tuple[str | None, list[str]]:
    """`diff [REV] [HOST ...]`: the first word is a revision when it names no host and git
    knows it; a word that is neither is refused."""
    if not words:
        return None, []
    first, rest = words[0], list(words[1:])
    state = lab.load()
    if first.startswith("@") or first in state.hosts or _is_host_name(state, first):
        return None, list(words)
    lr = open_repository(lab.root)
    if lr.succeeds("rev-parse", "--verify", "--quiet", "--end-of-options", f"{first}^{{commit}}"):
        return first, rest
    raise InvalidInput(
        [
            Problem(
                Place(str(lab.root)),
                f"'{first}' is neither a revision nor a host",
                hint="hosts: " + ", ".join(sorted(state.hosts)),
            )
        ]
    )


def _is_host_name(state: LabState, word: str) -> bool:
    return any(h.profile is not None and h.profile.name == word for h in state.hosts.values())


def diff_lab(lab: LabFiles, rev: str | None = None, hosts: Sequence[str] = ()) -> list[HostDiff]:
    lr = open_repository(lab.root)
    new = lab.load()
    chosen = lab.select(new, hosts) if hosts else sorted(new.hosts)
    problems = new.all_problems(chosen)
    if problems:
        raise InvalidInput(problems)
    head = lr.head()
    records = {} if rev else deployed(lab.root)
    fixed = lr.resolve(rev) if rev else None

    def base_of(folder: str) -> tuple[str | None, str]:
        if fixed:
            return fixed, "revision"
        if folder in records:
            return records[folder].commit, "deployed"
        return head, "HEAD"

    states: dict[str | None, LabState] = {}

    def at(sha: str | None) -> LabState:
        if sha not in states:
            states[sha] = state_at(lab, lr, sha)
        return states[sha]

    if fixed and hosts:
        for folder in chosen:
            if folder not in at(fixed).hosts:
                raise _predates(lr, folder, fixed)
    if not hosts:  # hosts gone from the working tree still have a difference to show
        gone: set[str] = set()
        for base in {fixed} if fixed else {head, *(r.commit for r in records.values())}:
            gone |= set(at(base).hosts) - set(new.hosts)
        chosen = sorted({*chosen, *(f for f in gone if f in at(base_of(f)[0]).hosts)})
    out = []
    for folder in chosen:
        base, kind = base_of(folder)
        old = at(base)
        out.append(_host_diff(lab, lr, folder, base, kind, old, new))
    return out


def _host_diff(
    lab: LabFiles,
    lr: LabRepo,
    folder: str,
    base: str | None,
    kind: str,
    old: LabState,
    new: LabState,
) -> HostDiff:
    paths = sorted({host_folder(folder), *host_inputs(old, folder), *host_inputs(new, folder)})
    changed = changed_paths(lr, base, None, paths)
    changes = describe(old, new, changed, [folder]).hosts.get(folder, [])
    before: Source = GitSource(lr, base) if base else EmptySource()
    after = lab.generated(new, [folder]) if folder in new.hosts else {}
    was = generated_files(before, folder)
    nix = unified(was, after)
    if not nix:  # the same Nix: a catalogue or fragment change that compiles the same
        changes = [c for c in changes if c != "generated files rebuilt"]
    # what the new Nix turns on although no setting changed (compiled, maybe not built)
    for path in sorted(set(was) & set(after)):
        changes.extend(n for n in generated_notes(path, was[path], after[path]) if n not in changes)
    if folder in new.hosts:  # every host builds from the lab's flake: its inputs too
        changes.extend(flake_input_changes(lab, before))
    return HostDiff(folder, base, kind, tuple(changes), tuple(nix))


def flake_input_changes(lab: LabFiles, before: Source) -> list[str]:
    """The flake's inputs (lab.yaml) and their pins (flake.lock), from `before` to the
    working tree, in the lab's words."""
    now = DiskSource(lab.root)
    lines: list[str] = []
    for path in (LAB_YAML, lock.FLAKE_LOCK):
        old, new = _read(before, path), _read(now, path)
        if old != new:
            lines.extend(input_lines(path, old, new) or [])
    return lines


def _read(source: Source, path: str) -> str | None:
    try:
        return source.read(path)
    except (Unreadable, UnicodeDecodeError):
        return None
