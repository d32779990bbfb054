"""The host keys a host's encrypted secrets are encrypted to, settled before anything is sent.

age (agenix, on the machine) decrypts with the machine's ed25519 SSH host key, read from
/etc/ssh/ssh_host_ed25519_key.pub over the verified connection. `deploy.hostKey` is
whatever key paramiko negotiated (maybe ECDSA): the ed25519 one is pinned as
`deploy.ageHostKey` when hostKey is not already that key (a stale one is removed).

A host that uses encrypted secrets and has no usable key pinned (new, reinstalled with its
old pin removed, or pinned with an ECDSA key only) is reached first, before its plan is
made: the key it presents accepted as --accept-new (or the very key a person checked)
allows, its ed25519 key read, both pinned, and every secret it uses re-encrypted with the
admin's key ($HOMELAB_AGE_IDENTITY, else ~/.config/homelab/age.key), all in one commit.
Its upload set is then read from that commit, so one run deploys it. Without an admin key
at hand the pin is committed anyway, and the host fails with what to run.

`refusals` says which hosts are not applied at all because of their secrets: stale (not
encrypted to the host's current key) or no usable host key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from homelab.deploy import steps
from homelab.deploy.models import MAX_JOBS, ApplyOptions
from homelab.deploy.plan import Refusal, endpoint_of
from homelab.deploy.ssh import (
    ConnectError,
    HostKeyError,
    connect,
    ed25519_line,
    fingerprint,
    key_line,
    same_key,
)
from homelab.deploy.target import ConnectionLost, Target
from homelab.errors import InvalidInput, LabFailure
from homelab.history.commit import commit_paths, state_at
from homelab.history.repo import open_repository
from homelab.labfiles import LabFiles, LabState
from homelab.profile.edit import EditError, delete_value, get_value, set_value
from homelab.secrets import crypt, store
from homelab.secrets.view import SecretState, host_key
from homelab.write import atomic_write

Note = Callable[[str], None]
REKEY = "run `homelab secrets rekey` (with an admin's key), then apply again"


def age_pin(host_key_line: str | None, ed25519: str | None) -> str | None:
    """Pure: what deploy.ageHostKey should hold, given deploy.hostKey and the machine's
    ed25519 key: that key, unless hostKey already is it (None: no ageHostKey)."""
    if ed25519 is None or same_key(host_key_line, ed25519):
        return None
    return ed25519


def pin_profile(
    lab_root: Path, profile_file: str, host_key_line: str | None, ed25519: str | None
) -> bool:
    """Pin in the profile (keeping the person's comments and layout): `host_key_line` as
    deploy.hostKey (None: left as it is), and, when the machine's ed25519 key was read,
    deploy.ageHostKey as `age_pin` says (set, or removed when stale). True when the file
    changed."""
    path = lab_root / profile_file
    text = path.read_text(encoding="utf-8")
    new = text
    if host_key_line:
        new = set_value(new, ("deploy", "hostKey"), host_key_line)
    if ed25519:
        wanted = age_pin(_get(new, "hostKey"), ed25519)
        had = _get(new, "ageHostKey")
        if wanted is None and had is not None:
            new = delete_value(new, ("deploy", "ageHostKey"))
        elif wanted is not None and had != wanted:
            new = set_value(new, ("deploy", "ageHostKey"), wanted)
    if new == text:
        return False
    atomic_write(path, new)
    return True


def _get(text: str, key: str) -> str | None:
    try:
        value = get_value(text, ("deploy", key))
    except KeyError:
        return None
    return value if isinstance(value, str) else None


# ---- hosts not applied because of their secrets ------------------------------------------


def refusals(state: LabState, chosen: Sequence[str]) -> dict[str, Refusal]:
    """The chosen hosts that use encrypted secrets the machine could not open: no usable
    host key pinned, or secrets not encrypted to its current key (stale)."""
    out: dict[str, Refusal] = {}
    secrets = state.secrets
    for folder in chosen:
        profile = state.hosts[folder].profile
        if profile is None or not profile.encrypted or secrets is None:
            continue
        name = profile.name
        if host_key(profile) is None:
            out[folder] = Refusal(
                f"no ed25519 host key pinned, so its secrets ({', '.join(profile.secret_names)}) "
                "cannot be encrypted to it; not touched",
                (
                    f"run `homelab apply --accept-new {name}` (after checking the fingerprint "
                    "it shows): it pins the machine's key and re-encrypts its secrets",
                ),
            )
            continue
        stale = secrets.stale_for(folder)
        if stale:
            out[folder] = Refusal(
                f"secrets not encrypted to its current host key: {_names(stale)}; not touched",
                (f"the machine could not open them: {REKEY}",),
            )
    return out


def _names(stale: Sequence[SecretState]) -> str:
    return ", ".join(s.name for s in stale)


# ---- reaching hosts that need their key first --------------------------------------------


@dataclass(frozen=True)
class Reached:
    folder: str
    presented: str = ""  # the key the verified connection presented
    accepted: str | None = None  # an unknown key accepted now: pin it
    ed25519: str | None = None  # the machine's ed25519 host key
    refusal: Refusal | None = None


@dataclass(frozen=True)
class Settled:
    refused: Mapping[str, Refusal]
    verified: Mapping[str, str]  # folder -> the key its connection was verified with
    changed: bool  # profiles or secrets were written: load the lab anew


def wants_key(state: LabState, folder: str) -> bool:
    """Does this host use encrypted secrets with no usable host key pinned?"""
    profile = state.hosts[folder].profile
    return profile is not None and bool(profile.encrypted) and host_key(profile) is None


def settle(
    lab: LabFiles,
    state: LabState,
    chosen: Sequence[str],
    options: ApplyOptions,
    *,
    committing: bool,
    note: Note,
    stop: threading.Event,
) -> Settled:
    """Reach the chosen hosts that use secrets and have no usable key pinned: pin their
    keys, re-encrypt their secrets to them and commit both together (see the module)."""
    wanting = [f for f in chosen if wants_key(state, f)]
    if not wanting or stop.is_set():
        return Settled({}, {}, False)
    jobs = options.jobs if options.jobs > 0 else MAX_JOBS
    with ThreadPoolExecutor(max_workers=min(jobs, len(wanting))) as pool:
        reached = list(pool.map(lambda f: _reach(state, f, options), wanting))
    refused: dict[str, Refusal] = {}
    verified: dict[str, str] = {}
    profiles: dict[str, str] = {}  # folder -> profile file written
    for r in reached:
        profile = state.hosts[r.folder].profile
        assert profile is not None
        if r.presented:
            verified[r.folder] = r.presented
        if r.refusal is not None:
            refused[r.folder] = r.refusal
        if not (r.accepted or r.ed25519):
            continue
        try:
            if pin_profile(lab.root, profile.file, r.accepted, r.ed25519):
                profiles[r.folder] = profile.file
        except (OSError, EditError) as err:
            refused[r.folder] = Refusal(f"its host key could not be pinned: {err}; not touched")
            continue
        if r.accepted:
            said = f"{profile.name} ({fingerprint(r.accepted)}) in {profile.file}"
            note(f"pinned the host key of {said}")
        if r.ed25519 and not same_key(r.ed25519, r.accepted or profile.deploy.host_key):
            said = f"{profile.name}'s ed25519 host key ({fingerprint(r.ed25519)})"
            note(f"pinned {said} for its secrets")
    if not profiles:
        return Settled(refused, verified, False)
    now = lab.load()
    done, failed = _rekey(lab, now, [f for f in profiles if f not in refused])
    refused.update(failed)
    for folder, names in done.items():
        host = now.hosts[folder].profile
        name = host.name if host is not None else folder
        count = f"{len(names)} secret{'s' if len(names) != 1 else ''}"
        note(f"re-encrypted {count} to {name}'s new host key ({', '.join(names)})")
    files = {*profiles.values(), *(f"encrypted/{n}.age" for ns in done.values() for n in ns)}
    if committing:
        refused.update(_commit(lab, sorted(profiles), files, done, note))
    else:
        for folder in done:
            refused[folder] = Refusal(
                "its secrets were re-encrypted to its new host key, but --no-commit sends "
                "what HEAD holds; not touched",
                (f"commit {', '.join(sorted(files))}, then apply again",),
            )
    return Settled(refused, verified, True)


def _reach(state: LabState, folder: str, options: ApplyOptions) -> Reached:
    """Connect (accepting an unknown key as the options allow) and read the machine's
    ed25519 host key over that verified connection."""
    profile = state.hosts[folder].profile
    assert profile is not None
    why = (
        f"{profile.name} uses encrypted secrets ({', '.join(profile.secret_names)}) and has no "
        "ed25519 host key pinned: homelab reads it from the machine before anything is sent"
    )
    try:
        conn = connect(endpoint_of(profile), options.ssh)
    except HostKeyError as err:
        unknown = err.presented if err.kind == "unknown" and err.pinnable else None
        return Reached(folder, refusal=Refusal(err.short, (str(err), why), unknown))
    except ConnectError as err:
        return Reached(folder, refusal=Refusal(err.short, (str(err), why)))
    presented = conn.accepted_key or key_line(conn.transport.get_remote_server_key())
    target = Target(profile.name, lambda: conn)
    try:
        ran = target.run(steps.host_key().line(), timeout=30)
    except (ConnectionLost, ConnectError, OSError) as err:
        refusal = Refusal(f"connection lost while reading its host key ({err})", (why,))
        return Reached(folder, presented, conn.accepted_key, refusal=refusal)
    finally:
        target.close()
    ed25519 = ed25519_line(ran.out) if ran.code == 0 else None
    if ed25519 is None:
        refusal = Refusal(
            f"no ed25519 host key at {steps.ED25519_HOST_KEY}: its secrets cannot be "
            "encrypted to it; not touched",
            (why, "age decrypts with an ed25519 (or RSA) host key: `ssh-keygen -A` makes one"),
        )
        return Reached(folder, presented, conn.accepted_key, refusal=refusal)
    return Reached(folder, presented, conn.accepted_key, ed25519)


def _rekey(
    lab: LabFiles, state: LabState, folders: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, Refusal]]:
    """Re-encrypt the secrets these hosts use that their (new) keys cannot open, with the
    admin's key: {folder: names re-encrypted}, and the hosts refused ({folder: why})."""
    secrets = state.secrets
    stale = {f: secrets.stale_for(f) for f in folders} if secrets is not None else {}
    wanted = {s.name: s for found in stale.values() for s in found}
    if not wanted:
        return {}, {}
    problems: dict[str, str] = {}  # secret name -> why it could not be re-encrypted
    try:
        key = crypt.load_identity()
    except crypt.SecretsError as err:
        problems = dict.fromkeys(wanted, str(err))
    else:
        for name, secret in sorted(wanted.items()):
            try:
                data = (lab.root / secret.file).read_bytes()
                store.write_encrypted(lab.root, name, store.rekeyed(data, secret, key))
            except crypt.SecretsError as err:
                problems[name] = str(err)
            except OSError as err:
                problems[name] = f"{secret.file}: {err.strerror or err}"
    done: dict[str, list[str]] = {}
    refused: dict[str, Refusal] = {}
    for folder, found in stale.items():
        ok = [s.name for s in found if s.name not in problems]
        if ok:
            done[folder] = ok
        bad = [s for s in found if s.name in problems]
        if bad:
            refused[folder] = Refusal(
                f"its new host key is pinned, but its secrets are not encrypted to it: "
                f"{_names(bad)}; not touched",
                (*dict.fromkeys(problems[s.name] for s in bad), REKEY),
            )
    return done, refused


def _commit(
    lab: LabFiles,
    folders: Sequence[str],
    files: set[str],
    done: Mapping[str, Sequence[str]],
    note: Note,
) -> dict[str, Refusal]:
    """The pins and the re-encrypted secrets in one commit; hosts refused when it fails
    (HEAD would not hold their secrets as they are now)."""
    count = len({n for names in done.values() for n in names})
    subject = f"{', '.join(folders)}: host key pinned"
    if count:
        whose = f"{next(iter(done))}'s new host key" if len(done) == 1 else "their new host keys"
        subject += f"; re-encrypted {count} secret{'s' if count != 1 else ''} to {whose}"
    try:
        lr = open_repository(lab.root)
        head = lr.head()
        made = commit_paths(
            lab,
            lr,
            files,
            state_at(lab, lr, head),
            lab.load(),
            head,
            folders=list(folders),
            subject=lambda _: subject,
        )
    except (InvalidInput, LabFailure) as err:
        note(f"note: the pinned host keys could not be committed: {err}")
        return {
            f: Refusal(
                "its new host key and re-encrypted secrets could not be committed; not touched",
                (str(err),),
            )
            for f in done
        }
    if made is not None:
        note(f"committed {made[0][:7]} {subject}")
    return {}
