"""What an apply's results leave as deploy records: one per host that was reached, the
outcome in the history's words, and how a run an interrupted apply left going ended."""

from __future__ import annotations

from datetime import UTC, datetime

from homelab.deploy.models import ApplyState, Confirmed, Generation, HostResult, Mode
from homelab.deploy.records import ROLLBACK, attempts
from homelab.history.records import DeployRecord

START = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
END = datetime(2025, 3, 1, 10, 2, tzinfo=UTC)
NOW = Generation(3, "/nix/store/c-system")


def result(folder: str, state: ApplyState, **extra: object) -> HostResult:
    return HostResult(folder, folder, state, f"{folder} said so", started=START, finished=END,
                      **extra)  # type: ignore[arg-type]  # fmt: skip


def test_each_reached_host_is_recorded_on_the_commit_sent_with_its_outcome() -> None:
    results = [
        result("web", ApplyState.DONE, after=NOW, before=Generation(2, "/b")),
        result("db", ApplyState.FAILED, rolled_back=True, before=Generation(2, "/b")),
        result("pi", ApplyState.FAILED),
        result("nas", ApplyState.INTERRUPTED, run="r9"),
        result("old", ApplyState.CANCELLED),  # never reached the machine
        result("mid", ApplyState.CANCELLED, before=Generation(2, "/b")),
    ]
    made = attempts(results, "c0ffee", Mode.SWITCH)
    assert [(a.host, a.commit, a.mode, a.result, a.run) for a in made] == [
        ("web", "c0ffee", "switch", "ok", ""),
        ("db", "c0ffee", "switch", "rolled-back", ""),
        ("pi", "c0ffee", "switch", "failed", ""),
        ("nas", "c0ffee", "switch", "interrupted", "r9"),
        ("mid", "c0ffee", "switch", "cancelled", ""),
    ]
    assert made[0].details == "web said so\nsystem: /nix/store/c-system"
    assert (made[0].started, made[0].finished) == (START, END)


def test_a_rollback_is_recorded_as_rolled_back_and_a_look_records_no_deploy() -> None:
    results = [result("web", ApplyState.DONE), result("db", ApplyState.FAILED)]
    made = attempts(results, "c", ROLLBACK)
    assert [(a.host, a.mode, a.result) for a in made] == [
        ("web", "rollback", "rolled-back"),
        ("db", "rollback", "failed"),
    ]
    assert attempts([result("web", ApplyState.DONE)], "", "") == []


def test_how_an_interrupted_run_ended_is_recorded_on_what_that_apply_sent() -> None:
    was = DeployRecord("web", "5ent", "boot", "interrupted", START, run="r1")
    seen = Confirmed("r1", "ok", "the run r1 ... ended well", NOW, when=END)
    still = Confirmed("r2", "", "the run r2 ... is still running", NOW, when=END)
    results = [
        result("web", ApplyState.DONE, confirmed=seen),
        result("db", ApplyState.DONE, confirmed=still),
    ]
    earlier = {"web": was, "db": DeployRecord("db", "x", "switch", "interrupted", START, run="r2")}
    made = attempts(results, "", "", earlier)
    assert [(a.host, a.commit, a.mode, a.result, a.started, a.finished) for a in made] == [
        ("web", "5ent", "boot", "ok", START, END),
    ]
    assert made[0].details == "the run r1 ... ended well\nsystem: /nix/store/c-system"
