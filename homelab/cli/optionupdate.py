"""`homelab options update [HOST]`: make the lab's option index, with Nix here or on HOST."""

from __future__ import annotations

import argparse

from homelab.cli import FAILED, OK, err
from homelab.cli.common import open_lab, ssh_settings


def cmd_update(args: argparse.Namespace) -> int:
    from homelab.lab import ConnectError  # deferred: the deploy code

    lab = open_lab(args)
    try:
        if args.host:
            index, path = lab.update_options(
                lambda line: err(f"{args.host} | {line}"),
                host=args.host,
                ssh=ssh_settings(args),
                small=args.small,
            )
        else:
            index, path = lab.update_options(err)
    except ConnectError as failed:
        err(f"error: {failed}")
        return FAILED
    where = path.relative_to(lab.root) if path.is_relative_to(lab.root) else path
    print(
        f"wrote {where}: {len(index.nixos)} NixOS options, {len(index.home)} home-manager "
        f"options ({index.made_with}; nixpkgs {index.nixpkgs[:12]}, home-manager "
        f"{index.home_manager[:12] or 'none'})"
    )
    return OK
