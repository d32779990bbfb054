"""Fan-out: homelab's apply to 20 and 50 machines, side by side with the floor.

Stands up machines of the SSH test rig (tests/sshd/: a real sshd each; the rebuild is the
rig's test double, told to take --seconds) and times, in interleaved rounds (every line
once per round, in turn, so the machine's noise hits them alike):

- the floor: one OpenSSH client per machine, all at once, each uploading the host's files
  (scp, the same set homelab's upload sends to a machine that has none) and running the
  same rebuild over the same connection (ControlMaster: one handshake, as homelab makes);
- OpenSSH, the handshake alone (`ssh HOST true` to every machine at once: the floor of an
  apply that finds nothing to do);
- Ansible: `ansible all -m raw` with one fork per machine running the same rebuild, when an
  `ansible` program is found (on PATH, next to this Python, or --ansible);
- homelab's fan-out: `apply()` on the plans, to machines that have none of the files
  (homelab's lines run with --jobs N: every machine at once, as the floor's clients);
- `homelab apply --yes`, everything changed: every host's hardware file edited and every
  machine without homelab's files, so it validates, builds, diffs, commits, uploads all,
  rebuilds everywhere and records;
- `homelab apply --yes` again right after, nothing changed: how long, how many rebuilds ran
  on the machines (the stand-in logs each call), how many hosts said "up to date".

Beside each time, the CPU the whole computer spent meanwhile (all processes, both sides):
the rig's machines share this computer's cores with the client, so work done on the
machines (a real lab's machines each do their own on their own CPU) is paid for here too.

homelab runs without PYTHONDONTWRITEBYTECODE, after one untimed warm-up apply per checkout
(its modules compiled, as a user's install has them). Ratios are to the floor of the same
round (median over rounds). With --against DIR (another
checkout, e.g. `git worktree add DIR COMMIT`), that homelab's apply --yes runs in the same
rounds on the same machines, and the two are compared round by round. Usage:
    .venv/bin/python bench/fanout.py [--hosts 20,50] [--rounds 5] [--seconds 1]
        [--kex homelab|openssh] [--against DIR] [--ansible PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from homelab.deploy.fanout import apply  # noqa: E402
from homelab.deploy.models import ApplyOptions  # noqa: E402
from homelab.deploy.plan import HostPlan, plan_hosts  # noqa: E402
from homelab.deploy.workflow import prepare  # noqa: E402
from homelab.history import commit_lab  # noqa: E402
from homelab.history.repo import open_repository  # noqa: E402
from homelab.lab import Lab  # noqa: E402
from tests.deploy.labs import make_lab  # noqa: E402
from tests.sshd.rig import Machine, Rig  # noqa: E402

REBUILD = "nixos-rebuild switch --flake {folder}#{attr}"
STATE = "var/lib/homelab"  # homelab's folder on a machine, under its root
FLOOR = "var/lib/floor"  # where the floor's clients upload, beside homelab's own
NOTHING_AIM = 0.5 * 3.5  # seconds at 20 hosts: half of what it took before the skip
TIMEOUT = 600.0


@dataclass(frozen=True)
class Line:
    key: str
    label: str


@dataclass
class Figures:
    """Seconds per line, one entry per round, and what the nothing-changed rounds did."""

    times: dict[str, list[float]] = field(default_factory=dict)
    rebuilds: dict[str, list[int]] = field(default_factory=dict)  # per whole-command line
    up_to_date: dict[str, list[int]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # the computer's, per line

    def add(self, key: str, seconds: float, cpu: float | None = None) -> None:
        self.times.setdefault(key, []).append(seconds)
        if cpu is not None:
            self.cpu.setdefault(key, []).append(cpu)


def computer_cpu() -> float | None:
    """Seconds of CPU this computer has spent since it started, every core and process
    (Linux's /proc/stat: all but idle and waiting on disk); None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall time and the computer's CPU time over one measured span."""

    def __init__(self) -> None:
        self.cpu0, self.wall0 = computer_cpu(), time.perf_counter()

    def stop(self) -> tuple[float, float | None]:
        wall, cpu = time.perf_counter() - self.wall0, computer_cpu()
        return wall, (None if cpu is None or self.cpu0 is None else cpu - self.cpu0)


class Stage:
    """One size: its machines, its lab, and the client side."""

    def __init__(self, base: Path, hosts: int, seconds: float, kex: str) -> None:
        self.base = base
        self.rig = Rig(base / "rig")
        self.machines = [self.rig.add(f"host{i:02d}") for i in range(1, hosts + 1)]
        for machine in self.machines:
            machine.fault("rebuild-seconds", str(seconds))
        self.lab = make_lab(base / "lab", self.machines)
        self.uploads = base / "uploads"  # the floor's local copy of each host's files
        self.control = base / "cm"  # OpenSSH control sockets (short: a socket path is short)
        self.control.mkdir()
        self.plans: list[HostPlan] = []
        self.kex = homelab_kex(self.machines[0]) if kex == "homelab" else ""
        self.cpu: float | None = None  # the computer's CPU over the last measured span

    def close(self) -> None:
        self.rig.close()

    # ---- homelab ---------------------------------------------------------------------

    def plan(self) -> None:
        """The plans of an apply of every host at HEAD (committed first, as apply does)."""
        lab = Lab(self.lab)
        ready = prepare(lab, [])
        commit_lab(lab, hosts=list(ready.chosen))
        head = open_repository(self.lab).head() or ""
        self.plans = list(plan_hosts(lab, ready.state, ready.chosen, head))

    def fan_out(self) -> float:
        # all at once, as the floor's clients (homelab's default is at most 32 at a time)
        options = ApplyOptions(ssh=self.rig.settings(), jobs=len(self.machines))  # type: ignore[arg-type]
        clock = Clock()
        results = apply(self.plans, options)
        took, self.cpu = clock.stop()
        failed = [r for r in results if not r.ok]
        if failed:
            raise SystemExit(f"homelab failed on {failed[0].host}: {failed[0].summary}")
        return took

    def command(self, checkout: Path) -> tuple[float, str]:
        """`homelab apply --yes` as a person runs it, with the homelab of `checkout`."""
        env = {**os.environ, "HOME": str(self.rig.home), "PYTHONPATH": str(checkout)}
        env.pop("SSH_AUTH_SOCK", None)
        argv = [sys.executable, "-m", "homelab", "--lab", str(self.lab), "apply", "--yes"]
        argv += ["--jobs", str(len(self.machines))]  # all at once, as the floor's clients
        clock = Clock()
        # from the checkout: python -m puts the working folder first on the import path
        done = subprocess.run(
            argv, env=env, cwd=checkout, capture_output=True, text=True, timeout=TIMEOUT
        )
        took, self.cpu = clock.stop()
        if done.returncode != 0:
            raise SystemExit(f"homelab apply failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
        return took, done.stdout

    def forget_uploads(self) -> None:
        """Every machine without homelab's files: the next apply sends them all."""
        for machine in self.machines:
            state = machine.root / STATE
            for name in ("config", "uploads"):
                path = state / name
                if path.is_symlink() or path.is_file():
                    path.unlink()
                else:
                    shutil.rmtree(path, ignore_errors=True)
            (state / "secrets.json").unlink(missing_ok=True)

    def edit_every_host(self, round_number: int) -> None:
        """A change in every host's hardware file (a comment the configuration keeps)."""
        for machine in self.machines:
            path = self.lab / "hosts" / machine.name / "hardware-configuration.nix"
            text = re.sub(r"\n# bench round \d+\n?$", "\n", path.read_text())
            path.write_text(text.rstrip("\n") + f"\n# bench round {round_number}\n")

    def rebuilds(self) -> int:
        """How many times the stand-in nixos-rebuild ran, on all machines together."""
        count = 0
        for machine in self.machines:
            log = machine.root / ".rig" / "commands.log"
            if log.exists():
                count += sum(
                    1 for ln in log.read_text().splitlines() if ln.startswith("nixos-rebuild ")
                )
        return count

    def said_up_to_date(self, output: str) -> int:
        lines = [ln for ln in output.splitlines() if "up to date" in ln]
        return sum(1 for m in self.machines if any(re.search(rf"\b{m.name}\b", ln) for ln in lines))

    # ---- OpenSSH -----------------------------------------------------------------------

    def ssh_options(self) -> list[str]:
        return [
            "-F", str(self.rig.ssh_config), "-i", str(self.rig.key),
            "-o", f"UserKnownHostsFile={self.rig.known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes",
            *(["-o", f"KexAlgorithms={self.kex}"] if self.kex else []),
        ]  # fmt: skip

    def shared(self) -> list[str]:
        """One connection per machine for scp and ssh (the floor makes one handshake)."""
        return [
            "-o", "ControlMaster=auto", "-o", f"ControlPath={self.control}/%C",
            "-o", "ControlPersist=120",
        ]  # fmt: skip

    def floor_folder(self, machine: Machine) -> Path:
        return machine.root / FLOOR

    def rebuild_line(self, machine: Machine, plan: HostPlan) -> str:
        folder = shlex.quote(str(self.floor_folder(machine)))
        return REBUILD.format(folder=folder, attr=plan.attr or plan.folder)

    def stage_floor(self) -> tuple[int, int]:
        """Each host's files in a local folder, nothing of them on its machine; (files,
        bytes) of one host."""
        shutil.rmtree(self.uploads, ignore_errors=True)
        for machine, plan in zip(self.machines, self.plans, strict=True):
            local = self.uploads / machine.name
            for rel, data in plan.files.items():
                (local / rel).parent.mkdir(parents=True, exist_ok=True)
                (local / rel).write_bytes(data)
            shutil.rmtree(self.floor_folder(machine), ignore_errors=True)
            self.floor_folder(machine).parent.mkdir(parents=True, exist_ok=True)
        first = self.plans[0]
        return len(first.files), sum(len(d) for d in first.files.values())

    def floor(self) -> float:
        """scp of the host's files, then its rebuild over the same connection; all at once."""
        ssh = [*self.ssh_options(), *self.shared()]
        scripts = []
        for machine, plan in zip(self.machines, self.plans, strict=True):
            local = str(self.uploads / machine.name)
            remote = f"{machine.name}:{self.floor_folder(machine)}"
            scp = shlex.join(["scp", "-q", "-r", *ssh, local, remote])
            run = shlex.join(["ssh", *ssh, machine.name, self.rebuild_line(machine, plan)])
            scripts.append(f"{scp} && exec {run}")
        try:
            return self.all_at_once([["sh", "-c", s] for s in scripts], "the floor")
        finally:
            self.close_connections()

    def close_connections(self) -> None:
        stops = [
            subprocess.Popen(
                ["ssh", *self.ssh_options(), *self.shared(), "-O", "exit", m.name],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for m in self.machines
        ]
        for stop in stops:
            stop.wait(timeout=30)

    def handshake(self) -> float:
        argv = [["ssh", *self.ssh_options(), m.name, "true"] for m in self.machines]
        return self.all_at_once(argv, "ssh true")

    def all_at_once(self, commands: Sequence[Sequence[str]], what: str) -> float:
        with contextlib.ExitStack() as stack:
            # stderr to files, not pipes: a control master left running keeps a pipe open
            logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in commands]
            clock = Clock()
            processes = [
                subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL)
                for c, log in zip(commands, logs, strict=True)
            ]
            codes = [p.wait(timeout=TIMEOUT) for p in processes]
            took, self.cpu = clock.stop()
            for code, log in zip(codes, logs, strict=True):
                if code:
                    log.seek(0)
                    text = log.read().decode(errors="replace")[-2000:]
                    raise SystemExit(f"{what} failed: {text}")
        return took

    # ---- Ansible -----------------------------------------------------------------------

    def ansible(self, program: str) -> float:
        inventory = self.base / "inventory.ini"
        user = getpass.getuser()
        lines = ["[all]"]
        for m in self.machines:
            lines.append(
                f"{m.name} ansible_host=127.0.0.1 ansible_port={m.port} ansible_user={user} "
                f"ansible_ssh_private_key_file={self.rig.key}"
            )
        lines += [
            "[all:vars]",
            f"ansible_ssh_common_args='-o UserKnownHostsFile={self.rig.known_hosts} "
            "-o StrictHostKeyChecking=yes"
            + (f" -o KexAlgorithms={self.kex}'" if self.kex else "'"),
        ]
        inventory.write_text("\n".join(lines) + "\n")
        forks = str(len(self.machines))
        env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_FORKS": forks}
        env.pop("SSH_AUTH_SOCK", None)
        # the same rebuild of the floor's upload: the machine's root is in its sessions' env
        folder = f'"$HOMELAB_MACHINE_ROOT/{FLOOR}"'
        rebuild = REBUILD.format(folder=folder, attr="{{ inventory_hostname }}")
        argv = [program, "all", "-i", str(inventory), "-f", forks, "-m", "raw", "-a", rebuild]
        clock = Clock()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        took, self.cpu = clock.stop()
        if done.returncode != 0:
            raise SystemExit(f"ansible failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return took


def homelab_kex(machine: Machine) -> str:
    """The key exchange homelab's SSH client (paramiko) agrees on with the rig's sshd: the
    first of its preferences the server offers. OpenSSH's own default may be a heavier
    one (sntrup761x25519): the floor makes the same handshake as homelab unless told."""
    import paramiko

    told = subprocess.run(
        [machine.sshd, "-T", "-f", str(machine.config)], capture_output=True, text=True, check=True
    )
    offered = next(
        (ln.split()[1].split(",") for ln in told.stdout.splitlines() if ln.startswith("kexalg")),
        [],
    )
    ours = subprocess.run(["ssh", "-Q", "kex"], capture_output=True, text=True).stdout.split()
    preferred = getattr(paramiko.Transport, "_preferred_kex", ())  # what it offers, in order
    return next((k for k in preferred if k in offered and k in ours), "")


def one_round(
    stage: Stage, number: int, figures: Figures, ansible: str | None, against: Path | None
) -> None:
    """Every line once, in the same order each round (the two checkouts take turns going
    first)."""
    stage.plan()
    stage.stage_floor()
    figures.add("handshake", stage.handshake(), stage.cpu)
    figures.add("floor", stage.floor(), stage.cpu)
    if ansible:
        figures.add("ansible", stage.ansible(ansible), stage.cpu)
    stage.forget_uploads()
    figures.add("fanout", stage.fan_out(), stage.cpu)
    checkouts = [(ROOT, "")] + ([(against, "@other")] if against else [])
    if number % 2 == 0:
        checkouts.reverse()
    for checkout, suffix in checkouts:
        whole_command(stage, number, figures, checkout, suffix)


def whole_command(stage: Stage, number: int, figures: Figures, checkout: Path, suffix: str) -> None:
    """apply --yes with everything changed, then again with nothing changed."""
    stage.edit_every_host(number * 2 + (suffix != ""))
    stage.forget_uploads()
    for key in ("first" + suffix, "same" + suffix):
        before = stage.rebuilds()
        took, said = stage.command(checkout)
        figures.add(key, took, stage.cpu)
        figures.rebuilds.setdefault(key, []).append(stage.rebuilds() - before)
        figures.up_to_date.setdefault(key, []).append(stage.said_up_to_date(said))


def ratio(figures: Figures, key: str, to: str = "floor") -> float:
    pairs = zip(figures.times[key], figures.times[to], strict=True)
    return statistics.median(a / b for a, b in pairs)


def report(
    stage: Stage, figures: Figures, seconds: float, ansible_note: str, against: Path | None
) -> None:
    hosts, rounds = len(stage.machines), len(figures.times["floor"])
    files, size = len(stage.plans[0].files), sum(len(d) for d in stage.plans[0].files.values())
    lines = [
        Line("floor", f"floor: {hosts} OpenSSH clients, scp {files} files ({size / 1024:.1f} KiB) "
                      "+ rebuild, one connection each"),
        Line("handshake", f"OpenSSH, the handshake alone ({hosts} x ssh HOST true)"),
        Line("ansible", f"ansible all -m raw, {hosts} forks, the rebuild alone"),
        Line("fanout", "homelab apply() fan-out, machines without the files"),
        Line("first", "homelab apply --yes, everything changed (whole command)"),
        Line("same", "homelab apply --yes, nothing changed (right after)"),
    ]  # fmt: skip
    if against:
        lines += [
            Line("first@other", f"  the same, everything changed, homelab of {against}"),
            Line("same@other", f"  the same, nothing changed, homelab of {against}"),
        ]
    print(f"\n{hosts} rig machines, rebuild {seconds:g} s each, {rounds} interleaved rounds")
    print(f"  OpenSSH's key exchange: {stage.kex or 'its own default'}")
    print(
        f"  {'min':>7} {'median':>7} {'x floor':>8} {'CPU':>7}  (ratio: median of per-round "
        "ratios; CPU: median seconds the whole computer spent, both sides)"
    )
    for line in lines:
        values = figures.times.get(line.key)
        if not values:
            print(f"  {'-':>7} {'-':>7} {'-':>8} {'-':>7}  {line.label}: {ansible_note}")
            continue
        cpu = figures.cpu.get(line.key)
        used = f"{statistics.median(cpu):6.2f}s" if cpu else f"{'-':>7}"
        print(
            f"  {min(values):6.2f}s {statistics.median(values):6.2f}s "
            f"{ratio(figures, line.key):7.2f}x {used}  {line.label}"
        )
    cores = os.cpu_count() or 1
    if figures.cpu.get("first") and figures.cpu.get("floor"):
        # the least time the CPU work alone needs, with every core busy all along
        least = statistics.median(figures.cpu["first"]) / cores
        print(
            f"  everything changed, its CPU spread over {cores} cores: at least {least:.2f} s, "
            f"{least / statistics.median(figures.times['floor']):.2f}x the floor's time"
        )
    for suffix in ("", "@other") if against else ("",):
        first, same = figures.rebuilds["first" + suffix], figures.rebuilds["same" + suffix]
        print(
            f"  rebuilds on the machines per round{' (' + str(against) + ')' if suffix else ''}: "
            f"everything changed {_counts(first)}, nothing changed {_counts(same)}; "
            f"hosts that said up to date: {_counts(figures.up_to_date['same' + suffix])}"
        )
    if against:
        for key, what in (("first", "everything changed"), ("same", "nothing changed")):
            print(
                f"  this checkout / {against.name}, {what}: "
                f"{ratio(figures, key, key + '@other'):.2f}x (median of per-round ratios)"
            )
    aims(hosts, figures)


def _counts(values: list[int]) -> str:
    return "/".join(str(v) for v in values)


def aims(hosts: int, figures: Figures) -> None:
    first = ratio(figures, "first")
    print("  aims:")
    print(f"    everything changed <= 1.00x the floor: {first:.2f}x  {_met(first <= 1.0)}")
    same = statistics.median(figures.times["same"])
    no_rebuild = not any(figures.rebuilds["same"])
    runs = f"{sum(figures.rebuilds['same'])} rebuild(s) ran"
    if hosts == 20:
        fits = same <= NOTHING_AIM
        print(
            f"    nothing changed: no rebuild, <= {NOTHING_AIM:.2f} s (0.5 x 3.5 s): {same:.2f} s, "
            f"{runs}  {_met(fits and no_rebuild)}"
        )
    else:
        print(f"    nothing changed: no rebuild ({runs})  {_met(no_rebuild)}")
    print(
        "    nothing changed vs one handshake per machine: "
        f"{ratio(figures, 'same', 'handshake'):.2f}x"
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def find_ansible(given: str | None) -> tuple[str | None, str]:
    """The ansible program, or None and why."""
    if given:
        return given, ""
    here = Path(sys.executable).parent / "ansible"
    found = str(here) if here.exists() else shutil.which("ansible")
    if found:
        return found, ""
    return None, "skipped: no ansible program on PATH or next to this Python (--ansible PATH)"


def run_size(
    hosts: int, rounds: int, args: argparse.Namespace, ansible: str | None, note: str
) -> None:
    base = Path(tempfile.mkdtemp(prefix="hl-fan-"))
    started = time.perf_counter()
    stage = Stage(base, hosts, args.seconds, args.kex)
    try:
        figures = Figures()
        for checkout in [ROOT, *([args.against] if args.against else [])]:
            stage.command(checkout)  # warm-up, untimed: its modules compiled
        for number in range(1, rounds + 1):
            one_round(stage, number, figures, ansible, args.against)
        report(stage, figures, args.seconds, note, args.against)
        print(f"  ({time.perf_counter() - started:.0f} s for this size, machines set up included)")
    finally:
        stage.close()
        shutil.rmtree(base, ignore_errors=True)


def checkout() -> str:
    """Which homelab is measured: its commit, and whether homelab/ has changes on top."""

    def git(*words: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *words], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return f"{ROOT} (not a git checkout)"
    edits = git("status", "--porcelain", "--", "homelab")
    return f"commit {head}" + (" with uncommitted changes in homelab/" if edits else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hosts", default="20,50", help="machine counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="how long a rebuild takes")
    parser.add_argument(
        "--kex",
        choices=("homelab", "openssh"),
        default="homelab",
        help="OpenSSH's key exchange: the one homelab agrees on (default), or OpenSSH's own",
    )
    parser.add_argument(
        "--against",
        type=lambda text: Path(text).resolve(),
        help="another checkout of homelab: its apply --yes runs too, in the same rounds",
    )
    parser.add_argument("--ansible", help="an ansible program (default: on PATH or in this venv)")
    args = parser.parse_args(argv)
    program, note = find_ansible(args.ansible)
    print(f"{os.cpu_count()} CPU(s); homelab at {checkout()}")
    if not program:
        print(f"ansible: {note}")
    for hosts in (int(h) for h in args.hosts.split(",")):
        run_size(hosts, args.rounds, args, program, note)
    return 0


if __name__ == "__main__":
    # as from a user's install, whose modules are compiled once, not at every run
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    raise SystemExit(main())
