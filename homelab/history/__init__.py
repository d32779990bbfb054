"""The lab's git repository: commits, history, diffs, reverts, deploy records.

Modules: summary (pure: two profile versions -> change lines), changes (per-host changes
and commit messages), repo (opening the repository, revisions, a lab at a revision),
commit, log (history per host), diff, revert, records (deploy records and status).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homelab.history.commit import commit_lab
    from homelab.history.records import DeployRecord, deployed, record_deploy

__all__ = [
    "DeployRecord",
    "check_can_commit",
    "commit_lab",
    "deployed",
    "init_repository",
    "record_deploy",
]


# loaded when first asked for: `homelab history` reads the log through homelab.history.log
# and must not pay for the profiles and the compiler behind commit_lab
_LATER = {
    "commit_lab": "homelab.history.commit",
    "DeployRecord": "homelab.history.records",
    "deployed": "homelab.history.records",
    "record_deploy": "homelab.history.records",
}


def __getattr__(name: str) -> Any:
    if name not in _LATER:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LATER[name]), name)


def check_can_commit(root: Path) -> None:
    """Refuse (InvalidInput, exit 2) before any work when a commit could not be made at
    the end: a bare repository, a merge or rebase under way, a detached HEAD, no git
    identity. A lab not yet in a repository passes (committing makes one)."""
    from homelab.history.repo import NotARepository, check_writable, open_repository

    try:
        lr = open_repository(Path(root))
    except NotARepository:
        open_repository(Path(root), create=True, dry_run=True)
        return
    check_writable(lr)


def init_repository(root: Path) -> Any:
    """A new lab's repository with everything in a first commit."""
    import git

    repo = git.Repo.init(root)
    with repo.config_writer() as config:  # deploy records are tags: push them along
        config.set_value("push", "followTags", "true")
    repo.git.add("--all")
    repo.index.commit("homelab init: a new lab")
    return repo
