"""The remote steps of an apply, as pure functions from a host's plan, the apply's options
and what the probe found (a Machine) to command data (homelab.deploy.command).

Nothing here touches a machine: homelab.deploy.host runs what these return, and
tests/deploy/test_steps.py holds, for each one, the plan and options given and exactly the
commands that come out. Machine paths are the machine's own, under its root ("" on a real
machine; the test rig's simulated "/" otherwise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from homelab.deploy import scripts
from homelab.deploy.command import Arg, Built, Masked, Remote, Step, Sudo, say
from homelab.deploy.models import ApplyOptions, Generation, Method, Mode
from homelab.deploy.plan import HostPlan
from homelab.deploy.upload import SecretFile, Upload


@dataclass(frozen=True)
class Machine:
    """What the commands need to know of a machine once it is probed."""

    root: str = ""  # "" on a real machine
    systemd: bool = False
    sudo: Sudo = Sudo.NONE
    password: Masked | None = None  # given to sudo -S on its input

    @property
    def state(self) -> str:
        """homelab's folder on the machine."""
        return self.root + scripts.STATE

    def run_dir(self, run_id: str) -> str:
        return f"{self.state}/runs/{run_id}"

    def as_root(self, script: str, *args: str) -> Remote:
        """A command that needs root: through sudo when the login user is not root."""
        stdin = self.password if self.sudo == Sudo.PASSWORD else None
        return Remote(script, args, self.sudo, stdin)


def _flag(value: bool) -> str:
    return "1" if value else "0"


# ---- SSH commands -------------------------------------------------------------------------


def heartbeat(options: ApplyOptions) -> str:
    """Seconds between the signs of life on the lock's channel, whole."""
    return str(max(1, round(options.heartbeat)))


def probe(owner: str, options: ApplyOptions, *, check_sudo: bool, staging: str) -> Remote:
    """Take the host's lock (waiting `lock_wait`), say what the machine is and runs, and
    make a staging folder for the run `staging` ("" for none)."""
    return Remote(
        scripts.PROBE,
        (owner, f"{options.lock_wait:g}", _flag(check_sudo), staging, heartbeat(options)),
    )


def relock(owner: str, options: ApplyOptions) -> Remote:
    """After a reconnect: the host's lock again (the old connection took it away)."""
    return Remote(scripts.PROBE, (owner, "10", "0", "", heartbeat(options)))


def make_state(machine: Machine, user: str) -> Remote:
    """homelab's folder on the machine, owned by the login user."""
    return machine.as_root(scripts.MAKE_STATE, machine.root, user)


ED25519_HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"


def host_key() -> Remote:
    """The machine's ed25519 host public key, under its root (the rig's simulated "/")."""
    return Remote(scripts.HOST_KEY, (ED25519_HOST_KEY,))


def sudo_works(password: Masked) -> Remote:
    """Does sudo take this password?"""
    return Remote("true", (), Sudo.PASSWORD, password)


def clean_staging(machine: Machine, staging: str) -> Remote:
    return Remote(scripts.CLEAN_STAGING, (machine.root, staging))


def start(machine: Machine, run_id: str, *, install: bool) -> Remote:
    """Start the run's job detached (putting the upload in place first), then follow it."""
    args = (
        machine.root,
        run_id,
        _flag(machine.systemd),
        machine.sudo,
        "install" if install else "",
        scripts.FOLLOW,
    )
    stdin = machine.password if machine.sudo == Sudo.PASSWORD else None
    return Remote(scripts.START, args, stdin=stdin)


def follow(machine: Machine, run_id: str, offset: int) -> Remote:
    """The run's log from `offset` on, to its end; then how it ended."""
    args = (machine.run_dir(run_id), str(offset), machine.root, _flag(machine.systemd))
    return Remote(scripts.FOLLOW, args)


def stop(machine: Machine, run_id: str) -> Remote:
    return machine.as_root(scripts.STOP, machine.root, run_id, _flag(machine.systemd))


def disarm(machine: Machine, run_id: str) -> Remote:
    """Disarm the run's confirm timer (exit 3: it fired already)."""
    return machine.as_root(scripts.DISARM, machine.root, run_id)


def state_now(machine: Machine, run_id: str) -> Remote:
    return Remote(scripts.STATE_NOW, (machine.root, run_id))


def run_state(run_id: str = "") -> Remote:
    """What the machine runs, and how the run `run_id` ended (an interrupted apply left it)."""
    return Remote(scripts.RUN_STATE, (run_id,))


def unit_run(unit: str) -> Remote:
    """How a unit's last run ended (`homelab status --live`: the lab's backup job)."""
    return Remote(scripts.UNIT_RUN, (unit,))


# ---- the detached job -------------------------------------------------------------------


@dataclass(frozen=True)
class Timer:
    """The confirm timer: unless homelab disarms it within `seconds` of activation, it
    runs `steps` (back to where the machine was)."""

    seconds: float
    steps: tuple[Step, ...]
    unit: str  # its systemd unit ("" without systemd)


@dataclass(frozen=True)
class Job:
    """One detached run on the machine."""

    steps: tuple[Step, ...]
    timer: Timer | None = None


def rebuild(plan: HostPlan, mode: Mode, machine: Machine) -> Step:
    argv: list[Arg] = ["nixos-rebuild", mode]
    if plan.method == Method.FLAKE:
        argv += ["--flake", f"{machine.state}/config#{plan.attr}"]
    return Step(tuple(argv))


def activate_arrived(system: str, mode: Mode, machine: Machine) -> list[Step]:
    """A system another machine built and copied here (deploy.buildOn), activated as
    nixos-rebuild would have: the system profile set first for a switch or a boot."""
    steps = [Step(("take_arrived", system))]
    if mode == Mode.BUILD:
        return steps
    if mode in (Mode.SWITCH, Mode.BOOT):
        profile = machine.root + scripts.SYSTEM_PROFILE
        steps.append(Step(("nix-env", "-p", profile, "--set", Built())))
    return [*steps, Step((Built("/bin/switch-to-configuration"), mode))]


def apply_job(
    plan: HostPlan,
    options: ApplyOptions,
    machine: Machine,
    before: Generation,
    upload: Upload | None,
    run_id: str,
    arrived: str = "",
) -> Job:
    """Install the secrets, put the configuration where the method wants it, rebuild in
    the options' mode (with the confirm timer when asked), give the secrets their owners,
    and keep the secrets' digests. With `arrived` (a system path another machine built and
    copied here), nothing is built: that system is activated."""
    mode = options.mode
    steps: list[Step] = []
    secrets = upload.secrets if upload is not None else ()
    if secrets:
        steps += [say("phase", "building"), say("note", "installing secrets")]
        for number, secret in secrets:
            uploaded = f"{machine.state}/secrets.partial/{number}"
            target = machine.root + secret.target
            steps.append(Step(("install_secret", uploaded, target, secret.mode, secret.name)))
            steps.append(own(secret, machine))
        steps.append(Step(("rm", "-rf", f"{machine.state}/secrets.partial"), check=False))
    if plan.method == Method.CHANNELS:
        steps += [
            say("note", "putting the configuration in /etc/nixos"),
            Step(("put_in_etc_nixos", f"{machine.state}/config", f"{machine.root}/etc/nixos")),
        ]
    steps.append(say("phase", "building"))
    timer = None
    if options.confirm and mode.activates:
        timer = Timer(
            options.confirm,
            restore(before, mode, machine),
            f"homelab-{run_id}-confirm" if machine.systemd else "",
        )
        steps += _confirmed_activation(plan, mode, machine, run_id, timer, arrived)
    elif mode == Mode.BUILD:
        steps += [
            *(
                activate_arrived(arrived, mode, machine)
                if arrived
                else [rebuild(plan, Mode.BUILD, machine), Step(("take_built",), check=False)]
            ),
            say("phase", "diff"),
            Step(("closure_diff", f"{machine.root}/run/current-system", Built()), check=False),
        ]
    elif arrived:
        steps += activate_arrived(arrived, mode, machine)
    else:
        steps.append(rebuild(plan, mode, machine))
    if mode.changes_system:
        steps += [own(s, machine, after=mode) for _, s in secrets if s.owner != "root" or s.group]
    if upload is not None:
        digests = json.dumps(dict(upload.secret_digests), sort_keys=True)
        steps.append(
            Step(("keep_secret_digests", f"{machine.state}/secrets.json", digests), check=False)
        )
    return Job(tuple(steps), timer)


def own(secret: SecretFile, machine: Machine, after: Mode | None = None) -> Step:
    """Give a secret its owner: before the switch quietly (the new configuration may make
    that user), after it for good: a user that still does not exist fails the host (the
    service could not read its secret). A boot waits for the next boot."""
    owner = secret.owner + (f":{secret.group}" if secret.group else "")
    who = secret.owner + (f" (group {secret.group})" if secret.group else "")
    target = machine.root + secret.target
    if after is None:
        return Step(("chown_secret", target, owner, "quiet", ""))
    if after == Mode.BOOT:
        note = f"secret {secret.name}: owner {who} does not exist yet (until the boot)"
        return Step(("chown_secret", target, owner, "note", note))
    problem = f"secret {secret.name}: its owner {who} does not exist on the machine"
    return Step(("chown_secret", target, owner, "problem", problem))


def _confirmed_activation(
    plan: HostPlan, mode: Mode, machine: Machine, run_id: str, timer: Timer, arrived: str = ""
) -> list[Step]:
    """Build (or take what arrived), arm the timer, activate: the machine rolls itself
    back unless homelab reaches it again (a fresh connection) and disarms the timer in time."""
    run = machine.run_dir(run_id)
    steps = (
        [Step(("take_arrived", arrived))]
        if arrived
        else [rebuild(plan, Mode.BUILD, machine), Step(("take_built",), check=False)]
    )
    if mode == Mode.SWITCH:
        profile = machine.root + scripts.SYSTEM_PROFILE
        steps.append(Step(("nix-env", "-p", profile, "--set", Built())))
    return [
        *steps,
        Step(("touch", f"{run}/confirm-armed"), check=False),
        Step(("start_timer", f"{run}/confirm.sh", timer.unit), check=False),
        say("armed", f"{timer.seconds:g}"),
        say("phase", "activating"),
        Step((Built("/bin/switch-to-configuration"), mode)),
    ]


def restore(before: Generation, mode: Mode, machine: Machine) -> tuple[Step, ...]:
    """Put the machine back on `before` (its generation, and the system it ran)."""
    profile = machine.root + scripts.SYSTEM_PROFILE
    steps: list[Step] = []
    if before.number is not None and mode in (Mode.SWITCH, Mode.BOOT):
        steps.append(Step(("nix-env", "-p", profile, "--switch-generation", str(before.number))))
    if not before.system:
        return tuple(steps)
    if mode == Mode.BOOT:
        steps.append(Step((f"{profile}/bin/switch-to-configuration", "boot")))
    else:
        action = "test" if mode == Mode.TEST else "switch"
        steps.append(Step((f"{before.system}/bin/switch-to-configuration", action)))
    return tuple(steps)


def restore_job(before: Generation, mode: Mode, machine: Machine) -> Job:
    """A failed apply undone: the machine back on `before`."""
    return Job((say("phase", "rolling back"), *restore(before, mode, machine)))


def rollback_job() -> Job:
    """`homelab rollback`: the machine back to its previous generation."""
    return Job((say("phase", "rolling back"), Step(("nixos-rebuild", "switch", "--rollback"))))


def job_files(job: Job, machine: Machine, run_id: str) -> dict[str, str]:
    """The job's files in its run folder (the SSH boundary: every value quoted here)."""
    run = machine.run_dir(run_id)
    lines = [step.line() for step in job.steps]
    files = {f"{run}/job.sh": scripts.job_script(run=run, root=machine.root, lines=lines)}
    if job.timer is not None:
        back = [step.line() for step in job.timer.steps]
        files[f"{run}/confirm.sh"] = scripts.timer_script(
            run=run, seconds=job.timer.seconds, lines=back
        )
    return files
