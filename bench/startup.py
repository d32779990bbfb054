"""How fast does `homelab` start? `--help`, `history`, `hosts` and `status` as a person runs them.

Makes a lab with `homelab init`, adds a few commits (`homelab build --commit` after an
edit), then times each command as a new process, N times, and prints the fastest and the
median run. Start-up is most of what these commands cost on a small lab, so this is the
figure the command line's lazy imports are kept for. The commands write to a pipe, as in
a script; `hosts` and `status` are timed on a pseudo-terminal too, where rich draws them.

    .venv/bin/python bench/startup.py [--runs N] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = [["--help"], ["history"], ["hosts"], ["status"]]
ON_A_TERMINAL = [["hosts"], ["status"]]


def homelab() -> list[str]:
    """The console script next to this Python (as installed), else `python -m homelab`."""
    script = Path(sys.executable).parent / "homelab"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "homelab"]


def run(cmd: list[str], lab: Path) -> float:
    env = {**os.environ, "HOMELAB_LAB": str(lab), "NO_COLOR": "1"}
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=lab, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def run_on_terminal(cmd: list[str], lab: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(HOMELAB_LAB=str(lab), TERM="xterm-256color", COLUMNS="100", LINES="40")
    ours, theirs = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=lab, stdin=subprocess.DEVNULL, stdout=theirs, stderr=theirs
    )
    os.close(theirs)
    with contextlib.suppress(OSError):  # EIO once the command has closed its terminal
        while os.read(ours, 65536):
            pass
    proc.wait()
    took = time.perf_counter() - start
    os.close(ours)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed on a terminal")
    return took


def make_lab(lab: Path, commits: int) -> None:
    subprocess.run([*homelab(), "init", str(lab)], stdout=subprocess.DEVNULL, check=True)
    profile = lab / "hosts" / "example" / "profile.yaml"
    for i in range(commits):
        text = profile.read_text().replace("packages: [git, vim", f"packages: [git, vim, hello{i}")
        profile.write_text(text.replace(f"hello{i - 1}, ", "") if i else text)
        subprocess.run(
            [*homelab(), "--lab", str(lab), "build", "--commit", "-m", f"edit {i}"],
            stdout=subprocess.DEVNULL,
            check=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--commits", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the lab and print its folder")
    args = ap.parse_args()
    top = Path(tempfile.mkdtemp(prefix="homelab-startup-"))
    lab = top / "lab"
    try:
        make_lab(lab, args.commits)
        base = homelab()
        print(f"homelab start-up, {args.runs} runs each (a new process per run)")
        print(f"{'command':<28} {'min':>8} {'median':>8}")
        rows = [(words, run, "") for words in COMMANDS]
        rows += [(words, run_on_terminal, " (terminal)") for words in ON_A_TERMINAL]
        for words, runner, where in rows:
            cmd = [*base, *words]
            runner(cmd, lab)  # warm the file cache and the bytecode
            times = [runner(cmd, lab) for _ in range(args.runs)]
            name = "homelab " + " ".join(words) + where
            print(f"{name:<28} {min(times) * 1000:6.0f}ms {statistics.median(times) * 1000:6.0f}ms")
    finally:
        if args.keep:
            print(f"lab kept in {lab}")
        else:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    # as from a user's install, whose modules are compiled once, not at every run
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    main()
