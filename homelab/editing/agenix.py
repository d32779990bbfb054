"""agenix's `secrets.nix` read, and its secrets imported into the lab's encrypted/ folder
(`homelab secrets import`).

secrets.nix is a Nix expression, so the real nix-instantiate reads it, in restricted
mode: it may read files in the folder of secrets.nix only, fetch no URL, build nothing (a
dummy store: no import from derivation), and sees no nix.conf, NIX_PATH or environment
of the person's (pure evaluation would refuse the file itself: Nix 2.8 reads no path
outside the store in pure mode). Everything is checked, and each file encrypted anew in
memory, before anything is written; one commit.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homelab.editing import labyaml
from homelab.editing.secretmoves import HAND_KEPT, clash, commit_subject, existing
from homelab.editing.secrets import (
    SecretsDone,
    commit_files,
    keyless,
    lab_yaml_committed,
    names_text,
    readable_by,
    readers,
    repo_writable,
    with_agenix,
)
from homelab.errors import InvalidInput, Place, Problem
from homelab.labfiles import LabFiles, LabState
from homelab.profile import secretrefs
from homelab.secrets import crypt, store
from homelab.secrets.agefile import stanzas
from homelab.secrets.crypt import AdminKey, SecretsError
from homelab.secrets.keys import Recipient, parse_recipient, shorten
from homelab.secrets.view import SecretState

__all__ = ["AgenixEntry", "import_agenix", "read_secrets_nix"]

NIX = "nix-instantiate"
NIX_TIMEOUT = 60  # seconds: a list of keys evaluates in a blink
NIX_MISSING_HINT = (
    "install Nix (Debian: apt install nix-bin) to read secrets.nix: homelab evaluates it "
    "with the real nix-instantiate, as agenix does"
)
AGE_LIMIT = 16 << 20  # an agenix secret is a password or a key file, not this
SAID_LIMIT = 2000  # characters of Nix's error shown


# ---- reading an agenix secrets.nix -------------------------------------------------------


@dataclass(frozen=True)
class AgenixEntry:
    """One secret of secrets.nix: its key there (`wifi.age`, the file's path beside
    secrets.nix) and the public keys agenix encrypts it to."""

    key: str
    public_keys: tuple[str, ...]

    @property
    def name(self) -> str:
        return posixpath.normpath(self.key).removesuffix(".age")


def _nix_env(home: Path) -> dict[str, str]:
    """Nix's environment: a private HOME and state, no NIX_PATH, no config of the person's
    (NIX_CONF_DIR points at an empty folder: no nix.conf can turn restrictions off)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    for var, sub in (
        ("NIX_STATE_DIR", "state"),
        ("NIX_LOG_DIR", "log"),
        ("NIX_CONF_DIR", "conf"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
    ):
        (home / sub).mkdir(exist_ok=True)
        env[var] = str(home / sub)
    return env


def _nix_error(text: str) -> str:
    lines = [
        line.rstrip() for line in text.splitlines() if line.strip() and "--show-trace" not in line
    ]
    said = "\n    ".join(lines) or "nix-instantiate failed without saying why"
    return said if len(said) <= SAID_LIMIT else said[: SAID_LIMIT - 1] + "…"


def evaluate_secrets_nix(path: Path) -> Any:
    """secrets.nix evaluated by nix-instantiate (--eval --strict --json), in restricted
    mode. InvalidInput with Nix's own words when it does not evaluate."""
    shown = str(path)
    nix = shutil.which(NIX)
    if nix is None:
        raise InvalidInput(
            [Problem(Place(shown), f"{NIX} is not installed", hint=NIX_MISSING_HINT)]
        )
    folder = path.parent
    with tempfile.TemporaryDirectory(prefix="homelab-nix-") as home:
        args = [
            nix,
            "--store", "dummy://",  # nothing can be built or fetched into a store
            "--readonly-mode",
            "--option", "restrict-eval", "true",  # files under -I only
            "--option", "allowed-uris", "",  # no URL at all
            "--option", "allow-import-from-derivation", "false",
            "--option", "allow-unsafe-native-code-during-evaluation", "false",
            "-I", str(folder),
            "--eval", "--strict", "--json", str(path),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                args,
                capture_output=True,
                env=_nix_env(Path(home)),
                cwd=folder,
                stdin=subprocess.DEVNULL,
                timeout=NIX_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise InvalidInput(
                [Problem(Place(shown), f"{NIX} did not finish in {NIX_TIMEOUT} seconds")]
            ) from None
        except OSError as err:
            raise InvalidInput(
                [Problem(Place(shown), f"{NIX} could not run: {err}", hint=NIX_MISSING_HINT)]
            ) from None
    if done.returncode != 0:
        raise InvalidInput(
            [
                Problem(
                    Place(shown),
                    "does not evaluate (read with nix-instantiate in restricted mode: only "
                    "files beside it, no network):\n    "
                    + _nix_error(done.stderr.decode("utf-8", "replace")),
                    hint="it must be agenix's secrets.nix: "
                    '{ "NAME.age".publicKeys = [ KEY ... ]; ... }',
                )
            ]
        )
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise InvalidInput(
            [Problem(Place(shown), f"{NIX} printed something that is not JSON")]
        ) from None


def read_secrets_nix(path: Path) -> list[AgenixEntry]:
    """The entries of an agenix secrets.nix. InvalidInput (every problem at once) when it
    does not evaluate, or is not a set of `NAME.age = { publicKeys = [...]; }`."""
    shown = str(path)
    if not path.is_file():
        why = "there is no such file" if not path.exists() else "it is not a file"
        raise InvalidInput(
            [Problem(Place(shown), why, hint="give the path of agenix's secrets.nix")]
        )
    data = evaluate_secrets_nix(path)
    if not isinstance(data, dict):
        raise InvalidInput(
            [
                Problem(
                    Place(shown),
                    "is not an attribute set of secrets",
                    hint='agenix\'s form: { "NAME.age".publicKeys = [ KEY ... ]; }',
                )
            ]
        )
    entries: list[AgenixEntry] = []
    problems: list[Problem] = []
    for key, value in data.items():
        keys = value.get("publicKeys") if isinstance(value, dict) else None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            problems.append(
                Problem(
                    Place(shown),
                    f'"{key}" has no publicKeys list of strings',
                    hint=f'"{key}".publicKeys = [ "ssh-ed25519 AAAA..." ];',
                )
            )
            continue
        entries.append(AgenixEntry(key, tuple(keys)))
    if problems:
        raise InvalidInput(problems)
    return entries


def _name_problem(entry: AgenixEntry, shown: str) -> Problem | None:
    if not entry.key.endswith(".age"):
        return Problem(
            Place(shown),
            f'"{entry.key}" does not name a .age file',
            hint="agenix names each secret by its file, NAME.age",
        )
    if not secretrefs.NAME.fullmatch(entry.name):
        return Problem(
            Place(shown),
            f'"{entry.key}": {entry.name!r} cannot be a secret\'s name in the lab',
            hint=f"{secretrefs.NAME_HINT}: rename the file and its entry (e.g. "
            f"{_fitting(entry.name)}.age), then import again",
        )
    return None


def _fitting(name: str) -> str:
    """A name like this one that the lab can have."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_")[:100] or "NAME"


def _read_age(path: Path) -> bytes | str:
    """The bytes of an .age file of the import, or why it cannot be read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "is missing"
    except OSError as err:
        return f"cannot be read: {err.strerror or err}"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size > AGE_LIMIT:
        return f"is {info.st_size:,} bytes: not a secret homelab keeps"
    try:
        return path.read_bytes()
    except OSError as err:
        return f"cannot be read: {err.strerror or err}"


# ---- whose keys those are ----------------------------------------------------------------


def _lab_keys(state: LabState) -> dict[Recipient, str]:
    """Every key the lab knows, with whose it is (`host pi`, `admin alice`): each host's
    pinned host key and age host key, and lab.yaml's admins."""
    known: dict[Recipient, str] = {}
    for _, host in sorted(state.hosts.items()):
        p = host.profile
        if p is None:
            continue
        for text in (p.deploy.age_host_key, p.deploy.host_key):
            key = parse_recipient(text) if text else None
            if isinstance(key, Recipient):
                known.setdefault(key, f"host {p.name}")
    if state.config is not None:
        for admin in state.config.admins:
            known.setdefault(admin.key, f"admin {admin.name}")
    return known


def _judged(state: LabState, name: str, data: bytes) -> SecretState:
    """An imported file judged against the readers the lab wants for `name`."""
    wanted = tuple(r for r in readers(state, name) if r.key is not None)
    return SecretState(name, secretrefs.file_of(name), True, stanzas(data), (), wanted)


def _same_value(old: bytes, new: bytes, key: AdminKey | None) -> bool:
    """Do two age files hold the same value? Equal bytes do; otherwise only an admin's
    key can tell (opened in memory, compared, dropped)."""
    if old == new:
        return True
    if key is None:
        return False
    try:
        return crypt.decrypt(old, key) == crypt.decrypt(new, key)
    except SecretsError:
        return False


# ---- import ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Import:
    name: str
    data: bytes  # as it will be written
    readers: str  # who can open it, in words
    stale: bool
    rekeyed: bool = False


def import_agenix(lab: LabFiles, path: Path, key: AdminKey | None = None) -> SecretsDone:
    """Copy the secrets of an agenix secrets.nix (its .age files beside it) into the lab's
    encrypted/ folder; with an admin's key, each is encrypted anew to exactly the readers
    the lab wants (the hosts that use it, the admins), else copied as it is and said
    stale. Keys of secrets.nix that are neither a host of the lab nor an admin are named.
    One commit; nothing written when anything is wrong."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / "secrets.nix"
    path = path.resolve()
    shown = str(path)
    entries = read_secrets_nix(path)
    repo_writable(lab)
    state = lab.load()
    known = _lab_keys(state)
    problems: list[Problem] = []
    sources: list[tuple[AgenixEntry, bytes]] = []
    seen: dict[str, str] = {}
    for entry in entries:
        wrong = _name_problem(entry, shown)
        if wrong is None and seen.setdefault(entry.name, entry.key) != entry.key:
            wrong = Problem(
                Place(shown), f'"{entry.key}" and "{seen[entry.name]}" are the same file'
            )
        if wrong is not None:
            problems.append(wrong)
            continue
        file = path.parent / posixpath.normpath(entry.key)
        data = _read_age(file)
        if isinstance(data, str):
            problems.append(
                Problem(Place(str(file)), f"the file of \"{entry.key}\" {data}",
                        hint=f"every entry of {path.name} needs its .age file beside it")
            )  # fmt: skip
        elif stanzas(data) is None:
            problems.append(
                Problem(
                    Place(str(file)),
                    "is not an age file: a plaintext secret under a .age name?",
                    hint="encrypt it first (agenix -e), or leave it out of secrets.nix; "
                    "homelab imports encrypted files only",
                )
            )
        else:
            sources.append((entry, data))
    if not entries:
        problems.append(Problem(Place(shown), "lists no secrets"))
    made: list[_Import] = []
    same: list[str] = []
    for entry, data in sources:
        old = existing(lab, entry.name)
        if old is not None:
            if _same_value(old, data, key):
                same.append(entry.name)
            else:
                problems.append(clash(entry.name, key, str(path.parent / entry.key)))
            continue
        made.append(_import_one(state, entry.name, data, key))
    if problems:
        raise InvalidInput(problems)
    said = _unknown_keys(entries, known)
    if same:
        said.append(f"already in the lab with the same value, left as it is: {names_text(same)}")
    if not made:
        return SecretsDone((), None, ("nothing to import", *said), ())
    base, text = with_agenix(lab, state)
    files: list[str] = []
    if text is not None:
        lab_yaml_committed(lab)
        files.extend(labyaml.save(lab, text, base).written)  # refuses before writing
        said.append("lab.yaml: the agenix input added; flake.lock needs it: `homelab lock`")
    elif state.config is None:
        said.append(HAND_KEPT)
    files[:0] = [store.write_encrypted(lab.root, m.name, m.data) for m in made]
    by_name = {e.name: e for e in entries}
    said[:0] = [
        line
        for m in made
        for line in (
            f"{m.name}: readable by {m.readers}",
            *_dropped(state, by_name[m.name], known, m.rekeyed),
            *keyless(readers(state, m.name), m.name),
        )
    ]
    stale = [m.name for m in made if m.stale]
    if stale:
        said.append(
            f"stale, imported as they were: {names_text(stale)}; an admin whose key opens them "
            "runs `homelab secrets rekey`"
        )
    unused = [m.name for m in made if not any(r.kind == "host" for r in readers(state, m.name))]
    if unused:
        said.append(
            f"no host uses {names_text(unused)} yet: name each in a setting as {{secret: NAME}} "
            "(or a secrets: entry with a target)"
            + (", then `homelab secrets rekey`" if key is not None else "")
        )
    subject = commit_subject("Secrets imported from agenix: ", [m.name for m in made])
    sha = commit_files(lab, files, subject, [s for s in said if "homelab lock" not in s])
    return SecretsDone(tuple(files), sha, (subject, *said), tuple(stale))


def _import_one(state: LabState, name: str, data: bytes, key: AdminKey | None) -> _Import:
    """One file as it will be written: encrypted anew to the lab's readers when it is
    stale and the admin's key opens it; else as it is. An age key's stanza does not say
    whose it is, so the key is tried even when the file does not look stale."""
    judged = _judged(state, name, data)
    if key is None or not judged.wanted:
        return _Import(name, data, _readers_now(judged), judged.stale)
    try:
        crypt.decrypt(data, key, name)
    except SecretsError:
        mine = any(r.key == key.public for r in judged.wanted)
        said = _readers_now(judged, key.public) + f"; your key ({key.path}) cannot open it"
        return _Import(name, data, said, judged.stale or mine)
    if not judged.stale:
        return _Import(name, data, readable_by(judged.wanted), False)
    return _Import(name, store.rekeyed(data, judged, key), readable_by(judged.wanted), False, True)


def _readers_now(judged: SecretState, cannot: Recipient | None = None) -> str:
    """Who of the lab can open the file as it is (an age key only perhaps: its stanza does
    not say whose), and how many keys besides; `cannot`: a key known not to open it."""
    sure = [r for r in judged.wanted if judged.can_read(r) is True]
    maybe = [r for r in judged.wanted if judged.can_read(r) is None and r.key != cannot]
    parts = [readable_by(sure)] if sure else []
    if maybe:
        parts.append(f"perhaps {readable_by(maybe)} (an age key's stanza does not say whose)")
    said = " and ".join(parts) or "none of the lab's hosts or admins"
    return said + (f", and {judged.others} key(s) not among them" if judged.others else "")


def _shown(text: str, key: Recipient | str) -> str:
    """A key of secrets.nix as a person finds it again: an age key whole, an SSH key by
    its end and comment."""
    if isinstance(key, str):
        return f"'{shorten(text)}' (no key age can encrypt to)"
    if key.kind == "X25519":
        return key.text
    comment = " ".join(text.split()[2:])
    return key.short + (f" ({comment})" if comment else "")


def _unknown_keys(entries: Sequence[AgenixEntry], known: dict[Recipient, str]) -> list[str]:
    """A line per key of secrets.nix that is not the lab's: which secrets name it."""
    unknown: dict[str, list[str]] = {}
    for entry in entries:
        for text in entry.public_keys:
            key = parse_recipient(text)
            if isinstance(key, Recipient) and key in known:
                continue
            unknown.setdefault(_shown(text, key), []).append(entry.name)
    return [
        f"{shown} (in secrets.nix for {names_text(names)}) is no host or admin of the lab: a "
        "person? add them under admins: in lab.yaml (homelab secrets admin add NAME KEY); "
        "a machine? pin its host key in its profile"
        for shown, names in unknown.items()
    ]


def _dropped(
    state: LabState, entry: AgenixEntry, known: dict[Recipient, str], rekeyed: bool
) -> list[str]:
    """Hosts of the lab that secrets.nix gave this secret, and a rekey to the lab's
    readers did not (their profile does not use it yet)."""
    if not rekeyed:
        return []
    using = {r.name for r in readers(state, entry.name) if r.kind == "host"}
    hosts = []
    for text in entry.public_keys:
        key = parse_recipient(text)
        who = known.get(key) if isinstance(key, Recipient) else None
        if who and who.startswith("host ") and who[5:] not in using:
            hosts.append(who[5:])
    return [
        f"{entry.name}: {host} had it in secrets.nix, but its profile does not use it, so it "
        f"is not encrypted to {host} now: name it there as {{secret: {entry.name}}} (or a "
        "secrets: entry with a target), then `homelab secrets rekey`"
        for host in dict.fromkeys(hosts)
    ]
