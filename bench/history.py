"""How fast are `homelab history HOST --limit 50` and `homelab status` on a lab with a long past?

Makes a lab with 20 hosts and 5,000 commits (the first one built and committed by homelab,
the rest written with `git fast-import`: edits to one profile at a time, now and then to a
shared fragment or a catalogue entry), records a deploy for every host at a different
commit, and times both commands as a person runs them (a new process each time).

    .venv/bin/python bench/history.py [--commits N] [--runs N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOSTS = 20
SERVICES = ["openssh", "docker", "tailscale", "syncthing", "jellyfin"]

FRAGMENT = """\
host:
  timezone: Europe/Berlin
  locale: en_US.UTF-8
nix:
  gc: {automatic: true, dates: weekly}
users:
  admin:
    description: Lab admin
    admin: true
"""


def profile(i: int) -> str:
    services = "\n".join(f"  {s}: {{}}" for s in SERVICES[: 1 + i % len(SERVICES)])
    return f"""\
include: [../common/base.yaml]
host:
  stateVersion: "24.11"
hardware:
  boot: {{loader: systemd-boot, efi: true}}
  fileSystems:
    /: {{device: /dev/disk/by-label/nixos, fsType: ext4}}
networking:
  interfaces:
    eth0: {{addresses: [10.0.0.{10 + i}/24]}}
services:
{services}
packages: [git, htop]
deploy:
  address: 10.0.0.{10 + i}
  tags: [{"even" if i % 2 == 0 else "odd"}]
"""


def git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True, check=True)
    return done.stdout.decode()


def make_lab(root: Path, commits: int) -> None:
    from homelab.history import commit_lab
    from homelab.lab import Lab

    shutil.copytree(REPO / "services", root / "services")
    (root / "hosts" / "common").mkdir(parents=True)
    (root / "hosts" / "common" / "base.yaml").write_text(FRAGMENT)
    texts: dict[str, str] = {"hosts/common/base.yaml": FRAGMENT}
    for i in range(HOSTS):
        rel = f"hosts/host{i:02}/profile.yaml"
        (root / rel).parent.mkdir(parents=True)
        (root / rel).write_text(profile(i))
        texts[rel] = profile(i)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Bench")
    git(root, "config", "user.email", "bench@example.org")
    lab = Lab(root)
    state = lab.load()
    problems = state.all_problems()
    if problems:
        sys.exit("the bench lab is not valid:\n" + "\n".join(str(p) for p in problems))
    lab.build(state, sorted(state.hosts))
    commit_lab(lab, "a lab of twenty hosts")

    # the rest of the past, fast: one profile (sometimes a fragment, a catalogue entry)
    # changed per commit
    stream: list[bytes] = []
    start = int(time.time()) - commits * 3600
    for n in range(1, commits):
        if n % 100 == 0:
            rel = f"services/{SERVICES[n // 100 % len(SERVICES)]}.yaml"
            if rel not in texts:
                texts[rel] = (root / rel).read_text()
        elif n % 40 == 0:
            rel = "hosts/common/base.yaml"
        else:
            rel = f"hosts/host{n * 7 % HOSTS:02}/profile.yaml"
        texts[rel] += f"# change {n}\n"
        data = texts[rel].encode()
        message = f"change {n} to {rel}\n".encode()
        stream += [
            b"commit refs/heads/main\n",
            f"committer Bench <bench@example.org> {start + n * 3600} +0000\n".encode(),
            f"data {len(message)}\n".encode() + message,
            *([b"from refs/heads/main^0\n"] if n == 1 else []),
            f"M 100644 inline {rel}\n".encode(),
            f"data {len(data)}\n".encode() + data + b"\n",
        ]
    git(root, "fast-import", "--quiet", stdin=b"".join(stream))
    git(root, "reset", "-q", "--hard", "main")

    from homelab.history.records import record_deploy

    log = git(root, "rev-list", "main").split()
    now = datetime.now().astimezone()
    for i in range(HOSTS):
        commit = log[min(i * 37, len(log) - 1)]
        record_deploy(root, f"host{i:02}", commit, "switch", "ok", now - timedelta(minutes=1), now)


def timed(argv: list[str], runs: int) -> tuple[float, float, str]:
    seconds = []
    out = ""
    for _ in range(runs):
        t = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - t)
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed:\n{done.stderr}")
        out = done.stdout
    return min(seconds), statistics.median(seconds), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the lab and print where")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="homelab-bench-history-"))
    root = base / "lab"
    root.mkdir()
    try:
        t = time.perf_counter()
        make_lab(root, args.commits)
        count = git(root, "rev-list", "--count", "HEAD").strip()
        print(f"lab: {HOSTS} hosts, {count} commits, made in {time.perf_counter() - t:.1f} s")
        homelab = [sys.executable, "-m", "homelab", "--lab", str(root)]
        quiet = [sys.executable, "-c", "pass"]
        python, _, _ = timed(quiet, args.runs)
        print(f"python start alone: {python:.3f} s")
        for name, argv in (
            ("history host07 --limit 50", [*homelab, "history", "host07", "--limit", "50"]),
            ("status", [*homelab, "status"]),
        ):
            best, median, out = timed(argv, args.runs)
            lines = len(out.splitlines())
            print(f"homelab {name}: best {best:.3f} s, median {median:.3f} s ({lines} lines)")
        from homelab.history.log import host_history
        from homelab.history.status import lab_status
        from homelab.lab import Lab

        for name, call in (
            ("host_history(host07, 50)", lambda: host_history(Lab(root), "host07", 50)),
            ("lab_status()", lambda: lab_status(Lab(root))),
        ):
            spent = []
            for _ in range(args.runs):
                t = time.perf_counter()
                call()
                spent.append(time.perf_counter() - t)
            print(f"in process, {name}: median {statistics.median(spent):.3f} s")
    finally:
        if args.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    main()
