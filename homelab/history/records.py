"""Deploy records: which commit went to which host, when, how, and how it ended.

Every attempt becomes an annotated tag `homelab/deploy/<host>/<UTC time>` on the deployed
commit, its message holding the record. Tags travel with the repository
(`git push --follow-tags`, and `git fetch` brings the tags of fetched commits), so the
record survives a clone. Beside it, `refs/homelab/deployed/<host>` points at the tag of
the last deploy that left the machine on its commit: a successful switch, test or boot
(a dry run or a failed or rolled-back attempt changes nothing the machine runs, so only
its tag is written). `deployed()` reads those refs in one go, and for a host without
one (a fresh clone: git does not fetch refs/homelab/ by default) falls back to its newest
such tag.

An apply that was stopped while a machine could still switch (Ctrl-C, SIGTERM, a link
that did not come back) records "interrupted" with the id of the run it left going on
the machine. Until a later record confirms how that run ended (`homelab apply` and
`homelab status --live` ask the machine), `unconfirmed()` names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from homelab.errors import InvalidInput, Place, Problem
from homelab.history.repo import LabRepo, knows_who, open_repository

DEPLOYED_REFS = "refs/homelab/deployed/"
DEPLOY_TAGS = "refs/tags/homelab/deploy/"

# results that mean the machine now runs (or will boot) the commit
LANDED_RESULTS = frozenset({"ok", "success", "succeeded", "done"})
# the machine may still switch: the run goes on there, its end not yet seen
INTERRUPTED = "interrupted"
# modes that never change what a machine runs
DRY_MODES = frozenset({"dry-activate", "dry-run", "dry-build", "build", "check"})

SYSTEM_LINE = "system: "  # in a record's details: the system path the machine ran after it
_FIELDS = ("host", "commit", "mode", "result", "started", "finished", "run")
_SEP, _END = "\x1f", "\x1e"


@dataclass(frozen=True)
class DeployRecord:
    host: str  # the host's folder under hosts/
    commit: str  # full commit id
    mode: str  # switch, boot, test, dry-activate...
    result: str  # ok, failed, rolled-back...
    when: datetime  # when the deploy finished (timezone-aware)
    run: str = ""  # an interrupted deploy: the run it left going on the machine
    summary: str = ""  # the first line of what the attempt said (why it failed)
    system: str = ""  # the system the machine ran when the attempt ended, as it said

    @property
    def succeeded(self) -> bool:
        return self.result.lower() in LANDED_RESULTS


def leaves_machine_on(mode: str, result: str) -> bool:
    """Does a deploy with this mode and result leave the machine on the commit?"""
    return result.lower() in LANDED_RESULTS and mode.lower() not in DRY_MODES


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.astimezone()


def _message(a: DeployAttempt, host: str, commit: str) -> str:
    """The tag's message: the attempt, with its host folder and full commit id."""
    fields = {
        "host": host,
        "commit": commit,
        "mode": a.mode,
        "result": a.result,
        "started": _aware(a.started).isoformat(timespec="seconds"),
        "finished": _aware(a.finished).isoformat(timespec="seconds"),
    }
    if a.run:
        fields["run"] = a.run
    body = "\n".join(f"{k}: {v}" for k, v in fields.items())
    text = f"homelab deploy: {host} {a.mode} {a.result}\n\n{body}\n"
    if a.details.strip():
        text += "\n" + a.details.strip() + "\n"
    return text


def _parse(message: str, commit: str) -> DeployRecord | None:
    fields: dict[str, str] = {}
    lines = message.splitlines()[2:]
    while lines:
        key, sep, value = lines[0].partition(": ")
        if not sep or key not in _FIELDS:
            break
        fields[key] = value.strip()
        lines.pop(0)
    summary = next((line.strip() for line in lines if line.strip()), "")  # of the details
    systems = [
        line.removeprefix(SYSTEM_LINE).strip() for line in lines if line.startswith(SYSTEM_LINE)
    ]
    try:
        when = datetime.fromisoformat(fields["finished"])
        return DeployRecord(
            fields["host"],
            commit,
            fields["mode"],
            fields["result"],
            _aware(when),
            fields.get("run", ""),
            summary,
            systems[-1] if systems else "",
        )
    except (KeyError, ValueError):
        return None


def _bad(root: Path, message: str, hint: str = "") -> InvalidInput:
    return InvalidInput([Problem(Place(str(root)), message, hint=hint)])


def _identity(lr: LabRepo) -> dict[str, str]:
    """A tagger for a machine where git knows no one (the deploy must still be recorded)."""
    if knows_who(lr.top):
        return {}
    return {"GIT_COMMITTER_NAME": "homelab", "GIT_COMMITTER_EMAIL": "homelab@localhost"}


@dataclass(frozen=True)
class DeployAttempt:
    """One deploy to record (see record_deploys)."""

    host: str
    commit: str
    mode: str
    result: str
    started: datetime
    finished: datetime
    details: str = ""
    run: str = ""  # an interrupted deploy: the run it left going on the machine


def record_deploy(
    lab_root: Path,
    host: str,
    commit: str,
    mode: str,
    result: str,
    started: datetime,
    finished: datetime,
    details: str = "",
) -> None:
    """Record one deploy attempt of `commit` to the host (its folder under hosts/; a
    host.name is mapped to its folder): always a tag; the host's ref too when the machine
    is left on that commit (see leaves_machine_on). Naive datetimes are local time."""
    record_deploys(
        lab_root, [DeployAttempt(host, commit, mode, result, started, finished, details)]
    )


_REF_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def record_deploys(lab_root: Path, attempts: Sequence[DeployAttempt]) -> None:
    """Record many attempts at once (an apply to 20 hosts): the tag objects are written in
    this process and every ref moves in one `git update-ref --stdin`, all or nothing."""
    if not attempts:
        return
    from io import BytesIO

    from gitdb import IStream  # type: ignore[import-untyped]

    lr = open_repository(Path(lab_root))
    env = _identity(lr)
    ident = lr.run("var", "GIT_COMMITTER_IDENT", env=env).strip()
    tagger = ident.rsplit(" ", 2)[0]  # "Name <email>", without git's own time
    existing = set(lr.run("tag", "--list", "homelab/deploy/*").split())
    shas: dict[str, str] = {}
    commands = []
    landed: dict[str, str] = {}  # host -> its newest tag that leaves it on a commit
    for a in attempts:
        if a.commit not in shas:  # hosts applied together share their commit: one git run
            shas[a.commit] = lr.resolve(a.commit)
        sha = shas[a.commit]
        host = _folder_of(lr.root, a.host)
        for what, value in (("host", host), ("mode", a.mode), ("result", a.result)):
            if not value or any(c.isspace() for c in value):
                raise _bad(lr.root, f"a deploy record needs a {what} without spaces, not '{value}'")
        if not _REF_SAFE.match(host) or host.endswith(".lock") or ".." in host:
            raise _bad(lr.root, f"'{host}' cannot name a git ref")
        finished = _aware(a.finished)
        stamp = finished.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        base = f"homelab/deploy/{host}/{stamp}"
        name, n = base, 1
        while name in existing:
            n += 1
            name = f"{base}-{n}"
        existing.add(name)
        message = _message(a, host, sha)
        when = f"{int(finished.timestamp())} {finished.strftime('%z')}"
        data = (
            f"object {sha}\ntype commit\ntag {name}\ntagger {tagger} {when}\n\n{message}"
        ).encode()
        stored = lr.repo.odb.store(IStream(b"tag", len(data), BytesIO(data)))
        tag = stored.hexsha.decode() if isinstance(stored.hexsha, bytes) else stored.hexsha
        commands.append(f"create refs/tags/{name} {tag}")
        if leaves_machine_on(a.mode, a.result):
            landed[host] = tag  # one update per ref: git refuses two in one transaction
    commands += [f"update {DEPLOYED_REFS}{host} {tag}" for host, tag in landed.items()]
    lr.run("update-ref", "--stdin", stdin="\n".join(commands) + "\n")


def _folder_of(root: Path, host: str) -> str:
    """Records are kept by host folder; a host.name that differs from its folder is
    mapped to it."""
    if (root / "hosts" / host / "profile.yaml").is_file():
        return host
    from homelab.history.paths import sketch
    from homelab.source import DiskSource

    for folder, state in sketch(DiskSource(root)).hosts.items():
        data = state.document.data if state.document is not None else None
        named = data.get("host") if isinstance(data, dict) else None
        if isinstance(named, dict) and named.get("name") == host:
            return folder
    return host


_FORMAT = "%(refname)%1f%(*objectname)%1f%(objectname)%1f%(contents)%1e"


def _records_query(pattern: str, sort: str = "refname") -> tuple[str, ...]:
    return ("for-each-ref", f"--sort={sort}", f"--format={_FORMAT}", pattern)


def _records(lr: LabRepo, pattern: str, sort: str = "refname") -> list[tuple[str, DeployRecord]]:
    return _read_records(lr.run(*_records_query(pattern, sort)))


def _read_records(out: str) -> list[tuple[str, DeployRecord]]:
    found = []
    for chunk in out.split(_END):
        parts = chunk.lstrip("\n").split(_SEP)
        if len(parts) != 4:
            continue
        ref, peeled, target, message = parts
        record = _parse(message, peeled or target)
        if record is not None:
            found.append((ref, record))
    return found


def deployed(lab_root: Path, lr: LabRepo | None = None) -> dict[str, DeployRecord]:
    """The last deploy that left each host on a commit, by host folder (`lr`: the lab's
    repository when the caller has it open already: one git run less)."""
    lr = lr or open_repository(Path(lab_root))
    return deployed_from(lr, [lr.run(*query) for query in DEPLOYED_QUERIES])


# the git runs `deployed` reads, which do not depend on each other (a caller that has other
# runs to make starts them all at once: homelab.history.repo.run_in)
DEPLOYED_QUERIES = (
    _records_query(DEPLOYED_REFS),
    ("for-each-ref", "--format=%(refname)", DEPLOY_TAGS),
)


def deployed_from(lr: LabRepo, answers: Sequence[str]) -> dict[str, DeployRecord]:
    """`deployed`, from the outputs of DEPLOYED_QUERIES (a host with deploy tags but no
    ref of its own costs one more git run)."""
    refs, tags = answers
    out = {ref.removeprefix(DEPLOYED_REFS): rec for ref, rec in _read_records(refs)}
    tagged = tags.split()
    missing = {ref.removeprefix(DEPLOY_TAGS).split("/")[0] for ref in tagged} - set(out)
    for host in sorted(missing):
        for _, rec in _records(lr, f"{DEPLOY_TAGS}{host}/", sort="-taggerdate"):
            if leaves_machine_on(rec.mode, rec.result):
                out[host] = rec
                break
    return dict(sorted(out.items()))


def deploy_log(lab_root: Path, host: str | None = None) -> list[DeployRecord]:
    """Every recorded attempt (successful or not), newest first."""
    lr = open_repository(Path(lab_root))
    pattern = DEPLOY_TAGS + (f"{host}/" if host else "")
    records = [rec for _, rec in _records(lr, pattern)]
    return sorted(records, key=lambda r: r.when, reverse=True)


def _order(ref: str, record: DeployRecord) -> tuple[datetime, int]:
    """Newest last: by finishing time, then by the tag's -N (two in the same second)."""
    stamp = ref.rsplit("/", 1)[-1]
    number = stamp.rsplit("-", 1)[-1] if "-" in stamp else "1"
    return record.when, int(number) if number.isdigit() else 1


def last_attempts(lab_root: Path) -> dict[str, DeployRecord]:
    """Each host's newest recorded attempt, whatever its result, by host folder."""
    lr = open_repository(Path(lab_root))
    newest: dict[str, tuple[tuple[datetime, int], DeployRecord]] = {}
    for ref, rec in _records(lr, DEPLOY_TAGS):
        host = ref.removeprefix(DEPLOY_TAGS).split("/")[0]
        key = _order(ref, rec)
        if host not in newest or key >= newest[host][0]:
            newest[host] = (key, rec)
    return {host: rec for host, (_, rec) in sorted(newest.items())}


def unconfirmed(lab_root: Path) -> dict[str, DeployRecord]:
    """Hosts whose newest record is an interrupted deploy: how its run ended on the
    machine is not known yet."""
    return interrupted(last_attempts(lab_root))


def interrupted(newest: Mapping[str, DeployRecord]) -> dict[str, DeployRecord]:
    """Of each host's newest record (last_attempts), the interrupted ones."""
    return {h: rec for h, rec in newest.items() if rec.result == INTERRUPTED}
