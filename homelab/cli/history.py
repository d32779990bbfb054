"""The history commands (git): history, diff, revert (go back), undo, and status (with
--live, SSH)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from homelab.cli import OK, err, output
from homelab.cli.common import open_lab, refusal, ssh_settings
from homelab.lab import Lab

if TYPE_CHECKING:
    from homelab.lab import HostResult


def cmd_history(args: argparse.Namespace) -> int:
    lab = open_lab(args)
    if args.show:
        if not args.host:
            raise refusal(str(lab.root), "--show REV needs a HOST")
        shown = lab.show_commit(args.host, args.show)
        print(f"commit {shown.commit}")
        print(f"Author: {shown.author}")
        print(f"Date:   {output.when(shown.when)}")
        print()
        for line in shown.message.rstrip("\n").splitlines():
            print(f"    {line}".rstrip())
        print()
        if shown.changes:
            print(f"{shown.host}:")
            for line in shown.changes:
                print(f"  {line}")
        else:
            print(f"{shown.host}: no change to its profile in this commit")
        if shown.nix:
            print()
            output.diff(shown.nix, output.colour_on(args.color))
        _offers(lab, shown.host, shown.commit)
        return OK
    if args.limit is not None and args.limit < 1:
        raise refusal(str(lab.root), "--limit must be 1 or more")
    entries = lab.history(args.host, args.limit)
    if not entries:
        print("no commits yet" + (f" touching {args.host}" if args.host else ""))
        return OK
    for e in entries:
        mark = f"  [deployed: {', '.join(e.deployed)}]" if e.deployed else ""
        print(f"{e.short}  {output.when(e.when)}  {e.author}  {e.subject}{mark}")
    return OK


def _offers(lab: Lab, host: str, sha: str) -> None:
    """Under `history --show`: the commands that undo this commit or go back to it, with
    what each would change, or why it is not offered (never a no-op)."""
    choices = lab.history_choices(host, sha)
    print()
    for name, command, reason, lines in (
        ("undo this commit", "undo", choices.undo, choices.undoes),
        ("go back to this state", "revert", choices.back, choices.goes_back),
    ):
        if reason:
            print(f"{name}: not offered: {reason}")
        else:
            print(f"{name}: homelab {command} {sha[:7]} {host}  ({'; '.join(lines)})")


def cmd_diff(args: argparse.Namespace) -> int:
    lab = open_lab(args)
    rev, hosts = lab.diff_words(args.words)
    colour = output.colour_on(args.color)
    for d in lab.diff(rev, hosts):
        against = f"{d.base_kind} {d.base[:7]}" if d.base else "nothing committed"
        if d.base_kind == "revision" and d.base:
            against = d.base[:7]
        if d.never_deployed:
            said = f"{d.host}: never deployed: everything is new"
            if not d.changed:
                print(f"{said} (no edits since {against})")
                continue
            output.heading(f"{said}; edits since {against}:", colour)
        elif not d.changed:
            print(f"{d.host}: no changes since {against}")
            continue
        else:
            output.heading(f"{d.host}: changes since {against}", colour)
        for line in d.changes:
            print(f"  {line}")
        output.diff(d.nix, colour)
    return OK


def cmd_revert(args: argparse.Namespace) -> int:
    lab = open_lab(args)
    done = lab.revert(args.rev, args.hosts)
    if done.commit is None:
        print(f"nothing to revert: {', '.join(done.hosts)} already as at {args.rev}")
    else:
        print(f"committed {done.commit[:7]} {lab.subject(done.commit)}")
    for host, lines in done.still_differs.items():
        print(f"note: {host} still differs from {args.rev} through what it shares with others:")
        for line in lines:
            print(f"  {line}")
    return OK


def cmd_undo(args: argparse.Namespace) -> int:
    lab = open_lab(args)
    done = lab.undo(args.rev, args.hosts)
    if done.commit is None:
        print(
            f"nothing to undo: what {args.rev} changed in {', '.join(done.hosts)} is undone already"
        )
    else:
        print(f"committed {done.commit[:7]} {lab.subject(done.commit)}")
    return OK


# what in `homelab status` needs a person's eye, on a terminal
STATUS_MARKS = {
    "interrupted": "bold red",
    "unreachable": "red",
    "changes not deployed": "yellow",
    "uncommitted changes": "yellow",
    "not deployed": "dim",
    "never": "dim",
    "no longer in the lab": "dim",
}


def cmd_status(args: argparse.Namespace) -> int:
    """Offline by default (the deploy records); --live asks the machines what they run
    and confirms how interrupted deploys ended."""
    lab = open_lab(args)
    wanted: list[str] | None = None
    # names and tags, where systems are built: no full check, and only when asked or needed
    overview = lab.overview() if args.hosts or lab.builds_elsewhere() else None
    if args.hosts and overview is not None:
        wanted = lab.select(overview, args.hosts)
    built = lab.where_built(overview) if overview is not None else {}
    machines: dict[str, str] = {}
    if args.live:
        machines = _ask_machines(lab, args)
    rows: list[tuple[str, ...]] = [("HOST", "DEPLOYED", "HEAD", "WORKING TREE")]
    failures: list[str] = []  # under the table: the hosts whose last attempt did not succeed
    if built:
        rows[0] += ("BUILT",)
    if args.live:
        rows[0] += ("MACHINE",)
    for s in lab.status():
        if wanted is not None and s.host not in wanted:
            continue
        r = s.record
        deployed = f"{r.commit[:7]} {output.when(r.when)} ({r.mode})" if r else "never"
        if s.interrupted is not None:
            i = s.interrupted
            deployed = f"interrupted (unconfirmed): {i.commit[:7]} {output.when(i.when)} ({i.mode})"
        head = "changes not deployed" if s.head_ahead else "up to date"
        if r is None:
            head = "not deployed"
        tree = "uncommitted changes" if s.uncommitted else "clean"
        if not s.in_lab:
            tree = "no longer in the lab"
        row: tuple[str, ...] = (s.host, deployed, head, tree)
        if built:
            row += (built.get(s.host, "its own, from cache.nixos.org"),)
        if args.live:
            row += (machines.get(s.host, "not asked"),)
        rows.append(row)
        if s.failed is not None:
            f = s.failed
            said = f"{s.host}: last attempt {f.result} {output.when(f.when)} ({f.mode})"
            failures.append(f"{said}: {f.summary}" if f.summary else said)
    output.table(rows, marks=STATUS_MARKS)
    if failures:
        print()
        for line in failures:
            print(line)
    return OK


def _ask_machines(lab: Lab, args: argparse.Namespace) -> dict[str, str]:
    """`status --live`: what each machine runs ({host folder: words}), recording how the
    runs of interrupted deploys ended."""
    from homelab.lab import ApplyOptions  # deferred: the deploy code, for --live only

    options = ApplyOptions(ssh=ssh_settings(args), reconnect_timeout=0)
    with lab.only_apply("homelab status --live"):
        results = lab.status_live(args.hosts, options, on_note=err)
    for r in results:
        if r.confirmed is not None and r.confirmed.result:
            print(f"{r.folder}: {r.confirmed.summary}: recorded as {r.confirmed.result}")
    return {r.folder: _machine_words(r) for r in results}


def _machine_words(r: HostResult) -> str:
    """What the machine runs, and how the lab's backup job last ran there when it has one."""
    if not (r.ok and r.after):
        return f"unreachable: {r.summary}"
    return f"{r.after}; {r.last_backup}" if r.last_backup else str(r.after)
