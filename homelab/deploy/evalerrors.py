"""A failed rebuild's Nix error, said at the profile line behind it.

The machine evaluated the files the plan uploaded; `homelab.origins` maps the place Nix
named in them (or the option it named) back to the profile key that wrote it. The
report then shows that line first and Nix's own words after:

    hosts/web/profile.yaml:14:5: services.foo: The option `services.foo' does not exist...
    what Nix said:
      error: The option `services.foo' does not exist. Definition values: ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from homelab.deploy.models import HostResult, Method
from homelab.deploy.plan import HostPlan
from homelab.labfiles import LabState
from homelab.origins import explain

TAIL = "last lines from the machine:"  # host.py's heading of the output's last lines


def uploaded_texts(plan: HostPlan) -> dict[str, str]:
    """The plan's files by lab path (a channels upload holds the host folder's files)."""
    prefix = f"hosts/{plan.folder}/" if plan.method == Method.CHANNELS else ""
    return {prefix + rel: data.decode("utf-8", "replace") for rel, data in plan.files.items()}


def with_origins(
    results: Sequence[HostResult], plans: Sequence[HostPlan], state: LabState
) -> list[HostResult]:
    """Each failed result whose rebuild printed a Nix error, with the profile places of
    that error first in its details (and Nix's whole error in place of the last lines)."""
    by_folder = {p.folder: p for p in plans}
    out: list[HostResult] = []
    for r in results:
        plan = by_folder.get(r.folder)
        host = state.hosts.get(r.folder)
        if r.ok or not r.nix_error or plan is None or host is None:
            out.append(r)
            continue
        try:
            found = explain(
                r.nix_error, r.folder, uploaded_texts(plan), host.document, state.catalog
            )
        except Exception as err:  # whatever Nix printed, the report must still be shown
            found = ()
            notes: tuple[str, ...] = (f"(the Nix error could not be read: {err})",)
        else:
            notes = ()
        if not any(f.origin or f.spot for f in found):  # nothing to add to Nix's words
            out.append(replace(r, details=(*r.details, *notes)))
            continue
        kept = r.details[: r.details.index(TAIL)] if TAIL in r.details else r.details
        said = ("what Nix said:", *(f"  {line}" for line in r.nix_error.split("\n")))
        details = (*(f.line() for f in found), *kept, *said)
        summary = _summary(r.summary, found[0].line()) if found[0].origin else r.summary
        out.append(replace(r, summary=summary, details=details))
    return out


def _summary(summary: str, first: str) -> str:
    """ "build failed (exit 1): error: <Nix's first line>; still on ..." with the profile
    place and the message in place of Nix's line (the table's row stays one line)."""
    head, sep, rest = summary.partition(": error: ")
    if not sep:
        return summary
    tail = rest.rpartition("; ")[2] if "; " in rest else ""
    short = first if len(first) <= 160 else first[:159] + "…"
    return f"{head}: {short}" + (f"; {tail}" if tail else "")
