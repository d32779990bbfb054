"""The lab's git repository: commits, history, diffs, reverts, deploy records."""

from __future__ import annotations

from pathlib import Path

import git


def init_repository(root: Path) -> git.Repo:
    """A new lab's repository with everything in a first commit."""
    repo = git.Repo.init(root)
    repo.git.add("--all")
    repo.index.commit("homelab init: a new lab")
    return repo
