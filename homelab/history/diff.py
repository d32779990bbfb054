"""What the working tree would change on each host, compared with a revision: by default
what the host last got deployed, else HEAD. Uncommitted and unbuilt edits count: the
working tree's profiles are compiled in memory, and compared with the generated files
committed at the revision (what was, or would have been, deployed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from homelab.compile import LAB_WIDE
from homelab.errors import InvalidInput, Place, Problem
from homelab.history.changes import describe, input_lines
from homelab.history.log import _predates
from homelab.history.nixdiff import unified
from homelab.history.notes import generated_notes
from homelab.history.records import deployed
from homelab.history.repo import EmptySource, GitSource, LabRepo, changed_paths, open_repository
from homelab.history.sketch import find_folder, host_folder, host_inputs, sketch_hosts
from homelab.history.sketch import host_folders as sketch_folders
from homelab.hosthints import unknown_host
from homelab.labconfig import LAB_YAML, lock
from homelab.labfiles import LabFiles, LabState
from homelab.source import DiskSource, OnlyHosts, Source, Unreadable
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
    # a host folder or a tag is known without loading the lab; a host.name needs its
    # profiles, read only when some profile is called so (a sketch, unchecked, says)
    folders = sketch_folders(DiskSource(lab.root))
    if first.startswith("@") or first in folders:
        return None, list(words)
    named = find_folder(sketch_hosts(DiskSource(lab.root)), first)
    if named is not None and _is_host_name(lab.load(), first):
        return None, list(words)
    lr = open_repository(lab.root)
    if lr.succeeds("rev-parse", "--verify", "--quiet", "--end-of-options", f"{first}^{{commit}}"):
        return first, rest
    raise InvalidInput(
        [
            Problem(
                Place(str(lab.root)),
                f"'{first}' is neither a revision nor a host",
                hint=unknown_host(first, folders),
            )
        ]
    )


def _is_host_name(state: LabState, word: str) -> bool:
    return any(h.profile is not None and h.profile.name == word for h in state.hosts.values())


class _Past:
    """The lab at the commits a diff starts from, read as little as it can be: which
    hosts were there from git's listing alone, and a host's state from a load of that
    host only (its profile, fragments, the catalogue and secrets of the time). The whole
    lab is loaded at a commit only for what needs every host: the wiring, names under the
    domain and builds, when one of the host's lab-wide modules (compile.LAB_WIDE) changed.
    Each state is loaded once (the hosts that start from one commit together)."""

    def __init__(self, lab: LabFiles, lr: LabRepo) -> None:
        self.lab, self.lr = lab, lr
        self._sources: dict[str, Source] = {}
        self._partial: dict[tuple[str | None, frozenset[str]], LabState] = {}
        self._whole: dict[str | None, LabState] = {}
        self._changed: dict[str | None, set[str]] = {}

    def source(self, sha: str | None) -> Source:
        if sha is None:
            return EmptySource()
        if sha not in self._sources:
            self._sources[sha] = GitSource(self.lr, sha)
        return self._sources[sha]

    def hosts(self, sha: str | None) -> set[str]:
        """The host folders at a commit."""
        return set(sketch_folders(self.source(sha)))

    def some(self, sha: str | None, folders: frozenset[str]) -> LabState:
        """The lab at `sha` with only these hosts loaded."""
        key = (sha, folders)
        if key not in self._partial:
            self._partial[key] = self.lab.load(source=OnlyHosts(self.source(sha), set(folders)))
        return self._partial[key]

    def whole(self, sha: str | None) -> LabState:
        if sha not in self._whole:
            self._whole[sha] = self.lab.load(source=self.source(sha))
        return self._whole[sha]

    def changed(self, sha: str | None, paths: Sequence[str]) -> set[str]:
        """The lab paths under `paths` that the working tree changed since `sha`: the
        lab's changes are asked of git once per commit, not twice per host."""
        if sha not in self._changed:
            self._changed[sha] = changed_paths(self.lr, sha, None)
        return {
            p
            for p in self._changed[sha]
            if any(p == q or p.startswith(q.rstrip("/") + "/") for q in paths)
        }

    def loads(self, sha: str | None, together: dict[str | None, set[str]]) -> _At:
        """The lab at one commit, for the hosts `together` says start from it."""
        return _At(self, sha, frozenset(together.get(sha, ())))


@dataclass(frozen=True)
class _At:
    """The lab at one commit, as a host's diff asks for it."""

    past: _Past
    sha: str | None
    folders: frozenset[str]  # the hosts loaded together there

    @property
    def source(self) -> Source:
        return self.past.source(self.sha)

    def some(self, folder: str) -> LabState:
        return self.past.some(self.sha, self.folders | {folder})

    def whole(self) -> LabState:
        return self.past.whole(self.sha)

    def changed(self, paths: Sequence[str]) -> set[str]:
        return self.past.changed(self.sha, paths)


def diff_lab(
    lab: LabFiles, rev: str | None = None, hosts: Sequence[str] = (), now: LabState | None = None
) -> list[HostDiff]:
    """`now`: the working tree's lab when the caller has it loaded already (an apply)."""
    lr = open_repository(lab.root)
    new = lab.load() if now is None else now
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

    past = _Past(lab, lr)
    if fixed and hosts:
        for folder in chosen:
            if folder not in past.hosts(fixed):
                raise _predates(lr, folder, fixed)
    if not hosts:  # hosts gone from the working tree still have a difference to show
        gone: set[str] = set()
        for base in {fixed} if fixed else {head, *(r.commit for r in records.values())}:
            gone |= past.hosts(base) - set(new.hosts)
        chosen = sorted({*chosen, *(f for f in gone if f in past.hosts(base_of(f)[0]))})
    # the hosts that start from each commit, loaded together there
    together: dict[str | None, set[str]] = {}
    for folder in chosen:
        together.setdefault(base_of(folder)[0], set()).add(folder)
    # compared with HEAD while the working tree holds what HEAD holds, a host that
    # compiles to what HEAD holds has nothing to show: its past is not loaded (an apply
    # with nothing changed, a diff right after one: every host deployed at HEAD)
    bases = {base_of(f)[0] for f in chosen}
    same = lr.unchanged_since() if head is not None and head in bases else None
    if same is not None:  # their committed modules, read in one git run, not one per host
        source = past.source(same)
        if isinstance(source, GitSource):
            hosts = [f for f in chosen if base_of(f)[0] == same and f in new.hosts]
            source.read_together(
                f"hosts/{f}/{name}"
                for f in hosts
                for name in source.listdir(f"hosts/{f}")
                if name.endswith(".nix")
            )
    out = []
    for folder in chosen:
        base, kind = base_of(folder)
        after = lab.generated(new, [folder]) if folder in new.hosts else {}
        # the host as compiled now, not only the working tree's files: other homelab code
        # may compile the same profile otherwise
        if (
            base is not None
            and base == same
            and folder in new.hosts
            and after == generated_files(past.source(base), folder)
        ):
            out.append(HostDiff(folder, base, kind, (), ()))
        else:
            at = past.loads(base, together)
            out.append(_host_diff(lab, lr, folder, (base, kind), at, new, after))
    return out


WIRED = tuple(f"/{name}" for name in LAB_WIDE)


def _host_diff(
    lab: LabFiles,
    lr: LabRepo,
    folder: str,
    since: tuple[str | None, str],
    past: _At,
    new: LabState,
    after: dict[str, str],
) -> HostDiff:
    """The host's diff since a commit (and how that commit was chosen); `after`: its
    modules as compiled now (none for a host gone from the working tree)."""
    base, kind = since
    was = generated_files(past.source, folder)
    old = past.some(folder)
    paths = sorted({host_folder(folder), *host_inputs(old, folder), *host_inputs(new, folder)})
    changed = past.changed(paths)
    # what the host serves the others changed: said from the whole lab of the time, as
    # is a secret the lab gave it then (that shows in its lab-wide modules too)
    if any(p.endswith(WIRED) for p in changed) or any(
        p.endswith(WIRED) and was.get(p) != after.get(p) for p in {*was, *after}
    ):
        old = past.whole()
        paths = sorted({*paths, *host_inputs(old, folder)})
        changed = past.changed(paths)
    changes = describe(old, new, changed, [folder]).hosts.get(folder, [])
    nix = unified(was, after)
    if not nix:  # the same Nix: a catalogue or fragment change that compiles the same
        changes = [c for c in changes if c != "generated files rebuilt"]
    # what the new Nix turns on although no setting changed (compiled, maybe not built)
    for path in sorted(set(was) & set(after)):
        changes.extend(n for n in generated_notes(path, was[path], after[path]) if n not in changes)
    if folder in new.hosts:  # every host builds from the lab's flake: its inputs too
        changes.extend(flake_input_changes(lab, past.source))
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
