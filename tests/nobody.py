"""Running homelab where a file cannot be read, for real, also when the tests run as root
(root reads a file whatever its mode): the run then happens in a forked child that has
given up root for the unprivileged user `nobody`, so that the kernel itself refuses."""

from __future__ import annotations

import contextlib
import io
import os
import pwd
import shutil
import stat
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import copy_lab

from homelab import cli

AS_ROOT = os.geteuid() == 0


@contextlib.contextmanager
def shared_lab_copy() -> Iterator[Path]:
    """A copy of tests/labs/basic that `nobody` can reach: in a folder of its own, open to
    all (pytest's own temporary folders are closed to other users)."""
    top = Path(tempfile.mkdtemp(prefix="homelab-shared-"))
    top.chmod(0o755)
    for folder in top.parents:
        if not folder.stat().st_mode & stat.S_IXOTH:
            pytest.fail(f"{folder} is closed to other users: set TMPDIR to an open folder")
    try:
        yield copy_lab("basic", top / "lab")
    finally:
        shutil.rmtree(top)


def make_unreadable(path: Path) -> None:
    path.chmod(0)


def run_cli_unprivileged(*argv: str) -> tuple[int, str]:
    """homelab's main() with these arguments, as a user that is not root when the tests
    run as root (else in this process): (exit code, what it printed, stdout and stderr).
    Run the same command once beforehand, so that every module it needs is loaded: the
    child may not be able to read Python's own files."""
    if not AS_ROOT:
        return _run_here(argv)
    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.close(read_end)
            stream = os.fdopen(write_end, "w")
            sys.stdout = sys.stderr = stream
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            code = cli.main(list(argv))
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


def _run_here(argv: tuple[str, ...]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cli.main(list(argv))
    return code, out.getvalue()
