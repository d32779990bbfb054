"""The commands that reach machines over SSH: apply, rollback, adopt, lock.

The apply workflow itself (refuse early, build, commit what goes out, fan out, pin keys,
record) is the core's, reached through Lab; here the options are chosen from the command
line, the person is asked, and the events are shown.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from homelab.cli import FAILED, OK, err, output
from homelab.cli.common import ask, load_valid, open_lab, ssh_settings, usage
from homelab.cli.live import Progress
from homelab.errors import InvalidInput, LabFailure
from homelab.lab import ApplyOptions, ConnectError, Lab, LabState, Stop

if TYPE_CHECKING:
    from homelab.lab import Event, HostKeyError

T = TypeVar("T")
Work = Callable[[Callable[["Event"], None], Stop, Callable[[str], None]], T]


def _sudo_password(args: argparse.Namespace) -> str | None:
    """The sudo password, asked once; the end of input at the prompt is one clear line."""
    if not getattr(args, "ask_sudo_password", False):
        return None
    try:
        with warnings.catch_warnings():  # from a pipe: nothing on a screen to echo to
            warnings.simplefilter("ignore", getpass.GetPassWarning)
            return getpass.getpass("sudo password on the machines (asked once): ")
    except EOFError:
        err("")
        raise LabFailure(
            "no sudo password: the input ended at the prompt; nothing was committed or applied"
        ) from None


def _with_progress(work: Work[T], hosts: Sequence[str]) -> tuple[T, str]:
    """Run an apply (or a rollback) showing its events: work(on_event, stop, on_note).
    Ctrl-C and SIGTERM stop it cleanly (Stop.interrupt): no host starts any more, a
    rebuild that started goes on on its machine, and the work still ends with its
    results, pinned keys and records. Returns (its result, the signal that stopped it
    or "")."""

    progress = Progress(hosts, sys.stdout, live=output.on_terminal())
    stop = Stop()
    names = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
    got: list[str] = []

    def on_signal(number: int, _frame: object) -> None:
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


def _changes(lab: Lab, chosen: Sequence[str], full: bool, now: LabState) -> list[str]:
    """What goes out to each host since its last deploy (else since HEAD), as lines;
    `now` is the lab the apply loaded, not loaded again."""

    try:
        diffs = lab.diff(None, list(chosen), now)
    except InvalidInput:
        return []  # not a git repository: nothing to compare with
    out = []
    for d in diffs:
        since = "its last deploy" if d.base_kind == "deployed" else d.base_kind
        base = f" ({d.base[:7]})" if d.base else ""
        if d.never_deployed:
            said = f"{d.host}: never deployed: everything is new"
            said += f"; edits since HEAD{base}" if d.changed else ""
        elif d.changed:
            said = f"{d.host}: changes since {since}{base}"
        else:
            said = f"{d.host}: nothing changed since {since}{base}"
        if not d.changed:
            out.append(said)
            continue
        out.append(f"{said}:")
        out += [f"  {line}" for line in d.changes or ("generated files changed",)]
        if full:
            out += [f"    {line}" for line in d.nix]
    return out


class _Later:
    """Lines worked out in a thread of their own while the apply goes on (with --yes
    nothing is asked, so the changes need not be shown before the commit is prepared);
    `show` waits for them and says them once (an error in the work is raised there)."""

    def __init__(self, work: Callable[[], list[str]]) -> None:
        self._shown = False
        self._lines: list[str] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), name="changes")
        self._thread.daemon = True  # an apply that ends early does not wait for it
        self._thread.start()

    def _run(self, work: Callable[[], list[str]]) -> None:
        try:
            self._lines = work()
        except BaseException as error:
            self._error = error

    def show(self, say: Callable[[str], None]) -> None:
        if self._shown:
            return
        self._shown = True
        self._thread.join()
        if self._error is not None:
            raise self._error
        for line in self._lines:
            say(line)


def cmd_apply(args: argparse.Namespace) -> int:

    if args.confirm is not None and args.mode not in ("switch", "test"):
        raise usage(f"--confirm only goes with --mode switch or test, not {args.mode}")
    for name in ("confirm", "timeout", "check_timeout", "wait", "reconnect"):
        value = getattr(args, name)
        if value is not None and value < 0:
            raise usage(f"--{name.replace('_', '-')} cannot be negative")
    if args.jobs is not None and args.jobs < 1:
        raise usage("--jobs needs at least 1")
    lab = open_lab(args)
    ssh = ssh_settings(args)
    with lab.only_apply(), contextlib.ExitStack() as leftovers:
        try:
            # the machines are connected to while the lab is built, committed and shown
            ready = lab.prepare_apply(
                args.hosts, commit=not args.no_commit, ssh=ssh, jobs=args.jobs or 0
            )
            leftovers.callback(ready.close)  # the connections no host took (or none sent)
            for path in ready.written:
                print(f"wrote {path}")
            for folder in ready.also:
                err(
                    f"note: the lab's names, roles and builds change {folder}'s modules too, and "
                    f"{folder} is not in this apply: apply {folder} too"
                )
            built_on = [
                f"{host}: built on {builder}, which copies the system to it"
                for host, builder in ready.built_on.items()
            ]
            chosen = list(ready.chosen)
            # with --yes the changes are worked out while the commit is prepared, and shown
            # before HEAD moves to it (homelab.deploy.workflow's before_sending)
            later = _Later(lambda: [*_changes(lab, chosen, args.diff, ready.state), *built_on])
            if not args.yes or getattr(args, "ask_sudo_password", False):
                later.show(print)  # what is asked comes after the changes
            if not args.yes:
                if not sys.stdin.isatty():
                    raise usage("not on a terminal, so nothing can be asked: add --yes to apply")
                many = len(chosen) > 12  # the first dozen, then how many more
                names = ", ".join(chosen[:12]) + (f" and {len(chosen) - 12} more" if many else "")
                count = f"{len(chosen)} host{'s' if len(chosen) != 1 else ''}"
                if not ask(f"apply ({args.mode}) to {count}: {names}?"):
                    print("nothing applied")
                    return OK
            password = _sudo_password(args)  # before anything is committed
        except KeyboardInterrupt:
            err("\nnothing applied")
            return FAILED
        options = ApplyOptions(
            mode=args.mode,
            jobs=args.jobs or 0,
            ssh=ssh,
            sudo_password=password,
            confirm=args.confirm,
            rollback_on_failure=args.rollback_on_failure,
            timeout=args.timeout,
            check_timeout=args.check_timeout,
            checks=not args.no_checks,
            lock_wait=args.wait,
            reconnect_timeout=args.reconnect,
            force=args.force,
        )
        outcome, signalled = _with_progress(
            lambda emit, stop, note: lab.send(
                ready, options, emit, stop, note, lambda: later.show(note)
            ),
            ready.names,
        )
    print()
    output.report(lab.apply_report(outcome.results))
    if signalled:
        left = [r.host for r in outcome.results if r.state == "interrupted"]
        err(
            f"apply stopped ({signalled})"
            + (
                f": {', '.join(left)} may still switch; `homelab status --live` says how it ended"
                if left
                else ""
            )
        )
        return FAILED
    if outcome.failed:
        err(f"{len(outcome.failed)} of {len(outcome.results)} host(s) failed")
        return FAILED
    return OK


def cmd_rollback(args: argparse.Namespace) -> int:

    lab, state, chosen = load_valid(args, [args.host])
    profile = state.hosts[chosen[0]].profile
    name = profile.name if profile is not None else chosen[0]  # as its events name it
    if not args.yes:
        if not sys.stdin.isatty():
            raise usage("not on a terminal, so nothing can be asked: add --yes to roll back")
        if not ask(f"switch {chosen[0]} back to its previous generation?"):
            print("nothing done")
            return OK
    options = ApplyOptions(
        ssh=ssh_settings(args),
        sudo_password=_sudo_password(args),
        timeout=args.timeout,
        lock_wait=args.wait,
    )
    outcome, _ = _with_progress(
        lambda emit, stop, note: lab.rollback(chosen[0], options, emit, stop, note), [name]
    )
    print()
    output.report(lab.apply_report(outcome.results))
    return FAILED if outcome.failed else OK


def cmd_adopt(args: argparse.Namespace) -> int:

    lab = open_lab(args)
    if (lab.root / "hosts" / args.name).exists():
        raise usage(f"hosts/{args.name} already exists: adopt never overwrites a host")

    def trust(key: HostKeyError) -> bool:
        print(str(key).split("\n")[0])
        if args.accept_new:
            print("accepted with --accept-new: it will be pinned in the new profile")
            return True
        return ask("Is this the machine's key (compare it on its console)? Trust and pin it?")

    try:
        adopted = lab.read_machine(args.name, args.address, ssh_settings(args, False), trust)
    except ConnectError as failed:
        err(f"error: {failed}")
        return FAILED
    for path in lab.adopt(adopted):
        print(f"wrote {path}")
    facts = adopted.facts
    print(
        f"{args.name}: NixOS {facts.get('version') or '?'}, hostname "
        f"{facts.get('hostname') or '?'}, host key pinned"
    )
    if not args.no_commit:
        commit = lab.commit([args.name], subject=f"{args.name}: adopted from {args.address}")
        if commit is not None:
            print(f"committed {commit.sha[:7]} {commit.subject}")
    print(f"next: `homelab show {args.name}`, then `homelab apply {args.name}`")
    return OK


def cmd_lock(args: argparse.Namespace) -> int:

    lab = open_lab(args)
    try:
        if args.host:
            changed = lab.lock(
                args.update,
                lambda line: print(f"{args.host} | {line}"),
                host=args.host,
                ssh=ssh_settings(args),
            )
        else:
            changed = lab.lock(args.update, print)
    except ConnectError as failed:
        err(f"error: {failed}")
        return FAILED
    if not changed:
        print("flake.lock did not change")
        return OK
    print("wrote flake.lock")
    if not args.no_commit:
        sha = lab.commit_lock("flake.lock " + ("updated" if args.update else "locked"))
        if sha:
            print(f"committed {sha[:7]} flake.lock")
    return OK
