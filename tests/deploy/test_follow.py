"""How a run that an interrupted apply left going ended, read from the machine's own
record of it: the record's result and the words shown."""

from __future__ import annotations

import pytest

from homelab.deploy.follow import how_a_run_ended


@pytest.mark.parametrize(
    ("run_id", "found", "result", "words"),
    [
        ("r1", {"run": "running"}, "", "is still running"),
        ("r1", {"run": "ended", "status": "0", "armed": "1"}, "", "is still running"),
        ("r1", {}, "unknown", "is no longer known to the machine"),
        ("r1", {"run": "vanished"}, "failed", "ended without a result"),
        ("r1", {"run": "ended", "status": "0", "fired": "1"}, "rolled-back", "confirm timer"),
        ("r1", {"run": "ended", "status": "0"}, "ok", "ended well (exit 0)"),
        ("r1-back", {"run": "ended", "status": "0"}, "rolled-back", "ended well (exit 0)"),
        ("r1", {"run": "ended", "status": "4"}, "failed", "failed (exit 4)"),
        ("r1", {"run": "ended", "status": ""}, "failed", "failed (exit ?)"),
    ],
)
def test_how_a_run_ended_is_read_from_the_machines_record(
    run_id: str, found: dict[str, str], result: str, words: str
) -> None:
    got_result, got_words = how_a_run_ended(run_id, found)
    assert got_result == result
    assert words in got_words
