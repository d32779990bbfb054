"""A merged profile document -> problems, each with its place and a hint.

JSON Schema checks the shape; the checks below it look across fields (groups that need a
service, ports two services want, keys that are not keys, Nix that does not parse).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from homelab.catalog import Catalog, Port, TemplateError, service_ports
from homelab.errors import Place, Problem, format_path
from homelab.nix.attrs import plaintext_passwords
from homelab.nix.syntax import check_module_body
from homelab.profile.check_options import option_problems
from homelab.profile.created import groups_in_options, groups_in_raw_nix, users_given_a_group
from homelab.profile.options import SECTION
from homelab.profile.options import settings as option_settings
from homelab.profile.schema import (
    profile_schema,
    profile_validator,
    schema_errors,
    schema_problems,
    shown,
)
from homelab.yamlfile import Document, Path_

HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
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
# what a Nix path literal can hold (nix/expr.py NixPath), for files the Nix names
_NIX_PATH = re.compile(r"[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*")
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


def _map(value: Any) -> dict[str, Any]:
    """The value when it is a map, else an empty one (the schema said what is wrong)."""
    return value if isinstance(value, dict) else {}


def _strings(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield (*path, k), k
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))


_INT_RANGE = (-(2**63), 2**63 - 1)


def _numbers(value: Any, path: Path_) -> Iterator[tuple[Path_, int | float]]:
    """Numbers Nix cannot hold: beyond 64-bit integers, infinities and NaN (.inf, .nan)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(v, str | bool):
                yield from _numbers(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if not isinstance(v, str | bool):
                yield from _numbers(v, (*path, i))
    elif isinstance(value, int) and not isinstance(value, bool):
        if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            yield path, value
    elif isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        yield path, value


def validate(
    doc: Document,
    folder: str,
    catalog: Catalog,
    exists: Callable[[str], bool],
    real_path: Callable[[str], str | None] = lambda rel: rel,
) -> list[Problem]:
    """Every problem of one host's merged profile. `folder` is the host's folder name;
    `exists(lab-relative path)` says whether a file is there, `real_path(lab-relative
    path)` where it really is with links followed (None: outside the lab)."""
    top = Place(doc.file)
    data = doc.data
    if not isinstance(data, dict):
        return [
            Problem(
                doc.marks.value((), top),
                "a profile must be a map of sections",
                hint="start with `host:` and its keys",
            )
        ]
    problems: list[Problem] = []
    root = profile_schema()
    for err in schema_errors(profile_validator(), data):
        problems.extend(schema_problems(err, doc, data, root))

    def at(path: Path_) -> Place:
        return doc.marks.value(path, top)

    def key_at(path: Path_) -> Place:
        return doc.marks.key(path, top)

    # repr() writes a NUL as \x00: one quick look at the whole document before the walk
    nul_possible = "\\x00" in repr(data)
    for path, text in _strings(data, ()) if nul_possible else ():
        if "\x00" in text:
            problems.append(
                Problem(
                    at(path),
                    "text contains a NUL character, which Nix cannot hold",
                    path=format_path(path),
                    hint="remove the \\0 escape",
                )
            )

    for path, number in _numbers(data, ()):
        problems.append(
            Problem(
                at(path),
                f"{number} cannot be held by Nix, whose numbers are 64-bit",
                path=format_path(path),
                hint="put it in quotes to pass it on as text",
            )
        )

    host = _map(data.get("host"))
    if "name" not in host and not HOSTNAME.fullmatch(folder):
        problems.append(
            Problem(
                top,
                f"the folder name '{folder}' is not a valid host name",
                hint="rename the folder, or set host.name",
            )
        )

    users = _map(data.get("users"))
    services = _map(data.get("services"))
    service_names = set(services)
    # groups the profile, its options: and its raw Nix create: a user may be put in them
    extra_text = data.get("extraConfig")
    raw = [extra_text] if isinstance(extra_text, str) else []
    written = option_settings(data.get(SECTION), (SECTION,))[0]
    created = set(_map(data.get("groups"))) | groups_in_options(written) | groups_in_raw_nix(raw)
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

    problems.extend(_service_problems(doc, services, catalog, data))

    hw = _map(data.get("hardware"))
    conf = hw.get("configuration")
    # (a NUL is reported on its own, and no file name can hold one)
    if isinstance(conf, str) and "\x00" not in conf:
        where: Path_ = ("hardware", "configuration")
        if real_path(f"hosts/{folder}/{conf}") is None:
            problems.append(_leaves_lab(at(where), where, f"hosts/{folder}/{conf}"))
        elif not exists(f"hosts/{folder}/{conf}"):
            problems.append(
                Problem(
                    at(where),
                    f"hosts/{folder}/{conf} does not exist",
                    path="hardware.configuration",
                    hint="copy /etc/nixos/hardware-configuration.nix from the machine "
                    "(homelab adopt does it), or remove this key",
                )
            )
    boot = _map(hw.get("boot"))
    if boot.get("loader") == "grub" and "device" not in boot and not boot.get("efi"):
        problems.append(
            Problem(
                at(("hardware", "boot")),
                "GRUB needs the disk to install to",
                path="hardware.boot",
                hint="add device: /dev/sda (BIOS), or efi: true for UEFI",
            )
        )
    for key, why, hint in _ignored_boot_keys(boot):
        problems.append(
            Problem(
                key_at(("hardware", "boot", key)),
                why,
                path=format_path(("hardware", "boot", key)),
                hint=hint,
            )
        )
    problems.extend(_file_problems(doc, folder, exists, real_path))

    extra = data.get("extraConfig")
    if isinstance(extra, str):
        kind, errors = check_module_body(extra)
        block = doc.marks.blocks.get(("extraConfig",))

        def in_extra(line: int, column: int) -> tuple[Place, str]:
            if block:
                return Place(top.file, block[0] + line - 1, block[1] + column), ""
            # a quoted or plain scalar: say where in its text
            return at(("extraConfig",)), f" (line {line}, column {column} of the text)"

        for e in errors:
            place, in_text = in_extra(e.line, e.column)
            problems.append(
                Problem(
                    place,
                    f"extraConfig is not valid Nix{in_text}: {e.message}",
                    path="extraConfig",
                    hint=e.hint or "write NixOS options as `name = value;` lines",
                )
            )
        for line, column, option in [] if errors else plaintext_passwords(extra, kind):
            place, in_text = in_extra(line, column)
            problems.append(
                Problem(
                    place,
                    f"a plaintext password in {option}{in_text} is not allowed: "
                    "it would be stored in the world-readable Nix store",
                    path="extraConfig",
                    hint=PASSWORD_HINT,
                )
            )
    problems.extend(option_problems(doc, folder, real_path))
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


def _ignored_boot_keys(boot: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(key, why, hint) for each boot key the chosen loader would not use (see
    compile.boot_and_hardware): written, it would be silently dropped."""
    loader = boot.get("loader")
    if loader == "extlinux":
        # (efi: false says what extlinux is: only efi: true would be dropped)
        for key in ("efi", "efiMountPoint", "device"):
            if key in boot and boot[key] is not False:
                yield (
                    key,
                    f"extlinux does not use {key}: U-Boot boots from extlinux.conf, "
                    "without UEFI or a disk to install to",
                    f"remove {key}, or choose loader: systemd-boot (UEFI) or grub",
                )
    elif loader == "systemd-boot" and "device" in boot:
        yield (
            "device",
            "systemd-boot does not use device: it installs to the EFI system partition",
            "remove device (set efiMountPoint if that partition is not at /boot), "
            "or choose loader: grub to install to a disk",
        )
    elif loader == "grub" and "efiMountPoint" in boot and not boot.get("efi"):
        yield (
            "efiMountPoint",
            "GRUB uses efiMountPoint only for UEFI, and this GRUB installs for BIOS",
            "add efi: true for UEFI, or remove efiMountPoint",
        )


# ---- files of the lab that a profile names ---------------------------------------------

# what goes to the machine inside the flake, and so into its world-readable Nix store
_FLAKE_FOLDERS = ("hosts/",)
_FLAKE_FILES = ("flake.nix", "flake.lock")


def _in_flake(rel: str) -> str | None:
    """The part of the flake a lab path lies in, or None. Compared without case: a Mac's
    disk reads Hosts/ as hosts/, and the upload would carry the file all the same."""
    low = rel.lower()
    if low in _FLAKE_FILES:
        return rel
    if low.startswith(_FLAKE_FOLDERS):
        return rel.split("/", 1)[0] + "/"
    return None


def plain_path(text: str) -> str | None:
    """A relative path written plainly (`./a/../b` is `b`), or None when it is absolute
    or climbs out of where it starts."""
    if text.startswith("/"):
        return None
    plain = posixpath.normpath(text)
    return None if plain == ".." or plain.startswith("../") else plain


def _leaves_lab(place: Place, path: Path_, rel: str) -> Problem:
    return Problem(
        place,
        f"{rel} is a link to a file outside the lab",
        path=format_path(path),
        hint="homelab reads no file outside the lab: copy the file in instead of linking to it",
    )


def _file_problems(
    doc: Document,
    folder: str,
    exists: Callable[[str], bool],
    real_path: Callable[[str], str | None],
) -> Iterator[Problem]:
    """Secrets and home files name files of the lab: never one outside it (a profile
    that looks harmless in review must not send ~/.ssh/id_ed25519 to a machine), and never
    a secret that would travel inside the flake."""
    top = Place(doc.file)
    for name, spec in _map(doc.data.get("secrets")).items():
        src = spec.get("source") if isinstance(spec, dict) else None
        if not isinstance(src, str) or "\x00" in src:  # a NUL is reported on its own
            continue
        path: Path_ = ("secrets", name, "source")
        place = doc.marks.value(path, top)
        rel = plain_path(src)
        base = posixpath.basename(posixpath.normpath(src))
        moved = f"secrets/{base if base not in ('', '.', '..') else name}"
        if rel is None:
            yield Problem(
                place,
                f"secret source '{shown(src)}' is outside the lab",
                path=format_path(path),
                hint="homelab reads secrets only from inside the lab: "
                f"copy the file into secrets/ and write `source: {moved}`",
            )
        elif rel == ".":
            yield Problem(
                place,
                "a secret's source must name a file",
                path=format_path(path),
                hint=f"e.g. source: secrets/{name}",
            )
        elif (real := real_path(rel)) is None:
            yield _leaves_lab(place, path, rel)
        elif inside := _in_flake(rel) or _in_flake(real):
            link = f"a link to {real}, " if _in_flake(rel) is None else ""
            yield Problem(
                place,
                f"secret source '{shown(src)}' is {link}inside {inside}, which goes to the "
                "machine with the flake and so into its world-readable Nix store",
                path=format_path(path),
                hint=f"move the file into secrets/ and write `source: {moved}`",
            )
        elif not exists(rel):
            yield Problem(
                place,
                f"{rel} does not exist",
                path=format_path(path),
                hint="the source is a file on this computer, relative to the lab",
            )
    host_folder = f"hosts/{folder}"
    for user, spec in _map(doc.data.get("users")).items():
        files = _map(_map(_map(spec).get("home")).get("files"))
        for target, file in files.items():
            src = file.get("source") if isinstance(file, dict) else None
            if not isinstance(src, str) or "\x00" in src:
                continue
            path = ("users", user, "home", "files", target, "source")
            place = doc.marks.value(path, top)
            rel = plain_path(src)
            if rel is None or rel == ".":
                yield Problem(
                    place,
                    f"home file source '{shown(src)}' is not a file in the host folder",
                    path=format_path(path),
                    hint=f"put the file in {host_folder}/ (e.g. {host_folder}/files/) and "
                    "name it relative to that folder, e.g. files/inputrc",
                )
            elif not _NIX_PATH.fullmatch(rel):
                yield Problem(
                    place,
                    f"home file source '{shown(src)}' has characters a Nix path cannot hold",
                    path=format_path(path),
                    hint="rename the file: letters, digits and . _ + - / only",
                )
            elif real_path(f"{host_folder}/{rel}") is None:
                yield _leaves_lab(place, path, f"{host_folder}/{rel}")


def _service_problems(
    doc: Document, services: Mapping[str, Any], catalog: Catalog, data: Mapping[str, Any]
) -> Iterator[Problem]:
    top = Place(doc.file)
    known = catalog.names()
    used: dict[tuple[int, str], str] = {}

    def claim(port: Port, who: str, path: Path_) -> Iterator[Problem]:
        key = (port.port, port.protocol)
        if key in used and used[key] != who:
            yield Problem(
                doc.marks.key(path, top),
                f"{who} wants port {port.port}/{port.protocol}, which {used[key]} already uses",
                path=format_path(path),
                hint="change the port in one of their settings, or enable only one",
            )
        else:
            used[key] = who

    for name, settings in services.items():
        path: Path_ = ("services", name)
        service = catalog.get(name)
        if service is None:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            yield Problem(
                doc.marks.key(path, top),
                f"unknown service '{name}'",
                path=format_path(path),
                hint=f"did you mean '{close[0]}'?"
                if close
                else "the catalogue has: " + ", ".join(known),
            )
            continue
        if settings is not None and not isinstance(settings, dict):
            continue  # the profile schema already said so
        bad = False
        checked = settings or {}
        for err in schema_errors(service.validator, checked):
            bad = True
            yield from schema_problems(err, doc, checked, service.settings_schema, prefix=path)
        for other, reason in service.conflicts:
            if other in services and name < other:
                yield Problem(
                    doc.marks.key(path, top),
                    f"{name} and {other} cannot run together: {reason}",
                    path=format_path(path),
                    hint="enable only one of them",
                )
        if bad:
            continue
        try:
            ports = service_ports(service, service.with_defaults(settings))
        except TemplateError as err:
            yield Problem(Place(service.file), f"catalogue entry {name}: {err}")
            continue
        for port in ports:
            yield from claim(port, f"service {name}", path)

    containers = _map(data.get("containers"))
    for cname, spec in containers.items():
        if not isinstance(spec, dict):
            continue
        for i, mapping in enumerate(spec.get("ports") or []):
            if not isinstance(mapping, str):
                continue
            host_port = container_host_port(mapping)
            if host_port is None:
                continue
            path = ("containers", cname, "ports", i)
            if not 1 <= host_port.port <= 65535:
                yield Problem(
                    doc.marks.value(path, top),
                    f"port {host_port.port} is out of range: from 1 to 65535",
                    path=format_path(path),
                )
                continue
            yield from claim(host_port, f"container {cname}", path)


def container_host_port(mapping: str) -> Port | None:
    """The host side of a port mapping like 127.0.0.1:8080:80/udp."""
    spec, _, proto = mapping.partition("/")
    parts = spec.rsplit(":", 2)
    if len(parts) < 2 or not parts[-2].isdigit():
        return None
    return Port(int(parts[-2]), proto or "tcp")
