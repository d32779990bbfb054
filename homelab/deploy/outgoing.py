"""What goes to a machine: its upload set, exactly as the recorded commit holds it.

A host's upload set is the files of its folder `hosts/<name>/` (but profiles, other YAML
and dotfiles), the module files its profile imports (`modules:`, beside the profile or in
hosts/common/), the encrypted secrets it uses (`encrypted/NAME.age`: only its own, never
another host's; the generated Nix names them `../../encrypted/NAME.age` from hosts/NAME/,
so they keep their lab-relative place beside hosts/) and the lab's `flake.nix` and
`flake.lock`. They are read from git at the
commit the deploy record names, never from the working tree: an untracked or ignored
file never goes, a symbolic link is refused (its target is never read), and a file that
is some secret's source stays out of the flake (secrets are copied at apply, outside the
Nix store). Before the pre-apply commit, `check_outgoing` refuses to go on while a file
of the set has changes that the commit would not take: the machine would get something
other than what the person sees.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from homelab.errors import InvalidInput, Place, Problem
from homelab.history.repo import GitSource, LabRepo

FLAKE_FILES = ("flake.nix", "flake.lock")
LINK_MODE = 0o120000


def set_paths(
    folders: Iterable[str], modules: Iterable[str] = (), encrypted: Iterable[str] = ()
) -> list[str]:
    """The lab-relative paths (folders end with /) whose files may go out; `modules`: the
    module files the hosts import; `encrypted`: the secret files they use."""
    extra = sorted(set(modules) | set(encrypted))
    return [*(f"hosts/{f}/" for f in folders), *FLAKE_FILES, *extra]


def goes_out(
    rel: str, folders: Iterable[str], modules: Iterable[str] = (), encrypted: Iterable[str] = ()
) -> bool:
    """Would this lab-relative file be uploaded (copy-at-apply secrets aside)?"""
    if rel in FLAKE_FILES or rel in modules or rel in encrypted:
        return True
    parent, _, name = rel.rpartition("/")
    return (
        parent in {f"hosts/{f}" for f in folders}
        and not name.startswith(".")
        and not name.endswith((".yaml", ".yml"))
    )


def secret_paths(lab_root: Path, sources: Iterable[str]) -> set[str]:
    """Secret sources as lab-relative paths, however they are spelled (`./hosts/x/f`,
    `hosts//x/f`, an absolute path, a link to the file): each as written and as resolved."""
    root = Path(lab_root)
    real_root = root.resolve()
    out: set[str] = set()
    for source in sources:
        path = Path(source) if os.path.isabs(source) else root / source
        written = posixpath.normpath(path.as_posix())
        for base in (root.as_posix(), real_root.as_posix()):
            if written.startswith(base.rstrip("/") + "/"):
                out.add(written[len(base.rstrip("/")) + 1 :])
        with contextlib.suppress(ValueError, OSError):
            out.add(path.resolve().relative_to(real_root).as_posix())
    return out


def _link_problem(rel: str) -> Problem:
    return Problem(
        Place(rel),
        "is a symbolic link: homelab never sends what a link points to",
        hint="put the file itself in its place (and commit it), or remove the link",
    )


def files_at(
    lr: LabRepo,
    commit: str,
    folder: str,
    *,
    flake: bool,
    secrets: Iterable[str] = (),
    modules: Iterable[str] = (),
    encrypted: Iterable[str] = (),
    at: GitSource | None = None,
) -> dict[str, bytes]:
    """The host's upload set at `commit`: {lab-relative path: bytes}, with the module
    files it imports (`modules`) and the encrypted secrets it uses (`encrypted`, as the
    commit holds them: ciphertext only the host and the admins can open). InvalidInput
    when a file of the set is a symbolic link or a module or secret file is not in the
    commit. `at`: the commit's files, shared by the hosts planned together (one listing,
    and their files read in one git run: see `read_sets`)."""
    at = at if at is not None else GitSource(lr, commit)
    rels, problems = _upload_set(at, folder, flake, set(secrets), modules, encrypted)
    at.read_together(rels)
    out: dict[str, bytes] = {}
    for rel in rels:
        data = at.read_bytes(rel)
        if data is not None:
            out[rel] = data
    if problems:
        raise InvalidInput(problems)
    return out


def read_sets(
    at: GitSource,
    hosts: Iterable[tuple[str, bool, Iterable[str], Iterable[str]]],
    secrets: Iterable[str] = (),
) -> None:
    """Read the upload sets of these hosts ((folder, flake, modules, encrypted) each) in
    one git run, before `files_at` takes each from `at`."""
    skip = set(secrets)
    rels: list[str] = []
    for folder, flake, modules, encrypted in hosts:
        rels += _upload_set(at, folder, flake, skip, modules, encrypted)[0]
    at.read_together(rels)


def _upload_set(
    at: GitSource,
    folder: str,
    flake: bool,
    skip: set[str],
    modules: Iterable[str],
    encrypted: Iterable[str],
) -> tuple[list[str], list[Problem]]:
    """The files of the host's upload set at the commit, and what refuses it."""
    problems: list[Problem] = []
    candidates: list[str] = []
    host = at.entry(f"hosts/{folder}/")
    if host is not None and host[0] == "tree":
        candidates += [f"hosts/{folder}/{name}" for name in at.listdir(f"hosts/{folder}/")]
    elif host is not None:  # the host folder itself is a link
        problems.append(_link_problem(f"hosts/{folder}"))
    if flake:
        candidates += [name for name in FLAKE_FILES if at.entry(name) is not None]
    modules = sorted(set(modules) - set(candidates))
    encrypted = sorted(set(encrypted) - set(candidates) - set(modules))
    for rel in [*modules, *encrypted]:
        found = at.entry(rel)
        if found is None or found[0] != "blob":
            what = "a secret file {} uses" if rel in encrypted else "a module {} imports"
            problems.append(
                Problem(
                    Place(rel),
                    f"is {what.format(folder)}, but commit {at.commit[:7]} does not hold it",
                    hint=f"commit it (git add {rel} && git commit), then apply again",
                )
            )
        else:
            candidates.append(rel)
    rels: list[str] = []
    for rel in candidates:
        kind, mode = at.entry(rel) or ("", 0)
        if kind != "blob" or not goes_out(rel, [folder], modules, encrypted) or rel in skip:
            continue  # sub-folders and submodules never went out
        if mode == LINK_MODE:
            problems.append(_link_problem(rel))
            continue
        rels.append(rel)
    return rels, problems


def changed_files(lr: LabRepo, paths: Sequence[str]) -> dict[str, str]:
    """Tracked files under these lab paths that differ from HEAD (in the index or the
    working tree): {lab-relative path: git's two-letter status}."""
    if not paths:
        return {}
    out = lr.run(
        "status", "--porcelain", "-z", "--no-renames", "--untracked-files=no", "--ignored=no",
        "--", *(lr.path(p) for p in paths),
    )  # fmt: skip
    found: dict[str, str] = {}
    for entry in out.split("\0"):
        if len(entry) > 3 and (rel := lr.rel(entry[3:])) is not None:
            found[rel] = entry[:2]
    return found


def tracked_links(lr: LabRepo, paths: Sequence[str]) -> set[str]:
    """Files under these lab paths that the index holds as symbolic links."""
    out = lr.run("ls-files", "-s", "-z", "--", *(lr.path(p) for p in paths))
    links = set()
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        if meta.startswith("120000") and (rel := lr.rel(path)) is not None:
            links.add(rel)
    return links


def check_outgoing(
    lab_root: Path,
    lr: LabRepo | None,
    folders: Sequence[str],
    taken: set[str],
    *,
    flake_hosts: Sequence[str],
    secrets: Mapping[str, set[str]],
    committing: bool,
    modules: Sequence[str] = (),
    encrypted: Sequence[str] = (),
) -> None:
    """Refuse (InvalidInput, every problem at once) when what would go out is not what
    the person sees: a file of the set changed but not taken by the pre-apply commit (with
    `committing` False: changed at all), a symbolic link, a flake.nix not committed.
    `taken`: the lab paths the pre-apply commit takes from the working tree; `modules`: the
    module files the hosts import; `encrypted`: the secret files they use (a file that is
    not committed at all is refused too: the commit would not hold it)."""
    root = Path(lab_root)
    problems: list[Problem] = []
    tracked_head: set[str] = set()
    if lr is not None and lr.head() is not None:
        listed = lr.run("ls-tree", "-r", "-z", "--name-only", "HEAD", "--",
                        *(lr.path(p) for p in set_paths(folders, modules, encrypted)))  # fmt: skip
        tracked_head = {rel for p in listed.split("\0") if p and (rel := lr.rel(p)) is not None}
    paths = set_paths(folders, modules, encrypted)
    changed = changed_files(lr, paths) if lr is not None else {}
    links = tracked_links(lr, paths) if lr is not None else set()
    skip = set().union(*secrets.values()) if secrets else set()
    for rel, code in sorted(changed.items()):
        if (
            not goes_out(rel, folders, modules, encrypted)
            or rel in skip
            or (committing and rel in taken)
        ):
            continue
        what = "deleted" if "D" in code else "changed"
        problems.append(
            Problem(
                Place(rel),
                f"{what} but not committed, so it would not go to the machine "
                "(homelab sends what the commit holds)",
                hint=f"commit it (git add {rel} && git commit) or undo it (git restore "
                f"--staged --worktree {rel}), then apply again"
                + ("" if committing else "; without --no-commit homelab commits its own files"),
            )
        )
    outgoing = (tracked_head | (taken if committing else set())) - skip
    if lr is not None:
        for rel in sorted(set(encrypted) - outgoing):
            if (root / rel).exists() or (root / rel).is_symlink():
                problems.append(
                    Problem(
                        Place(rel),
                        "is not committed, so it would not go to the machine "
                        "(homelab sends what the commit holds)",
                        hint=f"commit it (git add {rel} && git commit), then apply again",
                    )
                )
    for rel in sorted(outgoing):
        if not goes_out(rel, folders, modules, encrypted):
            continue
        from_tree = committing and rel in taken
        if (from_tree and (root / rel).is_symlink()) or (not from_tree and rel in links):
            problems.append(_link_problem(rel))
    new_flake = committing and "flake.nix" in taken  # generated from lab.yaml, taken now
    if flake_hosts and not new_flake and "flake.nix" not in tracked_head | set(changed):
        on_disk = (root / "flake.nix").exists()
        problems.append(
            Problem(
                Place("flake.nix"),
                (
                    "is not committed, so it would not go to the machine"
                    if on_disk
                    else "is missing: " + ", ".join(flake_hosts) + " deploy with a flake"
                ),
                hint=(
                    "git add flake.nix flake.lock && git commit"
                    if on_disk
                    else "`homelab init` writes one; or set deploy.method: channels"
                ),
            )
        )
    if problems:
        raise InvalidInput(problems)
