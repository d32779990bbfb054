"""Does a machine already run what an apply would send? Then it is left alone.

A machine is up to date when everything that decides what it runs is the same as at its
last deploy, and that deploy is known to have landed:
- its newest record is a switch that ended well (not failed, interrupted, rolled back, nor
  a test, boot, dry activation or build, which leave it on something else at the next
  boot or not on the commit at all), and names the system it switched to;
- the machine runs that very system (`/run/current-system`): a machine switched by hand
  since is rebuilt, and told so;
- its manifest lists exactly the files the plan would upload (the flake, flake.lock, the
  modules, its encrypted secrets), byte for byte by sha256;
- its installed copy-at-apply secrets have the digests the plan's would have.
`--force` rebuilds all the same. Pure: the plan, the probe's facts and the options in, a
verdict out.
"""

from __future__ import annotations

from dataclasses import dataclass

from homelab.deploy.hostlock import Facts
from homelab.deploy.models import ApplyOptions, Mode
from homelab.deploy.plan import HostPlan
from homelab.deploy.upload import changed_files
from homelab.history.records import leaves_machine_on


@dataclass(frozen=True)
class Verdict:
    up_to_date: bool
    note: str = ""  # a line worth showing when it is not (switched by hand since)


REBUILD = Verdict(False)


def judge(plan: HostPlan, facts: Facts, options: ApplyOptions) -> Verdict:
    last = plan.last
    if options.force or options.mode != Mode.SWITCH or plan.earlier_run:
        return REBUILD
    if (
        last is None
        or last.mode != str(Mode.SWITCH)
        or not leaves_machine_on(last.mode, last.result)
    ):
        return REBUILD
    if not last.system or not facts.current:
        return REBUILD
    if facts.current != last.system:
        return Verdict(
            False,
            f"runs {facts.current}, not {last.system} its last deploy switched to "
            "(switched by hand since?): rebuilding",
        )
    if facts.manifest.get("host") != plan.folder:
        return REBUILD
    upload, remove = changed_files(plan.files, facts.manifest)
    if upload or remove:
        return REBUILD
    if {s.target: s.digest for s in plan.secrets} != dict(facts.secrets):
        return REBUILD
    return Verdict(True)
