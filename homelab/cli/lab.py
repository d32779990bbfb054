"""The lab's commands: init, hosts, validate, schema, build, show, and tui (the editor)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from homelab.cli import FAILED, INVALID, OK, err, output
from homelab.cli.common import load_valid, open_lab, option_index
from homelab.errors import InvalidInput
from homelab.lab import Lab, LabNotFound, LabState
from homelab.profile.schema import profile_schema
from homelab.webplan import WebPlan


def cmd_init(args: argparse.Namespace) -> int:
    lab = Lab.new(Path(args.dir))
    print(f"made a new lab in {lab.root}")
    print("next: edit hosts/example/profile.yaml, then `homelab validate` and `homelab build`;")
    print("before the first apply, `homelab lock` (on a machine with Nix) pins the flake's inputs")
    return OK


def cmd_hosts(args: argparse.Namespace) -> int:
    lab = open_lab(args)
    state = lab.overview()  # the hosts the last build checked are not checked again
    web, wiring = state.web, state.wiring
    extra = [*(["NAMES"] if web else []), *(["ROLES"] if wiring else [])]
    rows = [("HOST", "SYSTEM", "ADDRESS", "TAGS", "SERVICES", *extra)]
    for folder, host in sorted(state.hosts.items()):
        p = host.profile
        if p is None:
            rows.append((folder, "(invalid)", "", ",".join(host.tags), "", *[""] * len(extra)))
            continue
        roles = sorted(
            n for n, r in (wiring.roles if wiring else {}).items() if r.provider.folder == folder
        )
        rows.append(
            (
                p.name,
                p.host.system,
                p.deploy.address or "",
                ",".join(p.deploy.tags),
                ", ".join(s.name for s in p.services),
                *([_names(web, folder)] if web else []),
                *([", ".join(roles)] if wiring else []),
            )
        )
    output.table(rows, marks={"(invalid)": "bold red"})
    bad = [f for f, h in state.hosts.items() if not h.valid]
    if bad:
        err(f"{len(bad)} invalid host(s): run `homelab validate` for the reasons")
    return OK


def _names(web: WebPlan, folder: str) -> str:
    """The host's names, and what it fronts when it is the lab's proxy."""
    said = list(web.names_of(folder))
    part = web.hosts.get(folder)
    fronted = len(part.fronts) if part is not None else 0
    if fronted and fronted != len(said):
        said.append(f"(proxy for {fronted} name{'s' if fronted != 1 else ''})")
    return ", ".join(said)


def cmd_validate(args: argparse.Namespace) -> int:
    lab = open_lab(args)
    state = lab.load(index=option_index(lab))
    chosen = lab.select(state, args.hosts)
    if state.options_not_checked:
        n = state.options_not_checked
        err(
            f"note: {n} option setting{'s' if n != 1 else ''} not checked against the "
            "options of the lab's nixpkgs and home-manager: this lab has no option index "
            "yet; make one with `homelab options update`"
        )
    # warnings first, with the errors or alone: they never change the exit code
    for warning in state.all_warnings(chosen):
        err(f"warning: {warning}")
    problems = state.all_problems(chosen)
    if problems:
        raise InvalidInput(problems)
    print(f"{len(chosen)} host{'s' if len(chosen) != 1 else ''} valid: {', '.join(chosen)}")
    if state.option_values is not None:
        done = state.option_values
        print(
            f"the lab's options against the option index: {done.checked} "
            f"value{'s' if done.checked != 1 else ''} checked, {done.unchecked} not "
            "(!nix values, raw Nix, types homelab cannot check)"
        )
    return OK


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(profile_schema(), indent=2, ensure_ascii=False))
    return OK


def cmd_build(args: argparse.Namespace) -> int:
    if not args.force and not args.commit and not any(h.startswith("@") for h in args.hosts):
        quick = open_lab(args)
        known = quick.host_folders()
        if set(args.hosts) <= set(known) and quick.unchanged_since_last_build(
            args.hosts or None, known
        ):
            print(
                "generated files are up to date"
                if args.check
                else "nothing to do: generated files are up to date"
            )
            return OK
    if args.commit:
        open_lab(args).check_can_commit()  # refuse before writing anything
    lab, state, chosen = load_valid(args, args.hosts)
    result = lab.build(state, chosen, check=args.check, force=args.force)
    if args.check:
        if result.stale:
            for path in result.stale:
                print(f"stale: {path}")
            err(f"{len(result.stale)} generated file(s) out of date: run `homelab build`")
            return FAILED
        print("generated files are up to date")
        return OK
    for path in result.written:
        print(f"wrote {path}")
    for path in result.deleted:
        print(f"deleted {path}")
    if not result.written and not result.deleted:
        print("nothing to do: generated files are up to date")
    if args.commit:
        return _commit_after_build(lab, state, chosen, args.message)
    return OK


def _commit_after_build(lab: Lab, state: LabState, chosen: list[str], message: str | None) -> int:
    hosts = None if set(chosen) == set(state.hosts) else chosen
    commit = lab.commit(hosts, message=message)
    if commit is None:
        print("nothing to commit")
    else:
        print(f"committed {commit.sha[:7]} {commit.subject}")
    return OK


_DERIVED = {
    "web.nix": " (derived from the lab: lab.yaml's domain and proxy)",
    "wiring.nix": " (derived from the lab: lab.yaml's wiring)",
    "builds.nix": " (derived from the lab: lab.yaml's builds and the hosts' deploy.buildOn)",
}


def cmd_show(args: argparse.Namespace) -> int:
    if getattr(args, "extra", False):
        return _show_extra(args)
    lab, state, chosen = load_valid(args, [args.host])
    files = lab.generated(state, chosen)
    for path, text in sorted(files.items()):
        derived = _DERIVED.get(path.rsplit("/", 1)[-1], "")
        print(f"# ==> {path} <=={derived}")
        print(text, end="")
    return OK


def _show_extra(args: argparse.Namespace) -> int:
    """`homelab show HOST --extra`: what of extraConfig could move into options:."""
    lab = open_lab(args)
    state = lab.load()
    code = OK
    for n, folder in enumerate(lab.select(state, [args.host])):
        if n:
            print()
        found = lab.extra_moves(state, folder)
        if found is None:
            print(f"{folder} has no extraConfig: nothing to move")
            continue
        where = f" ({found.where.file}, from line {found.where.line})" if found.where else ""
        if found.errors:
            for e in found.errors:
                err(f"error: {folder}: extraConfig{where} is not valid Nix: {e}")
            err(f"hint: run `homelab validate {folder}`")
            code = INVALID
            continue
        total = len(found.moves) + len(found.stays)
        paste = found.to_paste
        as_nix = sum(1 for m in paste if m.as_nix)
        print(
            f"{folder}: extraConfig{where} has {total} setting{'s' if total != 1 else ''}"
            f", {len(paste)} can move into options:"
            + (f" ({as_nix} with !nix values)" if as_nix else "")
        )
        if found.already:
            print("\nThe profile's options: set these already (keep one of the two):")
            for m in found.already:
                print(f"  {m.lines}: {m.text}")
                print(f"    options: {m.already}")
        if paste:
            if found.has_options:
                print("\nAdd these entries to the profile's options:")
            else:
                print("\nPaste this at the profile's top level")
            print("and delete the lines they come from in extraConfig:\n")
            print(found.yaml(header=not found.has_options), end="")
        if found.stays:
            print("\nThese stay in extraConfig:")
            for s in found.stays:
                print(f"  {s.lines}: {s.text}")
                print(f"    {s.reason}")
    return code


def cmd_tui(args: argparse.Namespace) -> int:
    from homelab.tui.app import run  # deferred: textual, for the editor only

    lab = open_lab(args)
    shot = getattr(args, "screenshot", None)
    size = getattr(args, "size", "140x42")
    try:
        width, height = (int(n) for n in size.lower().split("x"))
    except ValueError:
        err(f"error: --size {size}: expected WIDTHxHEIGHT, e.g. 140x42")
        return INVALID
    host = getattr(args, "host", None)
    if host is not None and not (lab.root / "hosts" / host / "profile.yaml").is_file():
        raise LabNotFound(f"no host named '{host}' in {lab.root / 'hosts'}")
    return run(  # 1 after an error the editor did not expect (it says where its report is)
        lab.root,
        screenshot=Path(shot) if shot else None,
        screen=getattr(args, "screen", "main"),
        size=(width, height),
        host=host,
    )
