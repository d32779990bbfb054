"""The lab's encrypted secrets as they stand: each file, who uses it, who should be able
to read it and who can, read from the file's own recipient stanzas (never from a list
kept beside it); and what is wrong, each problem at its place.

Who should read a secret: the hosts that use it (their SSH host key: `deploy.ageHostKey`,
else `deploy.hostKey` when it is ed25519 or RSA) and every admin of lab.yaml. A secret is
stale when one of them cannot read it, or when a key that should not can (a removed host
or admin): `homelab secrets rekey` encrypts it anew. An admin's age key (X25519) is not
named by its stanza: those are counted, not matched (the file says *an* age key reads it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from homelab.errors import Place, Problem, format_path
from homelab.profile import secretrefs
from homelab.profile.model import Profile, SecretUse
from homelab.secrets.agefile import Stanza, stanzas
from homelab.secrets.keys import SSH_KINDS, Recipient, parse_recipient
from homelab.yamlfile import Document

AGENIX = "agenix"  # the lab.yaml input encrypted secrets need
AGENIX_URL = "github:ryantm/agenix"
SET_HINT = "homelab secrets set {name} < FILE (or homelab secrets edit {name})"
REKEY_HINT = "run `homelab secrets rekey` (it needs an admin's key: see `homelab secrets list`)"


@dataclass(frozen=True)
class Reader:
    """Someone who should be able to open a secret: a host or an admin."""

    name: str
    kind: Literal["host", "admin"]
    key: Recipient | None  # None: a host with no ed25519 or RSA host key pinned
    folder: str = ""  # a host's


@dataclass(frozen=True)
class Use:
    """A host's use of a secret, at its place in the profile."""

    folder: str
    host: str
    secret: SecretUse
    place: Place


@dataclass(frozen=True)
class SecretState:
    name: str
    file: str
    present: bool
    stanzas: tuple[Stanza, ...] | None  # None: present but not an age file
    uses: tuple[Use, ...]
    wanted: tuple[Reader, ...]  # the hosts that use it, then the admins

    @property
    def encrypted(self) -> bool:
        return self.present and self.stanzas is not None

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(u.host for u in self.uses))

    def _recipients(self) -> list[Stanza]:
        return [s for s in self.stanzas or () if not s.kind.endswith("-grease")]

    def can_read(self, reader: Reader) -> bool | None:
        """Can this reader open the file as it is? None when the file cannot say (an age
        key is only counted)."""
        if reader.key is None or not self.encrypted:
            return False
        if reader.key.kind in SSH_KINDS:
            return any(reader.key.reads(s) for s in self._recipients())
        return None if self._x25519_ok() else False

    def _x25519_ok(self) -> bool:
        have = sum(1 for s in self._recipients() if s.kind == "X25519")
        want = sum(1 for r in self.wanted if r.key is not None and r.key.kind == "X25519")
        return have >= want

    @property
    def missing(self) -> tuple[Reader, ...]:
        """Who should read it and cannot."""
        return tuple(r for r in self.wanted if self.can_read(r) is False)

    @property
    def others(self) -> int:
        """Recipient stanzas that belong to no one who should read it (a removed host or
        admin, a key since replaced): they can still open it."""
        if not self.encrypted:
            return 0
        keys = [r.key for r in self.wanted if r.key is not None]
        ssh = [s for s in self._recipients() if s.kind != "X25519"]
        unknown = sum(1 for s in ssh if not any(k.reads(s) for k in keys))
        have_x = sum(1 for s in self._recipients() if s.kind == "X25519")
        want_x = sum(1 for k in keys if k.kind == "X25519")
        return unknown + max(0, have_x - want_x)

    @property
    def stale(self) -> bool:
        return self.encrypted and (bool(self.missing) or self.others > 0)

    def readers(self) -> list[tuple[Reader, bool | None]]:
        """Each one who should read it, and whether they can (None: cannot be told)."""
        return [(r, self.can_read(r)) for r in self.wanted]


@dataclass(frozen=True)
class LabSecrets:
    secrets: Mapping[str, SecretState]
    problems: tuple[Problem, ...]  # of the lab's files (errors, and warnings: Problem.warning)
    host_keys: Mapping[str, Recipient | None]  # by host folder
    host_problems: Mapping[str, tuple[Problem, ...]]  # by host folder, at their uses

    def stale_for(self, folder: str) -> list[SecretState]:
        """The secrets a host uses that its current host key cannot open."""
        return [
            s
            for s in self.secrets.values()
            if any(u.folder == folder for u in s.uses)
            and any(r.folder == folder for r in s.missing)
        ]


def host_key(profile: Profile) -> Recipient | None:
    """The key a host's secrets are encrypted to."""
    for text in (profile.deploy.age_host_key, profile.deploy.host_key):
        if text:
            key = parse_recipient(text)
            if not isinstance(key, str) and key.kind in SSH_KINDS:
                return key
    return None


def names_in(listing: Iterable[str]) -> list[str]:
    """The secrets' names from the encrypted/ folder's listing."""
    return sorted(n.removesuffix(".age") for n in listing if n.endswith(".age") and n != ".age")


def lab_secrets(
    hosts: Sequence[tuple[str, Profile, Document | None]],
    admins: Sequence[tuple[str, Recipient]],
    names: Iterable[str],
    read: Callable[[str], bytes | None],
    agenix_input: bool | None,
    named_elsewhere: Iterable[str] = (),
    admins_known: bool = True,
) -> LabSecrets:
    """The lab's secrets from its valid hosts `(folder, profile, merged document)`, lab.yaml's
    admins, the names in encrypted/ and a reader of their bytes; `agenix_input`: does
    lab.yaml have the agenix input (None: there is no lab.yaml). `named_elsewhere`: names
    that hosts with mistakes in their profiles use (never said to be unused);
    `admins_known`: False while lab.yaml cannot be read (no key is then said to be one
    that is no longer the lab's)."""
    problems: list[Problem] = []
    per_host: dict[str, list[Problem]] = {}
    uses: dict[str, list[Use]] = {}
    keys: dict[str, Recipient | None] = {}
    by_folder = {folder: profile for folder, profile, _ in hosts}
    for folder, profile, doc in hosts:
        keys[folder] = host_key(profile)
        found = profile.encrypted
        if not found:
            continue
        top = Place(profile.file)
        first: dict[str, tuple[SecretUse, Place]] = {}
        for secret in found:
            place = _place(doc, secret, top)
            uses.setdefault(secret.name, []).append(Use(folder, profile.name, secret, place))
            per_host.setdefault(folder, []).extend(_disagree(first, secret, place))
        per_host.setdefault(folder, []).extend(_lab_problems(profile, doc, agenix_input))
        if not _runs_sshd(profile):
            per_host[folder].append(_no_sshd(profile, doc))
    states: dict[str, SecretState] = {}
    elsewhere = set(named_elsewhere)
    admin_readers = tuple(Reader(n, "admin", k) for n, k in admins)
    for name in sorted({*names, *uses}):
        rel = secretrefs.file_of(name)
        data = read(rel)
        used = tuple(uses.get(name, ()))
        host_readers = tuple(
            Reader(by_folder[f].name, "host", keys.get(f), f)
            for f in dict.fromkeys(u.folder for u in used)
        )
        state = SecretState(
            name,
            rel,
            data is not None,
            stanzas(data) if data is not None else None,
            used,
            (*host_readers, *admin_readers),
        )
        states[name] = state
        said = _problems(state)
        if name in elsewhere and not used:
            said = [(o, p) for o, p in said if not p.message.startswith("no host uses")]
        if not admins_known:
            said = [(o, p) for o, p in said if o is not None or not p.warning]
        for owner, problem in said:
            (problems if owner is None else per_host.setdefault(owner, [])).append(problem)
    return LabSecrets(
        states, tuple(problems), keys, {f: tuple(p) for f, p in per_host.items() if p}
    )


def _place(doc: Document | None, secret: SecretUse, top: Place) -> Place:
    """Where a use stands: a setting's value, or a `secrets:` entry's name."""
    if secret.place is not None:
        return secret.place
    if doc is None:
        return top
    if len(secret.at) == 2 and secret.at[0] == "secrets":
        return doc.marks.key(secret.at, top)
    return doc.marks.value(secret.at, top)


def _disagree(
    first: dict[str, tuple[SecretUse, Place]], secret: SecretUse, place: Place
) -> list[Problem]:
    was = first.setdefault(secret.name, (secret, place))
    if was[0] is secret:
        return []
    out = []
    for field in ("owner", "group", "mode", "target"):
        a, b = getattr(was[0], field), getattr(secret, field)
        if a is not None and b is not None and a != b:
            out.append(
                Problem(
                    place,
                    f"secret {secret.name} is installed with {field} {b!r} here, but with "
                    f"{a!r} at {was[1]}",
                    path=format_path(secret.at),
                    hint="a host has one copy of each secret: give it one "
                    f"{field}, or use two secrets",
                )
            )
    return out


def _runs_sshd(profile: Profile) -> bool:
    """Does the host run sshd, so that agenix decrypts with its host keys (age.identityPaths
    defaults to openssh's host keys, else to none)? The openssh service, or the options
    that say so; raw Nix and modules are not read (the warning names them)."""
    if profile.service("openssh") is not None:
        return True
    for s in profile.options:
        if s.option[:2] == ("age", "identityPaths"):
            return True
        if s.option == ("services", "openssh", "enable") and s.value is True:
            return True
        if s.option == ("services", "openssh") and isinstance(s.value, Mapping):
            return s.value.get("enable") is True
    return False


def _no_sshd(profile: Profile, doc: Document | None) -> Problem:
    first = profile.encrypted[0]
    return Problem(
        _place(doc, first, Place(profile.file)),
        "the machine opens encrypted secrets with its SSH host key, but this host does not "
        "run sshd: agenix would have no key (age.identityPaths is empty) and NixOS refuses "
        "the configuration",
        path=format_path(first.at),
        hint="add `openssh: {}` under services: (or set age.identityPaths under options:), "
        "unless a module or extraConfig of the host does",
        warning=True,
    )


def _lab_problems(
    profile: Profile, doc: Document | None, agenix_input: bool | None
) -> list[Problem]:
    top = Place(profile.file)
    at = profile.encrypted[0].at
    place = _place(doc, profile.encrypted[0], top)
    if profile.deploy.method == "channels":
        return [
            Problem(
                place,
                "encrypted secrets need a flake (the agenix input): this host deploys with "
                "channels",
                path=format_path(at),
                hint="set deploy.method: flake, or copy the file at apply: "
                "secrets: NAME: {source: ...}",
            )
        ]
    if agenix_input is False:
        return [
            Problem(
                place,
                f"encrypted secrets need the {AGENIX} flake input, which lab.yaml does not have",
                path=format_path(at),
                hint=f'add to lab.yaml: `inputs: {{{AGENIX}: {{url: "{AGENIX_URL}"}}}}` '
                "(homelab secrets set and edit add it), then `nix flake lock`",
            )
        ]
    if agenix_input is None:
        return [
            Problem(
                place,
                f"this lab's flake.nix is kept by hand: it must have an {AGENIX} input and pass "
                "`inputs` to the hosts' modules (specialArgs) for encrypted secrets",
                path=format_path(at),
                hint="or let homelab write flake.nix: add a lab.yaml (the editor's Lab screen, f5)",
                warning=True,
            )
        ]
    return []


def _no_admin_opens(s: SecretState) -> bool:
    """Is it sure that no admin's key opens the file: none of their SSH keys has a
    stanza, and it has no age-key stanza at all (those do not say whose they are)?"""
    for r in s.wanted:
        if r.kind == "admin" and r.key is not None and r.key.kind in SSH_KINDS and s.can_read(r):
            return False
    return not any(st.kind == "X25519" for st in s.stanzas or ())


def _problems(s: SecretState) -> list[tuple[str | None, Problem]]:
    """Each problem with the host folder it belongs to (None: the lab's file)."""
    here = Place(s.file, 1, 1) if s.present else Place(s.file)
    if s.present and s.stanzas is None:
        return [
            (
                None,
                Problem(
                    here,
                    "is not an age file: a secret saved in plaintext under a .age name? It is "
                    "readable by anyone with the repository",
                    hint=f"encrypt it: homelab secrets set {s.name} < {s.file}; if it was "
                    "committed, change the value itself (git keeps the plaintext in history)",
                ),
            )
        ]
    if not s.uses:
        return [
            (
                None,
                Problem(
                    here,
                    f"no host uses secret {s.name}",
                    hint=f"name it in a setting as {{secret: {s.name}}}, or remove {s.file}",
                    warning=True,
                ),
            )
        ]
    if not s.present:
        return [
            (
                u.folder,
                Problem(
                    u.place,
                    f"secret {s.name} does not exist: there is no {s.file}",
                    path=format_path(u.secret.at),
                    hint=SET_HINT.format(name=s.name),
                ),
            )
            for u in s.uses
        ]
    out: list[tuple[str | None, Problem]] = []
    for u in s.uses:
        reader = next(r for r in s.wanted if r.folder == u.folder)
        if reader.key is None:
            out.append(
                (
                    u.folder,
                    Problem(
                        u.place,
                        f"{u.host} has no ed25519 host key pinned, so secret {s.name} cannot be "
                        "encrypted to it",
                        path=format_path(u.secret.at),
                        hint=f"homelab apply --accept-new {u.host} (or homelab adopt) pins it",
                        warning=True,
                    ),
                )
            )
        elif s.can_read(reader) is False:
            out.append(
                (
                    u.folder,
                    Problem(
                        u.place,
                        f"{s.file} is not encrypted to {u.host}'s current host key: the machine "
                        "cannot open it (apply refuses this host)",
                        path=format_path(u.secret.at),
                        hint=REKEY_HINT,
                        warning=True,
                    ),
                )
            )
    admins = [r.name for r in s.missing if r.kind == "admin"]
    if admins:
        out.append(
            (
                None,
                Problem(
                    here,
                    f"admin {', '.join(admins)} cannot open {s.name}",
                    hint="no admin's key opens it, so no rekey can: set its value again "
                    f"(homelab secrets set {s.name} < FILE)"
                    if _no_admin_opens(s)
                    else REKEY_HINT,
                    warning=True,
                ),
            )
        )
    if s.others:
        out.append(
            (
                None,
                Problem(
                    here,
                    f"{s.others} key(s) that are no longer the lab's can still open {s.name}",
                    hint=REKEY_HINT + "; then change the value itself: the old key's owner may "
                    "have kept a copy",
                    warning=True,
                ),
            )
        )
    return out
