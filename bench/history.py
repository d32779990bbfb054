"""How fast are `homelab history HOST --limit 50`, `homelab diff HOST` and `homelab status`
on a lab with a long past, beside git's own answer to the same question?

Makes a lab with 20 hosts and 5,000 commits (the first one built and committed by homelab,
the rest written with `git fast-import`: edits to one profile at a time, now and then to a
shared fragment or a catalogue entry), records a deploy for every host at a different
commit, and times each command as a person runs it (a new process each time), in
interleaved rounds beside git's own: `git log --oneline -50 -- hosts/host07` for history,
`git diff <host07's deployed commit> -- hosts/host07` for diff. Prints best and median of
each, and the ratios of the medians (the machine may be busy: ratios measured side by side
are what to compare). The commands run as from a user's install: with Python's compiled
modules kept (PYTHONDONTWRITEBYTECODE unset), after one warm-up round that is not timed.
History is timed twice: as it runs again (the host's paths remembered from the warm-up),
and as it runs after the host's files changed (its paths found anew, from the YAML).

    .venv/bin/python bench/history.py [--commits N] [--runs N] [--keep] [--lab DIR]

--lab times a lab made before (with --keep), e.g. with another homelab on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# history as it runs after the host's profile or a fragment it includes changed: the
# paths it remembers for the host (.homelab/history/) are dropped before each such run
FIRST = "homelab history host07 --limit 50, its paths found anew"
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


def run(argv: list[str]) -> tuple[float, float, str]:
    """Seconds (wall, and CPU: user and system) and output of a command; `PYTHONPATH=DIR`
    first sets where homelab is."""
    env = dict(os.environ)
    if argv[0].startswith("PYTHONPATH="):
        env["PYTHONPATH"] = argv[0].removeprefix("PYTHONPATH=")
        argv = argv[1:]
    # away from any checkout: `python -m` puts the current folder first on sys.path
    where = tempfile.gettempdir()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, cwd=where)
    spent = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return spent, cpu, done.stdout


def rounds(
    commands: dict[str, list[str]], runs: int, before: dict[str, Callable[[], None]]
) -> dict[str, tuple[float, float, float, int]]:
    """{name: (best, median, median CPU, lines)}, every command run once per round, in turn
    (CPU time moves less than wall time on a busy machine); `before[name]` runs, untimed,
    before each run of that command."""
    spent: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    lines: dict[str, int] = {}
    for argv in commands.values():  # warm-up: writes the compiled modules, fills caches
        run(argv)
    for _ in range(runs):
        for name, argv in commands.items():
            if name in before:
                before[name]()
            seconds, used, out = run(argv)
            spent[name].append(seconds)
            cpu[name].append(used)
            lines[name] = len(out.splitlines())
    return {
        n: (min(s), statistics.median(s), statistics.median(cpu[n]), lines[n])
        for n, s in spent.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the lab and print where")
    parser.add_argument("--lab", help="time this lab (made with --keep) instead of a new one")
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="another homelab checkout (e.g. a worktree of an older commit): its commands "
        "are timed too, in the same rounds",
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="homelab-bench-history-"))
    root = Path(args.lab) if args.lab else base / "lab"
    try:
        if not args.lab:
            root.mkdir()
            t = time.perf_counter()
            make_lab(root, args.commits)
            print(f"lab made in {time.perf_counter() - t:.1f} s")
        count = git(root, "rev-list", "--count", "HEAD").strip()
        print(f"lab: {HOSTS} hosts, {count} commits")
        deployed = git(root, "rev-parse", "refs/homelab/deployed/host07^{commit}").strip()
        homelab = [sys.executable, "-m", "homelab", "--lab", str(root)]
        git_at = ["git", "-C", str(root)]
        commands = {
            "python start alone": [sys.executable, "-c", "pass"],
            "git log --oneline -50 -- hosts/host07": [
                *git_at, "log", "--oneline", "-50", "--", "hosts/host07",
            ],
            "homelab history host07 --limit 50": [
                *homelab, "history", "host07", "--limit", "50",
            ],
            FIRST: [*homelab, "history", "host07", "--limit", "50"],
            f"git diff {deployed[:7]} -- hosts/host07": [
                *git_at, "diff", deployed, "--", "hosts/host07",
            ],
            "homelab diff host07": [*homelab, "diff", "host07"],
            "homelab diff (every host)": [*homelab, "diff"],
            "homelab status": [*homelab, "status"],
        }  # fmt: skip
        if args.before:
            for name, argv in list(commands.items()):
                if name.startswith("homelab"):
                    commands[f"{name} (before)"] = [f"PYTHONPATH={args.before}", *argv]
        # only before this code's own run: the next round's runs find the note it rewrote
        # (the code of --before keeps none)
        forget = {FIRST: functools.partial(shutil.rmtree, root / ".homelab" / "history", True)}
        found = rounds(commands, args.runs, forget)
        width = max(len(n) for n in found)
        for name, (best, median, cpu, lines) in found.items():
            print(
                f"{name:<{width}}  best {best:.3f} s  median {median:.3f} s  "
                f"CPU {cpu:.3f} s  ({lines} lines)"
            )
        median = {name: m for name, (_, m, _, _) in found.items()}
        cpu_of = {name: c for name, (_, _, c, _) in found.items()}
        history = median["homelab history host07 --limit 50"]
        log = median["git log --oneline -50 -- hosts/host07"]
        diff = median["homelab diff host07"]
        git_diff = median[f"git diff {deployed[:7]} -- hosts/host07"]
        print(f"history / git log: {history / log:.1f}x")
        print(f"history, its paths found anew / git log: {median[FIRST] / log:.1f}x")
        print(f"diff of one host / git diff: {diff / git_diff:.1f}x")
        if args.before:
            for name in [n for n in median if n.endswith(" (before)")]:
                now = name.removesuffix(" (before)")
                print(
                    f"{now}: {median[now] / median[name]:.2f}x of before "
                    f"(CPU {cpu_of[now] / cpu_of[name]:.2f}x)"
                )
            was = median["homelab history host07 --limit 50 (before)"]
            print(f"before: history / git log {was / log:.1f}x", end=", ")
            was = median["homelab diff host07 (before)"]
            print(f"diff of one host / git diff {was / git_diff:.1f}x")
    finally:
        if args.keep and not args.lab:
            print(f"kept: {root}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    # an installed homelab has its modules compiled: compiling them at every run is not
    # what a user waits for
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    main()
