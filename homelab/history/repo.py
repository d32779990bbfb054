"""The git repository a lab lives in: opening it, refusing states we must not write in,
naming revisions, and reading a lab as it was at a revision (GitSource)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from homelab.errors import InvalidInput, LabFailure, Place, Problem
from homelab.history import gitrun

# git operations that leave the repository half-way; we never commit on top of them
_IN_PROGRESS = {
    "MERGE_HEAD": ("a merge", "finish it with `git commit`, or give up with `git merge --abort`"),
    "rebase-merge": ("a rebase", "finish it with `git rebase --continue`, or `git rebase --abort`"),
    "rebase-apply": ("a rebase", "finish it with `git rebase --continue`, or `git rebase --abort`"),
    "CHERRY_PICK_HEAD": ("a cherry-pick", "finish it, or `git cherry-pick --abort`"),
    "REVERT_HEAD": ("a git revert", "finish it, or `git revert --abort`"),
}


def _problem(root: Path, message: str, hint: str = "") -> InvalidInput:
    return InvalidInput([Problem(Place(str(root)), message, hint=hint)])


@dataclass(frozen=True)
class Done:
    """A git run's end, its output as text (UTF-8, newlines as Python reads text)."""

    returncode: int
    stdout: str
    stderr: str


def _env(env: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "GIT_LITERAL_PATHSPECS": "1", **(env or {})}


def _text(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _done(ran: gitrun.Ran) -> Done:
    code, out, err = ran
    return Done(code, _text(out), _text(err))


def _git(
    cwd: Path, args: Sequence[str], env: dict[str, str] | None = None, stdin: str | None = None
) -> Done:
    data = (stdin or "").encode("utf-8", "replace")
    return _done(gitrun.run(cwd, args, _env(env), data))


def check_done(args: Sequence[str], done: Done, ok: Sequence[int] = (0,)) -> str:
    """The run's output (of LabRepo.run, or one of run_in); a failure is a
    LabFailure carrying git's own words."""
    if done.returncode not in ok:
        detail = done.stderr.strip() or done.stdout.strip()
        raise LabFailure(f"git {args[0]} failed: {detail}")
    return done.stdout


@dataclass(frozen=True)
class LabRepo:
    """A lab inside a git working tree; `prefix` is the lab's folder inside it ("" at the
    top). Plumbing runs the git command; GitPython (`repo`) is loaded only for reading
    objects, so quick read-only commands stay quick."""

    root: Path
    top: Path  # the working tree
    git_dir: Path
    prefix: str

    @cached_property
    def repo(self) -> Any:
        import git

        return git.Repo(self.top)

    @cached_property
    def empty_tree(self) -> str:
        """The id of the tree with nothing in it (what came before the first commit)."""
        return self.run("hash-object", "-t", "tree", "--stdin", stdin="").strip()

    def path(self, rel: str) -> str:
        """A lab-relative path as git names it."""
        return self.prefix + rel

    def rel(self, path: str) -> str | None:
        """A repository path as the lab names it; None when outside the lab."""
        return path[len(self.prefix) :] if path.startswith(self.prefix) else None

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        ok: Sequence[int] = (0,),
    ) -> str:
        """git in the working tree, with literal pathspecs (a file named `*.nix` is a file,
        not a pattern); a failure is a LabFailure carrying git's own words."""
        return check_done(args, _git(self.top, args, env, stdin), ok)

    def succeeds(self, *args: str) -> bool:
        """Does this git command exit 0 (a question, e.g. check-ref-format)?"""
        return _git(self.top, args).returncode == 0

    def head(self) -> str | None:
        """The commit HEAD names; None in a repository with no commit yet."""
        sha = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1)).strip()
        return sha or None

    def unchanged_since(self) -> str | None:
        """The commit HEAD names when the lab's working tree holds exactly what it holds
        (no file changed, added or removed but those git ignores); else None. HEAD is read
        on both sides of git's look, so a commit made meanwhile never passes for it."""
        before = self.head()
        if before is None:
            return None
        spec = self.prefix.rstrip("/") or "."
        tree = self.run("status", "--porcelain", "--untracked-files=all", "--", spec)
        return before if tree == "" and self.head() == before else None

    def detached(self) -> bool:
        return not self.succeeds("symbolic-ref", "--quiet", "HEAD")

    def resolve(self, rev: str) -> str:
        """The full commit id of a revision, or a clear refusal."""
        sha = ""
        if rev.strip() and not rev.startswith("-"):
            sha = self.run(
                "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
                ok=(0, 1, 128),
            ).strip()  # fmt: skip
        if not sha:
            raise InvalidInput(
                [
                    Problem(
                        Place(str(self.root)),
                        f"unknown revision '{rev}'",
                        hint="name a commit as git does: a hash (a1b2c3d), a branch, a tag, HEAD~3",
                    )
                ]
            )
        return sha

    def short(self, sha: str) -> str:
        return sha[:7]


class NotARepository(InvalidInput):
    """The lab is in no git repository."""


def run_in(root: Path, *commands: Sequence[str]) -> list[Done]:
    """git runs that do not depend on each other, started at once in the lab's own folder
    (so pathspecs are lab-relative), each with how it ended: check_done gives its output
    or git's refusal."""
    runs = [(args, b"") for args in commands]
    return [_done(ran) for ran in gitrun.run_together(root, runs, _env())]


# what open_repository asks git first: the usual case in one git run (a command like
# `history` runs few others, and may run it beside them: run_in, then `found`)
WHERE = ("rev-parse", "--is-bare-repository", "--absolute-git-dir", "--show-toplevel")


def open_repository(
    root: Path, *, create: bool = False, dry_run: bool = False, found: Done | None = None
) -> LabRepo:
    """The repository holding the lab at `root`. With `create`, a lab that is not yet in
    one gets its own (git init; with `dry_run`, only the checks); otherwise that is a
    refusal (exit 2). `found`: how git answered WHERE in the lab's folder, if asked."""
    root = Path(root).resolve()
    found = found or _git(root, WHERE)
    lines = found.stdout.splitlines()
    if found.returncode == 0 and len(lines) == 3 and lines[0] == "false" and lines[2]:
        return _inside(root, lines[2], lines[1])
    found = _git(root, ["rev-parse", "--is-bare-repository", "--absolute-git-dir"])
    if found.returncode != 0:
        if not create:
            raise NotARepository(
                [
                    Problem(
                        Place(str(root)),
                        "the lab is not in a git repository",
                        hint="`homelab build --commit` makes one, or run `git init` in the lab",
                    )
                ]
            )
        if not knows_who(root):  # said before anything is made
            raise nobody(root)
        if dry_run:
            return LabRepo(root, root, root / ".git", "")
        _git(root, ["init", "-q"])
        found = _git(root, ["rev-parse", "--is-bare-repository", "--absolute-git-dir"])
    bare, git_dir = [*found.stdout.splitlines(), "", ""][:2]
    top = _git(root, ["rev-parse", "--show-toplevel"]).stdout.strip()
    if bare == "true" or not top:
        raise _problem(
            root,
            f"the lab is inside a bare git repository ({git_dir}), which has no working tree",
            hint="clone it (`git clone <bare> <folder>`) and work in the clone",
        )
    return _inside(root, top, git_dir)


def _inside(root: Path, top: str, git_dir: str) -> LabRepo:
    """The lab at `root` in the working tree `top`."""
    try:
        inside = root.relative_to(Path(top).resolve()).as_posix()
    except ValueError:
        raise _problem(root, f"the lab is not inside the working tree of git ({top})") from None
    prefix = "" if inside == "." else inside + "/"
    return LabRepo(root, Path(top), Path(git_dir), prefix)


def head_of(root: Path) -> str | None:
    """The commit HEAD names in the lab's repository; None when the lab is in no usable
    repository yet, or it has no commit."""
    try:
        return open_repository(root).head()
    except InvalidInput:
        return None


def check_writable(lr: LabRepo) -> None:
    """Refuse (exit 2) to make commits when git is half-way through something, or HEAD is
    not on a branch: a commit there would be lost or would tangle the person's work."""
    for name, (what, hint) in _IN_PROGRESS.items():
        if (lr.git_dir / name).exists():
            raise _problem(lr.root, f"the repository is in the middle of {what}", hint=hint)
    if lr.detached():
        raise _problem(
            lr.root,
            f"HEAD is detached (at {lr.short(lr.head() or '')}): "
            "a commit here would belong to no branch",
            hint="switch to a branch first, e.g. `git switch main`",
        )
    if not knows_who(lr.top):
        raise nobody(lr.root)


def knows_who(where: Path) -> bool:
    return all(
        _git(where, ["var", v]).returncode == 0 for v in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
    )


def nobody(root: Path) -> InvalidInput:
    return _problem(
        root,
        "git does not know who you are, so it cannot write a commit",
        hint='git config user.name "Your Name" && git config user.email you@example.org',
    )


class GitSource:
    """A lab's files as they were at one commit (implements lab.Source).

    git names the commit's files once (`ls-tree`); reading a file reads every small file
    of its folder in one `cat-file --batch` run, since a load reads a folder's files
    together (the catalogue, a host's folder): a few git runs per revision, not one per
    file, and no GitPython to load."""

    def __init__(self, lr: LabRepo, commit: str) -> None:
        self.lr = lr
        self.commit = commit
        self._texts: dict[str, bytes] = {}

    @cached_property
    def _entries(self) -> dict[str, tuple[str, str, int, int]]:
        """Every path under the lab at the commit (folders too): (type, object id, size,
        mode)."""
        spec = [self.lr.prefix] if self.lr.prefix else []
        out = self.lr.run(
            "ls-tree", "-r", "-t", "-l", "-z", "--full-tree", self.commit, "--", *spec
        )
        entries: dict[str, tuple[str, str, int, int]] = {"": ("tree", "", 0, 0o40000)}
        for item in out.split("\0"):
            if not item:
                continue
            meta, _, path = item.partition("\t")
            mode, kind, oid, size = meta.split()
            entries[path] = (kind, oid, int(size) if size.isdigit() else 0, int(mode, 8))
        return entries

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        """The names in each folder (git paths, "" at the top), sorted."""
        names: dict[str, list[str]] = {}
        for path in self._entries:
            if path:
                parent, _, name = path.rpartition("/")
                names.setdefault(parent, []).append(name)
        return {folder: sorted(found) for folder, found in names.items()}

    def _path(self, rel: str) -> str:
        return self.lr.path(rel).strip("/")

    def read_bytes(self, rel: str) -> bytes | None:
        path = self._path(rel)
        if not self._is_blob(path):
            return None
        if path not in self._texts:
            folder = path.rpartition("/")[0]
            together = [
                f"{folder}/{name}" if folder else name for name in self._children.get(folder, [])
            ]
            if not self._texts:  # the first read: every YAML file of the lab comes too
                together += [p for p in self._entries if p.endswith(_YAML)]
            small = [
                p
                for p in dict.fromkeys(together)
                if p not in self._texts
                and self._is_blob(p)
                and self._entries[p][2] <= _TOGETHER_BYTES
            ]
            self._read_all(small if path in small else [path])
        return self._texts[path]

    def _read_all(self, paths: Sequence[str]) -> None:
        """The blobs of `paths`, in one git run."""
        if not paths:
            return
        ids = [self._entries[p][1] for p in paths]
        asked = "".join(f"{oid}\n" for oid in ids).encode()
        code, data, err = gitrun.run(self.lr.top, ["cat-file", "--batch"], _env(), asked)
        if code != 0:
            detail = err.decode(errors="replace").strip()
            raise LabFailure(f"git cat-file failed: {detail}")
        at = 0
        for path in paths:
            end = data.index(b"\n", at)
            size = int(data[at:end].split()[2])
            self._texts[path] = data[end + 1 : end + 1 + size]
            at = end + 1 + size + 1

    def entry(self, rel: str) -> tuple[str, int] | None:
        """(git's type: blob, tree or commit; the mode) of a lab path, None when the
        commit has nothing there. A symbolic link is a blob of mode 0o120000."""
        found = self._entries.get(self._path(rel))
        return None if found is None else (found[0], found[3])

    def read_together(self, rels: Iterable[str]) -> None:
        """The blobs of these lab paths that are not read yet, read in one git run (what
        reads them next finds them here)."""
        paths = {self._path(r) for r in rels}
        self._read_all([p for p in sorted(paths) if p not in self._texts and self._is_blob(p)])

    def _is_blob(self, path: str) -> bool:
        return self._entries.get(path, ("",))[0] == "blob"

    def has(self, rel: str) -> bool:
        """Whether the file is there (source.present), without reading it."""
        return self._is_blob(self._path(rel))

    def read(self, rel: str) -> str | None:
        data = self.read_bytes(rel)
        return None if data is None else data.decode("utf-8")

    def listdir(self, rel: str) -> list[str]:
        path = self._path(rel)
        if self._entries.get(path, ("",))[0] != "tree":
            return []
        return list(self._children.get(path, []))


# files read with the others of their folder up to this size (a lab's files are a few KiB;
# a big one is read alone, when asked for)
_TOGETHER_BYTES = 1 << 20
_YAML = (".yaml", ".yml")  # profiles, fragments, catalogue entries, lab.yaml: what a load reads


class EmptySource:
    """The lab before its first commit: nothing."""

    def read(self, rel: str) -> str | None:
        return None

    def listdir(self, rel: str) -> list[str]:
        return []


def changed_paths(
    lr: LabRepo, old: str | None, new: str | None, paths: Sequence[str] = ()
) -> set[str]:
    """Lab-relative paths that differ between two commits or trees (None: the working
    tree for `new`, nothing for `old`)."""
    spec = ["--", *(lr.path(p) for p in paths)] if paths else ["--", lr.prefix or "."]
    if old is None:
        old = lr.empty_tree
    if new is None:
        out = lr.run("diff", "--name-only", "-z", "--no-renames", old, *spec)
        out += lr.run("ls-files", "-z", "--others", "--exclude-standard", *spec)
    else:
        out = lr.run("diff", "--name-only", "-z", "--no-renames", old, new, *spec)
    return {rel for p in out.split("\0") if p and (rel := lr.rel(p)) is not None}


def nul_list(items: Iterable[str]) -> str:
    return "".join(f"{item}\0" for item in items)
