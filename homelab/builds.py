"""Where the lab's systems are built: lab.yaml's `builds:` and each profile's
`deploy.buildOn`, planned once for the whole lab.

Nix's own machinery does the work; homelab only wires it:
- `deploy.buildOn: HOST`: HOST builds the machine's system and copies the closure to it
  over SSH (the lab's build key, the target's pinned host key); the machine only activates
  what arrived. The copied paths are signed with the lab's signing key, which every host
  trusts; the build key may only run `nix-store --serve --write` on the target.
- `builds.builders`: Nix remote builders (nix.buildMachines) for the other hosts.
- `builds.cache`: a binary cache (a lab host serving its store, or an outside one) every
  host substitutes from.

Pure: lab.yaml's model and the valid profiles in, the plan and every problem at its place
out; homelab.buildsnix writes each host's part as Nix (builds.nix) and homelab.deploy
reads the plan to build elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from homelab.errors import Place
from homelab.profile.model import SecretUse

_LAB_YAML = Place("lab.yaml")
# what the build key may do on a target: receive store paths, nothing else (OpenSSH
# authorized_keys options; NixOS writes the line to /etc/ssh/authorized_keys.d/USER)
RECEIVE_ONLY = 'restrict,command="nix-store --serve --write"'


@dataclass(frozen=True)
class KeyRef:
    """A key pair of the lab: the private half an encrypted secret, the public half as
    lab.yaml gives it."""

    secret: str  # encrypted/NAME.age
    public: str  # "ssh-ed25519 AAAA..." or a Nix key "name:BASE64"
    place: Place = _LAB_YAML


@dataclass(frozen=True)
class BuilderSpec:
    """`builds.builders.HOST`: a Nix remote builder for the other hosts."""

    host: str  # as written: a host's name or folder
    systems: tuple[str, ...] = ()  # empty: the builder's own system
    max_jobs: int = 1
    speed_factor: int = 1
    features: tuple[str, ...] = ()
    place: Place = _LAB_YAML


@dataclass(frozen=True)
class CacheSpec:
    """`builds.cache`: a lab host serving its store (signed with the lab's signing key),
    or an outside cache with its own public key."""

    host: str | None = None
    url: str | None = None
    public_key: str | None = None
    place: Place = _LAB_YAML


@dataclass(frozen=True)
class BuildsSpec:
    """lab.yaml's `builds:` as written (checked by its schema)."""

    ssh_key: KeyRef | None = None
    signing_key: KeyRef | None = None
    builders: tuple[BuilderSpec, ...] = ()
    cache: CacheSpec | None = None
    place: Place = _LAB_YAML


@dataclass(frozen=True)
class Copy:
    """How a builder reaches the target it copies a closure to."""

    address: str  # as the builder reaches it (the target's deploy.address, else its name)
    port: int  # 22 unless deploy.port says
    user: str  # the target's deploy user (root unless deploy.user says)
    host_key: str  # the target's pinned deploy.hostKey: "TYPE BASE64"


@dataclass(frozen=True)
class BuildOn:
    """A host whose system another host builds (deploy.buildOn)."""

    target: str  # folder
    builder: str  # folder
    copy: Copy
    ssh_key: str  # the build key's path on the builder (/run/agenix/NAME)
    signing_key: str  # the signing key's path on the builder
    ssh_public: str  # the build key's public half: the target authorizes it (RECEIVE_ONLY)


@dataclass(frozen=True)
class HostBuilds:
    """What one host uses and does for the others: `homelab status` says it."""

    built_on: str | None = None  # the builder's folder (deploy.buildOn)
    builds_for: tuple[str, ...] = ()  # folders it builds (their deploy.buildOn)
    remote_builders: tuple[str, ...] = ()  # folders of the remote builders it uses
    remote_builder: bool = False  # it builds for the others (builds.builders)
    cache: str | None = None  # the substituter URL it uses
    serves_cache: bool = False
    emulated: tuple[str, ...] = ()  # systems it builds by emulation (boot.binfmt)


@dataclass(frozen=True)
class Builds:
    spec: BuildsSpec
    hosts: Mapping[str, HostBuilds] = field(default_factory=dict)  # by folder
    build_on: Mapping[str, BuildOn] = field(default_factory=dict)  # by target folder

    def of(self, folder: str) -> HostBuilds:
        return self.hosts.get(folder) or HostBuilds()

    def secrets_of(self, folder: str) -> tuple[SecretUse, ...]:
        """The encrypted secrets the builds give a host (the build key, the signing key),
        said at lab.yaml's line."""
        raise NotImplementedError

    def links(self) -> list[tuple[str, str, str]]:
        """(from folder, to folder, what) for the map: "builds" (builder -> target),
        "remote build" (host -> builder), "cache" (host -> the cache host)."""
        raise NotImplementedError
