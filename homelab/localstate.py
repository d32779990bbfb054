"""The lab's local state: `.homelab/` at its root, for what is this checkout's alone (the
build cache, the apply lock, drafts, crash reports). Never committed: the folder ignores
itself in git, whatever the lab's own .gitignore says, and only its owner may read it."""

from __future__ import annotations

from pathlib import Path

LOCAL = ".homelab"


def local_folder(root: Path, name: str = "") -> Path:
    """`.homelab/` (or `.homelab/<name>`) in the lab, made when missing."""
    local = Path(root) / LOCAL
    # Two commands started together may both find it missing: the second one is not an error.
    local.mkdir(mode=0o700, exist_ok=True)
    ignore = local / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    if not name:
        return local
    folder = local / name
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder
