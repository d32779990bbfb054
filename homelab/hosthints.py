"""The hint under a refusal that names no known host: the nearest name, or the hosts there
are, so that the person can pick one. A lab of hundreds of hosts gets its first few and a
count, not a screenful of names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SHOWN = 12  # names a hint lists at most


def known_hosts(names: Iterable[str]) -> str:
    """'hosts: a, b, c': every one of a small lab's, the first SHOWN of a big one's."""
    every = sorted(set(names))
    if len(every) <= SHOWN:
        return "hosts: " + ", ".join(every)
    more = len(every) - SHOWN
    return f"hosts: {', '.join(every[:SHOWN])} and {more} more (`homelab hosts` lists them)"


def unknown_host(word: str, names: Iterable[str]) -> str:
    """'did you mean X?' when a host's name is close to the word, else known_hosts."""
    every = sorted(set(names))
    close = difflib.get_close_matches(word, every, n=1)
    return f"did you mean '{close[0]}'?" if close else known_hosts(every)
