"""How long `homelab build` takes on the 200-host synthetic lab, and how much memory.

Prints the cold build (a new process, nothing generated yet), the no-op rebuild (a new
process, everything up to date: it must touch no file) and the peak memory (max RSS) of
each process. Aims: cold under 3 s, no-op under 0.5 s... for the build itself; the figures
include Python's start and imports, which are printed on their own for reference.
With --options, each host also has an options: section of 20 entries (synthlab.OPTIONS):
the per-host figures of the two runs compare options: with the profile's sections.

    python bench/build.py [N] [--options]

`growth` prints how the commands grow with the lab instead: for 10, 100 and 1000 hosts
(or --sizes), the bare YAML-load floor (a new process reading and yaml.load-ing every
YAML file the lab reads, profiles, fragments and catalogue, with CSafeLoader, the loader
homelab parses with), a cold `homelab build`, `homelab validate` and `homelab hosts` (on
a lab never built, and on the one just built), each as a new process, and their ratio to
the floor; then the cost of one more host between
two sizes, which stays flat when a command grows linearly. Rounds are interleaved (one
of each command, then again) and each figure is the median, in CPU seconds (user +
system, steadier on a shared machine) and wall seconds; the system's part is printed on
its own too (a cold build creates thousands of files, and what the kernel takes to
create one differs from one file system and one machine's load to another: on ext4 it
grows for minutes after many files were deleted, so the built copies are deleted only at
the end). --against DIR times the homelab of another checkout too (an older commit, for
before and after figures), in the same rounds, and prints the ratios of the two.

    python bench/build.py growth [--sizes 10,100,1000] [--rounds 3] [--against DIR]

Every process runs as on a user's install: without PYTHONDONTWRITEBYTECODE, after one
warm-up run that leaves homelab's modules compiled (.pyc), so no figure pays for that.
"""

from __future__ import annotations

import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthlab import REPO, make_lab

RUNS = 3
TIME = (
    "import resource, runpy, sys, time\n"
    "start = time.perf_counter()\n"
    "sys.argv = ['homelab'] + sys.argv[1:]\n"
    "from homelab.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "took = time.perf_counter() - start\n"
    "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
    "print(f'{took:.3f} {rss:.0f}', file=sys.stderr)\n"
    "raise SystemExit(code)\n"
)


def user_env() -> dict[str, str]:
    """This environment as a user's install has it: modules compiled once and kept."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(*args: str) -> tuple[float, float, float]:
    """(wall seconds of the whole process, seconds inside main(), peak RSS in MB)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", TIME, *args],
        capture_output=True,
        text=True,
        check=False,
        env=user_env(),
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"homelab {' '.join(args)} failed:\n{proc.stderr}")
    inner, rss = proc.stderr.strip().splitlines()[-1].split()
    return wall, float(inner), float(rss)


def mtimes(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*.nix")}


FLOOR = (
    "import sys\n"
    "from pathlib import Path\n"
    "import yaml\n"
    "root = Path(sys.argv[1])\n"
    "for pattern in ('hosts/*/profile.yaml', 'hosts/common/*.yaml', 'services/*.yaml'):\n"
    "    for path in sorted(root.glob(pattern)):\n"
    "        yaml.load(path.read_text(), Loader=yaml.CSafeLoader)\n"
)
# "hosts" on a lab never built; "hosts-built" on the one just built (the build's record
# spares it the checks of the hosts that have not changed since)
COMMANDS = ("floor", "build", "validate", "hosts", "hosts-built")


def timed_process(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, float]:
    """(CPU seconds, wall seconds, the system's part of the CPU seconds) of a new process
    running `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    system = after.ru_stime - before.ru_stime
    return (after.ru_utime - before.ru_utime) + system, wall, system


def growth(sizes: list[int], rounds: int, against: str | None) -> None:
    """The figures of this checkout; with `against`, of that checkout too, in the same
    rounds, and the ratio of the two."""
    sources = [str(REPO)] if against is None else [str(REPO), against]
    envs = [user_env() for _ in sources]
    for env, source in zip(envs, sources, strict=True):
        # its homelab before the installed one (the processes run in a folder without one)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (source, env.get("PYTHONPATH"))))
    homelab = [sys.executable, "-m", "homelab", "--lab"]
    # {(size, source index, command): [(cpu, wall, system), ...]}; the floor under index 0
    times: dict[tuple[int, int, str], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        warm = make_lab(Path(tmp) / "warm-up", 2)
        for env in envs:  # compiles each checkout's modules, as an install has them
            timed_process([*homelab, str(warm), "build"], env, tmp)
        for size in sizes:
            lab = make_lab(Path(tmp) / f"lab{size}", size)
            for r in range(rounds):
                floor = timed_process([sys.executable, "-c", FLOOR, str(lab)], envs[0], tmp)
                times.setdefault((size, 0, "floor"), []).append(floor)
                for i, env in enumerate(envs):
                    fresh = Path(tmp) / f"build{size}-{r}-{i}"
                    shutil.copytree(lab, fresh)  # nothing generated yet: a cold build
                    runs = {
                        "build": [*homelab, str(fresh), "build"],
                        "validate": [*homelab, str(lab), "validate"],
                        "hosts": [*homelab, str(lab), "hosts"],
                        "hosts-built": [*homelab, str(fresh), "hosts"],
                    }
                    for name, command in runs.items():
                        took = timed_process(command, env, tmp)
                        times.setdefault((size, i, name), []).append(took)
                    # kept until the end: ext4 looks past the inodes freed in the last
                    # minutes when it makes a file, and after the deleting of a built
                    # lab's ten thousand files the next cold build's kernel time grew
                    # from a tenth of a second to several seconds
    median = {
        key: tuple(statistics.median(t[n] for t in ts) for n in range(3))
        for key, ts in times.items()
    }
    names = ["this checkout", *([against] if against else [])]
    print(f"homelab of {' and of '.join(map(str, names))}; median of {rounds} interleaved rounds")
    for i, name in enumerate(names):
        print(f"\n{name}:")
        print(
            f"{'hosts':>6} {'command':11} {'cpu s':>8} {'wall s':>8} {'x floor cpu':>12}  wall"
            f"  {'system s':>8}"
        )
        for size in sizes:
            floor = median[(size, 0, "floor")]
            for command in COMMANDS:
                cpu, wall, system = median[(size, 0 if command == "floor" else i, command)]
                print(
                    f"{size:6} {command:11} {cpu:8.3f} {wall:8.3f} "
                    f"{cpu / floor[0]:11.2f}x {wall / floor[1]:5.2f}x  {system:8.3f}"
                )
        print("one more host costs (cpu ms, from the medians):")
        for small, large in itertools.pairwise(sizes):
            cpu = {c: median[(large, j, c)][0] - median[(small, j, c)][0]
                   for c in COMMANDS for j in [0 if c == "floor" else i]}  # fmt: skip
            said = ", ".join(f"{c} {1000 * cpu[c] / (large - small):.2f}" for c in COMMANDS)
            print(f"  {small:5} -> {large:5} hosts: {said}")
    if against:
        print(f"\nthis checkout / {against}, cpu (wall):")
        for size in sizes:
            said = ", ".join(
                f"{c} {median[(size, 0, c)][0] / median[(size, 1, c)][0]:.2f}"
                f" ({median[(size, 0, c)][1] / median[(size, 1, c)][1]:.2f})"
                for c in COMMANDS[1:]
            )
            print(f"  {size:5} hosts: {said}")
    print(f"cpus: {os.cpu_count()}")


def option(name: str, default: str | None) -> str | None:
    if name in sys.argv:
        at = sys.argv.index(name)
        value = sys.argv[at + 1]
        del sys.argv[at : at + 2]
        return value
    return default


def main() -> None:
    if sys.argv[1:2] == ["growth"]:
        sizes = option("--sizes", "10,100,1000") or ""
        rounds = int(option("--rounds", "3") or 3)
        growth([int(n) for n in sizes.split(",")], rounds, option("--against", None))
        return
    args = [a for a in sys.argv[1:] if a != "--options"]
    options = "--options" in sys.argv[1:]
    hosts = int(args[0]) if args else 200
    with tempfile.TemporaryDirectory() as tmp:
        run("--lab", str(make_lab(Path(tmp) / "warm-up", 2)), "build")  # modules compiled
        colds = []
        for i in range(RUNS):
            root = make_lab(Path(tmp) / f"lab{i}", hosts, options)
            colds.append(run("--lab", str(root), "build"))
        files = len(list(root.rglob("*.nix")))
        before = mtimes(root)
        noops = [run("--lab", str(root), "build") for _ in range(RUNS)]
        assert mtimes(root) == before, "a no-op build touched a file"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import homelab.cli"], check=True, env=user_env())
        python = time.perf_counter() - start
    cold = min(colds)
    noop = min(noops)
    extra = ", each with 20 options: entries" if options else ""
    print(f"lab: {hosts} hosts{extra}, {files} generated files; best of {RUNS} runs")
    print(
        f"cold build:   {cold[0]:.3f} s process ({cold[1]:.3f} s in homelab), peak {cold[2]:.0f} MB"
    )
    print(
        f"no-op build:  {noop[0]:.3f} s process ({noop[1]:.3f} s in homelab), peak {noop[2]:.0f} MB"
    )
    print(f"python start + import homelab.cli: {python:.3f} s")
    print(
        f"per host: cold {1000 * cold[1] / hosts:.2f} ms, no-op {1000 * noop[1] / hosts:.2f} ms"
        " (in homelab)"
    )
    print(f"cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
