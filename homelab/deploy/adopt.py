"""Bringing a running NixOS machine into the lab: `homelab adopt NAME user@address[:port]`.

Reads the machine's system, NixOS release, hostname and hardware-configuration.nix over
SSH, and makes hosts/NAME/ with a starting profile that pins the host key (and, when the
key negotiated is not the machine's ed25519 one, that one too as deploy.ageHostKey: age
encrypts the host's secrets to it). Nothing is written until the new host is known to be
valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from homelab.catalog import RELEASE
from homelab.deploy import scripts, steps
from homelab.deploy.hostkeys import age_pin
from homelab.deploy.ssh import (
    Endpoint,
    HostKeyError,
    SshSettings,
    connect,
    ed25519_line,
    key_line,
)
from homelab.deploy.target import Target, parse_facts
from homelab.errors import InvalidInput, Place, Problem
from homelab.profile.edit import set_value
from homelab.profile.new import NewProfile, new_profile

if TYPE_CHECKING:
    from homelab.labfiles import LabFiles

MACHINES = {"x86_64": "x86_64-linux", "aarch64": "aarch64-linux", "arm64": "aarch64-linux"}
RELEASE_WORDS = re.compile(r"^(\d{2}\.\d{2})")
HARDWARE = "hardware-configuration.nix"


@dataclass(frozen=True)
class Address:
    user: str | None
    host: str
    port: int | None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        text = f"{self.user}@{host}" if self.user else host
        return f"{text}:{self.port}" if self.port else text


def parse_address(text: str) -> Address:
    """user@address[:port] (an IPv6 address in brackets: user@[fe80::1]:22)."""
    user, at, rest = text.rpartition("@")
    if at and not user:
        raise ValueError(f"'{text}': nothing before the @ (write user@address)")
    port: int | None = None
    if rest.startswith("["):
        host, close, tail = rest[1:].partition("]")
        if not close or (tail and not tail.startswith(":")):
            raise ValueError(f"'{text}': an IPv6 address goes in brackets: user@[fe80::1]:22")
        port_text = tail[1:]
    else:
        host, _, port_text = rest.partition(":")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"'{text}': the port must be a number from 1 to 65535")
        port = int(port_text)
    if not host or any(c.isspace() or c in "/\\'\"`$;" for c in host):
        raise ValueError(f"'{text}': '{host}' is not a host name or address")
    if user and not re.fullmatch(r"[a-z_][a-z0-9_.-]*\$?", user):
        raise ValueError(f"'{text}': '{user}' is not a user name")
    return Address(user or None, host, port)


@dataclass(frozen=True)
class Adopted:
    name: str
    files: dict[str, str]  # lab-relative path -> text
    facts: dict[str, str]
    host_key: str
    age_host_key: str | None = None  # the machine's ed25519 host key, when hostKey is another


def read_machine(
    name: str,
    address: Address,
    settings: SshSettings,
    trust: Callable[[HostKeyError], bool],
    release: str = RELEASE,
) -> Adopted:
    """Connect (asking `trust` about an unknown host key), read the machine, and make the
    files of its new host folder (in memory); `release`: the lab's, the stateVersion when
    the machine does not tell its own."""
    endpoint = Endpoint(
        address.host, address.port, address.user, label=name, pin_file=f"hosts/{name}/profile.yaml"
    )
    try:
        conn = connect(endpoint, settings)
    except HostKeyError as err:
        if err.kind != "unknown" or not trust(err):
            raise
        # the key shown is the only one accepted now, even if the machine changed since
        endpoint = Endpoint(
            address.host, address.port, address.user, err.presented, name, endpoint.pin_file
        )
        conn = connect(endpoint, settings)
    key = key_line(conn.transport.get_remote_server_key())
    target = Target(name, lambda: conn)
    try:
        ran = target.run(scripts.command(scripts.ADOPT_FACTS), timeout=60)
        facts = parse_facts(ran.out)
        try:
            hardware = target.read_file(facts.get("hardware", "")).decode("utf-8", "replace")
        except (FileNotFoundError, PermissionError):
            hardware = ""
        read = target.run(steps.host_key().line(), timeout=30)  # over the verified connection
        age_key = age_pin(key, ed25519_line(read.out) if read.code == 0 else None)
    finally:
        target.close()
    user = conn.route.user
    profile = starting_profile(name, address, user, facts, key, release)
    if age_key is not None:
        profile = set_value(profile, ("deploy", "ageHostKey"), age_key)
    files = {f"hosts/{name}/profile.yaml": profile}
    if hardware:
        files[f"hosts/{name}/{HARDWARE}"] = hardware
    return Adopted(name, files, facts, key, age_key)


def system_of(facts: dict[str, str]) -> str:
    system = facts.get("system", "").strip()
    if system:
        return system
    return MACHINES.get(facts.get("machine", "").strip(), "x86_64-linux")


def release_of(facts: dict[str, str]) -> str | None:
    for value in (facts.get("stateversion", ""), facts.get("version", "")):
        found = RELEASE_WORDS.match(value.strip())
        if found:
            return found.group(1)
    os_words = facts.get("os", "").split()
    if len(os_words) == 2 and os_words[0] == "nixos":
        found = RELEASE_WORDS.match(os_words[1].strip('"'))
        if found:
            return found.group(1)
    return None


def starting_profile(
    name: str,
    address: Address,
    user: str,
    facts: dict[str, str],
    host_key: str,
    release: str = RELEASE,
) -> str:
    """Pure: the first profile of an adopted machine, in the words a person would use
    (made where every new profile is: homelab.profile.new); its stateVersion is the
    machine's release, else `release` (the lab's)."""
    hostname = facts.get("hostname", "").strip() or "unknown"
    version = facts.get("version", "").strip() or "unknown"
    start = NewProfile(
        name,
        system=system_of(facts),
        release=release_of(facts) or release,
        hardware_configuration=HARDWARE if facts.get("hardware") else None,
        address=address.host,
        port=address.port if address.port and address.port != 22 else None,
        user=user,
        sudo=user != "root",
        host_key=host_key,
        notes=(
            f"{name}: adopted from {address} on {date.today().isoformat()}",
            f"(NixOS {version}, hostname {hostname}). Add users, services and packages here.",
        ),
    )
    return new_profile(start)


def check_adopted(lab: LabFiles, adopted: Adopted) -> None:
    """InvalidInput when the host folder exists or the new profile would not be valid."""
    folder = adopted.name
    if (lab.root / "hosts" / folder).exists():
        raise InvalidInput(
            [
                Problem(
                    Place(f"hosts/{folder}"),
                    f"hosts/{folder} already exists: adopt never overwrites a host",
                    hint="choose another NAME, or remove the folder first",
                )
            ]
        )
    state = lab.load(texts=adopted.files)
    host = state.hosts.get(folder)
    problems = list(host.problems) if host is not None else []
    if host is None:
        problems.append(Problem(Place(f"hosts/{folder}"), f"'{folder}' cannot name a host folder"))
    if problems:
        raise InvalidInput(problems)


def write_adopted(lab: LabFiles, adopted: Adopted) -> list[str]:
    """Write the new host folder (it appears whole or not at all)."""
    import shutil
    import tempfile
    from pathlib import Path

    hosts = lab.root / "hosts"
    hosts.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{adopted.name}.", dir=hosts))
    try:
        for rel, text in adopted.files.items():
            (staging / Path(rel).name).write_text(text, encoding="utf-8")
        staging.chmod(0o755)
        staging.rename(hosts / adopted.name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(adopted.files)
