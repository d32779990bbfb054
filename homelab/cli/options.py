"""The option index's commands: options search, options show, and catalogue check.

Without an index they say how to make one and exit 1, as `locate` does without its
database: nothing typed was wrong (that is exit 2), the lab lacks what the command reads.
"""

from __future__ import annotations

import argparse
import contextlib

from homelab.cli import FAILED, INVALID, OK, err, output
from homelab.cli.common import open_lab, usage
from homelab.optionindex.describe import option_lines, summary
from homelab.optionindex.model import OptionSet
from homelab.optionindex.search import search
from homelab.optionindex.suggest import suggestions

NO_INDEX = (
    "this lab has no option index yet: make one with `homelab options update` "
    "(where Nix is installed), or `homelab options update HOST` on a lab machine"
)
HOME = "home-manager"
NIXOS = "NixOS"
SHOWN = 20  # search results shown unless --limit says otherwise
_HOME_USER = ("home-manager", "users")  # home-manager.users.NAME.<a home option>


def cmd_help(args: argparse.Namespace) -> int:
    """`homelab options` (or `catalogue`) alone: its commands."""
    from homelab.cli import parser

    with contextlib.suppress(SystemExit):
        parser().parse_args([args.help_of, "--help"])
    return OK


def cmd_search(args: argparse.Namespace) -> int:
    limit = args.limit if args.limit is not None else SHOWN
    if limit < 1:
        raise usage("--limit: give a number of results, 1 or more")
    index = open_lab(args).option_index()
    if index is None:
        err(f"error: {NO_INDEX}")
        return FAILED
    which, options = (HOME, index.home) if args.home else (NIXOS, index.nixos)
    words = args.words
    parts = words[0].split(".")
    if not args.home and len(words) == 1 and tuple(parts[:2]) == _HOME_USER and len(parts) > 3:
        # home-manager.users.NAME.programs.git: a user's home-manager options
        which, options, words = HOME, index.home, [".".join(parts[3:])]
    hits = search(options, words, limit=None)
    if not hits:
        other = index.nixos if args.home else index.home
        hint = ""
        if search(other, words, limit=1):
            hint = " (the NixOS options have some)" if args.home else " (try --home)"
        err(f"no {which} option matches {' '.join(words)!r}{hint}")
        return FAILED
    rows = [("OPTION", "DESCRIPTION")]
    rows += [(h.option.name, summary(h.option)) for h in hits[:limit]]
    output.table(rows)
    more = f"; --limit {len(hits)} shows all" if len(hits) > limit else ""
    err(
        f"{min(limit, len(hits))} of {len(hits)} matching {which} options{more}; "
        "`homelab options show OPTION` tells one in full"
    )
    return OK


def cmd_show(args: argparse.Namespace) -> int:
    index = open_lab(args).option_index()
    if index is None:
        err(f"error: {NO_INDEX}")
        return FAILED
    words = args.path.split(".")
    if args.home:
        tried = [(HOME, index.home, words)]
    elif tuple(words[:2]) == _HOME_USER and len(words) > 3:
        tried = [(HOME, index.home, words[3:])]
    else:  # a NixOS path, else the same path among a user's home-manager options
        tried = [(NIXOS, index.nixos, words), (HOME, index.home, words)]
    for which, options, path in tried:
        found = options.find(path)
        if found is not None:
            if found.rest:
                print(f"{args.path} is set through the option {found.option.name}\n")
            for line in option_lines(found.option, which):
                print(line)
            return OK
    for which, options, path in tried:
        inside = options.below(path)
        if inside:
            print(f"{args.path} holds {len(inside)} {which} options:")
            for option in inside:
                print(f"  {option.name}")
            return OK
    which, options, path = tried[0]
    raise usage(f"{args.path}: no {which} option has this path" + _did_you_mean(options, path))


def _did_you_mean(options: OptionSet, path: list[str]) -> str:
    near = suggestions(options, path)
    return "; did you mean " + " or ".join(near) + "?" if near else ""


def cmd_catalogue_check(args: argparse.Namespace) -> int:
    lab = open_lab(args)
    index = lab.option_index()
    if index is None:
        err(f"error: {NO_INDEX}")
        return FAILED
    if not len(index.nixos):
        err(f"error: the option index of {index.nixpkgs} holds no NixOS options to check against")
        return FAILED
    report = lab.catalogue_check(index)
    for problem in report.problems:
        print(f"warning: {problem}" if problem.warning else problem)
    print(report.summary())
    return INVALID if report.errors else OK
