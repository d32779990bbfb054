"""What an apply did, in words (homelab.deploy.report): the same for both front ends."""

from __future__ import annotations

from homelab.deploy.models import ApplyState, Generation, HostResult
from homelab.deploy.report import report


def _result(host: str, state: ApplyState, text: str, **extra: object) -> HostResult:
    return HostResult(host=host, folder=host, state=state, summary=text, **extra)  # type: ignore[arg-type]


def test_summary_says_each_host_and_then_the_reasons() -> None:
    results = [
        _result(
            "web",
            ApplyState.DONE,
            "generation 1 -> generation 2",
            after=Generation(2, "/nix/store/x"),
        ),
        _result("db", ApplyState.FAILED, "connection refused", details=("127.0.0.1:22 refused",)),
        _result("pi", ApplyState.DONE, "built", closure_diff=("[A.]  vim  9.1",)),
    ]
    lines = report(results).lines()
    assert lines[0].split() == ["HOST", "RESULT", "TIME", "WHAT", "HAPPENED"]
    assert lines[1].split()[:2] == ["web", "ok"]
    assert lines[2].split()[:2] == ["db", "FAILED"]
    assert lines[2].endswith("connection refused")
    assert "db:" in lines and "  127.0.0.1:22 refused" in lines
    assert "  [A.]  vim  9.1" in lines
    assert "  127.0.0.1:22 refused" not in lines[:4]  # the reasons come after the table
