"""For every host: what is deployed on it, and whether HEAD or the working tree has changes
to it that are not deployed yet.

Quick on a long history: the deploy refs are read once; the host's folder and the files it
draws on (fragments, catalogue entries) are compared by their git object ids between the
deployed commit and HEAD, all hosts in one `git cat-file --batch-check`; the working
tree is one `git status`. The history itself is never walked.

Offline by design: an interrupted deploy shows as unconfirmed until a later apply or
`homelab status --live` asks the machine how its run ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from homelab.errors import InvalidInput
from homelab.history.paths import host_folder, host_inputs, sketch
from homelab.history.records import (
    INTERRUPTED,
    DeployRecord,
    deployed,
    interrupted,
    last_attempts,
)
from homelab.history.repo import LabRepo, open_repository
from homelab.labfiles import LabFiles
from homelab.source import DiskSource


@dataclass(frozen=True)
class HostStatus:
    host: str  # folder under hosts/
    record: DeployRecord | None  # None: never deployed
    in_lab: bool  # False: its profile is gone; only its deploy record remains
    head_ahead: bool  # HEAD changes the host compared with what is deployed (or never was)
    uncommitted: bool  # the working tree changes the host's files compared with HEAD
    interrupted: DeployRecord | None = None  # a newer deploy whose end is not confirmed
    failed: DeployRecord | None = None  # the newest attempt, when it failed (or was cancelled)


def _object_ids(lr: LabRepo, queries: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(commit, lab path): object id, or "" when the path is not in that commit}."""
    text = "".join(f"{commit}:{lr.path(path).rstrip('/')}\n" for commit, path in queries)
    out = lr.run("cat-file", "--batch-check=%(objectname)", stdin=text).splitlines()
    return {
        q: (line if not line.endswith(" missing") else "")
        for q, line in zip(queries, out, strict=True)
    }


def lab_status(lab: LabFiles) -> list[HostStatus]:
    lr = open_repository(lab.root)
    state = sketch(DiskSource(lab.root))
    records = deployed(lab.root)
    attempts = last_attempts(lab.root)
    pending = interrupted(attempts)
    failed = {h: r for h, r in attempts.items() if not r.succeeded and r.result != INTERRUPTED}
    head = lr.head()
    spec = [lr.path("hosts/"), lr.path("services/")]
    out = lr.run(
        "status", "--porcelain", "-z", "--no-renames", "--untracked-files=all", "--", *spec
    )
    dirty = {rel for e in out.split("\0") if len(e) > 3 and (rel := lr.rel(e[3:])) is not None}
    folders = sorted(set(state.hosts) | set(records) | set(pending) | set(failed))
    keys = {f: sorted({host_folder(f), *host_inputs(state, f)}) for f in folders}
    queries = [
        (commit, key)
        for f in folders
        if head is not None and f in records and records[f].commit != head
        for commit in (records[f].commit, head)
        for key in keys[f]
    ]
    ids = _object_ids(lr, queries) if queries else {}
    rows = []
    for f in folders:
        found = records.get(f)
        if found is None:
            head_ahead = head is not None and f in state.hosts
        elif head is None or found.commit == head:
            head_ahead = False
        else:
            head_ahead = any(ids[(found.commit, k)] != ids[(head, k)] for k in keys[f])
        uncommitted = any(p.startswith(host_folder(f)) or p in keys[f] for p in dirty)
        rows.append(
            HostStatus(
                f, found, f in state.hosts, head_ahead, uncommitted, pending.get(f), failed.get(f)
            )
        )
    return rows


class DeployMark(StrEnum):
    """What the host list says of a host's deploy."""

    NEVER = "never"  # never deployed
    AHEAD = "ahead"  # HEAD or the working tree changes it since its deploy
    DEPLOYED = ""  # deployed as it is


def deploy_marks(lab: LabFiles) -> dict[str, DeployMark]:
    """The deploy mark of each host folder; none at all when the lab is in no repository
    or it has no commit yet."""
    try:
        if open_repository(lab.root).head() is None:
            return {}
    except InvalidInput:
        return {}
    marks = {}
    for row in lab_status(lab):
        if row.record is None:
            marks[row.host] = DeployMark.NEVER
        elif row.head_ahead or row.uncommitted:
            marks[row.host] = DeployMark.AHEAD
        else:
            marks[row.host] = DeployMark.DEPLOYED
    return marks
