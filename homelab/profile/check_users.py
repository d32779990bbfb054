"""The checks of users and groups: no plaintext password, password hashes and SSH keys
that are what they say, groups that exist on the host, and what NixOS would refuse in users
and groups (root, system users, uids and gids). The host's own pinned SSH key is checked
here too, with the users' keys.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any

from homelab.catalog import Catalog, TemplateError, service_groups
from homelab.errors import Place, Problem, format_path
from homelab.profile.created import groups_in_options, groups_in_raw_nix, users_given_a_group
from homelab.profile.options import SECTION
from homelab.profile.options import settings as option_settings
from homelab.profile.schema import as_map as _map
from homelab.yamlfile import Document, Path_

_HASH = re.compile(r"^\$(y|gy|7|2[abxy]|6|5|sha1|md5|1)\$[./A-Za-z0-9$=,+-]+$")
SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
# groups every NixOS machine has or that are commonly given without a service
_PLAIN_GROUPS = {"wheel", "networkmanager", "audio", "video", "input", "dialout", "users"}
# the way out of a plaintext password, wherever it was written
PASSWORD_HINT = "use hashedPassword (make one with `mkpasswd -m yescrypt`) or hashedPasswordFile"


def ssh_key_problem(line: str, *, comment_allowed: bool = True) -> str | None:
    """Why this is not an SSH public key line, or None when it is one."""
    parts = line.strip().split()
    if len(parts) < 2:
        return "not an SSH public key: expected '<type> <base64 key> [comment]'"
    kind, blob = parts[0], parts[1]
    if kind not in SSH_KEY_TYPES:
        if "PRIVATE KEY" in line:
            return "this is a PRIVATE key: never put it in a profile"
        return f"not an SSH public key: unknown key type '{kind[:40]}'"
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return "not an SSH public key: the key part is not valid base64"
    if len(raw) < 4:
        return "not an SSH public key: the key part is too short"
    size = int.from_bytes(raw[:4], "big")
    if raw[4 : 4 + size] != kind.encode():
        return f"not an SSH public key: the key data is not of type {kind}"
    if not comment_allowed and len(parts) > 2:
        return "a pinned host key is '<type> <base64 key>' with no comment"
    return None


def user_problems(doc: Document, data: Mapping[str, Any], catalog: Catalog) -> list[Problem]:
    """The problems of `users:` and `groups:`: accounts NixOS would refuse first, then
    each user's passwords, SSH keys and groups."""
    top = Place(doc.file)
    problems: list[Problem] = []

    def at(path: Path_) -> Place:
        return doc.marks.value(path, top)

    def key_at(path: Path_) -> Place:
        return doc.marks.key(path, top)

    users = _map(data.get("users"))
    services = _map(data.get("services"))
    service_names = set(services)
    # groups the profile, its options: and its raw Nix create: a user may be put in them
    extra_text = data.get("extraConfig")
    raw = [extra_text] if isinstance(extra_text, str) else []
    written = option_settings(data.get(SECTION), (SECTION,))[0]
    created = set(_map(data.get("groups"))) | groups_in_options(written) | groups_in_raw_nix(raw)
    created |= _groups_of_services(services, catalog)
    problems.extend(
        _account_problems(doc, users, _map(data.get("groups")), users_given_a_group(written, raw))
    )

    for user, spec in users.items():
        if not isinstance(spec, dict):
            continue
        base = ("users", user)
        for word in ("password", "initialPassword"):
            if word in spec:
                problems.append(
                    Problem(
                        key_at((*base, word)),
                        f"a plaintext {word} is not allowed: "
                        "it would be stored in the world-readable Nix store",
                        path=format_path((*base, word)),
                        hint=PASSWORD_HINT,
                    )
                )
        hashed = spec.get("hashedPassword")
        if isinstance(hashed, str) and not _HASH.fullmatch(hashed):
            problems.append(
                Problem(
                    at((*base, "hashedPassword")),
                    "hashedPassword does not look like a password hash",
                    path=format_path((*base, "hashedPassword")),
                    hint="make one with `mkpasswd -m yescrypt`; "
                    "a plaintext password is not allowed",
                )
            )
        for i, key in enumerate(spec.get("sshKeys") or []):
            if isinstance(key, str) and (why := ssh_key_problem(key)):
                problems.append(
                    Problem(
                        at((*base, "sshKeys", i)),
                        why,
                        path=format_path((*base, "sshKeys", i)),
                        hint="paste the line of your ~/.ssh/id_ed25519.pub",
                    )
                )
        group_sources = catalog.group_sources()
        named: list[tuple[Path_, Any]] = [
            ((*base, "groups", i), g) for i, g in enumerate(spec.get("groups") or [])
        ]
        if "group" in spec:
            named.append(((*base, "group"), spec["group"]))
        for named_at, group in named:
            if not isinstance(group, str) or group in _PLAIN_GROUPS or group in created:
                continue
            givers = group_sources.get(group)
            if givers and not service_names.intersection(givers):
                problems.append(
                    Problem(
                        at(named_at),
                        f"group '{group}' exists only with {' or '.join(givers)}, "
                        "which this host does not enable",
                        path=format_path(named_at),
                        hint=f"add `{givers[0]}: {{}}` under services, or remove the group",
                    )
                )
    return problems


def _groups_of_services(services: Mapping[str, Any], catalog: Catalog) -> set[str]:
    """The groups the host's services bring with the settings it gives them."""
    found: set[str] = set()
    for name, settings in services.items():
        service = catalog.get(name)
        if service is None or not isinstance(settings, (dict, type(None))):
            continue
        if all(isinstance(group, str) for group in service.groups):
            found.update(service.groups)  # the module's own: no setting to read
            continue
        try:
            found.update(service_groups(service, service.with_defaults(settings)))
        except (TemplateError, ValueError, KeyError, TypeError):
            continue  # settings the schema refuses: their own problem says so
    return found


def host_key_problems(doc: Document, data: Mapping[str, Any]) -> list[Problem]:
    """The host key pinned under deploy: must be one bare SSH public key."""
    top = Place(doc.file)
    problems: list[Problem] = []

    def at(path: Path_) -> Place:
        return doc.marks.value(path, top)

    host_key = (
        (data.get("deploy") or {}).get("hostKey") if isinstance(data.get("deploy"), dict) else None
    )
    if isinstance(host_key, str) and (why := ssh_key_problem(host_key, comment_allowed=False)):
        problems.append(
            Problem(
                at(("deploy", "hostKey")),
                why,
                path="deploy.hostKey",
                hint="run `homelab apply --accept-new HOST` once to pin the key it shows, "
                "or copy it from /etc/ssh/ssh_host_ed25519_key.pub on the machine",
            )
        )
    return problems


# what NixOS gives root itself (nixos/modules/config/users-groups.nix, nixpkgs
# 005ab72f9cf5a75cdcd9ff672fb4a3b03391619f): uid 0, group root, a description at normal
# priority (a second one conflicts); and what means nothing for root
_ROOT_REFUSED = {
    "uid": ("root's uid is always 0", "remove uid"),
    "group": (
        "root's primary group is always root",
        "remove group; put root in other groups with groups:",
    ),
    "description": (
        "NixOS names root 'System administrator' itself: a second description conflicts",
        "remove description",
    ),
    "system": (
        "root is neither a system user nor a normal one: NixOS knows root",
        "remove system",
    ),
}


# the groups users-groups.nix numbers on every machine (users.groups.NAME.gid = ids.gids.NAME)
_NUMBERED_GROUPS = frozenset(
    """root wheel disk kmem tty floppy uucp lp cdrom tape audio video dialout nogroup users
    nixbld utmp adm input kvm render sgx shadow clock""".split()  # noqa: SIM905 - as listed there
)


def _account_problems(
    doc: Document, users: Mapping[str, Any], groups: Mapping[str, Any], grouped: set[str]
) -> Iterator[Problem]:
    """What NixOS would refuse in users and groups (its assertions in users-groups.nix):
    what root cannot have, a system user without a group (`grouped`: users whose group
    options: or extraConfig sets), a person's uid below 1000, an id given twice."""
    top = Place(doc.file)
    uids: dict[int, str] = {}
    for name, spec in users.items():
        if not isinstance(spec, dict):
            continue
        base: Path_ = ("users", name)
        if name == "root":
            for key, (why, hint) in _ROOT_REFUSED.items():
                if key in spec and spec[key] is not False:  # (false says what root is)
                    yield Problem(
                        doc.marks.key((*base, key), top), why, format_path((*base, key)), hint
                    )
            if spec.get("admin") is True:
                yield Problem(
                    doc.marks.key((*base, "admin"), top),
                    "root may do everything already: admin (group wheel, for sudo) "
                    "means nothing for root",
                    format_path((*base, "admin")),
                    "remove admin",
                )
            continue
        system = spec.get("system") is True
        if system and "group" not in spec and name not in grouped:
            yield Problem(
                doc.marks.key((*base, "system"), top),
                "a system user needs a primary group: NixOS refuses one without",
                format_path((*base, "system")),
                f"add group: {name}, and declare it under groups: (`{name}: {{}}`) "
                "if nothing else creates it",
            )
        uid = spec.get("uid")
        if not isinstance(uid, int) or isinstance(uid, bool):
            continue
        if uid == 0:
            yield Problem(
                doc.marks.value((*base, "uid"), top),
                "uid 0 is root's: a user with it would be root under another name",
                format_path((*base, "uid")),
                "choose another uid, or configure root as the user named root",
            )
        elif uid < 1000 and not system:
            yield Problem(
                doc.marks.value((*base, "uid"), top),
                f"{uid} is out of range: at least 1000",
                format_path((*base, "uid")),
                "a uid below 1000 is a system user's: add system: true, or choose one from 1000",
            )
        elif uid in uids:
            yield Problem(
                doc.marks.value((*base, "uid"), top),
                f"uid {uid} is also {uids[uid]}'s: NixOS needs each uid once",
                format_path((*base, "uid")),
                "choose another uid",
            )
        uids.setdefault(uid, name)
    gids: dict[int, str] = {}
    for name, spec in groups.items():
        gid = spec.get("gid") if isinstance(spec, dict) else None
        if not isinstance(gid, int) or isinstance(gid, bool):
            continue
        where: Path_ = ("groups", name, "gid")
        if name in _NUMBERED_GROUPS:
            yield Problem(
                doc.marks.key(where, top),
                f"NixOS gives group {name} its own gid: a second one conflicts",
                format_path(where),
                "remove gid",
            )
        elif gid in gids:
            yield Problem(
                doc.marks.value(where, top),
                f"gid {gid} is also group {gids[gid]}'s: NixOS needs each gid once",
                format_path(where),
                "choose another gid",
            )
        gids.setdefault(gid, name)
