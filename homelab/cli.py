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
    plural = "s" if len(problems) != 1 else ""
    _err(f"{len(problems)} problem{plural} in {len(files)} file{'s' if len(files) != 1 else ''}")


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
    _, _, chosen = _load_valid(args, args.hosts)
    print(f"{len(chosen)} host{'s' if len(chosen) != 1 else ''} valid: {', '.join(chosen)}")
    return OK


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from homelab.profile.validate import profile_schema

    print(json.dumps(profile_schema(), indent=2, ensure_ascii=False))
    return OK


def cmd_build(args: argparse.Namespace) -> int:
    from homelab.write import BuildResult

    if not args.force and not args.commit and not any(h.startswith("@") for h in args.hosts):
        quick = _open_lab(args)
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
        from homelab.history import check_can_commit

        check_can_commit(_open_lab(args).root)  # refuse before writing anything
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


def _commit_after_build(
    lab: Lab, state: LabState, chosen: list[str], args: argparse.Namespace
) -> int:
    from homelab.history import commit_lab

    hosts = None if set(chosen) == set(state.hosts) else chosen
    commit = commit_lab(lab, message=args.message, hosts=hosts)
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


# ---- history commands (git: history, diff, revert, status) -----------------------------

AddCommand = Callable[[str, Command, str], argparse.ArgumentParser]


def _when(moment: Any) -> str:
    return str(moment.astimezone().strftime("%Y-%m-%d %H:%M"))


def _colour_on(args: argparse.Namespace) -> bool:
    import os

    choice = getattr(args, "color", "auto")
    if choice == "auto":
        return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return bool(choice == "always")


def _print_diff(lines: Sequence[str], colour: bool) -> None:
    codes = {"+++": "1", "---": "1", "@@": "36", "+": "32", "-": "31"}
    for line in lines:
        code = next((c for p, c in codes.items() if line.startswith(p)), "") if colour else ""
        print(f"\033[{code}m{line}\033[0m" if code else line)


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def cmd_history(args: argparse.Namespace) -> int:
    from homelab.errors import InvalidInput, Place, Problem
    from homelab.history.log import host_history, show_commit

    lab = _open_lab(args)
    if args.show:
        if not args.host:
            raise InvalidInput([Problem(Place(str(lab.root)), "--show REV needs a HOST")])
        shown = show_commit(lab, args.host, args.show)
        print(f"commit {shown.commit}")
        print(f"Author: {shown.author}")
        print(f"Date:   {_when(shown.when)}")
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
            _print_diff(shown.nix, _colour_on(args))
        return OK
    if args.limit is not None and args.limit < 1:
        raise InvalidInput([Problem(Place(str(lab.root)), "--limit must be 1 or more")])
    entries = host_history(lab, args.host, args.limit)
    if not entries:
        print("no commits yet" + (f" touching {args.host}" if args.host else ""))
        return OK
    for e in entries:
        mark = f"  [deployed: {', '.join(e.deployed)}]" if e.deployed else ""
        print(f"{e.short}  {_when(e.when)}  {e.author}  {e.subject}{mark}")
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    from homelab.history.diff import diff_lab, split_words

    lab = _open_lab(args)
    rev, hosts = split_words(lab, args.words)
    colour = _colour_on(args)
    for d in diff_lab(lab, rev, hosts):
        against = f"{d.base_kind} {d.base[:7]}" if d.base else "nothing committed"
        if d.base_kind == "revision" and d.base:
            against = d.base[:7]
        if not d.changed:
            print(f"{d.host}: no changes since {against}")
            continue
        head = f"{d.host}: changes since {against}"
        print(f"\033[1m{head}\033[0m" if colour else head)
        for line in d.changes:
            print(f"  {line}")
        _print_diff(d.nix, colour)
    return OK


def cmd_revert(args: argparse.Namespace) -> int:
    from homelab.history.revert import revert_hosts

    lab = _open_lab(args)
    done = revert_hosts(lab, args.rev, args.hosts)
    if done.commit is None:
        print(f"nothing to revert: {', '.join(done.hosts)} already as at {args.rev}")
    else:
        from homelab.history.repo import open_repository

        commit = open_repository(lab.root).repo.commit(done.commit)
        print(f"committed {done.commit[:7]} {commit.summary}")
    for host, lines in done.still_differs.items():
        print(f"note: {host} still differs from {args.rev} through what it shares with others:")
        for line in lines:
            print(f"  {line}")
    return OK


def cmd_status(args: argparse.Namespace) -> int:
    """Offline by default (the deploy records); --live asks the machines what they run
    and confirms how interrupted deploys ended."""
    from homelab.history.status import lab_status

    lab = _open_lab(args)
    wanted: list[str] | None = None
    if args.hosts:
        wanted = lab.select(lab.load(), args.hosts)
    machines: dict[str, str] = {}
    if args.live:
        machines = _ask_machines(lab, args)
    rows: list[tuple[str, ...]] = [("HOST", "DEPLOYED", "HEAD", "WORKING TREE")]
    if args.live:
        rows[0] += ("MACHINE",)
    for s in lab_status(lab):
        if wanted is not None and s.host not in wanted:
            continue
        r = s.record
        deployed = f"{r.commit[:7]} {_when(r.when)} ({r.mode})" if r else "never"
        if s.interrupted is not None:
            i = s.interrupted
            deployed = f"interrupted (unconfirmed): {i.commit[:7]} {_when(i.when)} ({i.mode})"
        head = "changes not deployed" if s.head_ahead else "up to date"
        if r is None:
            head = "not deployed"
        tree = "uncommitted changes" if s.uncommitted else "clean"
        if not s.in_lab:
            tree = "no longer in the lab"
        row: tuple[str, ...] = (s.host, deployed, head, tree)
        if args.live:
            row += (machines.get(s.host, "not asked"),)
        rows.append(row)
    _table(rows)
    return OK


def _ask_machines(lab: Lab, args: argparse.Namespace) -> dict[str, str]:
    """`status --live`: what each machine runs ({host folder: words}), recording how the
    runs of interrupted deploys ended."""
    from homelab.deploy.apply import ApplyOptions
    from homelab.deploy.lablock import only_apply
    from homelab.deploy.workflow import look_live

    options = ApplyOptions(ssh=_ssh_settings(args), reconnect_timeout=0)
    with only_apply(lab.root, "homelab status --live"):
        results = look_live(lab, args.hosts, options, on_note=_err)
    for r in results:
        if r.confirmed is not None and r.confirmed.result:
            print(f"{r.folder}: {r.confirmed.summary}: recorded as {r.confirmed.result}")
    return {r.folder: str(r.after) if r.ok and r.after else f"unreachable: {r.summary}"
            for r in results}  # fmt: skip


def _add_history_commands(add: AddCommand) -> None:
    p = add("history", cmd_history, "commits that touched a host (or the lab), newest first")
    p.add_argument("host", nargs="?", metavar="HOST")
    p.add_argument("--limit", type=int, metavar="N", help="show at most N commits")
    p.add_argument("--show", metavar="REV", help="what that commit changed in HOST")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p = add(
        "diff",
        cmd_diff,
        "what the working tree changes on each host since REV (default: its last deploy, "
        "else HEAD): profile changes and the generated Nix",
    )
    p.add_argument(
        "words", nargs="*", metavar="REV/HOST", help="a revision first (optional), then hosts"
    )
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p = add(
        "revert",
        cmd_revert,
        "bring hosts' profiles back to REV, rebuild, and commit that as a new commit",
    )
    p.add_argument("rev", metavar="REV")
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag (default: all)")
    p = add("status", cmd_status, "what is deployed on each host, and what is not deployed yet")
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag (default: all)")
    p.add_argument("--live", action="store_true",
                   help="ask the machines what they run (over SSH), and confirm how an "
                   "interrupted apply ended")  # fmt: skip


# ---- apply commands (SSH: apply, rollback, adopt, lock) -----------------------------------


def _ssh_settings(args: argparse.Namespace, accept_new: bool | None = None) -> Any:
    from homelab.deploy.ssh import SshSettings

    if accept_new is None:
        accept_new = bool(getattr(args, "accept_new", False))
    return SshSettings.from_home(accept_new=accept_new)


def _ask(question: str) -> bool:
    """A yes/no question on the terminal; no terminal means no."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _usage(message: str) -> Any:
    from homelab.errors import InvalidInput, Place, Problem

    return InvalidInput([Problem(Place("command line"), message)])


def _sudo_password(args: argparse.Namespace) -> str | None:
    """The sudo password, asked once; the end of input at the prompt is one clear line."""
    if not getattr(args, "ask_sudo_password", False):
        return None
    import getpass
    import warnings

    from homelab.errors import LabFailure

    try:
        with warnings.catch_warnings():  # from a pipe: nothing on a screen to echo to
            warnings.simplefilter("ignore", getpass.GetPassWarning)
            return getpass.getpass("sudo password on the machines (asked once): ")
    except EOFError:
        _err("")
        raise LabFailure(
            "no sudo password: the input ended at the prompt; nothing was committed or applied"
        ) from None


def _with_progress(
    work: Callable[[Any, Any, Callable[[str], None]], Any], hosts: Sequence[str]
) -> tuple[Any, str]:
    """Run an apply (or a rollback) showing its events: work(on_event, stop, on_note).
    Ctrl-C and SIGTERM stop it cleanly (homelab.deploy.apply.Stop.interrupt): no host
    starts any more, a rebuild that started goes on on its machine, and the work still
    ends with its results, pinned keys and records. Returns (its result, the signal that
    stopped it or "")."""
    import os
    import signal

    from homelab.deploy.apply import Stop
    from homelab.deploy.progress import Progress

    progress = Progress(hosts, sys.stdout, live=sys.stdout.isatty())
    stop = Stop()
    names = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
    got: list[str] = []

    def on_signal(number: int, _frame: Any) -> None:
        # only a flag and a raw write: the interrupted code may hold any lock
        first = not got
        got.append(names.get(signal.Signals(number), str(number)))
        stop.interrupt()
        text = (
            f"\nstopping ({got[-1]}): no host starts now; a rebuild that started goes on on "
            "its machine and is recorded as interrupted\n"
            if first
            else "\nalready stopping: the summary and the deploy records come next\n"
        )
        os.write(sys.stderr.fileno(), text.encode())

    previous = {n: signal.signal(n, on_signal) for n in names}
    try:
        result = work(progress.event, stop, progress.note)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        progress.close()
    return result, got[0] if got else ""


def _show_changes(lab: Lab, chosen: Sequence[str], full: bool) -> None:
    """What goes out to each host since its last deploy (else since HEAD)."""
    from homelab.errors import InvalidInput
    from homelab.history.diff import diff_lab

    try:
        diffs = diff_lab(lab, None, list(chosen))
    except InvalidInput:
        return  # not a git repository: nothing to compare with
    for d in diffs:
        since = "its last deploy" if d.base_kind == "deployed" else d.base_kind
        base = f" ({d.base[:7]})" if d.base else ""
        if not d.changed:
            print(f"{d.host}: nothing changed since {since}{base}")
            continue
        print(f"{d.host}: changes since {since}{base}:")
        for line in d.changes or ("generated files changed",):
            print(f"  {line}")
        if full:
            for line in d.nix:
                print(f"    {line}")


def cmd_apply(args: argparse.Namespace) -> int:
    from homelab.deploy.apply import ApplyOptions
    from homelab.deploy.lablock import only_apply
    from homelab.deploy.progress import summary
    from homelab.deploy.workflow import prepare, send

    if args.confirm is not None and args.mode not in ("switch", "test"):
        raise _usage(f"--confirm only goes with --mode switch or test, not {args.mode}")
    for name in ("confirm", "timeout", "check_timeout", "wait", "reconnect"):
        value = getattr(args, name)
        if value is not None and value < 0:
            raise _usage(f"--{name.replace('_', '-')} cannot be negative")
    if args.jobs is not None and args.jobs < 1:
        raise _usage("--jobs needs at least 1")
    lab = _open_lab(args)
    with only_apply(lab.root):
        try:
            ready = prepare(lab, args.hosts, commit=not args.no_commit)
            for path in ready.written:
                print(f"wrote {path}")
            _show_changes(lab, ready.chosen, args.diff)
            if not args.yes:
                if not sys.stdin.isatty():
                    raise _usage("not on a terminal, so nothing can be asked: add --yes to apply")
                chosen = ready.chosen
                names = ", ".join(chosen) if len(chosen) <= 6 else f"{len(chosen)} hosts"
                if not _ask(f"apply ({args.mode}) to {names}?"):
                    print("nothing applied")
                    return OK
            password = _sudo_password(args)  # before anything is committed
        except KeyboardInterrupt:
            _err("\nnothing applied")
            return FAILED
        options = ApplyOptions(
            mode=args.mode,
            jobs=args.jobs or 0,
            ssh=_ssh_settings(args),
            sudo_password=password,
            confirm=args.confirm,
            rollback_on_failure=args.rollback_on_failure,
            timeout=args.timeout,
            check_timeout=args.check_timeout,
            lock_wait=args.wait,
            reconnect_timeout=args.reconnect,
        )
        outcome, signalled = _with_progress(
            lambda emit, stop, note: send(ready, options, emit, stop, note), ready.names
        )
    print()
    for line in summary(outcome.results):
        print(line)
    if signalled:
        left = [r.host for r in outcome.results if r.state == "interrupted"]
        _err(
            f"apply stopped ({signalled})"
            + (
                f": {', '.join(left)} may still switch; `homelab status --live` says how it ended"
                if left
                else ""
            )
        )
        return FAILED
    if outcome.failed:
        _err(f"{len(outcome.failed)} of {len(outcome.results)} host(s) failed")
        return FAILED
    return OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from homelab.deploy.apply import ApplyOptions, plan_connection, rollback
    from homelab.deploy.progress import summary
    from homelab.errors import InvalidInput, LabFailure

    lab, state, chosen = _load_valid(args, [args.host])
    if not args.yes:
        if not sys.stdin.isatty():
            raise _usage("not on a terminal, so nothing can be asked: add --yes to roll back")
        if not _ask(f"switch {chosen[0]} back to its previous generation?"):
            print("nothing done")
            return OK
    plan = plan_connection(state, chosen[0])
    options = ApplyOptions(
        ssh=_ssh_settings(args),
        sudo_password=_sudo_password(args),
        timeout=args.timeout,
        lock_wait=args.wait,
    )
    result, _ = _with_progress(
        lambda emit, stop, _note: rollback(plan, options, emit, stop), [plan.name]
    )
    commit = _head(lab)
    if commit and not (result.state == "cancelled" and result.before is None):
        from homelab.history.records import DeployAttempt, record_deploys

        outcome = "rolled-back" if result.ok else result.state
        attempt = DeployAttempt(result.folder, commit, "rollback", outcome, result.started,
                                result.finished, result.summary, result.run)  # fmt: skip
        try:
            record_deploys(lab.root, [attempt])
        except (InvalidInput, LabFailure) as err:
            _err(f"note: the deploy record could not be written: {err}")
    print()
    for line in summary([result]):
        print(line)
    return OK if result.ok else FAILED


def _head(lab: Lab) -> str:
    from homelab.errors import InvalidInput
    from homelab.history.repo import open_repository

    try:
        return open_repository(lab.root).head() or ""
    except InvalidInput:
        return ""


def cmd_adopt(args: argparse.Namespace) -> int:
    from homelab.deploy.adopt import check_adopted, parse_address, read_machine, write_adopted
    from homelab.deploy.ssh import ConnectError, HostKeyError

    lab = _open_lab(args)
    try:
        address = parse_address(args.address)
    except ValueError as err:
        raise _usage(str(err)) from None
    if (lab.root / "hosts" / args.name).exists():
        raise _usage(f"hosts/{args.name} already exists: adopt never overwrites a host")

    def trust(err: HostKeyError) -> bool:
        print(str(err).split("\n")[0])
        if args.accept_new:
            print("accepted with --accept-new: it will be pinned in the new profile")
            return True
        return _ask("Is this the machine's key (compare it on its console)? Trust and pin it?")

    try:
        adopted = read_machine(args.name, address, _ssh_settings(args, False), trust)
    except ConnectError as err:
        _err(f"error: {err}")
        return FAILED
    check_adopted(lab, adopted)
    for path in write_adopted(lab, adopted):
        print(f"wrote {path}")
    facts = adopted.facts
    print(
        f"{args.name}: NixOS {facts.get('version') or '?'}, hostname "
        f"{facts.get('hostname') or '?'}, host key pinned"
    )
    if not args.no_commit:
        from homelab.history import commit_lab

        commit = commit_lab(lab, hosts=[args.name], subject=f"{args.name}: adopted from {address}")
        if commit is not None:
            print(f"committed {commit.hexsha[:7]} {commit.summary}")
    print(f"next: `homelab show {args.name}`, then `homelab apply {args.name}`")
    return OK


def cmd_lock(args: argparse.Namespace) -> int:
    from homelab.deploy.apply import plan_connection
    from homelab.deploy.lock import commit_lock, lock_here, lock_on, write_lock
    from homelab.deploy.ssh import ConnectError
    from homelab.errors import InvalidInput, Place, Problem

    lab = _open_lab(args)
    if not (lab.root / "flake.nix").is_file():
        raise InvalidInput([Problem(Place("flake.nix"), "the lab has no flake.nix to lock")])
    if args.host:
        lab, state, chosen = _load_valid(args, [args.host])
        plan = plan_connection(state, chosen[0])
        try:
            data = lock_on(plan.endpoint, _ssh_settings(args), lab.root, args.update,
                           lambda line: print(f"{plan.name} | {line}"))  # fmt: skip
        except ConnectError as err:
            _err(f"error: {err}")
            return FAILED
    else:
        data = lock_here(lab.root, args.update, print)
    if not write_lock(lab.root, data):
        print("flake.lock did not change")
        return OK
    print("wrote flake.lock")
    if not args.no_commit:
        sha = commit_lock(lab.root, "flake.lock " + ("updated" if args.update else "locked"))
        if sha:
            print(f"committed {sha[:7]} flake.lock")
    return OK


def _add_apply_commands(add: AddCommand) -> None:
    p = add(
        "apply",
        cmd_apply,
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
                   help="how long health checks may take to pass (default: 30)")  # fmt: skip
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another apply to the same host to end "
                   "(default: refuse at once)")  # fmt: skip
    p.add_argument("--reconnect", type=float, default=120.0, metavar="SECONDS",
                   help="how long to try again when a connection drops (default: 120)")  # fmt: skip
    p.add_argument("--diff", action="store_true", help="show the generated Nix that changes too")
    p.add_argument("--no-commit", action="store_true",
                   help="do not commit what goes out (deploy records then name HEAD)")  # fmt: skip
    p = add("rollback", cmd_rollback, "switch a machine back to its previous generation")
    p.add_argument("host", metavar="HOST")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask first")
    p.add_argument("--ask-sudo-password", action="store_true", help="ask once for sudo")
    p.add_argument("--timeout", type=float, default=3600.0, metavar="SECONDS")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another apply to the same host to end")  # fmt: skip
    p = add(
        "adopt",
        cmd_adopt,
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
        cmd_lock,
        "pin the flake's inputs in flake.lock (with Nix here, or on HOST), committed",
    )
    p.add_argument("host", nargs="?", metavar="HOST", help="a machine that has Nix")
    p.add_argument("--update", action="store_true", help="update the inputs (nix flake update)")
    p.add_argument("--no-commit", action="store_true", help="write flake.lock, do not commit")


# ---- the TUI ------------------------------------------------------------------------------


def cmd_tui(args: argparse.Namespace) -> int:
    from homelab.tui.app import run

    lab = _open_lab(args)
    shot = getattr(args, "screenshot", None)
    size = getattr(args, "size", "140x42")
    try:
        width, height = (int(n) for n in size.lower().split("x"))
    except ValueError:
        _err(f"error: --size {size}: expected WIDTHxHEIGHT, e.g. 140x42")
        return INVALID
    host = getattr(args, "host", None)
    if host is not None:
        from homelab.lab import LabNotFound

        if not (lab.root / "hosts" / host / "profile.yaml").is_file():
            raise LabNotFound(f"no host named '{host}' in {lab.root / 'hosts'}")
    return run(  # 1 after an error the editor did not expect (it says where its report is)
        lab.root,
        screenshot=Path(shot) if shot else None,
        screen=getattr(args, "screen", "main"),
        size=(width, height),
        host=host,
    )


def _add_tui_command(add: AddCommand) -> None:
    p = add("tui", cmd_tui, "open the editor: edit, preview, commit, review history, apply")
    p.add_argument("--host", metavar="HOST", help="open on this host (its folder name)")
    p.add_argument("--screenshot", metavar="FILE", help="save the screen as an SVG and exit")
    p.add_argument(
        "--screen",
        choices=["main", "apply"],
        default="main",
        help="with --screenshot: which screen to save (default: main)",
    )
    p.add_argument(
        "--size",
        default="140x42",
        metavar="WxH",
        help="with --screenshot: terminal size in cells (default: 140x42)",
    )


# ---- wiring ---------------------------------------------------------------------------


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

    p = add("init", cmd_init, "make a new lab in DIR (catalogue, flake.nix, an example host, git)")
    p.add_argument("dir", metavar="DIR")
    add("hosts", cmd_hosts, "list the hosts with system, address, tags and services")
    p = add(
        "validate", cmd_validate, "check profiles and report every problem (all hosts by default)"
    )
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag")
    add("schema", cmd_schema, "print the JSON Schema of a host profile (for editors)")
    p = add("build", cmd_build, "compile profiles into NixOS modules, writing only what changed")
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host names or @tag")
    p.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file is stale"
    )
    p.add_argument("--force", action="store_true", help="overwrite generated files edited by hand")
    p.add_argument("--commit", action="store_true", help="commit the profiles and generated files")
    p.add_argument("-m", "--message", help="your own words on top of the commit message")
    p = add("show", cmd_show, "print a host's generated modules")
    p.add_argument("host", metavar="HOST")
    _add_history_commands(add)
    _add_apply_commands(add)
    _add_tui_command(add)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            parser().print_help()  # not a terminal: the editor cannot run here
            return OK
        args.func = cmd_tui  # no command: open the editor
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
    except BrokenPipeError:  # `homelab diff | head`: the reader left, nothing is wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except Exception as err:
        from homelab.lab import LabNotFound

        if isinstance(err, LabNotFound):
            _err(f"error: {err}")
            return INVALID
        raise
