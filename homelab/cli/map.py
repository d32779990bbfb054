"""`homelab map`: the lab drawn, its hosts, services, names and the links between machines,
as SVG (laid out by homelab) or Mermaid text."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from homelab.cli import OK, err
from homelab.cli.common import open_lab, refusal


def cmd_map(args: argparse.Namespace) -> int:
    from homelab.labmap import mermaid, svg  # deferred: start-up

    lab = open_lab(args)
    state = lab.load()
    drawn = lab.lab_map(state)
    text = mermaid(drawn) if args.mermaid else svg(drawn)
    out = args.output or ("-" if args.mermaid else "map.svg")
    if out == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as error:
            raise refusal(out, f"cannot write the map: {error.strerror}") from None
        hosts, links = len(drawn.hosts), len(drawn.links)
        print(f"wrote {out}: {_count(hosts, 'host')}, {_count(links, 'link')}")
    unread = [h.name for h in drawn.hosts if not h.valid]
    if unread:
        err(
            f"note: {', '.join(unread)} drawn without services (its profile has mistakes): "
            "run `homelab validate`"
        )
    return OK


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
