"""How long `homelab build` takes on the 200-host synthetic lab, and how much memory.

Prints the cold build (a new process, nothing generated yet), the no-op rebuild (a new
process, everything up to date: it must touch no file) and the peak memory (max RSS) of
each process. Aims: cold under 3 s, no-op under 0.5 s... for the build itself; the figures
include Python's start and imports, which are printed on their own for reference.
With --options, each host also has an options: section of 20 entries (synthlab.OPTIONS):
the per-host figures of the two runs compare options: with the profile's sections.

    python bench/build.py [N] [--options]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthlab import make_lab

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


def run(*args: str) -> tuple[float, float, float]:
    """(wall seconds of the whole process, seconds inside main(), peak RSS in MB)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", TIME, *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"homelab {' '.join(args)} failed:\n{proc.stderr}")
    inner, rss = proc.stderr.strip().splitlines()[-1].split()
    return wall, float(inner), float(rss)


def mtimes(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*.nix")}


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--options"]
    options = "--options" in sys.argv[1:]
    hosts = int(args[0]) if args else 200
    with tempfile.TemporaryDirectory() as tmp:
        colds = []
        for i in range(RUNS):
            root = make_lab(Path(tmp) / f"lab{i}", hosts, options)
            colds.append(run("--lab", str(root), "build"))
        files = len(list(root.rglob("*.nix")))
        before = mtimes(root)
        noops = [run("--lab", str(root), "build") for _ in range(RUNS)]
        assert mtimes(root) == before, "a no-op build touched a file"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import homelab.cli"], check=True)
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
