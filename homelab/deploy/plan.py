"""Planning an apply: for each host, what goes to the machine and how to reach it.

`plan_hosts` makes the plans of an apply from a loaded lab and the commit that goes out
(a machine gets exactly what the commit holds, never the working tree); `plan_connection`
one that only says how to reach a host (a rollback, `homelab status --live`, `homelab
lock HOST`: nothing is sent). Copy-at-apply secrets are read from their sources here, never
through git or the Nix store; encrypted secrets (`encrypted/NAME.age`, only the host's
own) go with the flake, as the commit holds them. Bad input is InvalidInput with every
problem at once.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from homelab.builds import BuildOn
from homelab.deploy.checks import CheckPlan, plan_checks
from homelab.deploy.models import Method
from homelab.deploy.outgoing import files_at, read_sets, secret_paths
from homelab.deploy.ssh import Endpoint
from homelab.deploy.upload import SecretFile
from homelab.errors import InvalidInput, Place, Problem
from homelab.history.records import DeployRecord
from homelab.history.repo import GitSource, open_repository
from homelab.labfiles import LabFiles, LabState
from homelab.profile.model import Profile
from homelab.wiringnix.backups import UNIT as BACKUP_UNIT
from homelab.yamlfile import Document


@dataclass(frozen=True)
class Refusal:
    """Why a host is not applied at all (others go on): its result says so."""

    summary: str
    details: tuple[str, ...] = ()
    unknown_key: str | None = None  # a host key shown to be checked and accepted


@dataclass(frozen=True)
class BuildOnPlan:
    """Another machine of the lab builds this host's system (deploy.buildOn)."""

    builder: str  # its folder
    name: str  # its host name
    endpoint: Endpoint  # how homelab reaches it
    sudo: bool  # its deploy user reaches root with sudo (the keys are root's)
    spec: BuildOn  # how it reaches the target, with which keys


@dataclass(frozen=True)
class HostPlan:
    """What to send to one machine and how to reach it."""

    folder: str
    name: str
    endpoint: Endpoint
    files: Mapping[str, bytes] = field(repr=False)  # machine-relative paths in the upload
    secrets: tuple[SecretFile, ...] = ()
    checks: CheckPlan = field(default_factory=CheckPlan)
    method: Method = Method.FLAKE
    attr: str = ""  # the flake's nixosConfigurations attribute (the host folder)
    sudo: bool = False
    profile_file: str = ""
    commit: str = ""
    earlier_run: str = ""  # a run an interrupted apply left going: confirm how it ended
    refused: Refusal | None = None  # not applied: e.g. its secrets are stale
    backup_unit: str = ""  # the lab's backup job on this host: status --live reads its last run
    last: DeployRecord | None = None  # its newest deploy record: is the machine up to date?
    build_on: BuildOnPlan | None = None  # another machine builds its system


def endpoint_of(profile: Profile) -> Endpoint:
    """How to reach a host: its deploy section, the host name when no address is given."""
    deploy = profile.deploy
    return Endpoint(
        deploy.address or profile.name,
        deploy.port,
        deploy.user,
        deploy.host_key,
        label=profile.name,
        pin_file=profile.file,
    )


def method_of(profile: Profile) -> Method:
    return Method.CHANNELS if profile.deploy.method == Method.CHANNELS else Method.FLAKE


def plan_connection(state: LabState, folder: str) -> HostPlan:
    """A plan that only says how to reach the host (nothing is sent)."""
    profile = state.hosts[folder].profile
    assert profile is not None
    return HostPlan(
        folder=folder,
        name=profile.name,
        endpoint=endpoint_of(profile),
        files={},
        method=method_of(profile),
        attr=folder,
        sudo=profile.deploy.sudo,
        profile_file=profile.file,
        backup_unit=backup_unit(state, folder),
    )


def backup_unit(state: LabState, folder: str) -> str:
    """The systemd unit of the lab's backup job on this host ("" when it has none)."""
    wiring = state.wiring
    if wiring is None or wiring.role("backups") is None or folder not in wiring.backups:
        return ""
    return BACKUP_UNIT


def plan_hosts(
    lab: LabFiles,
    state: LabState,
    folders: Sequence[str],
    commit: str,
    secrets: Mapping[str, tuple[SecretFile, ...]] | None = None,
) -> list[HostPlan]:
    """The plans of these hosts: their upload set as `commit` holds it (never the working
    tree), their secrets, checks. InvalidInput (every problem at once) on bad input."""
    if not commit:
        raise InvalidInput(
            [
                Problem(
                    Place(str(lab.root)),
                    "nothing is committed yet: homelab sends what a commit holds",
                    hint="commit the lab first (homelab build --commit)",
                )
            ]
        )
    if secrets is None:
        secrets = secrets_of(lab, state, folders)
    skip = secret_sources(lab, state, list(state.hosts))
    lr = open_repository(lab.root)
    at = GitSource(lr, commit)  # one listing of the commit, the hosts' files in one read
    profiles = [(f, p) for f in folders if (p := state.hosts[f].profile) is not None]
    methods = {f: method_of(p) for f, p in profiles}
    flakes = {f: m == Method.FLAKE for f, m in methods.items()}
    # a host's encrypted secrets: only its own, and only in a flake
    encrypted = {f: p.secret_files if flakes[f] else () for f, p in profiles}
    read_sets(at, [(f, flakes[f], p.module_files, encrypted[f]) for f, p in profiles], skip)
    problems: list[Problem] = []
    plans: list[HostPlan] = []
    for folder, profile in profiles:
        method, flake = methods[folder], flakes[folder]
        try:
            files = files_at(
                lr,
                commit,
                folder,
                flake=flake,
                secrets=skip,
                modules=profile.module_files,
                encrypted=encrypted[folder],
                at=at,
            )
        except InvalidInput as err:
            problems += err.problems
            continue
        if not flake:
            files = {rel.removeprefix(f"hosts/{folder}/"): data for rel, data in files.items()}
        elif "flake.nix" not in files:
            problems.append(
                Problem(
                    Place("flake.nix"),
                    f"{folder} deploys with a flake, but commit {commit[:7]} has no flake.nix",
                    hint="`homelab init` writes one (commit it); or set deploy.method: channels",
                )
            )
        build_on, refused = build_on_of(state, folder)
        plans.append(
            HostPlan(
                folder=folder,
                name=profile.name,
                endpoint=endpoint_of(profile),
                files=files,
                secrets=tuple(secrets.get(folder, ())),
                checks=plan_checks(profile, state.catalog),
                method=method,
                attr=folder,
                sudo=profile.deploy.sudo,
                profile_file=profile.file,
                commit=commit,
                build_on=build_on,
                refused=refused,
            )
        )
    if problems:
        raise InvalidInput(problems)
    return plans


def build_on_of(state: LabState, folder: str) -> tuple[BuildOnPlan | None, Refusal | None]:
    """How the host's system is built elsewhere (None: it builds its own), or why it
    cannot be: its builder's profile has errors."""
    spec = state.builds.build_on.get(folder) if state.builds is not None else None
    if spec is None:
        return None, None
    builder = state.hosts[spec.builder]
    if builder.profile is None or builder.problems:
        return None, Refusal(
            f"its builder {spec.builder} has problems in its profile: nothing was built",
            (f"homelab validate {spec.builder} says what to fix",),
        )
    p = builder.profile
    return BuildOnPlan(spec.builder, p.name, endpoint_of(p), p.deploy.sudo, spec), None


# ---- secrets ----------------------------------------------------------------------------


def secrets_of(
    lab: LabFiles, state: LabState, folders: Sequence[str]
) -> dict[str, tuple[SecretFile, ...]]:
    """Each host's secrets, read from their sources (they never go through git or the
    Nix store). InvalidInput (every problem at once) when one cannot be read."""
    problems: list[Problem] = []
    out: dict[str, tuple[SecretFile, ...]] = {}
    for folder in folders:
        profile = state.hosts[folder].profile
        if profile is None:
            continue
        document = state.hosts[folder].document
        found: list[SecretFile] = []
        for secret in profile.secrets:
            if secret.source is None:  # encrypted: agenix installs it on the machine
                continue
            try:
                data = _read_regular(lab.root / secret.source)
            except OSError as err:
                problems.append(
                    Problem(
                        _place(document, ("secrets", secret.name, "source"), profile.file),
                        f"cannot read secret file {secret.source}: {err.strerror or err}",
                        path=f"secrets.{secret.name}.source",
                    )
                )
                continue
            owner = secret.owner or "root"
            found.append(
                SecretFile(secret.name, secret.target, data, secret.mode, owner, secret.group)
            )
        out[folder] = tuple(found)
    if problems:
        raise InvalidInput(problems)
    return out


def _read_regular(path: Path) -> bytes:
    """A file's bytes; OSError for anything but a regular file (a FIFO would hang)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def secret_sources(lab: LabFiles, state: LabState, folders: Sequence[str]) -> set[str]:
    """Every lab path that is a secret's source, however it is spelled."""
    sources = [
        s.source
        for f in folders
        if (profile := state.hosts[f].profile) is not None
        for s in profile.secrets
        if s.source is not None
    ]
    return secret_paths(lab.root, sources)


def _place(document: Document | None, path: tuple[str | int, ...], file: str) -> Place:
    return document.marks.value(path, Place(file)) if document is not None else Place(file)
