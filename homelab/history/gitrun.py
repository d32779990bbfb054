"""Running git: one run, or several started together and read side by side.

The quick read-only commands (history, status) spend more on starting Python and
importing than on git itself, and the subprocess module alone costs them about 3 ms of
imports (threading, signal, selectors). A git run needs little of it: git is started with
os.posix_spawnp in the folder given (`git -C`), its output read through pipes with one
poll over every run, so that runs that do not depend on each other (the log and the deploy
records) go at once.
"""

from __future__ import annotations

import os
import select
from collections.abc import Mapping, Sequence
from pathlib import Path

# what subprocess gives a child by default: Python ignores SIGPIPE (and git would then see
# EPIPE where a pipe closes, not the signal it expects)
_DEFAULT_SIGNALS = (13, 25)  # SIGPIPE, SIGXFSZ (the same numbers on Linux and macOS)
_CHUNK = 1 << 16


# One git run to make: its arguments and what goes to its input. How one ended: its exit
# code, what it wrote to its output and to its errors. (Tuples, not dataclasses: making a
# class costs a quick command more than reading a run.)
Git = tuple[Sequence[str], bytes]
Ran = tuple[int, bytes, bytes]


def run(cwd: Path | str, args: Sequence[str], env: Mapping[str, str], stdin: bytes = b"") -> Ran:
    """git with `args` in the folder `cwd` (as `git -C cwd`), the environment `env`."""
    return run_together(cwd, [(args, stdin)], env)[0]


def run_together(cwd: Path | str, runs: Sequence[Git], env: Mapping[str, str]) -> list[Ran]:
    """Every run started at once, then all read to their end; their results in order."""
    started: list[tuple[int, int, int, int, bytes]] = []
    opened: set[int] = set()  # our ends of the pipes, until each is closed
    out: dict[int, list[bytes]] = {}  # what each output or errors pipe gave, by fd
    waiting: dict[int, bytes] = {}  # input not yet written, by fd
    poll = select.poll()
    try:
        for args, data in runs:
            started.append(run := _start(cwd, args, data, env))
            _, stdin, stdout, stderr, _ = run
            opened |= {stdin, stdout, stderr}
            for fd in (stdout, stderr):
                out[fd] = []
                poll.register(fd, select.POLLIN)
            if data:
                waiting[stdin] = data
                os.set_blocking(stdin, False)
                poll.register(stdin, select.POLLOUT)
            else:
                _close(stdin, opened)
        while opened:
            for fd, _ in poll.poll():
                if fd in waiting:
                    _write(fd, waiting, poll, opened)
                    continue
                chunk = os.read(fd, _CHUNK)
                if chunk:
                    out[fd].append(chunk)
                else:  # its end
                    poll.unregister(fd)
                    _close(fd, opened)
    finally:  # also when stopped (Ctrl-C): no pipe left open, no run left unwaited for
        for fd in list(opened):
            _close(fd, opened)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid, *_ in started]
    return [
        (code, b"".join(out[stdout]), b"".join(out[stderr]))
        for code, (_, _, stdout, stderr, _) in zip(codes, started, strict=True)
    ]


def _close(fd: int, opened: set[int]) -> None:
    opened.discard(fd)
    os.close(fd)


def _write(fd: int, waiting: dict[int, bytes], poll: select.poll, opened: set[int]) -> None:
    """Write what the pipe takes of a run's input; closed once all is written (or the run
    no longer reads it)."""
    data = waiting[fd]
    try:
        data = data[os.write(fd, data) :]
    except BrokenPipeError:
        data = b""
    if data:
        waiting[fd] = data
        return
    del waiting[fd]
    poll.unregister(fd)
    _close(fd, opened)


def _start(
    cwd: Path | str, args: Sequence[str], stdin: bytes, env: Mapping[str, str]
) -> tuple[int, int, int, int, bytes]:
    """(pid, the write end of its input, the read ends of its output and errors, its input)."""
    pipes = [os.pipe() for _ in range(3)]  # not inherited: only the dup2 copies are
    child_ends = (pipes[0][0], pipes[1][1], pipes[2][1])
    try:
        pid = os.posix_spawnp(
            "git",
            ["git", "-C", os.fspath(cwd), *args],
            env,
            file_actions=[(os.POSIX_SPAWN_DUP2, fd, n) for n, fd in enumerate(child_ends)],
            setsigdef=_DEFAULT_SIGNALS,
        )
    except BaseException:
        for read_end, write_end in pipes:
            os.close(read_end)
            os.close(write_end)
        raise
    for fd in child_ends:
        os.close(fd)
    return pid, pipes[0][1], pipes[1][0], pipes[2][0], stdin
