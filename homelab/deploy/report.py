"""What an apply (a rollback, a look at the machines) did, in words: one row per host, then
the reasons for what went wrong and the closure diffs. Both front ends show these words;
each draws them its own way (the command line as a table, the editor as text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from homelab.deploy.models import HostResult

# how a host's final state reads in the summary (loud when it needs a person)
RESULT_WORDS = {
    "done": "ok",
    "failed": "FAILED",
    "cancelled": "cancelled",
    "interrupted": "INTERRUPTED",
}
UP_TO_DATE = "up to date"  # done without a rebuild: it already ran what would be sent
HEADER = ("HOST", "RESULT", "TIME", "WHAT HAPPENED")


def result_word(state: str) -> str:
    return RESULT_WORDS.get(str(state), str(state))


@dataclass(frozen=True)
class Report:
    header: ClassVar[tuple[str, str, str, str]] = HEADER
    rows: tuple[tuple[str, str, str, str], ...]  # host, result word, time, what happened
    reasons: tuple[str, ...]  # the lines after the table: failures' details, closure diffs

    def lines(self) -> list[str]:
        """The report as plain text: the table with aligned columns, then the reasons."""
        rows = [self.header, *self.rows]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        table = [
            "  ".join(
                [*(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)), row[3]]
            ).rstrip()
            for row in rows
        ]
        return table + list(self.reasons)


def checks_line(result: HostResult) -> str:
    """The health checks of one host in a line: "checks: 4 ran (4 ok), 2 skipped (immich:
    off in deploy.checks)"; empty when it had none."""
    ran, skipped = result.checks, result.checks_skipped
    if not ran and not skipped:
        return ""
    counts = {
        "ok": sum(c.ok for c in ran),
        "failed": sum(not c.ok and not c.given_up for c in ran),
        "not waited for": sum(c.given_up for c in ran),
    }
    verdicts = ", ".join(f"{n} {word}" for word, n in counts.items() if n)
    text = f"checks: {len(ran)} ran ({verdicts})" if ran else "checks: none ran"
    if skipped:
        why: dict[str, list[str]] = {}
        for s in skipped:
            why.setdefault(s.reason, []).append(s.service)
        reasons = "; ".join(
            reason if "" in whose else f"{', '.join(whose)}: {reason}"
            for reason, whose in why.items()
        )
        text += f", {sum(s.count for s in skipped)} skipped ({reasons})"
    return text


def report(results: Sequence[HostResult]) -> Report:
    rows = tuple(
        (
            r.host,
            UP_TO_DATE if r.up_to_date else result_word(r.state),
            f"{r.elapsed:.1f}s",
            r.summary,
        )
        for r in results
    )
    reasons: list[str] = []
    checked = [f"{r.host}: {line}" for r in results if (line := checks_line(r))]
    if checked:
        reasons += ["", *checked]
    for r in results:
        if r.ok or not r.details:
            continue
        reasons += ["", f"{r.host}:"]
        reasons += [f"  {d}" for d in "\n".join(r.details).splitlines()]
    for r in results:
        if r.closure_diff:
            reasons += ["", f"{r.host}: what the new system changes (closure diff)"]
            reasons += [f"  {d}" for d in r.closure_diff]
    return Report(rows, tuple(reasons))
