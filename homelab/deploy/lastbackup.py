"""How the lab's backup job last ran on a machine, in words (`homelab status --live`),
from what `systemctl show UNIT -p LoadState,ActiveState,Result,ExecMainExitTimestamp`
printed there."""

from __future__ import annotations

import re
from collections.abc import Mapping

# systemd's timestamp: "Mon 2026-11-30 03:00:12 UTC" (the weekday and zone may vary)
_WHEN = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d)(?::\d\d)?(?: (\S+))?")


def last_backup(facts: Mapping[str, str]) -> str:
    """ "last backup: 2026-11-30 03:00 ok" / "... failed (exit-code)" / "never"; "" when
    the machine said nothing (no systemctl there)."""
    load = facts.get("LoadState", "")
    if not load:
        return ""
    if load == "not-found":
        return "last backup: no backup job on the machine (not applied yet?)"
    running = " (one running now)" if facts.get("ActiveState") == "activating" else ""
    ended = facts.get("ExecMainExitTimestamp", "")
    if not ended or ended == "n/a":
        return f"last backup: never{running}"
    result = facts.get("Result", "")
    how = "ok" if result == "success" else f"failed ({result or 'no result'})"
    return f"last backup: {_when(ended)} {how}{running}"


def _when(text: str) -> str:
    """The date and minute of a systemd timestamp, its zone kept unless UTC; the text
    as it is when it is not one."""
    found = _WHEN.search(text)
    if found is None:
        return text
    day, minute, zone = found.groups()
    return f"{day} {minute}" + (f" {zone}" if zone and zone != "UTC" else "")
