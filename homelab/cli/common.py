"""What every command needs: exit codes, the lab it works on, a question on the terminal.

Imports of homelab.lab (and, through it, the profile and catalogue code) and of
homelab.errors (dataclasses, which loads inspect) are deferred into the functions
(start-up: `homelab --help` loads none of them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from homelab.errors import InvalidInput
    from homelab.lab import Lab, LabState, SshSettings

OK, FAILED, INVALID = 0, 1, 2

Command = Callable[[argparse.Namespace], int]
AddCommand = Callable[[str, Command, str], argparse.ArgumentParser]


def err(text: str) -> None:
    print(text, file=sys.stderr)


def open_lab(args: argparse.Namespace) -> Lab:
    from homelab.lab import Lab, find_lab  # deferred: start-up (profiles, catalogue)

    return Lab(find_lab(args.lab))


def load_valid(args: argparse.Namespace, hosts: Sequence[str]) -> tuple[Lab, LabState, list[str]]:
    """The lab, its state and the chosen hosts; raises InvalidInput on any problem."""
    from homelab.errors import InvalidInput  # deferred: start-up (dataclasses)

    lab = open_lab(args)
    state = lab.load()
    chosen = lab.select(state, hosts)
    problems = state.all_problems(chosen)
    if problems:
        raise InvalidInput(problems)
    return lab, state, chosen


def refusal(place: str, message: str) -> InvalidInput:
    """A problem with what the person asked for (exit 2), to raise."""
    from homelab.errors import InvalidInput, Place, Problem  # deferred: start-up (dataclasses)

    return InvalidInput([Problem(Place(place), message)])


def usage(message: str) -> InvalidInput:
    """A mistake on the command line (exit 2), to raise."""
    return refusal("command line", message)


def ask(question: str) -> bool:
    """A yes/no question on the terminal; no terminal means no."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def ssh_settings(args: argparse.Namespace, accept_new: bool | None = None) -> SshSettings:
    """The person's SSH setup (~/.ssh), trusting an unknown host key once with --accept-new."""
    from homelab.lab import SshSettings  # deferred: start-up (deploy)

    if accept_new is None:
        accept_new = bool(getattr(args, "accept_new", False))
    return SshSettings.from_home(accept_new=accept_new)
