"""How the command line draws what it says: on a terminal with rich (colours, tables fitted
to the terminal's width; the live view of an apply is homelab.cli.live); anywhere else (a
pipe, a file, NO_COLOR set, TERM=dumb) as plain lines without escape codes, in the same
words, so that scripts can read them.

rich is imported only when something is drawn on a terminal (loading it takes about 25 ms,
and pipes never need it).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from homelab.lab import Report

# how the words of a host's result stand out on a terminal
STYLES = {"ok": "green", "FAILED": "bold red", "INTERRUPTED": "bold red", "cancelled": "yellow"}
SQUEEZED = 8  # the least a column that wraps is given beside columns kept whole
DIFF_STYLES = {"+++": "bold", "---": "bold", "@@": "cyan", "+": "green", "-": "red"}
# a machine's output may carry escape sequences and control characters of its own: they
# would move the cursor under the live view or recolour the person's terminal
CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f]"
)


def on_terminal(stream: TextIO | None = None) -> bool:
    """Draw for a person: stdout is a terminal that wants colours and cursor moves."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def colour_on(choice: str) -> bool:
    """--color auto|always|never."""
    return on_terminal() if choice == "auto" else choice == "always"


def printable(text: str) -> str:
    return CONTROL.sub("", text)


def tally(files: Sequence[str]) -> str:
    """The line under a list of problems, given the file each names: "3 problems in 2
    files". A place that is no file (the command line, the lab's folder: no suffix) is not
    counted as one, and a single problem in none needs no line at all ("")."""
    said = f"{len(files)} problem{'s' if len(files) != 1 else ''}"
    named = [f for f in files if PurePath(f).suffix]
    if not named:
        return "" if len(files) == 1 else said
    count = len(set(named))
    where = f"{count} file{'s' if count != 1 else ''}"
    return f"{said} in {where}" if len(named) == len(files) else f"{said}, {len(named)} in {where}"


def when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def console(*, forced: bool = False) -> Console:
    """A rich console on stdout; forced: colours even when it is no terminal (--color
    always)."""
    from rich.console import Console  # deferred: only a terminal needs rich

    return Console(
        file=sys.stdout,
        force_terminal=True if forced else None,
        color_system="standard" if forced else "auto",
        highlight=False,
        markup=False,
        emoji=False,
    )


def table(rows: Sequence[tuple[str, ...]], marks: Mapping[str, str] | None = None) -> None:
    """A table with a header row: on a terminal fitted to its width (long cells wrap),
    with the cells that begin with one of `marks` in its style (what needs a person's
    eye); else columns aligned with spaces, one line per row."""
    if not on_terminal():
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        return
    from rich.table import Table  # deferred: only a terminal needs rich
    from rich.text import Text

    def cell(text: str) -> Text:
        style = next((s for start, s in (marks or {}).items() if text.startswith(start)), "")
        return Text(text, style=style)

    out = console()
    grid = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    for name, width in zip(rows[0], _whole_words(rows, out.width), strict=True):
        grid.add_column(name, overflow="fold", min_width=width, no_wrap=width is not None)
    for r in rows[1:]:
        grid.add_row(*map(cell, r))
    out.print(grid)


def _whole_words(rows: Sequence[tuple[str, ...]], width: int) -> list[int | None]:
    """How wide each column must be to keep its words whole, for as many columns as the
    terminal has room for (those with the shortest words first); the others wrap and, on
    a narrow terminal, cut their words. No column is ever left out."""
    columns = len(rows[0])
    longest = [max(len(w) for r in rows for w in [*r[i].split(), ""]) for i in range(columns)]
    room = width - 2 * (columns - 1)
    kept: list[int | None] = [None] * columns
    for placed, i in enumerate(sorted(range(columns), key=longest.__getitem__)):
        if longest[i] + SQUEEZED * (columns - placed - 1) > room:
            break
        kept[i] = longest[i]
        room -= longest[i]
    return kept


def heading(text: str, colour: bool) -> None:
    if not colour:
        print(text)
        return
    from rich.text import Text  # deferred: only a terminal needs rich

    console(forced=True).print(Text(text, style="bold"), soft_wrap=True)


def diff(lines: Sequence[str], colour: bool) -> None:
    """A unified diff, coloured when asked: additions green, removals red, hunks cyan."""
    if not colour:
        for line in lines:
            print(line)
        return
    from rich.text import Text  # deferred: only a terminal needs rich

    out = console(forced=True)
    for line in lines:
        style = next((s for p, s in DIFF_STYLES.items() if line.startswith(p)), "")
        out.print(Text(line, style=style), soft_wrap=True)


def report(done: Report) -> None:
    """The summary at the end of an apply: a row per host, then what went wrong."""
    if not on_terminal():
        for line in done.lines():
            print(line)
        return
    from rich.table import Table  # deferred: only a terminal needs rich
    from rich.text import Text

    grid = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    for name in done.header:
        grid.add_column(name, overflow="fold", no_wrap=name != done.header[-1])
    for host, word, clock, what in done.rows:
        grid.add_row(host, Text(word, style=STYLES.get(word, "")), clock, what)
    out = console()
    out.print(grid)
    for line in done.reasons:
        out.print(Text(line), soft_wrap=True)
