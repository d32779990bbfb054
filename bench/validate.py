"""How long `homelab validate` takes on a 200-host lab, against only reading its YAML.

Prints the time of validation in this process through the Lab API (first run, and the
best of the following ones), of `homelab validate` as a new process, and of loading the
same YAML files with yaml.load(..., Loader=yaml.CSafeLoader) alone; and their ratio.
The aim: under 2 s, and under 3x the bare YAML load.

Each figure is the best of several runs, as wall-clock time and as CPU time (user +
system) of the process doing the work: on a machine shared with other work the CPU time
moves less from run to run.

With --options, each host also has an options: section of 20 entries (synthlab.OPTIONS):
the per-host figures of the two runs compare options: with the profile's sections.

    python bench/validate.py [N] [--options]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthlab import make_lab

from homelab.lab import Lab

RUNS = 5


class TaggedLoader(yaml.CSafeLoader):
    """CSafeLoader that also reads the tags of options: (!pkg, !nix, ...) as {tag: value},
    as homelab does, so that the bare load reads the same files."""


def _tagged(loader: yaml.CSafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        value: object = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return {"!" + suffix: value}


TaggedLoader.add_multi_constructor("!", _tagged)


@dataclass(frozen=True)
class Time:
    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall:6.3f} s wall {self.cpu:6.3f} s cpu"


def timed(work: Callable[[], object]) -> Time:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return Time(time.perf_counter() - wall, time.process_time() - cpu)


def timed_process(command: list[str]) -> Time:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    took = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr[-2000:]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Time(took, cpu)


def best(times: list[Time]) -> Time:
    return Time(min(t.wall for t in times), min(t.cpu for t in times))


def main(hosts: int, options: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_lab(Path(tmp) / "lab", hosts, options)
        lab = Lab(root)

        def validate() -> None:
            state = lab.load()
            problems = state.all_problems()
            assert not problems, problems[:3]
            assert len(state.hosts) == hosts

        first = timed(validate)
        warm = best([timed(validate) for _ in range(RUNS)])

        state = lab.load()
        sample = state.hosts["host001"].profile
        assert sample is not None
        shape = (len(sample.users), len(sample.services), len(sample.containers))
        files = sorted(state.texts)
        texts = [(root / f).read_text() for f in files]

        def bare() -> None:
            for text in texts:
                yaml.load(text, Loader=TaggedLoader)

        def bare_with_reading() -> None:
            for f in files:
                yaml.load((root / f).read_text(), Loader=TaggedLoader)

        bare_only = best([timed(bare) for _ in range(RUNS)])
        base = best([timed(bare_with_reading) for _ in range(RUNS)])
        python = [sys.executable, "-m", "homelab"]
        cli = best([timed_process([*python, "--lab", str(root), "validate"]) for _ in range(RUNS)])
        startup = best([timed_process([*python, "--help"]) for _ in range(RUNS)])

    extra = ", 20 options: entries" if options else ""
    print(
        f"lab: {hosts} hosts, each {shape[0]} users, {shape[1]} services, "
        f"{shape[2]} containers{extra}"
    )
    print(f"     {len(files)} YAML files read (profiles, fragments, catalogue); best of {RUNS}")
    print(f"validate in process, first run       {first}")
    print(f"validate in process, warm            {warm}")
    print(f"homelab validate as a process        {cli}")
    print(f"  starting python + homelab --help   {startup}")
    print(f"yaml.load CSafeLoader, texts only    {bare_only}")
    print(f"yaml.load CSafeLoader, with reading  {base}")
    for name, t in (("first run", first), ("warm", warm), ("as a process", cli)):
        print(
            f"ratio validate/bare, {name:13}  {t.wall / base.wall:6.2f} x wall "
            f"{t.cpu / base.cpu:6.2f} x cpu"
        )
    print(
        f"per host, warm: {1000 * warm.wall / hosts:.2f} ms wall "
        f"{1000 * warm.cpu / hosts:.2f} ms cpu"
    )


if __name__ == "__main__":
    # as from a user's install, whose modules are compiled once, not at every run
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    args = [a for a in sys.argv[1:] if a != "--options"]
    main(int(args[0]) if args else 200, "--options" in sys.argv[1:])
