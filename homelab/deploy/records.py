"""What an apply (or a rollback, or `status --live`) leaves in the lab once the machines
are done: a deploy record per host (homelab.history.records), and the host keys accepted
with --accept-new pinned in their profiles, in a commit of their own (reviewable).

`attempts` is pure: the records that a set of results makes, table-tested.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from homelab.deploy.hostkeys import age_pin, pin_profile
from homelab.deploy.models import ApplyState, HostResult, Mode
from homelab.deploy.plan import HostPlan
from homelab.deploy.ssh import fingerprint
from homelab.errors import InvalidInput, LabFailure
from homelab.history import commit_lab
from homelab.history.records import SYSTEM_LINE, DeployAttempt, DeployRecord, record_deploys
from homelab.labfiles import LabFiles
from homelab.profile.edit import EditError

ROLLBACK = "rollback"  # the mode a rollback's record names

Note = Callable[[str], None]


def attempts(
    results: Sequence[HostResult],
    commit: str,
    mode: Mode | str,
    earlier: Mapping[str, DeployRecord] | None = None,
) -> list[DeployAttempt]:
    """The deploy records of these results: first how the runs interrupted applies left
    going ended (`earlier`: the unconfirmed records, by host folder), on the commit and
    mode that apply sent; then each host that was reached, on `commit` ("" for none:
    `homelab status --live` confirms without applying)."""
    out = [
        DeployAttempt(
            r.folder,
            was.commit,
            was.mode,
            r.confirmed.result,
            was.when,
            r.confirmed.when,
            f"{r.confirmed.summary}\n{SYSTEM_LINE}{r.confirmed.now.system}",
        )
        for r in results
        if r.confirmed is not None
        and r.confirmed.result
        and (was := (earlier or {}).get(r.folder)) is not None
    ]
    for r in results:
        if r.state == ApplyState.CANCELLED and r.before is None:
            continue  # never reached: nothing to say about the machine
        if not commit or r.up_to_date:
            continue  # an up-to-date machine was left as its last record says
        details = r.summary
        if r.after is not None:
            details += f"\n{SYSTEM_LINE}{r.after.system}"
        out.append(
            DeployAttempt(
                r.folder, commit, str(mode), _outcome(r, mode), r.started, r.finished, details,
                r.run,
            )
        )  # fmt: skip
    return out


def _outcome(result: HostResult, mode: Mode | str) -> str:
    if mode == ROLLBACK:
        return "rolled-back" if result.ok else str(result.state)
    if result.ok:
        return "ok"
    return "rolled-back" if result.rolled_back else str(result.state)


def record(
    lab_root: Path,
    results: Sequence[HostResult],
    commit: str,
    mode: Mode | str,
    earlier: Mapping[str, DeployRecord] | None = None,
) -> None:
    """Each host's result as a deploy record (the history's), for `homelab status`."""
    record_deploys(lab_root, attempts(results, commit, mode, earlier))


def pin_host_key(lab_root: Path, profile_file: str, key: str, age_key: str | None = None) -> None:
    """Write an accepted host key into the profile's deploy.hostKey, keeping the person's
    comments and layout; with the machine's ed25519 key (`age_key`, read over the same
    connection) deploy.ageHostKey too, when hostKey is not that key."""
    pin_profile(lab_root, profile_file, key, age_key)


def pin_keys(
    lab: LabFiles,
    plans: Sequence[HostPlan],
    results: Sequence[HostResult],
    commit: bool,
    note: Note,
) -> None:
    """Accepted host keys into their profiles, in a commit of their own (when `commit`).
    A key that cannot be pinned or committed is a note: the machines are what they are."""
    files = {p.folder: p.profile_file for p in plans}
    pinned = []
    for r in results:
        if not r.pinned_key:
            continue
        try:
            pin_host_key(lab.root, files[r.folder], r.pinned_key, r.age_key)
        except (OSError, EditError) as err:
            note(f"note: the host key of {r.host} could not be pinned: {err}")
            continue
        pinned.append(r)
        note(f"pinned the host key of {r.host} ({fingerprint(r.pinned_key)}) in {files[r.folder]}")
        if age_pin(r.pinned_key, r.age_key) is not None:
            assert r.age_key is not None
            note(f"pinned {r.host}'s ed25519 host key for its secrets ({fingerprint(r.age_key)})")
    if not (pinned and commit):
        return
    folders = [r.folder for r in pinned]
    try:
        done = commit_lab(lab, hosts=folders, subject=f"{', '.join(folders)}: host key pinned")
    except (InvalidInput, LabFailure) as err:
        note(f"note: the pinned host keys could not be committed: {err}")
        return
    if done is not None:
        note(f"committed {done.short} {done.subject}")
