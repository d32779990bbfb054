"""A small lab in a real git repository, and ways to look at that repository."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

# catalogue entries of our own, so these tests do not move when the standard one does
CATALOGUE = {
    "pihole": """\
description: DNS sinkhole (test entry)
nixpkgs: "25.05"
settings:
  type: object
  additionalProperties: false
  properties:
    webPort: {type: integer, minimum: 1, maximum: 65535, default: 8080}
nixos:
  services.pihole-ftl.enable: true
  services.pihole-web.ports: [{template: "{webPort}"}]
""",
    "docker": """\
description: Docker (test entry)
nixpkgs: "25.05"
nixos:
  virtualisation.docker.enable: true
groups: [docker]
""",
    "openssh": """\
description: OpenSSH (test entry)
nixpkgs: "25.05"
nixos:
  services.openssh.enable: true
""",
    "jellyfin": """\
description: Jellyfin (test entry)
nixpkgs: "25.05"
nixos:
  services.jellyfin.enable: true
""",
}

BASE = """\
# shared by nixos-demo and pi
host:
  timezone: Europe/Berlin
"""

PROFILES = {
    "nixos-demo": """\
include: [../common/base.yaml]
host:
  stateVersion: "24.11"
users:
  demouser:
    groups: [wheel]
services:
  openssh: {}
""",
    "pi": """\
include: [../common/base.yaml]
host:
  stateVersion: "24.05"
services:
  openssh: {}
""",
    # includes nothing, uses jellyfin only: unrelated to the others
    "lone": """\
host:
  stateVersion: "24.05"
services:
  jellyfin: {}
""",
}


def git(root: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def edit(root: Path, rel: str, old: str, new: str) -> None:
    text = (root / rel).read_text()
    assert old in text, f"{old!r} not in {rel}"
    (root / rel).write_text(text.replace(old, new, 1))


def identify(root: Path) -> None:
    git(root, "config", "user.name", "Lab Owner")
    git(root, "config", "user.email", "owner@example.org")


def make_lab(root: Path, repository: bool = True) -> Path:
    """The lab's files (not built, not committed), in a new repository on branch main."""
    for name, text in CATALOGUE.items():
        write(root, f"services/{name}.yaml", text)
    write(root, "hosts/common/base.yaml", BASE)
    for host, text in PROFILES.items():
        write(root, f"hosts/{host}/profile.yaml", text)
    write(root, "flake.nix", "{ outputs = _: { }; }\n")
    if repository:
        git(root, "init", "-q", "-b", "main")
        identify(root)
    return root


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def show(root: Path, rev: str, rel: str) -> str:
    return git(root, "show", f"{rev}:{rel}")


def files_in(root: Path, rev: str) -> set[str]:
    return set(git(root, "ls-tree", "-r", "--name-only", rev).split())


def touched(root: Path, rev: str) -> set[str]:
    """Files a commit changed (against its parent, or all for the first)."""
    out = git(root, "show", "--format=", "--name-only", "--root", rev)
    return set(out.split())


def message(root: Path, rev: str = "HEAD") -> str:
    """The commit message exactly as stored."""
    return git(root, "cat-file", "commit", rev).partition("\n\n")[2]


def count(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD").strip())


def snapshot(root: Path) -> dict[str, str]:
    """HEAD, the index, every ref and the working tree: equal snapshots mean nothing
    changed (git's own bookkeeping files aside)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git":
            continue
        digest.update(str(rel).encode() + b"\0")
        if path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return {
        "HEAD": git(root, "rev-parse", "--verify", "-q", "HEAD", check=False),
        "branch": git(root, "symbolic-ref", "-q", "HEAD", check=False),
        "index": git(root, "ls-files", "--stage", check=False),
        "refs": git(root, "for-each-ref", check=False),
        "tree": digest.hexdigest(),
    }
