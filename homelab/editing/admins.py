"""lab.yaml's admins, added and removed: lab.yaml edited (comments kept) and every secret
rekeyed to the admins it then names, in one commit. Without the admin's key the secrets
are left stale, and that is said with what to run."""

from __future__ import annotations

import re

from homelab import labconfig
from homelab.editing import labyaml
from homelab.editing.secrets import (
    ROTATE,
    SecretsDone,
    commit_files,
    lab_yaml_committed,
    names_text,
    rekey_each,
    repo_writable,
    stale_names,
    unread_hosts,
)
from homelab.errors import InvalidInput, Place, Problem
from homelab.labfiles import LabFiles
from homelab.profile.edit import EditError, delete_value, set_value
from homelab.secrets import store
from homelab.secrets.crypt import AdminKey
from homelab.secrets.keys import parse_recipient
from homelab.secrets.view import Reader

__all__ = ["add_admin", "remove_admin"]

ADMINS = "admins"
ADMIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def _lab_yaml(lab: LabFiles) -> str:
    text = labyaml.read(lab.root, labconfig.LAB_YAML)
    if text is None:
        raise InvalidInput(
            [
                Problem(
                    Place(labconfig.LAB_YAML),
                    "the lab has no lab.yaml to list admins in, and its flake.nix is kept "
                    "by hand (a lab.yaml would make it anew)",
                    hint="make a lab.yaml in the editor's Lab screen (homelab tui, f5), or keep "
                    "the secrets' readers by hand",
                )
            ]
        )
    return text


def _admin_edit(
    lab: LabFiles,
    text: str | None,
    new: str,
    subject: str,
    said: list[str],
    key: AdminKey | None,
) -> SecretsDone:
    """Write lab.yaml as `new` and rekey every secret to its readers with the admins it
    names (with `key`; without, they are left stale and that is said); one commit."""

    def lab_file(rel: str) -> str | None:
        return new if rel == labconfig.LAB_YAML else labyaml.read(lab.root, rel)

    config, problems = labconfig.parse(new, lab_file)
    if problems or config is None:
        raise InvalidInput(
            problems or [Problem(Place(labconfig.LAB_YAML), "lab.yaml cannot be read")]
        )
    repo_writable(lab)
    lab_yaml_committed(lab)
    state = lab.load()
    assert state.secrets is not None
    admins = [(a.name, a.key) for a in config.admins]
    everything = [n for n, s in sorted(state.secrets.secrets.items()) if s.encrypted]
    made: list[tuple[str, bytes, tuple[Reader, ...], int]] = []
    stale: list[str] = []
    if key is not None:
        made, more, stale = rekey_each(lab, state, everything, key, admins)
        said.extend(more)
    else:
        stale = stale_names(state, admins)
    saved = labyaml.save(lab, new, text)
    files = list(saved.written)
    files += [store.write_encrypted(lab.root, n, data) for n, data, _, _ in made]
    if made:
        said.append(f"rekeyed: {names_text([n for n, _, _, _ in made])}")
        said.extend(unread_hosts(state))
    if stale:
        said.append(
            f"left stale: {names_text(stale)}: an admin whose key opens them runs "
            "`homelab secrets rekey`"
        )
    sha = commit_files(lab, files, subject, said)
    return SecretsDone(tuple(files), sha, (subject, *said), tuple(stale))


def add_admin(lab: LabFiles, name: str, public_key: str, key: AdminKey | None) -> SecretsDone:
    """lab.yaml's admins with `name` (its key replaced when it is one already), and every
    secret rekeyed to include it; one commit."""
    if not ADMIN_NAME.fullmatch(name):
        raise InvalidInput(
            [
                Problem(
                    Place("admin name"),
                    f"{name!r} is not an admin's name",
                    hint="letters, digits, '.', '_', '@' and '-', starting with a letter or digit",
                )
            ]
        )
    found = parse_recipient(public_key)
    if isinstance(found, str):
        raise InvalidInput(
            [
                Problem(
                    Place("admin key"),
                    f"{name}'s key {found}",
                    hint="age-keygen -y FILE prints an age key's public key",
                )
            ]
        )
    said: list[str] = []
    base = labyaml.read(lab.root, labconfig.LAB_YAML)
    release = labyaml.release_offer(lab) if base is None else None
    if base is None and release is not None:  # a lab made before lab.yaml: make it one
        text = labyaml.new_text(release)
        said.append(f"lab.yaml created (release {release}); flake.nix is made from it now")
    else:
        text = _lab_yaml(lab)
    config = labconfig.parse(text, lambda rel: labyaml.read(lab.root, rel))[0]
    admins = {a.name: a.key for a in config.admins} if config is not None else {}
    for other, k in admins.items():
        if k == found and other != name:
            raise InvalidInput(
                [Problem(Place(labconfig.LAB_YAML), f"that key is already admin {other}'s")]
            )
    if admins.get(name) == found:
        raise InvalidInput(
            [Problem(Place(labconfig.LAB_YAML), f"{name} is already an admin with that key")]
        )
    if name in admins:
        subject = f"Admin {name}'s key replaced"
        said.append(f"{name}'s old key is dropped from every secret; {ROTATE}")
    else:
        subject = f"Admin {name} added"
    try:
        new = set_value(text, (ADMINS, name), found.text)
    except EditError as err:
        raise InvalidInput([Problem(Place(labconfig.LAB_YAML), str(err))]) from None
    return _admin_edit(lab, base, new, subject, said, key)


def remove_admin(lab: LabFiles, name: str, key: AdminKey | None) -> SecretsDone:
    """lab.yaml's admins without `name`, and every secret rekeyed without it; one commit.
    The values should be changed: the admin may have kept copies."""
    text = labyaml.read(lab.root, labconfig.LAB_YAML)
    if text is None:
        raise InvalidInput(
            [Problem(Place(labconfig.LAB_YAML), f"{name} is not an admin: the lab has no lab.yaml")]
        )
    config = labconfig.parse(text, lambda rel: labyaml.read(lab.root, rel))[0]
    names = [a.name for a in config.admins] if config is not None else []
    if name not in names:
        raise InvalidInput(
            [
                Problem(
                    Place(labconfig.LAB_YAML),
                    f"{name} is not an admin"
                    + (f" (the admins: {names_text(names)})" if names else ": lab.yaml lists none"),
                )
            ]
        )
    if names == [name]:
        state = lab.load()
        assert state.secrets is not None
        if any(s.encrypted for s in state.secrets.secrets.values()):
            raise InvalidInput(
                [
                    Problem(
                        Place(labconfig.LAB_YAML),
                        f"{name} is the last admin: without one nobody could change the "
                        "lab's secrets or who reads them",
                        hint="add the new admin first: homelab secrets admin add NAME KEY",
                    )
                ]
            )
    try:
        new = delete_value(text, (ADMINS,) if names == [name] else (ADMINS, name))
    except EditError as err:
        raise InvalidInput([Problem(Place(labconfig.LAB_YAML), str(err))]) from None
    said = [
        f"{name} may have kept copies of the secrets' values: change each value itself "
        "(homelab secrets edit NAME)"
    ]
    return _admin_edit(lab, text, new, f"Admin {name} removed", said, key)
