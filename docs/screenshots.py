"""Make the README's screenshots with the app itself: docs/main.svg, docs/apply.svg and
docs/secrets.svg.

The demo lab (hosts/, services/, flake.nix, secrets/) is copied to a temporary folder
and committed there, so the pictures never depend on this checkout's git state; for the
apply screen, one service is enabled and built first, so there is something to deploy.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SIZE = "150x44"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Demo",
    "GIT_AUTHOR_EMAIL": "demo@example.org",
    "GIT_COMMITTER_NAME": "Demo",
    "GIT_COMMITTER_EMAIL": "demo@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def homelab(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "homelab", *args], check=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp) / "demo"
        lab.mkdir()
        for name in ("hosts", "services", "secrets"):
            shutil.copytree(REPO / name, lab / name)
        shutil.copy(REPO / "flake.nix", lab / "flake.nix")
        env = {**os.environ, **IDENTITY}
        subprocess.run(["git", "init", "-q"], cwd=lab, check=True)
        homelab("--lab", str(lab), "build")
        subprocess.run(["git", "add", "--all"], cwd=lab, check=True)
        subprocess.run(["git", "commit", "-qm", "the demo lab"], cwd=lab, check=True, env=env)
        homelab("--lab", str(lab), "tui", "--host", "nixos-demo", "--size", SIZE,
                "--screenshot", str(DOCS / "main.svg"))  # fmt: skip

        from homelab.profile.edit import set_value

        profile = lab / "hosts" / "nixos-demo" / "profile.yaml"
        profile.write_text(set_value(profile.read_text(), ("services", "jellyfin"), {}))
        homelab("--lab", str(lab), "build", "nixos-demo")
        homelab("--lab", str(lab), "tui", "--host", "nixos-demo", "--screen", "apply",
                "--size", SIZE, "--screenshot", str(DOCS / "apply.svg"))  # fmt: skip

        # the Secrets screen: an admin, and the pi's copy-at-apply auth key encrypted
        import pyrage

        identity = Path(tmp) / "age.key"
        key = pyrage.x25519.Identity.generate()
        identity.write_text(f"{key}\n")
        os.environ.update(IDENTITY, HOMELAB_AGE_IDENTITY=str(identity))
        (lab / "flake.nix").unlink()  # this checkout's flake is kept by hand: lab.yaml's is not
        (lab / "lab.yaml").write_text('release: "26.05"\n')
        homelab("--lab", str(lab), "build")
        subprocess.run(["git", "add", "--all"], cwd=lab, check=True)
        subprocess.run(["git", "commit", "-qm", "jellyfin, lab.yaml"], cwd=lab, check=True)
        homelab("--lab", str(lab), "secrets", "admin", "add", "ada", str(key.to_public()))
        homelab("--lab", str(lab), "secrets", "migrate")
        homelab("--lab", str(lab), "tui", "--screen", "secrets", "--size", SIZE,
                "--screenshot", str(DOCS / "secrets.svg"))  # fmt: skip
    print(f"wrote {DOCS / 'main.svg'}, {DOCS / 'apply.svg'} and {DOCS / 'secrets.svg'}")


if __name__ == "__main__":
    main()
