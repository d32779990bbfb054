"""Building on one builder against each machine building its own: a 5-host apply, on the rig.

Stands up machines of the SSH test rig (tests/sshd/: a real sshd each; the builds are the
rig's test doubles, each told to take --seconds per build) in two labs:

- own: five machines, each building its own system (nixos-rebuild on each);
- builder: the same five with `deploy.buildOn: nuc`, a sixth machine that builds them all
  (one `nix build` of the five), signs and copies each closure over SSH; the five only
  activate what arrived.

Each lab is applied once first (in the builder lab, the targets build themselves that
once: their running systems do not let the builder in yet). Then, for --rounds rounds,
every target's profile changes and `homelab apply --yes` of the five is timed, and the
builds the machines ran are counted from the stand-ins' logs. The stand-in's build time is
per build, so the gain shows as fewer builds: on real machines, what the hosts share is
built once, and a Raspberry Pi builds nothing. Usage:
    .venv/bin/python bench/buildon.py [--rounds 3] [--seconds 2] [--slower 10]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from homelab import cli  # noqa: E402
from tests.deploy.buildlabs import change, make_build_lab  # noqa: E402
from tests.deploy.labs import make_lab  # noqa: E402
from tests.deploy.secretlabs import admin_identity  # noqa: E402
from tests.sshd.rig import Machine, Rig  # noqa: E402

TARGETS = ("pi1", "pi2", "pi3", "pi4", "pi5")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cli.main(list(argv))
    return code, out.getvalue()


def builds(machines: list[Machine]) -> int:
    """Builds the machines ran: nixos-rebuild calls that build, and nix build calls."""
    return sum(
        1
        for m in machines
        for line in m.lines("commands.log")
        if line.startswith(("nixos-rebuild switch", "nix build"))
    )


def measure(
    lab: Path, machines: list[Machine], rounds: int, label: str
) -> tuple[list[float], list[int]]:
    code, out = run("--lab", str(lab), "apply", "--yes")
    if code != 0:
        sys.exit(f"{label}: the first apply failed:\n{out}")
    times, counts = [], []
    for i in range(rounds):
        for host in TARGETS:
            change(lab, host, f"pkg{i}x{host}")
        before = builds(machines)
        t0 = time.perf_counter()
        code, out = run("--lab", str(lab), "apply", "--yes", *TARGETS)
        times.append(time.perf_counter() - t0)
        if code != 0:
            sys.exit(f"{label}: round {i + 1} failed:\n{out}")
        counts.append(builds(machines) - before)
        if counts[-1] == 0:
            sys.exit(f"{label}: round {i + 1} built nothing: the change did not reach the hosts")
    return times, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="each build's time")
    parser.add_argument(
        "--slower",
        type=float,
        default=1.0,
        help="the five targets build this many times slower than the builder (a Pi: 10)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-buildon-") as tmp:
        base = Path(tmp)
        identity, public = admin_identity(base / "admin")
        os.environ["HOMELAB_AGE_IDENTITY"] = str(identity)
        figures: dict[str, tuple[list[float], list[int]]] = {}
        for label in ("own", "builder"):
            rig = Rig(base / label / "rig")
            try:
                os.environ["HOME"] = str(rig.home)
                os.environ.pop("SSH_AUTH_SOCK", None)
                targets = [rig.add(name) for name in TARGETS]
                machines = list(targets)
                if label == "own":
                    lab = make_lab(base / label / "lab", targets)
                else:
                    nuc = rig.add("nuc")
                    machines.append(nuc)
                    (base / label / "admin.pub").write_text(public + "\n")
                    lab = make_build_lab(base / label / "lab", nuc, targets)
                for m in machines:
                    slow = args.slower if m in targets else 1.0
                    m.fault("rebuild-seconds", f"{args.seconds * slow:g}")
                figures[label] = measure(lab, machines, args.rounds, label)
            finally:
                rig.close()
    print(
        f"5-host apply, a build taking {args.seconds:g} s on the builder and "
        f"{args.seconds * args.slower:g} s on each target, {args.rounds} rounds (median)"
    )
    print(f"{'line':<34}{'builds per apply':>18}{'seconds':>10}")
    for label, text in (
        ("own", "each machine builds its own"),
        ("builder", "all built on one builder"),
    ):
        times, counts = figures[label]
        print(f"{text:<34}{statistics.median(counts):>18g}{statistics.median(times):>10.2f}")
    return 0


if __name__ == "__main__":
    # as from a user's install, whose modules are compiled once, not at every run
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    raise SystemExit(main())
