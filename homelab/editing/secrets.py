"""Changing the lab's encrypted secrets: set a value, rekey (admins: homelab.editing.admins);
each written whole (ciphertext only) and committed with the files it changed, in words.

Who reads a secret is worked out here from every host whose profile could be read, valid
or not: a host with an unrelated mistake in its profile still uses its secrets, and a
rekey must not drop it (homelab.secrets.view counts valid hosts only, for its checks).
A host with no ed25519 or RSA host key pinned cannot be encrypted to: that is said, and
it does not make a secret count as stale here (no rekey could help it).

Plaintext is only ever bytes in memory: never written, never in a message or an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homelab import labconfig
from homelab.editing import labyaml
from homelab.errors import InvalidInput, Place, Problem
from homelab.history.commit import commit_paths, state_at
from homelab.history.repo import check_writable, open_repository
from homelab.labconfig import edit
from homelab.labfiles import LabFiles, LabState
from homelab.profile import secretrefs
from homelab.profile.edit import EditError
from homelab.secrets import crypt, store
from homelab.secrets.crypt import AdminKey, SecretsError
from homelab.secrets.keys import SSH_KINDS, Recipient, parse_recipient
from homelab.secrets.view import AGENIX, AGENIX_URL, LabSecrets, Reader, SecretState, host_key
from homelab.source import DiskSource, Unreadable

__all__ = [
    "SecretsDone",
    "check_name",
    "rekey_secrets",
    "secret_value",
    "secrets_state",
    "set_secret",
]

ROTATE = "the old key's owner may have kept a copy: change the value itself"
LOCK = "flake.lock needs the new input: run `homelab lock`"


@dataclass(frozen=True)
class SecretsDone:
    """What a change of secrets did."""

    files: tuple[str, ...]  # lab-relative, changed
    commit: str | None
    said: tuple[str, ...]  # lines to tell the person
    stale: tuple[str, ...]  # secrets left stale (no key at hand, or it could not open them)


# ---- reading ---------------------------------------------------------------------------


def secrets_state(lab: LabFiles) -> LabSecrets:
    state = lab.load()
    assert state.secrets is not None  # load always computes it
    return state.secrets


def check_name(name: str) -> None:
    """InvalidInput when `name` cannot be a secret's name."""
    if not secretrefs.NAME.fullmatch(name):
        raise InvalidInput(
            [
                Problem(
                    Place("secret name"),
                    f"{name!r} is not a secret's name",
                    hint=secretrefs.NAME_HINT,
                )
            ]
        )


def _ciphertext(lab: LabFiles, name: str) -> bytes | None:
    try:
        return DiskSource(lab.root).read_bytes(secretrefs.file_of(name))
    except Unreadable as err:
        raise SecretsError(f"cannot read {secretrefs.file_of(name)}: {err}") from None


def secret_value(lab: LabFiles, name: str, key: AdminKey) -> bytes:
    """A secret's plaintext, opened with the admin's key (in memory only)."""
    check_name(name)
    data = _ciphertext(lab, name)
    if data is None:
        raise SecretsError(
            f"there is no secret {name} ({secretrefs.file_of(name)})",
            f"homelab secrets set {name} < FILE, or homelab secrets edit {name}",
        )
    from homelab.secrets.agefile import is_age

    if not is_age(data):
        raise SecretsError(
            f"{secretrefs.file_of(name)} is not an age file (plaintext under a .age name?)",
            f"encrypt it: homelab secrets set {name} < {secretrefs.file_of(name)}",
        )
    return crypt.decrypt(data, key, secretrefs.file_of(name))


def _admins(state: LabState) -> list[tuple[str, Recipient]]:
    return [(a.name, a.key) for a in state.config.admins] if state.config is not None else []


def _uses_in(value: Any, name: str) -> bool:
    """Does a profile's data (one that did not validate) name secret `name` anywhere?"""
    if secretrefs.is_ref(value):
        return bool(value.get("secret") == name)
    if isinstance(value, Mapping):
        return any(_uses_in(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_uses_in(v, name) for v in value)
    return False


def _invalid_reader(folder: str, data: Any, name: str) -> Reader | None:
    """A host whose profile has a mistake still uses its secrets: read from its data as
    written, so that a rekey does not drop it."""
    if not isinstance(data, Mapping):
        return None
    listed = data.get("secrets")
    entry = listed.get(name) if isinstance(listed, Mapping) else None
    encrypted = isinstance(entry, Mapping) and "source" not in entry
    if not (encrypted or _uses_in(data, name)):
        return None
    deploy = data.get("deploy")
    key = None
    for field in ("ageHostKey", "hostKey"):
        text = deploy.get(field) if isinstance(deploy, Mapping) else None
        found = parse_recipient(text) if isinstance(text, str) else None
        if isinstance(found, Recipient) and found.kind in SSH_KINDS:
            key = found
            break
    host = data.get("host")
    called = host.get("name") if isinstance(host, Mapping) else None
    return Reader(called if isinstance(called, str) else folder, "host", key, folder)


def readers(
    state: LabState, name: str, admins: Sequence[tuple[str, Recipient]] | None = None
) -> tuple[Reader, ...]:
    """Who should open secret `name`: every host whose profile uses it (valid or not),
    then the admins (lab.yaml's, or `admins`)."""
    hosts: list[Reader] = []
    for folder, h in sorted(state.hosts.items()):
        if h.profile is not None:
            if name in h.profile.secret_names:
                hosts.append(Reader(h.profile.name, "host", host_key(h.profile), folder))
        elif h.document is not None:
            found = _invalid_reader(folder, h.document.data, name)
            if found is not None:
                hosts.append(found)
    who = _admins(state) if admins is None else admins
    return (*hosts, *(Reader(n, "admin", k) for n, k in who))


def _state(state: LabState, name: str, wanted: tuple[Reader, ...]) -> SecretState | None:
    """The file of secret `name` as it stands, judged against `wanted` (keyed readers)."""
    assert state.secrets is not None
    found = state.secrets.secrets.get(name)
    if found is None:
        return None
    return dataclasses.replace(found, wanted=tuple(r for r in wanted if r.key is not None))


def names_text(items: Sequence[str], word: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def readable_by(wanted: Sequence[Reader]) -> str:
    """`pi, nixos-demo and admin alice`: who a secret is encrypted to."""
    hosts = [r.name for r in wanted if r.kind == "host" and r.key is not None]
    admins = [r.name for r in wanted if r.kind == "admin"]
    parts = list(hosts)
    if admins:
        parts.append(("admin " if len(admins) == 1 else "admins ") + names_text(admins))
    return names_text(parts)


def keyless(wanted: Sequence[Reader], name: str) -> list[str]:
    return [
        f"{r.name} uses {name} but has no ed25519 host key pinned, so it cannot open it: "
        f"`homelab apply --accept-new {r.name}` (or adopt) pins one and, with your key at "
        f"hand, encrypts {r.name}'s secrets to it in the same run"
        for r in wanted
        if r.kind == "host" and r.key is None
    ]


def unread_hosts(state: LabState) -> list[str]:
    """Hosts whose profile is not even YAML: whether they use a secret cannot be told."""
    return [
        f"hosts/{folder} could not be read: if it uses these secrets, its key is not among "
        "their readers: fix it, then run `homelab secrets rekey`"
        for folder, h in sorted(state.hosts.items())
        if h.profile is None and h.document is None
    ]


# ---- committing ------------------------------------------------------------------------


def commit_files(
    lab: LabFiles, files: Sequence[str], subject: str, body: Sequence[str]
) -> str | None:
    """Commit exactly these files with this message; the commit, None when none changed."""
    lr = open_repository(lab.root, create=True)
    head = lr.head()
    message = "\n".join(body)
    before = state_at(lab, lr, head)
    # no host in scope: the body says the lab's files, never a profile edit left uncommitted
    done = commit_paths(
        lab, lr, set(files), before, before, head, folders=[],
        message=message or None, subject=lambda _: subject,
    )  # fmt: skip
    return done[0] if done is not None else None


def repo_writable(lab: LabFiles) -> None:
    check_writable(open_repository(lab.root, create=True))


def lab_yaml_committed(lab: LabFiles) -> None:
    """Refuse to change lab.yaml (and the flake.nix made from it) while it has changes of
    the person's that are not committed: they would go into this commit unreviewed."""
    lr = open_repository(lab.root, create=True)
    if lr.head() is None:
        return
    files = (labconfig.LAB_YAML, labconfig.FLAKE)
    out = lr.run("status", "--porcelain", "-z", "--", *(lr.path(f) for f in files))
    changed = sorted({rel for e in out.split("\0") if len(e) > 3 and (rel := lr.rel(e[3:]))})
    if changed:
        raise InvalidInput(
            [
                Problem(
                    Place(rel),
                    "has changes that are not committed: homelab would commit them with "
                    "the secrets, unreviewed",
                    hint="commit them (homelab build --commit) or put them aside "
                    "(git stash), then run this again",
                )
                for rel in changed
            ]
        )


# ---- set -------------------------------------------------------------------------------


def with_agenix(lab: LabFiles, state: LabState) -> tuple[str | None, str | None]:
    """lab.yaml's text as it is (None: there is none yet) and with the agenix input added
    (None: it needs no change, or it is invalid and says so itself, or the lab's flake.nix
    is kept by hand). A lab made before lab.yaml, whose flake.nix is still homelab's own,
    gets one: the flake it makes has the input."""
    if state.config is not None and AGENIX in state.config.input_names:
        return None, None
    text = labyaml.read(lab.root, labconfig.LAB_YAML)
    if text is None:
        release = labyaml.release_offer(lab)
        if release is None:
            return None, None
        return None, edit.set_input(labyaml.new_text(release), AGENIX, AGENIX_URL, True)
    if state.config is None:
        return None, None
    try:
        return text, edit.set_input(text, AGENIX, AGENIX_URL, True)
    except EditError as err:
        raise InvalidInput(
            [
                Problem(
                    Place(labconfig.LAB_YAML),
                    f"cannot add the {AGENIX} input: {err}",
                    hint=f'add it by hand: inputs: {{{AGENIX}: {{url: "{AGENIX_URL}"}}}}',
                )
            ]
        ) from None


def set_secret(lab: LabFiles, name: str, plaintext: bytes) -> SecretsDone:
    """Encrypt `plaintext` as secret `name` to the hosts that use it and every admin,
    adding the agenix input to lab.yaml when it lacks it; commit what changed."""
    check_name(name)
    repo_writable(lab)
    state = lab.load()
    wanted = readers(state, name)
    keys = store.recipients(wanted)
    said: list[str] = []
    if not keys:
        hosts = [r.name for r in wanted if r.kind == "host"]
        raise SecretsError(
            f"nobody could open secret {name}: "
            + (
                f"{names_text(hosts)} {'has' if len(hosts) == 1 else 'have'} no ed25519 host key "
                "pinned and "
                if hosts
                else "no host uses it and "
            )
            + "lab.yaml lists no admins",
            "add yourself: homelab secrets admin add NAME "
            '"$(age-keygen -y ~/.config/homelab/age.key)"',
        )
    data = crypt.encrypt(plaintext, keys)
    base, text = with_agenix(lab, state)
    files: list[str] = []
    if text is not None:
        lab_yaml_committed(lab)
        saved = labyaml.save(lab, text, base)  # refuses, writing nothing, on a hand-kept flake
        files.extend(saved.written)
        if base is None:
            said.append(
                f"lab.yaml created with the {AGENIX} input ({AGENIX_URL}); flake.nix is "
                "made from it now"
            )
        else:
            said.append(f"lab.yaml: the {AGENIX} input added ({AGENIX_URL}), flake.nix made anew")
        said.append(LOCK)
    elif state.config is None and any(r.kind == "host" for r in wanted):
        said.append(
            f"this lab's flake.nix is kept by hand: it needs an {AGENIX} input for the hosts "
            "to open encrypted secrets"
        )
    files.insert(0, store.write_encrypted(lab.root, name, data))
    said.extend(keyless(wanted, name))
    if not any(r.kind == "host" for r in wanted):
        said.append(
            f"no host uses {name} yet: name it in a setting as {{secret: {name}}}, or in "
            "lab.yaml (the domain's credentials, a wiring password, the builds' keys)"
        )
    if not any(r.kind == "admin" for r in wanted):
        said.append(f"no admin can open {name}: add yourself with `homelab secrets admin add`")
    said.extend(unread_hosts(state))
    subject = f"Secret {name} set: readable by {readable_by(wanted)}"
    sha = commit_files(lab, files, subject, [s for s in said if s != LOCK])
    said.insert(0, subject)
    return SecretsDone(tuple(files), sha, tuple(said), ())


# ---- rekey -----------------------------------------------------------------------------


def rekey_each(
    lab: LabFiles,
    state: LabState,
    names: Sequence[str],
    key: AdminKey,
    admins: Sequence[tuple[str, Recipient]] | None = None,
) -> tuple[list[tuple[str, bytes, tuple[Reader, ...], int]], list[str], list[str]]:
    """New ciphertexts for these secrets (nothing written): (name, data, readers, keys
    dropped) each; lines to say; the names that could not be rekeyed."""
    out: list[tuple[str, bytes, tuple[Reader, ...], int]] = []
    said: list[str] = []
    stale: list[str] = []
    for name in names:
        wanted = readers(state, name, admins)
        found = _state(state, name, wanted)
        data = _ciphertext(lab, name)
        if found is None or data is None or not found.encrypted:
            stale.append(name)
            said.append(f"{name}: {secretrefs.file_of(name)} is not an age file: not rekeyed")
            continue
        keys = store.recipients(wanted)
        if not keys:
            stale.append(name)
            said.append(f"{name}: nobody left to encrypt it to: not rekeyed")
            continue
        try:
            plaintext = crypt.decrypt(data, key, found.file)
        except SecretsError:
            stale.append(name)
            said.append(f"{name}: your key ({key.path}) cannot open it: not rekeyed")
            continue
        out.append((name, crypt.encrypt(plaintext, keys), wanted, found.others))
        del plaintext
        said.extend(keyless(wanted, name))
    return out, said, stale


def stale_names(
    state: LabState, admins: Sequence[tuple[str, Recipient]] | None = None
) -> list[str]:
    assert state.secrets is not None
    out = []
    for name in sorted(state.secrets.secrets):
        found = _state(state, name, readers(state, name, admins))
        if found is not None and found.stale:
            out.append(name)
    return out


def _need_key(what: str) -> SecretsError:
    return SecretsError(f"{what} needs an admin's key", crypt.NO_IDENTITY_HINT)


def rekey_secrets(
    lab: LabFiles, names: Sequence[str] = (), key: AdminKey | None = None
) -> SecretsDone:
    """Encrypt anew the stale secrets (or these) to exactly their readers; commit."""
    for name in names:
        check_name(name)
    if key is None:
        raise _need_key("rekeying")
    repo_writable(lab)
    state = lab.load()
    assert state.secrets is not None
    unknown = [
        n for n in names if n not in state.secrets.secrets or not state.secrets.secrets[n].present
    ]
    if unknown:
        raise SecretsError(
            f"no secret named {names_text(unknown)} in {secretrefs.FOLDER}/",
            "`homelab secrets list` shows the lab's secrets",
        )
    targets = list(dict.fromkeys(names)) if names else stale_names(state)
    if not targets:
        no_key = [
            line for n in sorted(state.secrets.secrets) for line in keyless(readers(state, n), n)
        ]
        fine = "every secret is encrypted to exactly its readers that have a key"
        return SecretsDone((), None, (fine, *no_key), ())
    made, said, stale = rekey_each(lab, state, targets, key)
    files = [store.write_encrypted(lab.root, n, data) for n, data, _, _ in made]
    body: list[str] = []
    for n, _, wanted, dropped in made:
        if len(made) > 1:
            body.append(f"{n}: readable by {readable_by(wanted)}")
        if dropped:
            body.append(f"{n}: {dropped} key(s) no longer the lab's dropped; {ROTATE}")
    done = [n for n, _, _, _ in made]
    subject = (
        f"Secret {done[0]} rekeyed: readable by {readable_by(made[0][2])}"
        if len(done) == 1
        else f"Secrets rekeyed: {names_text(done)}"
    )
    if files:
        said.extend(unread_hosts(state))
    sha = commit_files(lab, files, subject, [*body, *said]) if files else None
    lines = ([subject] if files else []) + body + said
    for n in stale:
        lines.append(f"{n} left stale")
    return SecretsDone(tuple(files), sha, tuple(lines), tuple(stale))
