"""The encrypted secrets' commands: secrets list, set, edit, rekey, import, migrate, admin
add and remove.

`secrets edit` is the one place a value is ever a file: decrypted into a 0600 file in a
private 0700 folder (in memory where the system has a runtime folder: $XDG_RUNTIME_DIR,
else /dev/shm), opened with $EDITOR given only that path, and the folder removed however
the editor ends. While the editor runs, Ctrl-C belongs to it (vi uses the key); the
editor's exit decides: anything but success saves nothing. SIGTERM and SIGHUP are passed
on to the editor, and end the command once it has ended, the folder removed.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from homelab.cli import FAILED, INVALID, OK, err, output
from homelab.cli.common import open_lab, usage
from homelab.lab import Lab, SecretsError

if TYPE_CHECKING:
    from homelab.lab import AdminKey, SecretsDone

IDENTITY_ENV = "HOMELAB_AGE_IDENTITY"
EDIT_HINT = "to type a value, use `homelab secrets edit {name}` (it opens $EDITOR)"
CAN = {True: "yes", False: "no", None: "unknown"}


def reported(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A command whose SecretsError is said as an error with its hint, exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except SecretsError as error:
            err(f"error: {error}")
            return INVALID

    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run


def cmd_help(args: argparse.Namespace) -> int:
    """`homelab secrets` alone: its commands."""
    from homelab.cli import parser

    with contextlib.suppress(SystemExit):
        parser().parse_args(["secrets", "--help"])
    return OK


# ---- the admin's key ---------------------------------------------------------------------


def _ask_passphrase(prompt: str) -> str | None:
    """The passphrase of an SSH identity, asked on the terminal; None without one."""
    if not sys.stdin.isatty():
        return None
    try:
        return getpass.getpass(prompt)
    except (EOFError, OSError):
        return None


def _identity_path(args: argparse.Namespace) -> Path | None:
    given = getattr(args, "identity", None)
    return Path(given).expanduser() if given else None


def open_key(lab: Lab, args: argparse.Namespace) -> AdminKey:
    """The admin's key: --identity, else $HOMELAB_AGE_IDENTITY, else ~/.config/homelab/age.key."""
    return lab.open_identity(_identity_path(args), _ask_passphrase)


def key_if_any(lab: Lab, args: argparse.Namespace) -> AdminKey | None:
    """The admin's key when one was named or the default file is there; None when the
    person has none (an admin edit then leaves the secrets stale, and says so)."""
    if _identity_path(args) is None and not os.environ.get(IDENTITY_ENV):
        from homelab.secrets.crypt import default_identity_path

        if not default_identity_path().exists():
            return None
    return open_key(lab, args)


def _needs_key(lab: Lab) -> bool:
    """Has the lab any encrypted secret an admin change would rekey?"""
    return any(s.encrypted for s in lab.secrets_state().secrets.values())


# ---- saying what was done ------------------------------------------------------------------


def _said(done: SecretsDone) -> int:
    for line in done.said:
        print(output.printable(line))
    if done.commit:
        print(f"committed {done.commit[:7]}")
    elif done.files:
        print("nothing committed (the files did not change)")
    return OK


# ---- list ----------------------------------------------------------------------------------


@reported
def cmd_list(args: argparse.Namespace) -> int:
    """Each secret: the hosts that use it, who can open it (read from its own stanzas),
    where it is used; stale ones marked."""
    secrets = open_lab(args).secrets_state()
    if not secrets.secrets:
        print("the lab has no encrypted secrets (homelab secrets set NAME < FILE makes one)")
        return OK
    rows = [("SECRET", "USED BY", "CAN OPEN IT", "USED AT")]
    for name, s in sorted(secrets.secrets.items()):
        if not s.present:
            state = "missing"
        elif not s.encrypted:
            state = "NOT ENCRYPTED"
        elif s.stale:
            state = "stale"
        else:
            state = ""
        readers = [
            f"{'admin ' if r.kind == 'admin' else ''}{r.name}: "
            + ("no key" if r.key is None else CAN[can])
            for r, can in s.readers()
        ]
        if s.others:
            readers.append(f"{s.others} other key(s): yes")
        rows.append(
            (
                name + (f" ({state})" if state else ""),
                ", ".join(s.hosts) or "-",
                ", ".join(readers) if s.encrypted else "-",
                ", ".join(str(u.place) for u in s.uses) or "-",
            )
        )
    output.table(rows, marks={"stale": "bold yellow", "missing": "bold red"})
    stale = [n for n, s in secrets.secrets.items() if s.stale]
    if stale:
        err(f"stale: {', '.join(stale)}: `homelab secrets rekey` encrypts them to their readers")
    return OK


# ---- set and edit --------------------------------------------------------------------------


@reported
def cmd_set(args: argparse.Namespace) -> int:
    """A secret's value from standard input, encrypted and committed."""
    if sys.stdin.isatty():
        raise usage(
            f"secrets set reads the value from standard input, not typed: "
            f"homelab secrets set {args.name} < FILE; " + EDIT_HINT.format(name=args.name)
        )
    lab = open_lab(args)
    lab.check_secret_name(args.name)
    value = sys.stdin.buffer.read()
    return _said(lab.set_secret(args.name, value))


def _private_base() -> str | None:
    """Where the private folder goes: a memory file system when the system has one."""
    for folder in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return None  # the system's temporary folder


@contextlib.contextmanager
def private_file(name: str, value: bytes) -> Iterator[Path]:
    """`value` in a 0600 file in a new 0700 folder, the folder removed afterwards however
    this ends (the file overwritten first where it can be)."""
    folder = Path(tempfile.mkdtemp(prefix="homelab-secret-", dir=_private_base()))
    try:
        os.chmod(folder, 0o700)
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(value)
        yield path
    finally:
        with contextlib.suppress(OSError):
            size = (folder / name).stat().st_size
            with open(folder / name, "r+b") as f:
                f.write(b"\0" * size)
        shutil.rmtree(folder, ignore_errors=True)


def editor_command() -> list[str]:
    """$EDITOR, else $VISUAL, else vi, as words (it may carry its own options)."""
    text = os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
    try:
        words = shlex.split(text)
    except ValueError:
        words = [text]
    return words or ["vi"]


def _forgetful(editor: str) -> list[str]:
    """Options that keep vim and neovim from copying the text elsewhere: ~/.viminfo (or
    neovim's shada) keeps deleted lines and registers, a swap file its own copy."""
    found = shutil.which(editor)
    real = os.path.basename(os.path.realpath(found)) if found else ""
    return ["-i", "NONE", "-n"] if real.startswith(("vim", "nvim", "gvim")) else []


class Ended(Exception):
    """The command was told to end (SIGTERM, SIGHUP) while the editor ran."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def run_editor(path: Path) -> int:
    """The editor on `path` (its only argument besides the editor's own words); its exit
    status. Ctrl-C is the editor's while it runs; SIGTERM and SIGHUP are passed on to it
    and raise Ended once it has ended."""
    words = [*editor_command(), *_forgetful(editor_command()[0])]
    try:
        child = subprocess.Popen([*words, str(path)])
    except OSError as error:
        raise SecretsError(
            f"cannot run the editor {words[0]}: {error.strerror or error}",
            "set EDITOR to an editor that is installed",
        ) from None
    told: list[int] = []

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        told.append(signum)
        with contextlib.suppress(OSError):
            child.send_signal(signum)

    saved: dict[int, Any] = {}
    try:
        saved[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for passed in (signal.SIGTERM, signal.SIGHUP):
            saved[passed] = signal.signal(passed, pass_on)
        code = child.wait()
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        if child.poll() is None:  # an error above: the editor must not outlive its file
            child.kill()
            child.wait()
    if told:
        raise Ended(told[0])
    return code


def _end_on_signals() -> dict[int, Any]:
    """SIGTERM and SIGHUP end the command as an exception would (so `finally` removes the
    private folder); the handlers they had, to put back."""

    def end(signum: int, _frame: FrameType | None) -> None:
        raise Ended(signum)

    return {s: signal.signal(s, end) for s in (signal.SIGTERM, signal.SIGHUP)}


@reported
def cmd_edit(args: argparse.Namespace) -> int:
    """Decrypt into $EDITOR, encrypt again when it changed, commit."""
    try:
        return _edit(args)
    except KeyboardInterrupt:  # while the key was asked for or the secret decrypted
        err("error: interrupted: nothing saved")
        return 128 + signal.SIGINT


def _edit(args: argparse.Namespace) -> int:
    name = args.name
    lab = open_lab(args)
    lab.check_secret_name(name)
    key = open_key(lab, args)
    found = lab.secrets_state().secrets.get(name)
    old = lab.secret_value(name, key) if found is not None and found.present else None
    saved = _end_on_signals()
    try:
        with private_file(name, old or b"") as path:
            code = run_editor(path)
            if code != 0:
                how = f"by {signal.Signals(-code).name}" if code < 0 else f"with status {code}"
                err(f"error: the editor ended {how}: nothing saved")
                return FAILED
            new = path.read_bytes()
        if new == old:
            print(f"{name} unchanged: nothing written")
            return OK
        if old is None and not new:
            print(f"{name} left empty: nothing written")
            return OK
        return _said(lab.set_secret(name, new))
    except Ended as ended:
        err(f"error: ended by {ended}: nothing saved")
        return 128 + ended.signum
    except KeyboardInterrupt:
        err("error: interrupted: nothing saved")
        return 128 + signal.SIGINT
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


# ---- rekey and admins ----------------------------------------------------------------------


@reported
def cmd_rekey(args: argparse.Namespace) -> int:
    """Encrypt the stale secrets (or the named ones) to exactly their readers."""
    lab = open_lab(args)
    for name in args.names:
        lab.check_secret_name(name)
    done = lab.rekey_secrets(args.names, open_key(lab, args))
    _said(done)
    return FAILED if done.stale else OK


# ---- import and migrate --------------------------------------------------------------------


@reported
def cmd_import(args: argparse.Namespace) -> int:
    """An agenix secrets.nix and its .age files into the lab: rekeyed with the admin's
    key when there is one, else as they are (and said stale)."""
    lab = open_lab(args)
    done = lab.import_agenix(Path(args.path), key_if_any(lab, args))
    return _said(done)


@reported
def cmd_migrate(args: argparse.Namespace) -> int:
    """The copy-at-apply secrets encrypted, their source: lines out of the profiles."""
    lab = open_lab(args)
    return _said(lab.migrate_secrets(key_if_any(lab, args)))


def _public_key(args: argparse.Namespace) -> str:
    if args.file is not None:
        if args.key is not None:
            raise usage("give the public key or --file, not both")
        try:
            return Path(args.file).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise usage(f"cannot read {args.file}: {getattr(error, 'strerror', error)}") from None
    if args.key is None:
        raise usage("give the admin's public key (age1... or ssh-ed25519 AAAA...) or --file PUB")
    return str(args.key)


@reported
def cmd_admin_add(args: argparse.Namespace) -> int:
    """An admin in lab.yaml, every secret rekeyed to include them."""
    lab = open_lab(args)
    public = _public_key(args)
    key = key_if_any(lab, args) if _needs_key(lab) else None
    return _said(lab.add_admin(args.name, public, key))


@reported
def cmd_admin_remove(args: argparse.Namespace) -> int:
    """An admin out of lab.yaml, every secret rekeyed without them."""
    lab = open_lab(args)
    key = key_if_any(lab, args) if _needs_key(lab) else None
    return _said(lab.remove_admin(args.name, key))


def cmd_admin_help(args: argparse.Namespace) -> int:
    from homelab.cli import parser

    with contextlib.suppress(SystemExit):
        parser().parse_args(["secrets", "admin", "--help"])
    return OK
