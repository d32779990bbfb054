"""The option index in figures: how long making home-manager's index takes and how much it
weighs on disk (the figure that keeps the index a cache in .homelab/, not a lab file).

The index is home-manager's real one, made as the tests make it (tests/optionindex.py):
homelab/optionindex/index.nix, the expression `homelab options update` runs, over the
modules of ../shared/upstream with the real nix-instantiate. Each figure is a function
that returns its lines; `main` prints them all (add a figure: a function, and a line in
FIGURES).

    .venv/bin/python bench/options.py [--runs N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from homelab.optionindex.model import OptionIndex  # noqa: E402
from homelab.optionindex.read import read_index  # noqa: E402
from homelab.optionindex.store import dumps, loads  # noqa: E402
from tests.nixtools import _call_dir, _run  # noqa: E402
from tests.optionindex import (  # noqa: E402
    HOME_MANAGER_REVISION,
    NIXPKGS_LIB_REVISION,
    _roots,
    home_manager_driver,
)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KiB"


def make_index() -> tuple[OptionIndex, bytes, float, float]:
    """home-manager's index made once: (index, Nix's JSON, Nix's seconds, reading's)."""
    folder = _call_dir()
    main = home_manager_driver(folder)
    start = time.perf_counter()
    out = _run(["--eval", "--strict", "--json", str(main)], cwd=folder)
    evaluated = time.perf_counter()
    index = read_index(
        json.loads(out),
        nixpkgs=NIXPKGS_LIB_REVISION,
        home_manager=HOME_MANAGER_REVISION,
        roots=_roots(),
    )
    return index, out.encode(), evaluated - start, time.perf_counter() - evaluated


_made: list[tuple[OptionIndex, bytes, float, float]] = []


def index_once() -> OptionIndex:
    if not _made:
        _made.append(make_index())
    return _made[0][0]


def build_time(runs: int) -> list[str]:
    """Making the index: Nix's evaluation (index.nix), then reading its JSON."""
    for _ in range(runs - len(_made)):
        _made.append(make_index())
    nix = [m[2] for m in _made[:runs]]
    reading = [m[3] for m in _made[:runs]]
    return [
        f"build: Nix evaluates index.nix in {_ms(min(nix))} (median {_ms(statistics.median(nix))}"
        f", {runs} runs); reading its JSON into the index {_ms(min(reading))}",
    ]


def index_size(runs: int) -> list[str]:
    """The index on disk (gzipped JSON, as .homelab/options/ keeps it) and loading it."""
    index = index_once()
    blob = dumps(index)
    raw = _made[0][1]
    loads_s = []
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        loads(blob)
        loads_s.append(time.perf_counter() - start)
    nixos_estimate = len(blob) * 4  # NixOS has about four times home-manager's options
    return [
        f"size: {len(index.home)} home-manager options, {len(index.nixos)} NixOS-side options",
        f"size: {_kb(len(blob))} on disk ({len(blob)} bytes gzipped; "
        f"{_kb(len(gzip.decompress(blob)))} as JSON; Nix printed {_kb(len(raw))})",
        f"size: a NixOS index, about four times as many options: some {_kb(nixos_estimate)}",
        f"load: reading the file into the index {_ms(min(loads_s))}",
    ]


FIGURES: list[Callable[[int], list[str]]] = [build_time, index_size]


def main(runs: int) -> None:
    for figure in FIGURES:
        for line in figure(runs):
            print(line, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
