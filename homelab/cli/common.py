"""What the commands share: the lab they work on, refusals, a question on the terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from homelab.errors import InvalidInput, Place, Problem
from homelab.lab import Lab, LabState, find_lab

if TYPE_CHECKING:
    from homelab.lab import SshSettings
    from homelab.optionindex.model import OptionIndex


def open_lab(args: argparse.Namespace) -> Lab:
    return Lab(find_lab(args.lab))


def option_index(lab: Lab) -> OptionIndex | None:
    """The lab's option index, None when none has been made (`homelab options update`)."""
    return lab.option_index()


def load_valid(args: argparse.Namespace, hosts: Sequence[str]) -> tuple[Lab, LabState, list[str]]:
    """The lab, its state and the chosen hosts; raises InvalidInput on any problem (the
    options each host sets checked against the option index, when the lab has one)."""
    lab = open_lab(args)
    state = lab.load(index=option_index(lab))
    chosen = lab.select(state, hosts)
    problems = state.all_problems(chosen)
    if problems:
        raise InvalidInput(problems)
    return lab, state, chosen


def refusal(place: str, message: str) -> InvalidInput:
    """A problem with what the person asked for (exit 2), to raise."""
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
    from homelab.lab import SshSettings  # deferred: the deploy code, for SSH commands only

    if accept_new is None:
        accept_new = bool(getattr(args, "accept_new", False))
    return SshSettings.from_home(accept_new=accept_new)
