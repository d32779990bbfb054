"""The lab's backups: the backup host keeps a restic repository (restic's REST server),
opened to the lab's hosts alone; every host backs up the state folders its services name,
on the lab's schedule, and forgets by the lab's keep rules. The repository password is an
encrypted secret every backing-up host receives.

Option paths and shapes from nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
nixos/modules/services/backup/restic.nix (services.restic.backups.<name>) and
nixos/modules/services/backup/restic-rest-server.nix (services.restic.server).

Two choices, made for a home lab:
- No HTTP authentication (--no-auth). rest-server refuses to start without a .htpasswd
  unless told so, and an htpasswd file would be one more secret per host, a bcrypt hash a
  person must make by hand. Instead the port is opened to the backing-up hosts' addresses
  alone, and what the repository holds is encrypted with the lab's password: a host that
  is not one of them cannot reach it, and one that reaches it cannot read it without the
  password.
- Not append-only. The clients forget and prune by the lab's keep rules, which needs
  deletes; append-only would make every client's prune fail. The price: root on a
  backing-up host can delete the lab's backups (every host's: the repositories share one
  server and no per-host users exist without authentication). Pruning on the backup host
  itself over an append-only server is the stronger design, not built yet.
"""

from __future__ import annotations

from typing import Any

from homelab.catalog import Catalog
from homelab.profile.model import Profile
from homelab.webnix import open_port, put, secret_path
from homelab.wiring import REPOSITORY_PORT, Role, Wiring

# the wiring's own job (restic-backups-lab.service): the catalogue's restic entry is `main`
JOB = "lab"
UNIT = f"restic-backups-{JOB}.service"


def host_part(
    tree: dict[str, Any], wiring: Wiring, role: Role, p: Profile, catalog: Catalog
) -> None:
    if p.folder == role.provider.folder:
        _server(tree, wiring, role)
    paths = wiring.backups.get(p.folder)
    if paths and role.spec.password is not None:
        put(tree, ["services", "restic", "backups", JOB], _job(role, p, paths))


def _server(tree: dict[str, Any], wiring: Wiring, role: Role) -> None:
    server = ["services", "restic", "server"]
    put(tree, [*server, "enable"], True)
    # a port alone: the module listens by systemd socket activation and asserts that the
    # address does not start with ":" (listenAddress = "8000" is every address)
    put(tree, [*server, "listenAddress"], str(REPOSITORY_PORT))
    put(tree, [*server, "extraFlags"], ["--no-auth"])
    for folder in sorted(wiring.backups):
        if folder != role.provider.folder:
            open_port(tree, wiring.peers[folder].address, REPOSITORY_PORT)


def _job(role: Role, p: Profile, paths: tuple[str, ...]) -> dict[str, Any]:
    assert role.spec.password is not None
    server = "127.0.0.1" if p.folder == role.provider.folder else role.provider.address
    return {
        # one repository a host, named by the host (rest-server keeps it in dataDir/NAME)
        "repository": f"rest:http://{server}:{REPOSITORY_PORT}/{p.name}",
        "passwordFile": secret_path(role.spec.password),
        "paths": list(paths),
        "initialize": True,
        # written whole: the module's default {OnCalendar; Persistent} is one value
        "timerConfig": {"OnCalendar": role.spec.schedule, "Persistent": True},
        "pruneOpts": [f"--keep-{k} {v}" for k, v in sorted(role.spec.keep.items())],
    }
