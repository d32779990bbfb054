"""Commands as data, quoted only where they leave for the machine.

Two kinds, both built by homelab.deploy.steps and run by homelab.deploy.host:

- a Remote is one SSH command: one of homelab.deploy.scripts' shell scripts with its
  values as positional arguments (`sh -c SCRIPT homelab ARG...`), maybe through sudo,
  maybe with the sudo password on its input;
- a Step is one line of the detached job that rebuilds the machine: an argv (a program,
  or one of the job's own functions, see scripts.job_script), and whether a failure ends
  the job with the command's exit code.

Every value is an argument, quoted by `shlex` when the command line or the job is
written (`Remote.line`, `Step.line`): no value is ever pasted into shell text. A secret
(the sudo password) is a Masked value: it is never on a command line, and never shown
by `repr` or `str`, so a log or a test failure cannot print it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from enum import StrEnum

from homelab.deploy import scripts


@dataclass(frozen=True)
class Masked:
    """A secret: its value goes where it must (standard input), its text nowhere."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "***"


class Sudo(StrEnum):
    """How commands that need root run, when the login user is not root."""

    NONE = ""  # the login user is root
    NO_PASSWORD = "-n"  # sudo without a password
    PASSWORD = "-S"  # sudo reading the password from the first line of its input


@dataclass(frozen=True)
class Remote:
    """One SSH command: `script` run with `args`, through `sudo`, `stdin` on its input."""

    script: str
    args: tuple[str, ...] = ()
    sudo: Sudo = Sudo.NONE
    stdin: Masked | None = None  # the sudo password, given to sudo on its input

    def line(self) -> str:
        """The command line for the machine's login shell."""
        return scripts.sudo_command(self.script, *self.args, sudo=self.sudo)

    def input(self) -> bytes:
        """What goes on the command's standard input: the password line, or nothing."""
        return b"" if self.stdin is None else self.stdin.value.encode() + b"\n"


@dataclass(frozen=True)
class Built:
    """The system the job built (`$new`, set by the job's `take_built`), with a path in it."""

    path: str = ""


Arg = str | Built


@dataclass(frozen=True)
class Step:
    """One line of the detached job."""

    argv: tuple[Arg, ...]
    check: bool = True  # a failure ends the job with the command's exit code

    def line(self) -> str:
        words = " ".join(_word(arg) for arg in self.argv)
        return f"{words} || finish $?" if self.check else words


def _word(arg: Arg) -> str:
    if isinstance(arg, Built):
        return '"$new"' + (shlex.quote(arg.path) if arg.path else "")
    return shlex.quote(arg)


def say(*words: str) -> Step:
    """A line for homelab itself (`@homelab WORDS`): a phase, a note, a problem."""
    return Step(("say", *words), check=False)
