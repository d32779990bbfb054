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

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from homelab.errors import Place, Problem, format_path
from homelab.hosthints import known_hosts
from homelab.profile.model import Profile, SecretUse
from homelab.webplan import PlaceOf, stable_address

_LAB_YAML = Place("lab.yaml")
# what the build key may do on a target: receive store paths, nothing else (OpenSSH
# authorized_keys options; NixOS writes the line to /etc/ssh/authorized_keys.d/USER)
RECEIVE_ONLY = 'restrict,command="nix-store --serve --write"'
# what the build key may do on a remote builder: speak the Nix daemon's protocol (ssh-ng)
DAEMON_ONLY = 'restrict,command="nix-daemon --stdio"'
AGENIX_DIR = "/run/agenix"  # where agenix decrypts a secret by default (age.secrets.NAME.path)
CACHE_PORT = 5000  # harmonia's bind, [::]:5000 (its module's default)
REMOTE_USER = "nixremote"  # the user remote builds log in as on a builder
_BUILD_ON = ("deploy", "buildOn")
# what boot.binfmt.emulatedSystems accepts: the systems nixpkgs' binfmt.nix knows (`magics`,
# nixos/modules/system/boot/binfmt.nix at e3f2b972f7d237919c8ebb1947200626e15557be)
EMULATED = frozenset(
    [
        "armv6l-linux",
        "armv7l-linux",
        "aarch64-linux",
        "aarch64_be-linux",
        "i386-linux",
        "i486-linux",
        "i586-linux",
        "i686-linux",
        "x86_64-linux",
        "alpha-linux",
        "sparc64-linux",
        "sparc-linux",
        "powerpc-linux",
        "powerpc64-linux",
        "powerpc64le-linux",
        "mips-linux",
        "mipsel-linux",
        "mips64-linux",
        "mips64el-linux",
        "mips64-linuxabin32",
        "mips64el-linuxabin32",
        "riscv32-linux",
        "riscv64-linux",
        "loongarch64-linux",
        "wasm32-wasi",
        "wasm64-wasi",
        "s390x-linux",
        "x86_64-windows",
        "i686-windows",
    ]
)


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
    host_key: str  # the target's pinned deploy.hostKey: "TYPE BASE64" ("" not pinned yet)


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

    cache_host: str | None = None  # the folder of the lab host serving the cache
    builders: Mapping[str, RemoteBuilder] = field(default_factory=dict)  # by folder
    # every valid host as the others reach it (stable address, else deploy.address, else
    # its name): the cache's port is opened to them
    addresses: Mapping[str, str] = field(default_factory=dict)

    def secrets_of(self, folder: str) -> tuple[SecretUse, ...]:
        """The encrypted secrets the builds give a host (the build key, the signing key),
        said at lab.yaml's line."""
        mine = self.of(folder)
        uses: list[SecretUse] = []
        ssh, signing = self.spec.ssh_key, self.spec.signing_key
        if ssh is not None and (mine.builds_for or mine.remote_builders):
            uses.append(_secret(ssh, "sshKey"))
        if signing is not None and (mine.builds_for or mine.serves_cache):
            uses.append(_secret(signing, "signingKey"))
        return tuple(uses)

    def links(self) -> list[tuple[str, str, str]]:
        """(from folder, to folder, what) for the map: "builds" (builder -> target),
        "remote build" (host -> builder), "cache" (host -> the cache host)."""
        out: list[tuple[str, str, str]] = []
        for target, on in sorted(self.build_on.items()):
            out.append((on.builder, target, "builds"))
        for folder, host in sorted(self.hosts.items()):
            out += [(folder, b, "remote build") for b in host.remote_builders]
            if self.cache_host is not None and host.cache is not None:
                out.append((folder, self.cache_host, "cache"))
        return [(a, b, what) for a, b, what in out if a != b]


@dataclass(frozen=True)
class RemoteBuilder:
    """A remote builder as the hosts that use it reach it (nix.buildMachines)."""

    folder: str
    spec: BuilderSpec
    address: str  # its deploy.address, else its name
    port: int
    host_key: str  # its pinned deploy.hostKey: "TYPE BASE64"
    systems: tuple[str, ...]  # the written ones, else its own system

    @property
    def public_host_key(self) -> str:
        """What nix.buildMachines.*.publicHostKey wants: the host key line, base64."""
        return base64.b64encode(self.host_key.encode()).decode()


def said(host: HostBuilds, name_of: Callable[[str], str]) -> str:
    """Where a host is built and what it builds with, in a few words (`homelab status`):
    "built on nuc; remote builders: nuc; cache: http://nas:5000"; "" when nothing."""
    words = []
    if host.built_on is not None:
        words.append(f"built on {name_of(host.built_on)}")
    if host.builds_for:
        words.append("builds " + ", ".join(name_of(f) for f in host.builds_for))
    if host.remote_builders:
        words.append("remote builders: " + ", ".join(name_of(f) for f in host.remote_builders))
    if host.remote_builder:
        words.append("a remote builder")
    if host.emulated:
        words.append("emulates " + ", ".join(host.emulated))
    if host.cache is not None:
        words.append(f"cache: {host.cache}")
    if host.serves_cache:
        words.append(f"serves the cache on port {CACHE_PORT}")
    return "; ".join(words)


def _secret(key: KeyRef, what: str) -> SecretUse:
    # read by root alone: nix-daemon (remote builds, signing), harmonia's LoadCredential
    return SecretUse(key.secret, ("builds", what), owner="root", mode="0400", place=key.place)


def key_path(name: str) -> str:
    """Where a host has an encrypted secret once agenix decrypted it."""
    return f"{AGENIX_DIR}/{name}"


def _find(name: str, profiles: Mapping[str, Profile]) -> str | None:
    """The folder of the host a name (a folder or a host.name) names."""
    if name in profiles:
        return name
    return next((f for f, p in sorted(profiles.items()) if p.name == name), None)


def _address(p: Profile) -> str:
    return p.deploy.address or p.name


def _hosts_hint(profiles: Mapping[str, Profile]) -> str:
    return known_hosts(p.name for p in profiles.values())


def plan(
    spec: BuildsSpec | None, profiles: Mapping[str, Profile], place_of: PlaceOf
) -> tuple[Builds | None, list[tuple[str | None, Problem]]]:
    """Where the lab's systems are built, from lab.yaml's `builds:` and the valid hosts'
    profiles (by folder); each problem with the folder it belongs to (None: lab.yaml's).
    A profile's deploy.buildOn plans even when lab.yaml has no `builds:`."""
    problems: list[tuple[str | None, Problem]] = []
    wanted = {f: p.deploy.build_on for f, p in profiles.items() if p.deploy.build_on}
    if spec is None and not wanted:
        return None, problems
    spec = spec or BuildsSpec()
    on: dict[str, BuildOn] = {}
    for folder, name in sorted(wanted.items()):
        found, said = _build_on(folder, name, spec, profiles, place_of)
        problems += [(folder, s) for s in said]
        if found is not None:
            on[folder] = found
    builders, said_lab = _builders(spec, profiles)
    problems += [(None, s) for s in said_lab]
    cache_url, cache_host, said_lab = _cache(spec, profiles)
    problems += [(None, s) for s in said_lab]
    hosts: dict[str, HostBuilds] = {}
    for folder, p in sorted(profiles.items()):
        emulated: set[str] = set()
        for target, b in on.items():
            if b.builder == folder and profiles[target].host.system != p.host.system:
                emulated.add(profiles[target].host.system)
        if folder in builders:
            emulated |= {s for s in builders[folder].systems if s != p.host.system}
        hosts[folder] = HostBuilds(
            built_on=on[folder].builder if folder in on else None,
            builds_for=tuple(sorted(t for t, b in on.items() if b.builder == folder)),
            remote_builders=tuple(sorted(b for b in builders if b != folder)),
            remote_builder=folder in builders,
            cache=cache_url if cache_host != folder else None,
            serves_cache=cache_host == folder,
            emulated=tuple(sorted(emulated)),
        )
    addresses = {f: stable_address(p)[0] or _address(p) for f, p in sorted(profiles.items())}
    return Builds(spec, hosts, on, cache_host, builders, addresses), problems


def _build_on(
    folder: str, name: str, spec: BuildsSpec, profiles: Mapping[str, Profile], place_of: PlaceOf
) -> tuple[BuildOn | None, list[Problem]]:
    """The builder of one host (its deploy.buildOn), or why it cannot be."""
    p = profiles[folder]
    place = place_of(folder, _BUILD_ON)
    path = format_path(_BUILD_ON)
    said: list[Problem] = []

    def bad(message: str, hint: str) -> None:
        said.append(Problem(place, message, path, hint=hint))

    builder = _find(name, profiles)
    if builder is None:
        bad(f"no host named '{name}' to build {p.name}", _hosts_hint(profiles))
    elif builder == folder:
        bad(
            f"{p.name} cannot be built elsewhere on itself",
            "name another host of the lab, or leave buildOn out: a host builds its own "
            "system by default",
        )
    elif profiles[builder].deploy.build_on:
        other = profiles[builder]
        bad(
            f"{other.name} is itself built on {other.deploy.build_on}, so it cannot build {p.name}",
            f"name the host that builds: buildOn: {other.deploy.build_on}, or leave "
            f"{other.name}'s buildOn out",
        )
    missing = [
        k for k, key in (("sshKey", spec.ssh_key), ("signingKey", spec.signing_key)) if key is None
    ]
    if missing:
        bad(
            "building on another host needs the lab's build keys: lab.yaml lacks "
            + " and ".join(f"builds.{k}" for k in missing),
            'add to lab.yaml  builds: {sshKey: {secret: build-ssh-key, public: "ssh-ed25519 '
            '..."}, signingKey: {secret: build-signing-key, public: "NAME:BASE64"}} '
            "(README: Building on another machine)",
        )
    unpinned = not p.deploy.host_key
    if p.deploy.method == "channels":
        bad(
            f"{p.name} is deployed with channels (deploy.method), which build on the "
            "machine itself: a system built elsewhere needs the flake method",
            "leave deploy.method out (flake), or buildOn out",
        )
    if said or builder is None or spec.ssh_key is None or spec.signing_key is None:
        return None, said
    if unpinned:  # a warning: the apply that pins it builds the host on itself, this once
        said.append(
            Problem(
                place,
                f"{p.name} has no pinned host key (deploy.hostKey), which its builder checks "
                f"before it copies the system over: {p.name} builds its own system until one "
                "is pinned",
                path,
                hint=f"homelab apply --accept-new {p.name} pins it (or `homelab adopt {p.name}`)",
                warning=True,
            )
        )
    copy = Copy(_address(p), p.deploy.port or 22, p.deploy.user or "root", p.deploy.host_key or "")
    return BuildOn(
        folder,
        builder,
        copy,
        key_path(spec.ssh_key.secret),
        key_path(spec.signing_key.secret),
        spec.ssh_key.public,
    ), said


def _builders(
    spec: BuildsSpec, profiles: Mapping[str, Profile]
) -> tuple[dict[str, RemoteBuilder], list[Problem]]:
    out: dict[str, RemoteBuilder] = {}
    said: list[Problem] = []
    for b in spec.builders:
        at = f"builds.builders.{b.host}"
        folder = _find(b.host, profiles)
        if folder is None:
            said.append(
                Problem(b.place, f"no host named '{b.host}' to be a remote builder", at,
                        hint=_hosts_hint(profiles))
            )  # fmt: skip
            continue
        p = profiles[folder]
        if not p.deploy.host_key:
            said.append(
                Problem(
                    b.place,
                    f"{p.name} has no pinned host key (deploy.hostKey), which the hosts "
                    "that build on it check before they connect",
                    at,
                    hint=f"apply it once with --accept-new (homelab apply --accept-new "
                    f"{p.name}), or `homelab adopt {p.name}`",
                )
            )
            continue
        if spec.ssh_key is None:
            said.append(
                Problem(
                    b.place,
                    "remote builders need the lab's build key, which lab.yaml lacks "
                    "(builds.sshKey)",
                    at,
                    hint='builds: {sshKey: {secret: build-ssh-key, public: "ssh-ed25519 '
                    '..."}} (README: Building on another machine)',
                )
            )
            continue
        foreign = [s for s in b.systems if s != p.host.system and s not in EMULATED]
        if foreign:
            said.append(
                Problem(
                    b.place,
                    f"{p.name} ({p.host.system}) cannot build for {', '.join(foreign)}: "
                    "NixOS emulates no such system",
                    at,
                    hint="list its own system and those it can emulate, e.g. "
                    "[x86_64-linux, aarch64-linux]",
                )
            )
            continue
        out[folder] = RemoteBuilder(
            folder, b, _address(p), p.deploy.port or 22, p.deploy.host_key,
            b.systems or (p.host.system,),
        )  # fmt: skip
    return out, said


def _cache(
    spec: BuildsSpec, profiles: Mapping[str, Profile]
) -> tuple[str | None, str | None, list[Problem]]:
    """(the substituter URL, the serving host's folder, problems) of builds.cache."""
    cache = spec.cache
    if cache is None:
        return None, None, []
    if (cache.host is None) == (cache.url is None):
        return (
            None,
            None,
            [
                Problem(
                    cache.place,
                    "a cache is a lab host or an outside URL: give one of host and url",
                    "builds.cache",
                    hint="cache: {host: nas} (it serves its store), or cache: {url: "
                    '"https://cache.example.org", publicKey: "cache.example.org-1:BASE64="}',
                )
            ],
        )
    if cache.url is not None:
        if cache.public_key is None:
            return (
                None,
                None,
                [
                    Problem(
                        cache.place,
                        "an outside cache needs its public key, or no host trusts what it serves",
                        "builds.cache.publicKey",
                        hint='publicKey: "NAME:BASE64=" as the cache publishes it',
                    )
                ],
            )
        return cache.url, None, []
    assert cache.host is not None
    folder = _find(cache.host, profiles)
    if folder is None:
        return None, None, [
            Problem(cache.place, f"no host named '{cache.host}' to serve the lab's cache",
                    "builds.cache.host", hint=_hosts_hint(profiles))
        ]  # fmt: skip
    if spec.signing_key is None:
        return (
            None,
            None,
            [
                Problem(
                    cache.place,
                    "a lab host's cache signs what it serves with the lab's signing key, which "
                    "lab.yaml lacks (builds.signingKey)",
                    "builds.cache",
                    hint='builds: {signingKey: {secret: build-signing-key, public: "NAME:BASE64"}}'
                    " (nix-store --generate-binary-cache-key)",
                )
            ],
        )
    p = profiles[folder]
    address, _ = stable_address(p)
    return f"http://{address or _address(p)}:{CACHE_PORT}", folder, []
