"""Where a host's system is built, as its Nix (hosts/NAME/builds.nix).

From the lab's build plan (homelab.builds): the keys every host trusts, the cache it
substitutes from (and harmonia on the host that serves it), the remote builders it sends
builds to (and, on a builder, the user they log in as), and on a deploy.buildOn builder
the key it signs with and the systems it emulates; on a deploy.buildOn target, the build
key allowed to do nothing but receive store paths.

Option names, types and defaults read from nixpkgs (NixOS/nixpkgs):
- nixos/modules/config/nix.nix at 013635633ffe11f70df1d639f563f21c42c1f778: nix.settings
  is freeform; `substituters` and `trusted-public-keys` have no default, the module itself
  defines cache.nixos.org's at normal priority (substituters with mkAfter, which orders and
  does not replace). A definition here joins those lists: cache.nixos.org stays.
- nixos/modules/config/nix-remote-build.nix at bc64bc8df51fce425320eecd4c7f90946d79baa6:
  nix.buildMachines.* (hostName has no port; publicHostKey is the base64 of the host key
  line; protocol "ssh" or "ssh-ng"), nix.distributedBuilds.
- nixos/modules/system/boot/binfmt.nix at e3f2b972f7d237919c8ebb1947200626e15557be:
  boot.binfmt.emulatedSystems (also adds the systems to the builder's Nix platforms).
- nixos/modules/programs/ssh.nix at f803fb870ae4aaab597c6b1e92f50517c467671f:
  programs.ssh.extraConfig (written before the generated `Host *`), programs.ssh.knownHosts.
- nixos/modules/services/networking/harmonia.nix: at 637b7c60fb5c53be0fc25182f6c5138f40d85e26
  it had `services.harmonia.{enable,signKeyPath,settings}` (`settings.bind` "[::]:5000" by
  default); later releases take a list, `signKeyPaths`, and keep signKeyPath as deprecated.
  homelab writes the flat `enable`, `signKeyPaths` and `settings`: the names NixOS labs use
  since 24.11, which harmonia's own newer module (`cache.*`) still takes as renamed options.
"""

from __future__ import annotations

from typing import Any

from homelab.builds import (
    CACHE_PORT,
    DAEMON_ONLY,
    RECEIVE_ONLY,
    REMOTE_USER,
    Builds,
    RemoteBuilder,
)
from homelab.nix.expr import Block, Comment
from homelab.profile.model import Profile
from homelab.webnix import finish, open_port, put, secret_path

TITLE = "Where the system is built, derived from the lab (lab.yaml: builds, deploy.buildOn)"
_SETTINGS = ["nix", "settings"]


def builds_module(builds: Builds | None, p: Profile) -> dict[str, Any]:
    """The body of the host's builds.nix ({} when the lab's builds ask nothing of it)."""
    if builds is None or p.folder not in builds.hosts:
        return {}
    mine = builds.of(p.folder)
    spec = builds.spec
    tree: dict[str, Any] = {}
    trusted: list[str] = []
    if spec.signing_key is not None:
        trusted.append(spec.signing_key.public)  # what the lab's builders and cache sign
    if mine.cache is not None:
        put(tree, [*_SETTINGS, "substituters"], [mine.cache])
        if spec.cache is not None and spec.cache.public_key is not None:
            trusted.append(spec.cache.public_key)
    if trusted:
        put(tree, [*_SETTINGS, "trusted-public-keys"], trusted)
    if mine.serves_cache and spec.signing_key is not None:
        _harmonia(tree, builds, p, spec.signing_key.secret)
    if mine.builds_for and spec.signing_key is not None:
        # every path this host builds is signed, so its targets take what it copies
        put(tree, [*_SETTINGS, "secret-key-files"], secret_path(spec.signing_key.secret))
        for target in mine.builds_for:
            copy = builds.build_on[target].copy
            if copy.host_key:  # not pinned yet: the target builds itself until it is
                _known_host(tree, target, copy.address, copy.port, copy.host_key)
    if mine.emulated:
        put(tree, ["boot", "binfmt", "emulatedSystems"], list(mine.emulated))
    if mine.built_on is not None:
        on = builds.build_on[p.folder]
        put(
            tree,
            ["users", "users", on.copy.user, "openssh", "authorizedKeys", "keys"],
            [f"{RECEIVE_ONLY} {on.ssh_public}"],
        )
    if mine.remote_builders and spec.ssh_key is not None:
        _uses_builders(tree, builds, mine.remote_builders, spec.ssh_key.secret)
    if mine.remote_builder and spec.ssh_key is not None:
        _builder_user(tree, spec.ssh_key.public)
    return finish(tree) if tree else {}


def _harmonia(tree: dict[str, Any], builds: Builds, p: Profile, key: str) -> None:
    cache = ["services", "harmonia"]
    put(tree, [*cache, "enable"], True)
    put(tree, [*cache, "signKeyPaths"], [secret_path(key)])
    put(tree, [*cache, "settings"], {"bind": f"[::]:{CACHE_PORT}"})
    for folder, address in sorted(builds.addresses.items()):
        if folder != p.folder:
            open_port(tree, address, CACHE_PORT)


def _uses_builders(
    tree: dict[str, Any], builds: Builds, folders: tuple[str, ...], key: str
) -> None:
    machines = []
    for folder in folders:
        b = builds.builders[folder]
        machines.append(_machine(b, key))
        if b.port != 22:
            _known_host(tree, folder, b.address, b.port, b.host_key)
            # buildMachines has no port: ssh's own configuration gives it
            put(
                tree,
                ["programs", "ssh", "extraConfig"],
                tree.get("programs", {}).get("ssh", {}).get("extraConfig", "")
                + f"Host {b.address}\n  Port {b.port}\n",
            )
    put(tree, ["nix", "distributedBuilds"], True)
    put(tree, ["nix", "buildMachines"], machines)
    # a builder fetches what it can from the caches rather than from this host
    put(tree, [*_SETTINGS, "builders-use-substitutes"], True)


def _machine(b: RemoteBuilder, key: str) -> Block:
    return Block(
        {
            "hostName": b.address,
            "protocol": "ssh-ng",
            "sshUser": REMOTE_USER,
            "sshKey": secret_path(key),
            "publicHostKey": b.public_host_key,
            "systems": list(b.systems),
            "maxJobs": b.spec.max_jobs,
            "speedFactor": b.spec.speed_factor,
            "supportedFeatures": list(b.spec.features),
        }
    )


def _known_host(tree: dict[str, Any], folder: str, address: str, port: int, key: str) -> None:
    name = address if port == 22 else f"[{address}]:{port}"
    put(
        tree,
        ["programs", "ssh", "knownHosts", folder],
        Block({"hostNames": [name], "publicKey": key}),
    )


def _builder_user(tree: dict[str, Any], public: str) -> None:
    user: dict[str, Any] = {
        "isSystemUser": True,
        "group": REMOTE_USER,
        "useDefaultShell": True,  # Nix runs its commands through the login shell
        "openssh": {"authorizedKeys": {"keys": [f"{DAEMON_ONLY} {public}"]}},
    }
    put(tree, ["users", "users", REMOTE_USER], Block(user))
    put(tree, ["users", "groups", REMOTE_USER], Block({}))
    put(
        tree,
        [*_SETTINGS, "trusted-users"],
        Comment(
            [REMOTE_USER],
            "the lab's remote builds (builds.builders) log in as this user: over ssh-ng the "
            "daemon builds a derivation sent whole, not one it evaluated, for trusted users alone",
        ),
    )
