"""The remote steps as data: given a plan, options and what the probe found, exactly these
commands, with every value an argument of its own. No machine needed."""

from __future__ import annotations

import pytest

from homelab.deploy import scripts, steps
from homelab.deploy.command import Built, Masked, Remote, Step, Sudo
from homelab.deploy.models import ApplyOptions, Generation, Method, Mode
from homelab.deploy.plan import HostPlan
from homelab.deploy.ssh import Endpoint, SshSettings
from homelab.deploy.steps import Job, Machine, Timer
from homelab.deploy.upload import SecretFile, Upload

ROOT = "/rig/m1"  # a simulated machine's "/" (on a real machine: "")
STATE = "/rig/m1/var/lib/homelab"
PROFILE = "/rig/m1/nix/var/nix/profiles/system"
RUN = "20250301-100000-abcdef"

MACHINE = Machine(root=ROOT, systemd=True)
BEFORE = Generation(4, "/rig/m1/nix/store/aaa-nixos-system")


def plan(method: Method = Method.FLAKE, attr: str = "web") -> HostPlan:
    return HostPlan("web", "web", Endpoint("web"), {}, method=method, attr=attr)


def options(**given: object) -> ApplyOptions:
    return ApplyOptions(ssh=SshSettings(), **given)  # type: ignore[arg-type]


def upload(*secrets: SecretFile, digests: dict[str, str] | None = None) -> Upload:
    numbered = tuple(enumerate(secrets))
    return Upload(f"{STATE}/uploads/{RUN}.partial", (), (), numbered, digests or {}, 0)


SAY_BUILDING = Step(("say", "phase", "building"), check=False)
NO_DIGESTS = Step(("keep_secret_digests", f"{STATE}/secrets.json", "{}"), check=False)


# ---- SSH commands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (
            steps.probe("homelab apply by me", options(), check_sudo=True, staging=RUN),
            Remote(scripts.PROBE, ("homelab apply by me", "0", "1", RUN, "10")),
        ),
        (
            steps.probe("me", options(lock_wait=2.5, heartbeat=0.2), check_sudo=False, staging=""),
            Remote(scripts.PROBE, ("me", "2.5", "0", "", "1")),
        ),
        (
            steps.relock("me", options(heartbeat=4.6)),
            Remote(scripts.PROBE, ("me", "10", "0", "", "5")),
        ),
        (
            steps.host_key(),  # under the machine's root, which the script itself reads
            Remote(scripts.HOST_KEY, ("/etc/ssh/ssh_host_ed25519_key.pub",)),
        ),
        (
            steps.clean_staging(MACHINE, f"{STATE}/uploads/{RUN}.partial"),
            Remote(scripts.CLEAN_STAGING, (ROOT, f"{STATE}/uploads/{RUN}.partial")),
        ),
        (
            steps.start(MACHINE, RUN, install=True),
            Remote(scripts.START, (ROOT, RUN, "1", "", "install", scripts.FOLLOW)),
        ),
        (
            steps.start(Machine(ROOT, systemd=False, sudo=Sudo.NO_PASSWORD), RUN, install=False),
            Remote(scripts.START, (ROOT, RUN, "0", "-n", "", scripts.FOLLOW)),
        ),
        (
            steps.follow(MACHINE, RUN, 1234),
            Remote(scripts.FOLLOW, (f"{STATE}/runs/{RUN}", "1234", ROOT, "1")),
        ),
        (steps.stop(MACHINE, RUN), Remote(scripts.STOP, (ROOT, RUN, "1"))),
        (
            steps.stop(Machine(ROOT, sudo=Sudo.NO_PASSWORD), RUN),
            Remote(scripts.STOP, (ROOT, RUN, "0"), Sudo.NO_PASSWORD),
        ),
        (steps.disarm(MACHINE, RUN), Remote(scripts.DISARM, (ROOT, RUN))),
        (steps.state_now(MACHINE, RUN), Remote(scripts.STATE_NOW, (ROOT, RUN))),
        (steps.run_state(), Remote(scripts.RUN_STATE, ("",))),
        (steps.run_state(RUN), Remote(scripts.RUN_STATE, (RUN,))),
        (  # no root: a unit's properties are anyone's to read
            steps.unit_run("restic-backups-lab.service"),
            Remote(scripts.UNIT_RUN, ("restic-backups-lab.service",)),
        ),
        (
            steps.make_state(Machine(ROOT, sudo=Sudo.NO_PASSWORD), "alice"),
            Remote(scripts.MAKE_STATE, (ROOT, "alice"), Sudo.NO_PASSWORD),
        ),
    ],
    ids=[
        "probe",
        "probe-waiting",
        "relock",
        "host-key",
        "clean-staging",
        "start-install",
        "start-sudo",
        "follow",
        "stop",
        "stop-sudo",
        "disarm",
        "state-now",
        "run-state",
        "run-state-of-a-run",
        "unit-run",
        "make-state",
    ],
)
def test_each_ssh_command_is_a_script_with_its_values_as_arguments(
    made: Remote, expected: Remote
) -> None:
    assert made == expected


def test_the_sudo_password_goes_on_the_input_of_what_needs_root_and_is_never_shown() -> None:
    secret = Masked("hunter2 'x' $(y)")
    machine = Machine(ROOT, systemd=True, sudo=Sudo.PASSWORD, password=secret)
    for command in (
        steps.stop(machine, RUN),
        steps.disarm(machine, RUN),
        steps.make_state(machine, "alice"),
        steps.start(machine, RUN, install=True),
        steps.sudo_works(secret),
    ):
        assert command.stdin == secret
        assert command.input() == b"hunter2 'x' $(y)\n"
        assert "hunter2" not in command.line()
        assert "hunter2" not in repr(command) and "hunter2" not in str(command)
    assert steps.stop(machine, RUN).line().startswith("sudo -S sh -c ")
    # what runs without root gets nothing on its input
    for command in (steps.follow(machine, RUN, 0), steps.clean_staging(machine, "/x")):
        assert command.stdin is None and command.input() == b""
    assert str(secret) == "***"


# ---- the detached job -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "method", "rebuild"),
    [
        (Mode.SWITCH, Method.FLAKE, ("nixos-rebuild", "switch", "--flake", f"{STATE}/config#web")),
        (Mode.BOOT, Method.FLAKE, ("nixos-rebuild", "boot", "--flake", f"{STATE}/config#web")),
        (Mode.TEST, Method.CHANNELS, ("nixos-rebuild", "test")),
        (
            Mode.DRY_ACTIVATE,
            Method.FLAKE,
            ("nixos-rebuild", "dry-activate", "--flake", f"{STATE}/config#web"),
        ),
    ],
)
def test_a_rebuild_is_nixos_rebuild_with_the_mode_and_the_flake_in_place(
    mode: Mode, method: Method, rebuild: tuple[str, ...]
) -> None:
    job = steps.apply_job(plan(method), options(mode=mode), MACHINE, BEFORE, upload(), RUN)
    etc = (
        [
            Step(("say", "note", "putting the configuration in /etc/nixos"), check=False),
            Step(("put_in_etc_nixos", f"{STATE}/config", f"{ROOT}/etc/nixos")),
        ]
        if method == Method.CHANNELS
        else []
    )
    assert job == Job((*etc, SAY_BUILDING, Step(rebuild), NO_DIGESTS))


def test_build_mode_builds_and_shows_the_closure_diff() -> None:
    job = steps.apply_job(plan(), options(mode="build"), MACHINE, BEFORE, None, RUN)
    assert job == Job(
        (
            SAY_BUILDING,
            Step(("nixos-rebuild", "build", "--flake", f"{STATE}/config#web")),
            Step(("take_built",), check=False),
            Step(("say", "phase", "diff"), check=False),
            Step(("closure_diff", f"{ROOT}/run/current-system", Built()), check=False),
        )
    )


def test_secrets_are_installed_before_the_rebuild_and_owned_after_it() -> None:
    root_owned = SecretFile("token", "/run/keys/token", b"t")
    grafana = SecretFile("db", "/run/keys/db", b"d", "0640", "grafana", "web")
    sent = upload(root_owned, grafana, digests={"/run/keys/token": "1", "/run/keys/db": "2"})
    job = steps.apply_job(plan(), options(), MACHINE, BEFORE, sent, RUN)
    token, db = f"{ROOT}/run/keys/token", f"{ROOT}/run/keys/db"
    owner, who, missing = "grafana:web", "grafana (group web)", "does not exist on the machine"
    digests = '{"/run/keys/db": "2", "/run/keys/token": "1"}'
    assert job.steps == (
        SAY_BUILDING,
        Step(("say", "note", "installing secrets"), check=False),
        Step(("install_secret", f"{STATE}/secrets.partial/0", token, "0600", "token")),
        Step(("chown_secret", token, "root", "quiet", "")),
        Step(("install_secret", f"{STATE}/secrets.partial/1", db, "0640", "db")),
        Step(("chown_secret", db, owner, "quiet", "")),
        Step(("rm", "-rf", f"{STATE}/secrets.partial"), check=False),
        SAY_BUILDING,
        Step(("nixos-rebuild", "switch", "--flake", f"{STATE}/config#web")),
        Step(("chown_secret", db, owner, "problem", f"secret db: its owner {who} {missing}")),
        Step(("keep_secret_digests", f"{STATE}/secrets.json", digests), check=False),
    )


@pytest.mark.parametrize(
    ("mode", "after"),
    [
        (Mode.BOOT, ("note", "secret db: owner grafana does not exist yet (until the boot)")),
        (Mode.TEST, ("problem", "secret db: its owner grafana does not exist on the machine")),
        (Mode.DRY_ACTIVATE, None),
        (Mode.BUILD, None),
    ],
)
def test_a_secrets_owner_is_given_for_good_only_when_the_machine_switches(
    mode: Mode, after: tuple[str, str] | None
) -> None:
    secret = SecretFile("db", "/run/keys/db", b"d", "0600", "grafana")
    job = steps.apply_job(plan(), options(mode=mode), MACHINE, BEFORE, upload(secret), RUN)
    owning = [s.argv[3:] for s in job.steps if s.argv[0] == "chown_secret"]
    assert owning == [("quiet", ""), *([after] if after else [])]


def test_confirm_builds_arms_the_timer_then_activates_what_it_built() -> None:
    job = steps.apply_job(plan(), options(confirm=45.0), MACHINE, BEFORE, None, RUN)
    run = f"{STATE}/runs/{RUN}"
    assert job.steps == (
        SAY_BUILDING,
        Step(("nixos-rebuild", "build", "--flake", f"{STATE}/config#web")),
        Step(("take_built",), check=False),
        Step(("nix-env", "-p", PROFILE, "--set", Built())),
        Step(("touch", f"{run}/confirm-armed"), check=False),
        Step(("start_timer", f"{run}/confirm.sh", f"homelab-{RUN}-confirm"), check=False),
        Step(("say", "armed", "45"), check=False),
        Step(("say", "phase", "activating"), check=False),
        Step((Built("/bin/switch-to-configuration"), "switch")),
    )
    assert job.timer == Timer(
        45.0,
        (
            Step(("nix-env", "-p", PROFILE, "--switch-generation", "4")),
            Step((f"{BEFORE.system}/bin/switch-to-configuration", "switch")),
        ),
        f"homelab-{RUN}-confirm",
    )


def test_confirm_in_test_mode_sets_no_profile_and_a_timer_without_systemd_is_no_unit() -> None:
    machine = Machine(ROOT, systemd=False)
    job = steps.apply_job(plan(), options(mode="test", confirm=5.0), machine, BEFORE, None, RUN)
    assert not [s for s in job.steps if s.argv[0] == "nix-env"]
    assert job.steps[-1].argv == (Built("/bin/switch-to-configuration"), "test")
    assert job.timer is not None and job.timer.unit == ""
    assert job.timer.steps == (Step((f"{BEFORE.system}/bin/switch-to-configuration", "test")),)


@pytest.mark.parametrize("mode", [Mode.BOOT, Mode.BUILD, Mode.DRY_ACTIVATE])
def test_confirm_means_nothing_when_the_machine_does_not_activate(mode: Mode) -> None:
    job = steps.apply_job(plan(), options(mode=mode, confirm=5.0), MACHINE, BEFORE, None, RUN)
    assert job.timer is None
    assert Step(("take_built",), check=False) not in job.steps or mode == Mode.BUILD


@pytest.mark.parametrize(
    ("before", "mode", "back"),
    [
        (
            BEFORE,
            Mode.SWITCH,
            (
                ("nix-env", "-p", PROFILE, "--switch-generation", "4"),
                (f"{BEFORE.system}/bin/switch-to-configuration", "switch"),
            ),
        ),
        (
            BEFORE,
            Mode.BOOT,
            (
                ("nix-env", "-p", PROFILE, "--switch-generation", "4"),
                (f"{PROFILE}/bin/switch-to-configuration", "boot"),
            ),
        ),
        (BEFORE, Mode.TEST, ((f"{BEFORE.system}/bin/switch-to-configuration", "test"),)),
        (
            Generation(None, "/nix/store/x-system"),
            Mode.SWITCH,
            (("/nix/store/x-system/bin/switch-to-configuration", "switch"),),
        ),
        (Generation(7, ""), Mode.SWITCH, (("nix-env", "-p", PROFILE, "--switch-generation", "7"),)),
    ],
    ids=["switch", "boot", "test", "no-generation", "no-system"],
)
def test_going_back_restores_the_generation_and_the_system_it_ran(
    before: Generation, mode: Mode, back: tuple[tuple[str, ...], ...]
) -> None:
    assert steps.restore(before, mode, MACHINE) == tuple(Step(argv) for argv in back)
    job = steps.restore_job(before, mode, MACHINE)
    assert job.steps[0] == Step(("say", "phase", "rolling back"), check=False)
    assert job.steps[1:] == steps.restore(before, mode, MACHINE)


def test_rollback_is_nixos_rebuilds_own() -> None:
    assert steps.rollback_job() == Job(
        (
            Step(("say", "phase", "rolling back"), check=False),
            Step(("nixos-rebuild", "switch", "--rollback")),
        )
    )


# ---- a system another machine built (deploy.buildOn) ------------------------------------

ARRIVED = "/nix/store/bbb-nixos-system-web"
TAKE = Step(("take_arrived", ARRIVED))


@pytest.mark.parametrize(
    ("mode", "activation"),
    [
        (
            Mode.SWITCH,
            (
                Step(("nix-env", "-p", PROFILE, "--set", Built())),
                Step((Built("/bin/switch-to-configuration"), Mode.SWITCH)),
            ),
        ),
        (
            Mode.BOOT,
            (
                Step(("nix-env", "-p", PROFILE, "--set", Built())),
                Step((Built("/bin/switch-to-configuration"), Mode.BOOT)),
            ),
        ),
        (Mode.TEST, (Step((Built("/bin/switch-to-configuration"), Mode.TEST)),)),
    ],
)
def test_a_system_built_elsewhere_is_activated_and_nothing_is_built_here(
    mode: Mode, activation: tuple[Step, ...]
) -> None:
    job = steps.apply_job(plan(), options(mode=mode), MACHINE, BEFORE, upload(), RUN, ARRIVED)
    assert job == Job((SAY_BUILDING, TAKE, *activation, NO_DIGESTS))
    assert not any("nixos-rebuild" in step.line() for step in job.steps)


def test_a_system_built_elsewhere_with_confirm_arms_the_timer_before_activating_it() -> None:
    job = steps.apply_job(plan(), options(confirm=30.0), MACHINE, BEFORE, None, RUN, ARRIVED)
    lines = [step.line() for step in job.steps]
    assert lines[1] == TAKE.line()
    assert not any("nixos-rebuild" in line for line in lines)
    armed = next(i for i, line in enumerate(lines) if "start_timer" in line)
    activation = next(i for i, line in enumerate(lines) if "switch-to-configuration" in line)
    assert armed < activation
    assert job.timer is not None
