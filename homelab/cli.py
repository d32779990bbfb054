"""The command line: argument parsing and printing only; the work is in Lab.

Heavy imports (textual, paramiko, git) happen inside the commands that need them, so
`homelab --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homelab.lab import Lab, LabState

OK, FAILED, INVALID = 0, 1, 2

Command = Callable[[argparse.Namespace], int]


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _open_lab(args: argparse.Namespace) -> Lab:
    from homelab.lab import Lab, find_lab

    return Lab(find_lab(args.lab))


def _report(problems: Sequence[Any]) -> None:
    for p in problems:
        _err(f"error: {p}")
    files = {p.place.file for p in problems}
    _err(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {len(files)} file{'s' if len(files) != 1 else ''}")


def _load_valid(args: argparse.Namespace, hosts: Sequence[str]) -> tuple[Lab, LabState, list[str]]:
    """The lab, its state and the chosen hosts; raises InvalidInput on any problem."""
    from homelab.errors import InvalidInput

    lab = _open_lab(args)
    state = lab.load()
    chosen = lab.select(state, hosts)
    problems = state.all_problems(chosen)
    if problems:
        raise InvalidInput(problems)
    return lab, state, chosen


# ---- commands -------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from homelab.init import init_lab

    path = init_lab(Path(args.dir))
    print(f"made a new lab in {path}")
    print("next: edit hosts/example/profile.yaml, then `homelab validate` and `homelab build`")
    return OK


def cmd_hosts(args: argparse.Namespace) -> int:
    lab = _open_lab(args)
    state = lab.load()
    rows = [("HOST", "SYSTEM", "ADDRESS", "TAGS", "SERVICES")]
    for folder, host in sorted(state.hosts.items()):
        p = host.profile
        if p is None:
            rows.append((folder, "(invalid)", "", ",".join(host.tags), ""))
            continue
        rows.append(
            (
                p.name,
                p.host.system,
                p.deploy.address or "",
                ",".join(p.deploy.tags),
                ", ".join(s.name for s in p.services),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    bad = [f for f, h in state.hosts.items() if not h.valid]
    if bad:
        _err(f"{len(bad)} invalid host(s): run `homelab validate` for the reasons")
    return OK


def cmd_validate(args: argparse.Namespace) -> int:
    _, state, chosen = _load_valid(args, args.hosts)
    print(f"{len(chosen)} host{'s' if len(chosen) != 1 else ''} valid: {', '.join(chosen)}")
    return OK


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from homelab.profile.validate import profile_schema

    print(json.dumps(profile_schema(), indent=2, ensure_ascii=False))
    return OK


def cmd_build(args: argparse.Namespace) -> int:
    from homelab.write import BuildResult

    lab, state, chosen = _load_valid(args, args.hosts)
    result: BuildResult = lab.build(state, chosen, check=args.check, force=args.force)
    if args.check:
        if result.stale:
            for path in result.stale:
                print(f"stale: {path}")
            _err(f"{len(result.stale)} generated file(s) out of date: run `homelab build`")
            return FAILED
        print("generated files are up to date")
        return OK
    for path in result.written:
        print(f"wrote {path}")
    for path in result.deleted:
        print(f"deleted {path}")
    if not result.written and not result.deleted:
        print("nothing to do: generated files are up to date")
    if getattr(args, "commit", False):
        return _commit_after_build(lab, state, chosen, args)
    return OK


def _commit_after_build(lab: Lab, state: LabState, chosen: list[str], args: argparse.Namespace) -> int:
    from homelab.history import commit_lab

    commit = commit_lab(lab, message=args.message)
    if commit is None:
        print("nothing to commit")
    else:
        print(f"committed {commit.hexsha[:7]} {commit.summary}")
    return OK


def cmd_show(args: argparse.Namespace) -> int:
    lab, state, chosen = _load_valid(args, [args.host])
    files = lab.generated(state, chosen)
    for path, text in sorted(files.items()):
        print(f"# ==> {path} <==")
        print(text, end="")
    return OK


# ---- wiring ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="homelab",
        description="Run a home lab of NixOS machines from YAML profiles kept in git.",
    )
    top.add_argument("--lab", metavar="DIR", help="the lab folder (default: $HOMELAB_LAB, "
                     "else the current folder or a parent holding hosts/)")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Command, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("init", cmd_init, "make a new lab in DIR (catalogue, flake.nix, an example host, git)")
    p.add_argument("dir", metavar="DIR")
    add("hosts", cmd_hosts, "list the hosts with system, address, tags and services")
    p = add("validate", cmd_validate, "check profiles and report every problem (all hosts by default)")
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag")
    add("schema", cmd_schema, "print the JSON Schema of a host profile (for editors)")
    p = add("build", cmd_build, "compile profiles into NixOS modules, writing only what changed")
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file is stale")
    p.add_argument("--force", action="store_true", help="overwrite generated files edited by hand")
    p.add_argument("--commit", action="store_true", help="commit the profiles and generated files")
    p.add_argument("-m", "--message", help="your own words on top of the commit message")
    p = add("show", cmd_show, "print a host's generated modules")
    p.add_argument("host", metavar="HOST")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        parser().print_help()
        return OK
    from homelab.errors import InvalidInput, LabFailure

    try:
        code: int = args.func(args)
        return code
    except InvalidInput as err:
        _report(err.problems)
        return INVALID
    except LabFailure as err:
        _err(f"error: {err}")
        return FAILED
    except Exception as err:  # noqa: BLE001 - the edge: say it, with the kind, and fail
        from homelab.lab import LabNotFound

        if isinstance(err, LabNotFound):
            _err(f"error: {err}")
            return INVALID
        raise
