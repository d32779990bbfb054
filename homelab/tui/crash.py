"""An error the editor did not expect: a report to attach to a bug, safe to share.

The report holds the traceback (files, lines, code) and versions, and nothing of the
running program's data: no frame locals (Textual's own crash screen prints them, and a
password or a secret may be one), no environment. Exception messages are the one place
data can slip in, so values known to be sensitive are masked in them: the contents of the
lab's secret files, whatever was typed into a password field, and environment values
(named, not shown).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path

from homelab import __version__

MASK = "[hidden]"
SHORTEST = 4  # shorter values would mask ordinary words; a secret is longer
SHORTEST_ENV = 8  # environment values: "1", "C.UTF-8", "bash" say nothing about anyone


def versions() -> list[str]:
    try:
        textual = metadata.version("textual")
    except metadata.PackageNotFoundError:  # pragma: no cover - textual runs this
        textual = "unknown"
    return [
        f"homelab {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"textual {textual}",
        f"{platform.system()} {platform.release()} {platform.machine()}",
    ]


def mask(text: str, secrets: Iterable[str], environ: Mapping[str, str]) -> str:
    """The text with secrets masked and environment values named instead of shown."""
    replacements: dict[str, str] = {}
    for name, value in environ.items():
        if len(value) >= SHORTEST_ENV:
            replacements[value] = f"${name}"
    for secret in secrets:
        for value in (secret, *secret.splitlines()):
            value = value.strip()
            if len(value) >= SHORTEST:
                replacements[value] = MASK
    for value in sorted(replacements, key=len, reverse=True):  # the longest wins
        text = text.replace(value, replacements[value])
    return text


def report(
    error: BaseException,
    secrets: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    when: float | None = None,
) -> str:
    """The report's text: what happened, where in the code, and the versions."""
    summary = traceback.TracebackException.from_exception(error, capture_locals=False)
    env = os.environ if environ is None else environ
    body = _format(summary, lambda text: mask(text, list(secrets), env), set())
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(when))
    lines = ["homelab editor: an error it did not expect", f"when: {stamp}", *versions(), ""]
    return "\n".join(lines) + "\n" + "".join(body)


def _format(
    error: traceback.TracebackException, masked: Callable[[str], str], seen: set[int]
) -> list[str]:
    """As Python prints a traceback, with the messages (the one place a value of the
    program can be) masked; the code's places are shown as they are."""
    seen.add(id(error))
    out: list[str] = []
    if error.__cause__ is not None and id(error.__cause__) not in seen:
        out += _format(error.__cause__, masked, seen)
        out.append("\nThe above exception was the direct cause of the following exception:\n\n")
    elif (
        error.__context__ is not None
        and not error.__suppress_context__
        and id(error.__context__) not in seen
    ):
        out += _format(error.__context__, masked, seen)
        out.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    if error.stack:
        out.append("Traceback (most recent call last):\n")
        out += error.stack.format()
    out += [masked(line) for line in error.format_exception_only()]
    for inner in error.exceptions or ():  # an exception group: each of its errors
        out.append("\n")
        out += _format(inner, masked, seen)
    return out


def save(folder: Path | None, text: str, when: float | None = None) -> Path:
    """Write the report, readable by its owner only, into folder (the lab's local state)
    or, when that cannot be written, into the system's temporary folder."""
    from homelab.editing.drafts import write_private

    name = time.strftime("editor-%Y%m%d-%H%M%S", time.localtime(when)) + f"-{os.getpid()}.txt"
    if folder is not None:
        try:
            path = folder / name
            write_private(path, text.encode())
            return path
        except OSError:
            pass
    fd, tmp = tempfile.mkstemp(prefix="homelab-", suffix=f"-{name}")
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode())
    return Path(tmp)


def message(error: BaseException, path: Path | None, drafts: str) -> str:
    """What the person reads in the terminal once the editor has closed."""
    kind = type(error).__name__
    cause = getattr(error, "error", None)  # a worker's failure wraps the real error
    if isinstance(cause, BaseException):
        kind = type(cause).__name__
    lines = [f"The editor stopped on an error it did not expect ({kind}).", drafts]
    if path is not None:
        lines += [
            "A report to attach to a bug report (the traceback and versions; no passwords,",
            "secrets or environment) is in:",
            f"  {path}",
        ]
    return "\n".join(lines)
