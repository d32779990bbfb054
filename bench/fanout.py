"""Fan-out: how long homelab takes to apply to 20 machines, against the floor.

Stands up 20 simulated machines of the SSH test rig (tests/sshd/: a real sshd each; the
rebuild is the rig's test double, told to take 1 s) and prints, for the same rebuild on
all 20:

- homelab: `apply()` to 20 hosts (connect, lock, upload, detached rebuild, follow), and
  the whole `homelab apply --yes` command (with validating, building and diffing first);
- the floor: 20 plain OpenSSH `ssh` clients started at once, each running the rebuild;
- Ansible: `ansible all -m raw` with 20 forks running the same command, when an `ansible`
  program is next to this Python (its own venv) or given with --ansible.

Each figure is the median of --rounds runs. Usage:
    .venv/bin/python bench/fanout.py [--hosts 20] [--rounds 3] [--ansible PATH]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from homelab.deploy.fanout import apply  # noqa: E402
from homelab.deploy.models import ApplyOptions  # noqa: E402
from homelab.deploy.plan import plan_hosts  # noqa: E402
from homelab.deploy.workflow import prepare  # noqa: E402
from homelab.history import commit_lab  # noqa: E402
from homelab.history.repo import open_repository  # noqa: E402
from homelab.lab import Lab  # noqa: E402
from tests.deploy.labs import make_lab  # noqa: E402
from tests.sshd.rig import Rig  # noqa: E402

REBUILD = 'nixos-rebuild switch --flake "$HOMELAB_MACHINE_ROOT/var/lib/homelab/config#{host}"'


def homelab_api(lab_root: Path, rig: Rig) -> float:
    lab = Lab(lab_root)
    ready = prepare(lab, [])
    commit_lab(lab, hosts=list(ready.chosen))  # homelab sends what a commit holds
    head = open_repository(lab_root).head() or ""
    plans = plan_hosts(lab, ready.state, ready.chosen, head)
    options = ApplyOptions(ssh=rig.settings())  # type: ignore[arg-type]
    start = time.perf_counter()
    results = apply(plans, options)
    took = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"homelab failed on {failed[0].host}: {failed[0].summary}")
    return took


def homelab_cli(lab_root: Path, rig: Rig) -> float:
    env = {**os.environ, "HOME": str(rig.home)}
    env.pop("SSH_AUTH_SOCK", None)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "homelab", "--lab", str(lab_root), "apply", "--yes"],
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"homelab apply failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def plain_ssh(rig: Rig) -> float:
    base = [
        "ssh", "-F", str(rig.ssh_config), "-i", str(rig.key),
        "-o", f"UserKnownHostsFile={rig.known_hosts}", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes",
    ]  # fmt: skip
    start = time.perf_counter()
    processes = [
        subprocess.Popen(
            [*base, m.name, REBUILD.format(host=m.name)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for m in rig.machines
    ]
    codes = [p.wait() for p in processes]
    took = time.perf_counter() - start
    if any(codes):
        bad = next(p for p, c in zip(processes, codes, strict=True) if c)
        raise SystemExit(f"ssh failed: {bad.stderr.read().decode() if bad.stderr else ''}")
    return took


def ansible(program: str, rig: Rig, folder: Path) -> float:
    inventory = folder / "inventory.ini"
    lines = ["[all]"]
    for m in rig.machines:
        lines.append(
            f"{m.name} ansible_host=127.0.0.1 ansible_port={m.port} ansible_user=root "
            f"ansible_ssh_private_key_file={rig.key}"
        )
    lines += [
        "[all:vars]",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={rig.known_hosts} "
        "-o StrictHostKeyChecking=yes'",
    ]
    inventory.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_FORKS": "20"}
    env.pop("SSH_AUTH_SOCK", None)
    command = REBUILD.format(host="{{ inventory_hostname }}")
    start = time.perf_counter()
    done = subprocess.run(
        [program, "all", "-i", str(inventory), "-f", "20", "-m", "raw", "-a", command],
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ansible failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0, help="how long a rebuild takes")
    parser.add_argument("--ansible", help="an ansible program (default: next to this Python)")
    args = parser.parse_args()
    here = Path(sys.executable).parent / "ansible"
    program = args.ansible or (str(here) if here.exists() else None)

    base = Path(tempfile.mkdtemp(prefix="homelab-fanout-"))
    rig = Rig(base / "rig")
    try:
        machines = [rig.add(f"host{i:02d}") for i in range(1, args.hosts + 1)]
        for m in machines:
            m.fault("rebuild-seconds", str(args.seconds))
        lab = make_lab(base / "lab", machines)
        figures: dict[str, list[float]] = {"api": [], "cli": [], "ssh": [], "ansible": []}
        for _ in range(args.rounds):
            figures["api"].append(homelab_api(lab, rig))
            figures["cli"].append(homelab_cli(lab, rig))
            figures["ssh"].append(plain_ssh(rig))
            if program:
                figures["ansible"].append(ansible(program, rig, base))
        print(f"{args.hosts} simulated machines, rebuild {args.seconds:g} s each, "
              f"median of {args.rounds} round(s), {os.cpu_count()} CPU(s)")  # fmt: skip
        show = {
            "api": "homelab apply() (connect, lock, upload, rebuild, follow)",
            "cli": "homelab apply --yes (whole command: validate, build, diff, apply)",
            "ssh": f"{args.hosts} parallel OpenSSH ssh clients (the floor)",
            "ansible": f"ansible all -m raw, {args.hosts} forks",
        }
        for key, label in show.items():
            if figures[key]:
                value = statistics.median(figures[key])
                print(f"  {value:6.2f} s  {label}")
            else:
                print(f"     n/a   {label}: no ansible program in this venv (--ansible PATH)")
    finally:
        rig.close()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
