"""The copy-at-apply `secrets:` entries moved into the lab's encrypted files (`homelab
secrets migrate`): each source encrypted to the hosts that use it and the admins as
encrypted/NAME.age, its `source:` line taken out of the profile or fragment that writes
it. Everything is checked, and encrypted in memory, before anything is written; one
commit. The plaintext is only ever bytes in memory.

Also what the agenix import shares with it: an encrypted file already in the lab is never
overwritten with another value.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, replace

from homelab import labconfig
from homelab.editing import labyaml
from homelab.editing.drafts import FOLDER as DRAFTS
from homelab.editing.secrets import (
    SecretsDone,
    keyless,
    lab_yaml_committed,
    names_text,
    readable_by,
    readers,
    repo_writable,
    with_agenix,
)
from homelab.errors import InvalidInput, Place, Problem, format_path
from homelab.history.commit import commit_paths, state_at
from homelab.history.repo import open_repository
from homelab.history.revert import uncommitted
from homelab.labfiles import PROFILE, LabFiles, LabState
from homelab.profile import secretrefs
from homelab.profile.edit import EditError, delete_value, get_value
from homelab.secrets import crypt, store
from homelab.secrets.crypt import AdminKey, SecretsError
from homelab.source import DiskSource, Source, Unreadable, read_file
from homelab.write import apply_plan, atomic_write, generated_files

__all__ = ["HAND_KEPT", "clash", "commit_subject", "existing", "migrate_secrets"]

SOURCE_LIMIT = 16 << 20  # a copy-at-apply secret is a password or a key file, not this
HAND_KEPT = (
    "this lab's flake.nix is kept by hand: it needs an agenix input (passed to the hosts as "
    "`inputs`) for the machines to open encrypted secrets"
)


def existing(lab: LabFiles, name: str) -> bytes | None:
    """The bytes of encrypted/NAME.age when the lab has it."""
    try:
        return DiskSource(lab.root).read_bytes(secretrefs.file_of(name))
    except Unreadable as err:
        raise InvalidInput(
            [Problem(Place(secretrefs.file_of(name)), err.reason, hint=err.hint)]
        ) from None


def clash(name: str, key: AdminKey | None, other: str) -> Problem:
    """Why encrypted/NAME.age is not overwritten with what `other` holds."""
    rel = secretrefs.file_of(name)
    why = (
        f"it does not hold the same value as {other} (or your key cannot open it)"
        if key is not None
        else f"without an admin's key homelab cannot tell whether it holds the same value as "
        f"{other}"
    )
    return Problem(
        Place(rel),
        f"the lab already has secret {name}, and {why}: not overwritten",
        hint=f"give one of them another name; or, to replace it, `git rm {rel}` first"
        + ("" if key is not None else " (or point --identity at an admin's key)"),
    )


def commit_subject(start: str, names: Sequence[str]) -> str:
    """`start` and the secrets' names, as many as a subject line holds."""
    said = start + ", ".join(names)
    for kept in range(len(names) - 1, 0, -1):
        if len(said) <= labyaml.SUBJECT_WIDTH:
            break
        said = start + ", ".join(names[:kept]) + f" and {len(names) - kept} more"
    return said


# ---- migrate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Copied:
    """A copy-at-apply `secrets:` entry of a host, and where its source: line is."""

    folder: str
    host: str
    name: str
    source: str
    place: Place  # of the source: value (in the profile or the fragment that writes it)


def _copied(state: LabState) -> list[_Copied]:
    """Every copy-at-apply entry, read from the hosts' merged documents: a host with a
    problem still shows its entries (and the problem then refuses the move)."""
    found: list[_Copied] = []
    for folder, host in sorted(state.hosts.items()):
        doc = host.document
        data = doc.data if doc is not None else None
        entries = data.get("secrets") if isinstance(data, dict) else None
        if doc is None or not isinstance(entries, dict):
            continue
        named = host.profile.name if host.profile is not None else folder
        top = Place(f"hosts/{folder}/{PROFILE}")
        for name, spec in entries.items():
            source = spec.get("source") if isinstance(spec, dict) else None
            if isinstance(source, str) and source:
                place = doc.marks.value(("secrets", name, "source"), top)
                found.append(_Copied(folder, named, str(name), posixpath.normpath(source), place))
    return found


def _unreadable_folders(state: LabState) -> list[str]:
    """Host folders whose profile could not be read at all: their secrets are unknown."""
    return [folder for folder, host in sorted(state.hosts.items()) if host.document is None]


class _WithFiles:
    """The working tree with the encrypted files about to be written (to check the lab
    as it will be, before a byte is written)."""

    def __init__(self, base: Source, files: dict[str, bytes]) -> None:
        self.base, self.files = base, files

    def read(self, rel: str) -> str | None:
        if rel in self.files:
            return self.files[rel].decode("utf-8")  # age's bytes: UnicodeDecodeError, as on disk
        return self.base.read(rel)

    def read_bytes(self, rel: str) -> bytes | None:
        if rel in self.files:
            return self.files[rel]
        reader = getattr(self.base, "read_bytes", None)
        return reader(rel) if reader is not None else None

    def listdir(self, rel: str) -> list[str]:
        names = set(self.base.listdir(rel))
        prefix = rel.rstrip("/") + "/"
        names.update(p[len(prefix) :].split("/", 1)[0] for p in self.files if p.startswith(prefix))
        return sorted(names)


def _refusals(lab: LabFiles, state: LabState, moves: Sequence[_Copied]) -> list[Problem]:
    """Why these entries cannot move, before anything is read or written."""
    problems: list[Problem] = []
    folders = sorted({m.folder for m in moves} | set(_unreadable_folders(state)))
    problems.extend(state.all_problems(folders))
    by_name: dict[str, list[_Copied]] = {}
    for m in moves:
        by_name.setdefault(m.name, []).append(m)
    for name, ms in sorted(by_name.items()):
        if not secretrefs.NAME.fullmatch(name):
            problems.append(
                Problem(
                    ms[0].place,
                    f"secret {name!r} cannot be an encrypted secret's name",
                    path=format_path(("secrets", name)),
                    hint=f"{secretrefs.NAME_HINT}: rename the entry, then migrate",
                )
            )
        first = ms[0]
        for other in ms[1:]:
            if other.source != first.source:
                problems.append(
                    Problem(
                        other.place,
                        f"secret {name} is copied from {other.source} on {other.host}, but "
                        f"from {first.source} on {first.host} ({first.place}): one encrypted "
                        "file cannot hold both",
                        path=format_path(("secrets", name, "source")),
                        hint="give one of them another name (a secret per value), then migrate",
                    )
                )
    for folder in folders:
        if (lab.root / DRAFTS / f"{folder}.json").exists():
            problems.append(
                Problem(
                    Place(f"hosts/{folder}/{PROFILE}"),
                    "has unsaved changes in the editor: not changed under them",
                    hint="save or discard them in the editor (homelab tui), then migrate",
                )
            )
    return problems


def _sources(lab: LabFiles, moves: Sequence[_Copied]) -> tuple[dict[str, bytes], list[Problem]]:
    """Each secret's plaintext, read from its source (in memory only)."""
    values: dict[str, bytes] = {}
    problems: list[Problem] = []
    for m in moves:
        if m.name in values:
            continue
        try:
            data = read_file(lab.root, m.source, SOURCE_LIMIT)
        except Unreadable as err:
            problems.append(
                Problem(m.place, f"secret source {m.source}: {err.reason}", hint=err.hint)
            )
            continue
        if data is None:
            problems.append(
                Problem(
                    m.place,
                    f"secret source {m.source} is missing: there is nothing to encrypt",
                    path=format_path(("secrets", m.name, "source")),
                    hint=f"put the value in {m.source}, then migrate",
                )
            )
            continue
        values[m.name] = data
    return values, problems


def _edited(lab: LabFiles, moves: Sequence[_Copied]) -> tuple[dict[str, str], list[Problem]]:
    """The profiles and fragments without the moved entries' source: lines (comments and
    every other line kept)."""
    disk = DiskSource(lab.root)
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for m in moves:
        rel = m.place.file
        path = ("secrets", m.name, "source")
        try:
            text = texts[rel] if rel in texts else disk.read(rel)
        except (Unreadable, UnicodeDecodeError) as err:
            problems.append(Problem(m.place, f"cannot read {rel}: {err}"))
            continue
        if text is None:
            problems.append(Problem(m.place, f"{rel} is gone"))
            continue
        try:
            get_value(text, path)
        except KeyError:
            continue  # a fragment of several hosts: taken out for the first of them
        try:
            texts[rel] = delete_value(text, path)
        except EditError as err:
            problems.append(Problem(m.place, f"cannot take out {format_path(path)}: {err}"))
    return texts, problems


def _left(after: LabState, moves: Sequence[_Copied]) -> list[Problem]:
    """Entries that would still be copied at apply after the edits (a safety net: the
    place their source: line was read from must be where it is written)."""
    still = {(m.folder, m.name) for m in _copied(after)}
    return [
        Problem(
            m.place,
            f"cannot take out the source of secret {m.name} on {m.host}",
            path=format_path(("secrets", m.name, "source")),
            hint="remove its `source:` line by hand, then `homelab secrets set "
            f"{m.name} < {m.source}`",
        )
        for m in moves
        if (m.folder, m.name) in still
    ]


def _nobody(name: str, hosts: Sequence[str]) -> Problem:
    return Problem(
        Place(secretrefs.file_of(name)),
        f"nobody could open secret {name}: {names_text(hosts)} "
        f"{'has' if len(hosts) == 1 else 'have'} no ed25519 host key pinned and lab.yaml "
        "lists no admins",
        hint="add yourself (homelab secrets admin add NAME KEY), or pin the hosts' keys "
        "(homelab apply --accept-new HOST), then migrate",
    )


def migrate_secrets(lab: LabFiles, key: AdminKey | None = None) -> SecretsDone:
    """Every copy-at-apply `secrets:` entry (a plaintext file in the lab's secrets/ folder
    copied by apply) becomes an encrypted secret: the file encrypted to the hosts that use
    it and the admins as encrypted/NAME.age, and the entry's `source:` taken out (its
    target, owner, group and mode stay: agenix installs the file there). One commit;
    nothing written when anything is wrong. An encrypted/NAME.age already there is only
    replaced when it holds the same value, which takes an admin's `key` to tell."""
    repo_writable(lab)
    state = lab.load()
    moves = _copied(state)
    if not moves and not _unreadable_folders(state):
        return SecretsDone((), None, ("no secret is copied at apply: nothing to migrate",), ())
    problems = _refusals(lab, state, moves)
    if problems:
        raise InvalidInput(problems)
    values, problems = _sources(lab, moves)
    texts, more = _edited(lab, moves)
    problems += more
    if problems:
        raise InvalidInput(problems)
    base, lab_yaml = with_agenix(lab, state)
    if lab_yaml is not None:
        texts[labconfig.LAB_YAML] = lab_yaml
    after = lab.load(texts=texts)  # the hosts as they will be: who reads each secret
    problems = _left(after, moves)
    encrypted: dict[str, bytes] = {}
    said: list[str] = []
    for name, value in sorted(values.items()):
        wanted = readers(after, name)
        keys = store.recipients(wanted)
        if not keys:
            problems.append(_nobody(name, sorted({m.host for m in moves if m.name == name})))
            continue
        old = existing(lab, name)
        if old is not None and _opens(old, key) != value:
            problems.append(clash(name, key, f"its source {_source_of(moves, name)}"))
            continue
        encrypted[secretrefs.file_of(name)] = crypt.encrypt(value, keys)
        said.append(
            f"{name}: readable by {readable_by(wanted)}"
            + (" (encrypted/ held the same value: encrypted anew)" if old is not None else "")
        )
        said.extend(keyless(wanted, name))
    del values
    if problems:
        raise InvalidInput(problems)
    return _write_migration(lab, state, moves, texts, encrypted, base, said)


def _source_of(moves: Sequence[_Copied], name: str) -> str:
    return next(m.source for m in moves if m.name == name)


def _opens(data: bytes, key: AdminKey | None) -> bytes | None:
    """The value of an age file, when the admin's key opens it."""
    if key is None:
        return None
    try:
        return crypt.decrypt(data, key)
    except SecretsError:
        return None


def _commit_hosts(
    lab: LabFiles, files: Sequence[str], folders: Sequence[str], subject: str, body: list[str]
) -> str | None:
    """Commit these files; the message also says what changed in these hosts' profiles
    (their source: lines: nothing else of theirs was uncommitted, that was refused)."""
    lr = open_repository(lab.root, create=True)
    head = lr.head()
    done = commit_paths(
        lab, lr, set(files), state_at(lab, lr, head), lab.load(), head, folders=folders,
        message="\n".join(body) or None, subject=lambda _: subject,
    )  # fmt: skip
    return done[0] if done is not None else None


def _write_migration(
    lab: LabFiles,
    state: LabState,
    moves: Sequence[_Copied],
    texts: dict[str, str],
    encrypted: dict[str, bytes],
    base: str | None,
    said: list[str],
) -> SecretsDone:
    """Check the lab as it will be (texts and encrypted files on top of the working tree),
    then write it all and make one commit."""
    folders = sorted({m.folder for m in moves})
    checked = lab.load(texts=texts, source=_WithFiles(DiskSource(lab.root), encrypted))
    problems = checked.all_problems(folders)
    if problems:
        raise InvalidInput(
            [*problems, Problem(Place(str(lab.root)), "the lab would not be valid: nothing moved")]
        )
    plan = lab.plan_build(checked, folders, lab.generated(checked, folders))
    lr = open_repository(lab.root, create=True)
    dirty = uncommitted(lr, set(texts)) if lr.head() else []
    if dirty:
        raise InvalidInput(
            [
                replace(
                    p,
                    message="has changes that are not committed: not changed under them",
                    hint="commit them (`homelab build --commit`) or discard them, then migrate",
                )
                for p in dirty
            ]
        )
    if plan.edited:
        apply_plan(lab.root, plan)  # refuses, naming the hand-edited files; writes nothing
    if labconfig.LAB_YAML in texts:
        lab_yaml_committed(lab)
    # from here on, write: lab.yaml (and its flake.nix), the encrypted files, the
    # profiles, their generated Nix
    lab_yaml = texts.pop(labconfig.LAB_YAML, None)
    files: list[str] = []
    if lab_yaml is not None:
        files.extend(labyaml.save(lab, lab_yaml, base).written)
        said.append("lab.yaml: the agenix input added; flake.lock needs it: `homelab lock`")
    elif state.config is None:
        said.append(HAND_KEPT)
    before = {p for f in folders for p in generated_files(DiskSource(lab.root), f)}
    for rel, data in encrypted.items():
        name = posixpath.basename(rel).removesuffix(".age")
        files.append(store.write_encrypted(lab.root, name, data))
    for rel, text in texts.items():
        atomic_write(lab.root / rel, text)
        files.append(rel)
    built = apply_plan(lab.root, plan)
    files += [*built.written, *built.deleted]
    names = sorted({m.name for m in moves})
    sources = sorted({m.source for m in moves})
    hosts = sorted({m.host for m in moves})
    said.append(
        f"the plaintext {names_text(sources)} {'is' if len(sources) == 1 else 'are'} untouched: "
        f"delete {'it' if len(sources) == 1 else 'them'} once {names_text(hosts)} "
        f"{'is' if len(hosts) == 1 else 'are'} deployed (homelab apply)"
    )
    subject = commit_subject("Secrets encrypted, no longer copied at apply: ", names)
    body = [s for s in said if "homelab lock" not in s]
    sha = _commit_hosts(lab, sorted({*files, *before}), folders, subject, body)
    return SecretsDone(tuple(dict.fromkeys(files)), sha, (subject, *said), ())
