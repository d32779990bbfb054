"""The command line: argument parsing and printing only; the work is in homelab.lab.Lab.

This module holds the parser (every command and its options), main and the exit codes.
The commands are in lab (init, hosts, validate, schema, build, show, tui), map, history
(history, diff, revert, undo, status) and deploy (apply, rollback, adopt, lock), with common
(the lab, questions); they draw through output (colours, tables, the summary of an apply)
and live (the live view of an apply).

A command's module is loaded only when that command runs, so `homelab --help` loads none
of them, nor what they import (the profiles and catalogue behind Lab, git); inside them,
only what some of their commands need waits (textual, rich, the deploy code), marked
"deferred". bench/startup.py measures it.

Over 500 lines: every command's options are here, in one place to read, built only for
the command asked (`parser(only=...)`).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from homelab.errors import InvalidInput

__all__ = ["FAILED", "INVALID", "OK", "main", "parser"]

OK, FAILED, INVALID = 0, 1, 2  # INVALID: bad input (InvalidInput); FAILED: LabFailure

Command = Callable[[argparse.Namespace], int]


def err(text: str) -> None:
    print(text, file=sys.stderr)


class _NotAsked:
    """The parser of a command that was not asked for: every call on it does nothing.
    argparse looks up translations for each option it adds, so building all 19 commands
    costs more (about 15 ms) than a quick command such as `history` runs."""

    def __getattr__(self, name: str) -> Callable[..., _NotAsked]:
        return lambda *args, **kwargs: self


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, the terminal's width found as shutil.get_terminal_size
    finds it, without importing shutil: argparse makes a formatter for every option it
    adds, and shutil (with bz2, lzma, fnmatch) costs a quick command about 1.5 ms."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """$COLUMNS, else the width of the terminal on standard output, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser laid out by _Formatter (its subcommands' parsers are _Parsers)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with `only`, a command's name, the other commands are
    left out (the whole parser when no command has that name)."""
    top = _Parser(
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
    made: list[str] = []

    def new(name: str, help: str, description: str) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return cast("argparse.ArgumentParser", _NotAsked())
        made.append(name)
        return sub.add_parser(name, help=help, description=description)

    def add(name: str, command: str, help: str) -> argparse.ArgumentParser:
        """A command, run by `command` ("module:function" in homelab.cli)."""
        p = new(name, help=help, description=help)
        p.set_defaults(command_function=command)
        return p

    # ---- the lab (homelab.cli.lab) ----
    p = add(
        "init", "lab:cmd_init", "make a new lab in DIR (catalogue, flake.nix, an example host, git)"
    )
    p.add_argument("dir", metavar="DIR")
    add("hosts", "lab:cmd_hosts", "list the hosts with system, address, tags and services")
    p = add(
        "validate",
        "lab:cmd_validate",
        "check profiles and report every problem (all hosts by default)",
    )
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag")
    add("schema", "lab:cmd_schema", "print the JSON Schema of a host profile (for editors)")
    p = add(
        "build", "lab:cmd_build", "compile profiles into NixOS modules, writing only what changed"
    )
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag")
    p.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file is stale"
    )
    p.add_argument("--force", action="store_true", help="overwrite generated files edited by hand")
    p.add_argument("--commit", action="store_true", help="commit the profiles and generated files")
    p.add_argument("-m", "--message", help="your own words on top of the commit message")
    p = add("show", "lab:cmd_show", "print a host's generated modules")
    p.add_argument("host", metavar="HOST")
    p.add_argument(
        "--extra",
        action="store_true",
        help="list the extraConfig settings that could move into options:, as the YAML to "
        "paste, and those that must stay Nix, with why",
    )
    p = add(
        "map",
        "map:cmd_map",
        "draw the lab: hosts, services, names under the domain, ports and the links between "
        "machines (proxy, DNS, scrape, backup, MQTT), as SVG or Mermaid text",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write it (default: map.svg; with --mermaid, standard output); - for "
        "standard output",
    )
    p.add_argument(
        "--mermaid", action="store_true", help="Mermaid text (a flowchart) instead of SVG"
    )
    # ---- history (homelab.cli.history) ----
    p = add(
        "history", "history:cmd_history", "commits that touched a host (or the lab), newest first"
    )
    p.add_argument("host", nargs="?", metavar="HOST")
    p.add_argument("--limit", type=int, metavar="N", help="show at most N commits")
    p.add_argument("--show", metavar="REV", help="what that commit changed in HOST")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p = add(
        "diff",
        "history:cmd_diff",
        "what the working tree changes on each host since REV (default: its last deploy, "
        "else HEAD): profile changes and the generated Nix",
    )
    p.add_argument(
        "words", nargs="*", metavar="REV/HOST", help="a revision first (optional), then hosts"
    )
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p = add(
        "revert",
        "history:cmd_revert",
        "go back to a state: hosts' profiles as they were at REV, rebuilt, as a new commit",
    )
    p.add_argument("rev", metavar="REV")
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag (default: all)")
    p = add(
        "undo",
        "history:cmd_undo",
        "undo one commit: take back what REV changed in hosts' profiles, keeping later "
        "changes, as a new commit (refused when later commits changed the same lines)",
    )
    p.add_argument("rev", metavar="REV")
    p.add_argument(
        "hosts", nargs="*", metavar="HOST", help="host names or @tag (default: all it changed)"
    )
    p = add(
        "status",
        "history:cmd_status",
        "what is deployed on each host, and what is not deployed yet",
    )
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag (default: all)")
    p.add_argument("--live", action="store_true",
                   help="ask the machines what they run (over SSH), and confirm how an "
                   "interrupted apply ended")  # fmt: skip
    # ---- the machines (homelab.cli.deploy) ----
    p = add(
        "apply",
        "deploy:cmd_apply",
        "rebuild machines over SSH, many at once (all hosts by default, after asking)",
    )
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag")
    p.add_argument("--mode", choices=("switch", "boot", "test", "dry-activate", "build"),
                   default="switch",
                   help="what nixos-rebuild does (default: switch); build also shows the "
                   "closure diff when the machine has nvd or nix")  # fmt: skip
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before applying")
    p.add_argument("-j", "--jobs", type=int, metavar="N",
                   help="hosts at a time (default: all, up to 32)")  # fmt: skip
    p.add_argument("--accept-new", action="store_true",
                   help="trust an unknown host key once and pin it in the profile")  # fmt: skip
    p.add_argument("--ask-sudo-password", action="store_true",
                   help="ask once for the sudo password (given to sudo on its input)")  # fmt: skip
    p.add_argument("--confirm", type=float, metavar="SECONDS",
                   help="magic rollback: the machine switches back by itself unless homelab "
                   "reaches it again within SECONDS after activation")  # fmt: skip
    p.add_argument("--rollback-on-failure", action="store_true",
                   help="switch a host back to its previous generation when a health check "
                   "fails")  # fmt: skip
    p.add_argument("--timeout", type=float, default=3600.0, metavar="SECONDS",
                   help="stop a rebuild that runs longer (default: 3600)")  # fmt: skip
    p.add_argument("--check-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long a health check may keep failing before it counts as failed, "
                   "when the profile's deploy.checks gives no grace (default: 30)")  # fmt: skip
    p.add_argument("--no-checks", action="store_true",
                   help="run no health check after activation (the summary says they were "
                   "skipped)")  # fmt: skip
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another apply to the same host to end "
                   "(default: refuse at once)")  # fmt: skip
    p.add_argument("--reconnect", type=float, default=120.0, metavar="SECONDS",
                   help="how long to try again when a connection drops (default: 120)")  # fmt: skip
    p.add_argument("--diff", action="store_true", help="show the generated Nix that changes too")
    p.add_argument("--no-commit", action="store_true",
                   help="do not commit what goes out (deploy records then name HEAD)")  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="rebuild machines that already run what would be sent (else they are "
                   "left alone as up to date)")  # fmt: skip
    p = add("rollback", "deploy:cmd_rollback", "switch a machine back to its previous generation")
    p.add_argument("host", metavar="HOST")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask first")
    p.add_argument("--ask-sudo-password", action="store_true", help="ask once for sudo")
    p.add_argument("--timeout", type=float, default=3600.0, metavar="SECONDS")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another apply to the same host to end")  # fmt: skip
    p = add(
        "adopt",
        "deploy:cmd_adopt",
        "bring a running NixOS machine into the lab: hosts/NAME/ with its hardware "
        "configuration and pinned host key, committed",
    )
    p.add_argument("name", metavar="NAME", help="the new host's name (its folder)")
    p.add_argument("address", metavar="USER@ADDRESS[:PORT]")
    p.add_argument("--accept-new", action="store_true",
                   help="trust the machine's host key without asking")  # fmt: skip
    p.add_argument("--no-commit", action="store_true", help="write the files, do not commit")
    p = add(
        "lock",
        "deploy:cmd_lock",
        "pin the flake's inputs in flake.lock (with Nix here, or on HOST), committed",
    )
    p.add_argument("host", nargs="?", metavar="HOST", help="a machine that has Nix")
    p.add_argument("--update", action="store_true", help="update the inputs (nix flake update)")
    p.add_argument("--no-commit", action="store_true", help="write flake.lock, do not commit")
    # ---- the option index (homelab.cli.options) ----
    group = new(
        "options",
        help="the options of the lab's pinned nixpkgs and home-manager: search, show, update",
        description="the options of the lab's pinned nixpkgs and home-manager (its option "
        "index): search, show, update",
    )
    group.set_defaults(command_function="options:cmd_help", help_of="options")
    options = group.add_subparsers(dest="options_command", metavar="COMMAND")

    def add_option(name: str, command: str, help: str) -> argparse.ArgumentParser:
        """A command of `homelab options`, run as `add` runs one."""
        p = options.add_parser(name, help=help, description=help)
        p.set_defaults(command_function=command)
        return p

    p = add_option(
        "search",
        "options:cmd_search",
        "find options by words: exact path first, then path prefix, words in the path, "
        "words in the description (NixOS options; --home: home-manager's)",
    )
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("--home", action="store_true", help="search a user's home-manager options")
    p.add_argument("--limit", type=int, metavar="N", help="show at most N (default: 20)")
    p = add_option(
        "show",
        "options:cmd_show",
        "one option in full: type, default, example, description, declared in, renamed or "
        "removed (a home-manager option when no NixOS option has the path)",
    )
    p.add_argument("path", metavar="OPTION", help="e.g. services.openssh.enable")
    p.add_argument("--home", action="store_true", help="a user's home-manager option")
    p = add_option(
        "update",
        "optionupdate:cmd_update",
        "make the option index of the pinned nixpkgs and home-manager (flake.lock), with Nix "
        "here or on HOST, a lab machine; kept in .homelab/ (it takes a few GB of memory)",
    )
    p.add_argument("host", nargs="?", metavar="HOST", help="a lab machine that has Nix")
    p.add_argument(
        "--small", action="store_true", help="evaluate on HOST even with less than 3 GB of memory"
    )
    p = add(
        "catalogue",
        "options:cmd_help",
        "the lab's service catalogue (services/*.yaml): list, show, check",
    )
    p.set_defaults(help_of="catalogue")
    entries = p.add_subparsers(dest="catalogue_command", metavar="COMMAND")
    p = entries.add_parser(
        "list",
        help="the services a host can enable, with their descriptions",
        description="the services a host can enable (services/*.yaml), with their "
        "descriptions; WORDS keep only the entries whose name or description holds them all",
    )
    p.add_argument("words", nargs="*", metavar="WORD", help="e.g. dns, or backup")
    p.set_defaults(command_function="catalogue:cmd_list")
    p = entries.add_parser(
        "show",
        help="one entry: its settings with their defaults, ports, web UI, data and checks",
        description="one entry: its settings with their types, defaults and what each "
        "sets in NixOS, and the ports, web UI, data folders and health checks it brings",
    )
    p.add_argument("name", metavar="NAME", help="an entry, e.g. jellyfin")
    p.set_defaults(command_function="catalogue:cmd_show")
    p = entries.add_parser(
        "check",
        help="check every entry against the option index: the options it sets exist and "
        "take the values it writes, and it was written for the lab's release",
        description="check every entry against the option index: the options it sets exist "
        "and take the values it writes, and it was written for the lab's release",
    )
    p.set_defaults(command_function="options:cmd_catalogue_check")
    # ---- encrypted secrets (homelab.cli.secrets) ----
    group = new(
        "secrets",
        help="the lab's encrypted secrets (encrypted/NAME.age): list, set, edit, rekey, import, "
        "migrate, admin",
        description="the lab's encrypted secrets (encrypted/NAME.age, opened on each machine "
        "with its SSH host key): list, set, edit, rekey, import, migrate, admin",
    )
    group.set_defaults(command_function="secrets:cmd_help")
    identity = _Parser(add_help=False)
    identity.add_argument(
        "--identity",
        metavar="FILE",
        default=argparse.SUPPRESS,  # given after the command, else as given before it
        help="your age identity or SSH private key (default: $HOMELAB_AGE_IDENTITY, "
        "else ~/.config/homelab/age.key)",
    )
    group.add_argument("--identity", metavar="FILE", help=argparse.SUPPRESS)
    secrets = group.add_subparsers(dest="secrets_command", metavar="COMMAND")

    def add_secret(name: str, command: str, help: str) -> argparse.ArgumentParser:
        """A command of `homelab secrets` (with --identity), run as `add` runs one."""
        p = secrets.add_parser(name, help=help, description=help, parents=[identity])
        p.set_defaults(command_function=command)
        return p

    add_secret(
        "list",
        "secrets:cmd_list",
        "each secret: the hosts that use it, who can open it (read from the file itself), "
        "where it is used; stale ones marked",
    )
    p = add_secret(
        "set", "secrets:cmd_set", "set a secret's value from standard input (encrypted, committed)"
    )
    p.add_argument("name", metavar="NAME")
    p = add_secret(
        "edit",
        "secrets:cmd_edit",
        "open a secret in $EDITOR (decrypted with your key into a private file, removed "
        "afterwards), then encrypt and commit it; a new secret starts empty",
    )
    p.add_argument("name", metavar="NAME")
    p = add_secret(
        "rekey",
        "secrets:cmd_rekey",
        "encrypt the stale secrets (or the ones named) to exactly their readers: the hosts "
        "that use them and the admins",
    )
    p.add_argument("names", nargs="*", metavar="NAME")
    p = add_secret(
        "import",
        "secrets:cmd_import",
        "import an agenix secrets.nix and its .age files into encrypted/ (read with "
        "nix-instantiate, restricted: no network, no files outside its folder); with your "
        "key, each is encrypted anew to the lab's readers; committed",
    )
    p.add_argument("path", metavar="SECRETS_NIX", help="agenix's secrets.nix (or its folder)")
    add_secret(
        "migrate",
        "secrets:cmd_migrate",
        "encrypt every copy-at-apply secret (secrets: NAME: {source: ...}) as encrypted/NAME.age "
        "and take its source: line out of the profile (target, owner, mode stay); committed",
    )
    p = add_secret(
        "admin", "secrets:cmd_admin_help", "add or remove an admin of lab.yaml (secrets rekeyed)"
    )
    admins = p.add_subparsers(dest="admin_command", metavar="COMMAND")
    p = admins.add_parser(
        "add",
        help="add an admin (or replace their key), every secret rekeyed to include them",
        description="add an admin (or replace their key), every secret rekeyed to include them",
        parents=[identity],
    )
    p.set_defaults(command_function="secrets:cmd_admin_add")
    p.add_argument("name", metavar="NAME")
    p.add_argument("key", nargs="?", metavar="KEY", help="age1... or an ssh-ed25519/ssh-rsa key")
    p.add_argument("--file", metavar="PUB", help="read the public key from this file")
    p = admins.add_parser(
        "remove",
        help="remove an admin, every secret rekeyed without them (then change the values)",
        description="remove an admin, every secret rekeyed without them (then change the values)",
        parents=[identity],
    )
    p.set_defaults(command_function="secrets:cmd_admin_remove")
    p.add_argument("name", metavar="NAME")
    # ---- the editor ----
    p = add("tui", "lab:cmd_tui", "open the editor: edit, preview, commit, review history, apply")
    p.add_argument("--host", metavar="HOST", help="open on this host (its folder name)")
    p.add_argument("--screenshot", metavar="FILE", help="save the screen as an SVG and exit")
    p.add_argument(
        "--screen",
        choices=["main", "apply", "secrets", "map"],
        default="main",
        help="with --screenshot: which screen to save (default: main)",
    )
    p.add_argument(
        "--size",
        default="140x42",
        metavar="WxH",
        help="with --screenshot: terminal size in cells (default: 140x42)",
    )
    if only is not None and not made:
        return parser()  # no such command: argparse says so, with the commands there are
    return top


def _command_word(argv: Sequence[str]) -> str | None:
    """The command a command line names (its first word that is no option), if any."""
    words = iter(argv)
    for word in words:
        if word == "--lab":
            next(words, None)
        elif word in ("-h", "--help"):
            return None  # the whole lab's help, every command in it
        elif word == "--":
            return next(words, None)
        elif not word.startswith("-"):
            return word
    return None


# Commands that read the lab, answer and end within seconds. For them the garbage
# collector is off: a loaded lab is millions of small objects that all stay alive, and
# the collector walked them again and again after the load for nothing (a fifth of
# `homelab validate` on 1000 hosts); such a run makes next to no cycles to free. The
# editor, apply and the other commands that run long or talk to machines keep it.
_SHORT = frozenset(
    {
        "lab:cmd_hosts",
        "lab:cmd_validate",
        "lab:cmd_schema",
        "lab:cmd_build",
        "lab:cmd_show",
        "map:cmd_map",
        "history:cmd_history",
        "history:cmd_diff",
        "catalogue:cmd_list",
        "catalogue:cmd_show",
        "options:cmd_search",
        "options:cmd_show",
        "options:cmd_catalogue_check",
        "secrets:cmd_list",
    }
)


# Of those, the ones that read and print only (history's note of a host's paths is written
# and closed before it prints).
_WRITE_NOTHING = frozenset({"history:cmd_history", "history:cmd_diff", "history:cmd_status"})


def _short(command: str, args: argparse.Namespace) -> bool:
    if command == "history:cmd_status":
        return not getattr(args, "live", False)  # --live asks the machines over SSH
    return command in _SHORT


def _function(command: str) -> Command:
    """The function that runs a command ("module:function" in homelab.cli)."""
    module, _, name = command.partition(":")
    # deferred: start-up (a command's module loads only when it runs)
    return cast("Command", getattr(importlib.import_module(f"homelab.cli.{module}"), name))


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args = parser(_command_word(words)).parse_args(words)
    command = getattr(args, "command_function", None)
    if command is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            parser().print_help()  # not a terminal: the editor cannot run here
            return OK
        command = "lab:cmd_tui"  # no command: open the editor
    paused = _short(command, args) and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _run(command, args)
    finally:
        if paused:  # as it was found: main also runs inside other programs (tests)
            # what the run left alive goes to the oldest generation at once: turned back
            # on with it all in the youngest, the collector's next step walks all of it
            gc.freeze()
            gc.enable()
            if argv is not None or command not in _WRITE_NOTHING:
                gc.unfreeze()
            # else main is the program (the console script, python -m homelab), which ends
            # now: left frozen, what it made is out of the collection Python makes as it
            # ends, which would walk all of it (about 3.5 ms of `homelab history`). Only
            # for commands with no file open for writing: a frozen object is never
            # finalized, and a file left in a reference cycle would lose what it buffered.


def _run(command: str, args: argparse.Namespace) -> int:
    from homelab.errors import InvalidInput, LabFailure  # deferred: start-up (dataclasses)

    try:
        return _function(command)(args)
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
    from homelab.cli.output import tally  # deferred: start-up

    said = tally([p.place.file for p in problems])
    if said:
        err(said)
