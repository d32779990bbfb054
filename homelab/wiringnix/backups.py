"""The lab's backups: the backup host keeps a restic repository (restic's REST server),
opened to the lab's hosts alone; every host backs up the state folders its services name,
on the lab's schedule, and forgets by the lab's keep rules. The repository password is an
encrypted secret every backing-up host receives."""

from __future__ import annotations

from typing import Any

from homelab.catalog import Catalog
from homelab.nix.expr import Raw
from homelab.nix.render import attr_name
from homelab.profile.model import Profile
from homelab.webnix import open_port, put
from homelab.wiring import REPOSITORY_PORT, Role, Wiring


def host_part(
    tree: dict[str, Any], wiring: Wiring, role: Role, p: Profile, catalog: Catalog
) -> None:
    server = role.provider
    if p.folder == server.folder:
        put(tree, ["services", "restic", "server", "enable"], True)
        put(tree, ["services", "restic", "server", "listenAddress"], f":{REPOSITORY_PORT}")
        for folder in wiring.backups:
            if folder != server.folder:
                open_port(tree, wiring.peers[folder].address, REPOSITORY_PORT)
    paths = wiring.backups.get(p.folder)
    if not paths or role.spec.password is None:
        return
    host = "127.0.0.1" if p.folder == server.folder else server.address
    keep = [f"--keep-{k} {v}" for k, v in sorted(role.spec.keep.items())]
    put(
        tree,
        ["services", "restic", "backups", "lab"],
        {
            "repository": f"rest:http://{host}:{REPOSITORY_PORT}/{p.name}",
            "passwordFile": Raw(f"config.age.secrets.{attr_name(role.spec.password)}.path"),
            "paths": list(paths),
            "initialize": True,
            "timerConfig": {"OnCalendar": role.spec.schedule, "Persistent": True},
            "pruneOpts": keep,
        },
    )
