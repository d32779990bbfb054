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

from homelab.optionindex.model import OptionIndex, OptionSet  # noqa: E402
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


# ---- validation with and without the index -------------------------------------------


def _nixos_types() -> dict[str, object]:
    """The NixOS options synthlab's lab sets (its OPTIONS, its extraConfig), with the
    types NixOS declares them with (nixos/modules of nixpkgs 26.05)."""
    from homelab.optionindex import model as m

    bool_, int_, str_ = m.OptionType(m.BOOL), m.OptionType(m.INT), m.OptionType(m.STR)
    package = m.OptionType(m.UNCHECKED, "package")
    strs = m.OptionType(m.LIST, of=(str_,))
    sysctl = m.OptionType(m.EITHER, of=(bool_, str_, int_, m.OptionType(m.FLOAT)))
    unit = m.OptionType(m.ATTRS, of=(m.OptionType(m.ANYTHING),))
    return {
        "services.irqbalance.enable": bool_,
        "services.fstrim.enable": bool_,
        "services.fwupd.enable": bool_,
        "zramSwap.enable": bool_,
        "zramSwap.memoryPercent": int_,
        "boot.kernel.sysctl": m.OptionType(m.ATTRS, of=(m.OptionType(m.NULL_OR, of=(sysctl,)),)),
        "boot.kernelPackages": m.OptionType(m.UNCHECKED, "raw"),
        "systemd.services": m.OptionType(m.ATTRS, of=(m.OptionType(m.SUBMODULE),)),
        "systemd.services.<name>.description": str_,
        "systemd.services.<name>.script": str_,
        "systemd.services.<name>.serviceConfig": unit,
        "systemd.services.<name>.startAt": m.OptionType(m.EITHER, of=(str_, strs)),
        "systemd.services.<name>.path": m.OptionType(m.LIST, of=(package,)),
        "systemd.tmpfiles.rules": strs,
        "fileSystems": m.OptionType(m.ATTRS, of=(m.OptionType(m.SUBMODULE),)),
        "fileSystems.<name>.device": m.OptionType(m.NULL_OR, of=(str_,)),
        "fileSystems.<name>.fsType": str_,
        "fileSystems.<name>.options": strs,
        "networking.hosts": m.OptionType(m.ATTRS, of=(strs,)),
        "services.samba.enable": bool_,
        "services.samba.settings": m.OptionType(
            m.ATTRS,
            of=(m.OptionType(m.ATTRS, of=(m.OptionType(m.EITHER, of=(str_, int_, bool_)),)),),
        ),
        "time.hardwareClockInLocalTime": bool_,
        "documentation.man.generateCaches": bool_,
        "services.journald.extraConfig": str_,
        "services.logrotate.enable": bool_,
        "services.avahi.enable": bool_,
        "services.avahi.nssmdns4": bool_,
        "services.avahi.publish.enable": bool_,
        "services.avahi.publish.addresses": bool_,
        "users.groups": m.OptionType(m.ATTRS, of=(m.OptionType(m.SUBMODULE),)),
        "users.groups.<name>.gid": m.OptionType(m.NULL_OR, of=(int_,)),
        "services.smartd.enable": bool_,
        "services.smartd.autodetect": bool_,
        "programs.mtr.enable": bool_,
        "environment.variables": m.OptionType(m.ATTRS, of=(str_,)),
    }


def _synth_index() -> OptionIndex:
    """An index as large as NixOS's (some 20,000 options): the options synthlab's lab sets,
    those its catalogue entries set (any value), and made-up modules of ten options each
    as the rest of the tree (a lookup's cost is the path's depth, not the tree's size)."""
    from homelab import catalogcheck
    from homelab.labfiles import LabFiles
    from homelab.optionindex import model as m
    from homelab.profile.options import parse_key

    kinds = [m.OptionType(m.BOOL), m.OptionType(m.STR), m.OptionType(m.INT, low=0, high=65535)]
    options: dict[tuple[str, ...], m.Option] = {}
    for module in range(2000):
        for n in range(10):
            synth: tuple[str, ...] = ("services", f"module{module}", f"option{n}")
            options[synth] = m.Option(synth, kinds[n % 3])
    catalog = LabFiles(ROOT).load().catalog
    for service in catalog.services.values():
        for name, _, _ in catalogcheck._settings(service):
            path = parse_key(name)
            options[path] = m.Option(path, m.OptionType(m.ANYTHING))
    for name, kind in _nixos_types().items():
        path = tuple(name.split("."))  # none of these names has a dot of its own
        options[path] = m.Option(path, kind)  # type: ignore[arg-type]
    return m.OptionIndex("synth", "synth", m.OptionSet(options), m.OptionSet({}))


def validation_with_index(runs: int) -> list[str]:
    """`homelab validate`'s work on synthlab's 200-host lab with 20 options: entries a
    host, without an index and with one (aim: the checks add under 30%)."""
    import resource
    import tempfile

    sys.path.insert(0, str(ROOT / "bench"))
    from synthlab import make_lab

    from homelab.lab import Lab

    index = _synth_index()

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(make_lab(Path(tmp) / "lab", 200, options=True))
        state = lab.load(index=index)
        bad = state.all_problems()
        assert not bad, f"the synthetic lab is not valid with the index: {bad[:3]}"
        times: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(max(runs, 3)):
            for label, given in (("without", None), ("with", index)):
                start = cpu()
                lab.load(index=given)
                times[label].append(cpu() - start)
        checked = state.options_not_checked
    without, with_ = min(times["without"]), min(times["with"])
    added = (with_ - without) / without * 100
    blob = dumps(index)  # validate reads the index's file first (Lab.option_index)
    reads = []
    for _ in range(max(runs, 3)):
        start = cpu()
        loads(blob)
        reads.append(cpu() - start)
    read = min(reads)
    return [
        f"validate: 200 hosts, 20 options: entries each, {len(index.nixos)} options in the "
        f"index: {_ms(without)} without the index, {_ms(with_)} with it (CPU, best of "
        f"{max(runs, 3)}): the checks add {added:.0f}% (aim: under 30%)"
        + ("" if checked == 0 else f"; {checked} settings unchecked"),
        f"validate: reading that index's file first ({_kb(len(blob))}) takes {_ms(read)} more:"
        f" with it the index adds {(with_ + read - without) / without * 100:.0f}%",
    ]


# ---- options search ---------------------------------------------------------------

# what people look for: module names, paths and prefixes, several words, typos
SEARCHES = (
    "git",
    "programs.git",
    "programs.git.enable",
    "git signing key",
    "firefox",
    "firefx",
    "zsh history",
    "ssh agent",
    "neovim plugins",
    "starship",
    "syncthnig",
    "gpg",
    "xdg mime",
    "enable",
    "services.",
    "tmux extraConfig",
    "kitty font size",
    "bash aliases",
)


def _search_times(options: OptionSet, runs: int) -> tuple[float, list[float]]:
    """CPU seconds of the first search (which prepares the set) and of many more."""
    from homelab.optionindex.search import search

    start = time.process_time()
    search(options, "git")
    first = time.process_time() - start
    times = []
    for _ in range(max(runs, 1) * 10):
        for words in SEARCHES:
            start = time.process_time()
            search(options, words)
            times.append(time.process_time() - start)
    return first, times


def search_latency(runs: int) -> list[str]:
    """`homelab options search` in process: the first query (which prepares the option
    set once) and the median and worst of many (aim: < 50 ms), over home-manager's real
    index and over an option set as large as NixOS's (made up: paths, no descriptions).
    CPU time of this process: on a machine shared with other work it moves less."""
    lines = []
    home = loads(dumps(index_once())).home  # as read from the file, never searched yet
    for label, options in (
        ("home-manager options", home),
        ("options as many as NixOS's", _synth_index().nixos),
    ):
        first, times = _search_times(options, runs)
        lines.append(
            f"search: {len(options)} {label}, {len(times)} queries (CPU): median "
            f"{statistics.median(times) * 1000:.1f} ms, worst {_ms(max(times))}; the first "
            f"{_ms(first)}, as it prepares the set (aim: under 50 ms)"
        )
    return lines


FIGURES: list[Callable[[int], list[str]]] = [
    build_time,
    index_size,
    validation_with_index,
    search_latency,
]


def main(runs: int) -> None:
    for figure in FIGURES:
        for line in figure(runs):
            print(line, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
