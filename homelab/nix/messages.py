"""Nix's evaluation errors, read as data: what went wrong, which option, which files.

The wording is that of the real tools, captured from ``nix-instantiate`` 2.8 running
nixpkgs' ``lib.evalModules`` (lib at de42d442) and read in the sources of later Nix:

- Nix 2.8 prints the error alone::

      error: A definition for option `services.openssh.enable' is not of type `boolean'.
      Definition values:
             - In `/nix/store/HASH-source/hosts/web/options.nix': "yes"

  (one line up to "Definition values:"; cut here to fit)

  and for a mistake in the Nix text, the place: ``at /nix/store/HASH-source/x.nix:5:5:``.
- Nix 2.13 and later first print a trace, outermost first (``… while evaluating
  definitions from `/nix/store/...'`` and ``at FILE:LINE:COL:`` lines), then the message
  again after an indented ``error:``.
- lib writes option names as `` `name' ``; newer Nix quotes its own names as ``'name'``.
- NixOS's failed assertions (nixos/modules/system/activation/top-level.nix) are a
  ``throw`` of ``"\\nFailed assertions:\\n- MESSAGE..."``.

Pure: the text in, `NixError` out; what the paths mean for a lab is the caller's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NixError", "Spot", "read_error"]


@dataclass(frozen=True)
class Spot:
    """A file an error names, with its line and column when Nix gave them."""

    file: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class NixError:
    message: str  # the innermost error, first line, without "error: "
    option: str | None  # the option it is about (`services.foo`), when it names one
    spots: tuple[Spot, ...]  # the error's own places first, then the trace's, innermost first
    assertions: tuple[str, ...] = ()  # NixOS's failed assertions, one message each


# `name' (lib), 'name' (Nix), ‘name’ (some NixOS messages)
_QUOTED = r"(?:`([^`']+)'|'([^']+)'|‘([^’]+)’)"
_OPTION = re.compile(r"\boption " + _QUOTED)
_IN_FILE = re.compile(r"(?:\bIn |\bfrom )" + _QUOTED)
_AT = re.compile(r"\bat (/[^\s:]+):(\d+):(\d+)")
_ERROR = re.compile(r"^\s*error:\s?(.*)$")


def _unquote(m: re.Match[str], first: int) -> str:
    return next(g for g in m.groups()[first - 1 : first + 2] if g is not None)


def read_error(text: str) -> NixError | None:
    """The last evaluation error in `text` (a build's output), None when it holds none."""
    lines = text.replace("\r\n", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if _ERROR.match(line)]
    if not starts:
        return None
    last = starts[-1]
    first = starts[0]
    # an unindented "error:" begins a report; indented ones come inside it (newer Nix)
    for i in reversed(starts):
        if not lines[i].startswith((" ", "\t")):
            first = i
            break
    message = _message(lines, last)
    own = lines[last:]
    trace = lines[first:last]
    option_m = _OPTION.search("\n".join(own))
    spots = [*_spots(own), *reversed(_spots(trace))]
    unique = tuple(dict.fromkeys(spots))
    return NixError(
        message=message,
        option=_unquote(option_m, 1) if option_m else None,
        spots=unique,
        assertions=_assertions(own),
    )


def _message(lines: list[str], at: int) -> str:
    """The error's text: after `error:`, or the next non-empty line when that is empty."""
    m = _ERROR.match(lines[at])
    head = m.group(1).strip() if m else ""
    if not head:
        head = next((line.strip() for line in lines[at + 1 :] if line.strip()), "")
    # lib's "... Definition values:" introduces the list that follows in Nix's text
    return head.removesuffix("Definition values:").strip()


def _spots(lines: list[str]) -> list[Spot]:
    out: list[Spot] = []
    for line in lines:
        for m in _AT.finditer(line):
            out.append(Spot(m.group(1), int(m.group(2)), int(m.group(3))))
        for m in _IN_FILE.finditer(line):
            name = _unquote(m, 1)
            if name.startswith("/"):
                out.append(Spot(name))
    return out


def _assertions(lines: list[str]) -> tuple[str, ...]:
    """`- message` lines after "Failed assertions:"."""
    text = [line.strip() for line in lines]
    if "Failed assertions:" not in text:
        return ()
    out: list[str] = []
    for line in text[text.index("Failed assertions:") + 1 :]:
        if line.startswith("- "):
            out.append(line[2:])
        elif out and line and not line.startswith("("):
            out[-1] += " " + line
        else:
            break
    return tuple(out)
