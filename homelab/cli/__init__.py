"""The command line: argument parsing and printing only; the work is in homelab.lab.Lab.

Modules: common (exit codes, the lab, questions), lab (init, hosts, validate, schema,
build, show, tui), history (history, diff, revert, status), deploy (apply, rollback,
adopt, lock), output (colours, tables, the live view of an apply).

The heavy imports (the profiles and catalogue behind Lab, git, paramiko, textual, rich)
happen inside the commands that need them, each marked "deferred: start-up", so that
`homelab --help` stays fast (bench/startup.py measures it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from homelab.cli.common import FAILED, INVALID, OK, Command, err
from homelab.cli.deploy import add_apply_commands
from homelab.cli.history import add_history_commands
from homelab.cli.lab import add_lab_commands, add_tui_command, cmd_tui

if TYPE_CHECKING:
    from homelab.errors import InvalidInput

__all__ = ["FAILED", "INVALID", "OK", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="homelab",
        description="Run a home lab of NixOS machines from YAML profiles kept in git.",
    )
    top.add_argument(
        "--lab",
        metavar="DIR",
        help="the lab folder (default: $HOMELAB_LAB, "
        "else the current folder or a parent holding hosts/)",
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Command, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    add_lab_commands(add)
    add_history_commands(add)
    add_apply_commands(add)
    add_tui_command(add)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            parser().print_help()  # not a terminal: the editor cannot run here
            return OK
        args.func = cmd_tui  # no command: open the editor
    from homelab.errors import InvalidInput, LabFailure  # deferred: start-up (dataclasses)

    try:
        code: int = args.func(args)
        return code
    except InvalidInput as error:
        _report(error)
        return INVALID
    except LabFailure as error:
        err(f"error: {error}")
        return FAILED
    except BrokenPipeError:  # `homelab diff | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except Exception as error:
        from homelab.lab import LabNotFound  # deferred: start-up (profiles, catalogue)

        if isinstance(error, LabNotFound):
            err(f"error: {error}")
            return INVALID
        raise


def _report(error: InvalidInput) -> None:
    problems = error.problems
    for p in problems:
        err(f"error: {p}")
    files = {p.place.file for p in problems}
    plural = "s" if len(problems) != 1 else ""
    err(f"{len(problems)} problem{plural} in {len(files)} file{'s' if len(files) != 1 else ''}")
