"""Deploy records written while the apply goes on (homelab.deploy.recorder): every host
written once, hosts that end during a write go into the next one, and a write that fails
is one note for the summary, never an error that hides the machines' results."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from homelab.deploy.models import ApplyState, HostResult
from homelab.deploy.recorder import Recorder
from homelab.errors import LabFailure


def ended(name: str) -> HostResult:
    return HostResult(host=name, folder=name, state=ApplyState.DONE, summary="ok")


def test_every_host_is_written_once_and_those_that_end_meanwhile_together() -> None:
    writes: list[list[str]] = []
    writing = threading.Event()
    go_on = threading.Event()

    def write(results: Sequence[HostResult]) -> None:
        writes.append([r.host for r in results])
        writing.set()
        go_on.wait(5)

    recorder = Recorder(write)
    recorder.add(ended("web"))
    assert writing.wait(5)  # web is written while the others still run
    for name in ("db", "nas", "pi"):
        recorder.add(ended(name))  # they end while web's write runs
    go_on.set()

    assert recorder.finish() == []
    assert writes == [["web"], ["db", "nas", "pi"]]


def test_a_failed_write_is_one_note_and_the_later_hosts_are_still_tried() -> None:
    tried: list[str] = []

    def write(results: Sequence[HostResult]) -> None:
        tried.extend(r.host for r in results)
        raise LabFailure("git update-ref failed: cannot lock ref")

    recorder = Recorder(write)
    recorder.add(ended("web"))
    recorder.add(ended("db"))
    notes = recorder.finish()

    assert sorted(tried) == ["db", "web"]
    assert notes == [
        "note: the deploy records could not be written: git update-ref failed: cannot lock ref"
    ]


def test_an_unexpected_error_names_the_hosts_left_without_a_record() -> None:
    def write(results: Sequence[HostResult]) -> None:
        raise KeyError("host")

    recorder = Recorder(write)
    recorder.add(ended("web"))
    assert recorder.finish() == [
        "note: the deploy records of web could not be written: KeyError: 'host'"
    ]


def test_nothing_ended_writes_nothing() -> None:
    calls: list[int] = []
    recorder = Recorder(lambda results: calls.append(len(results)))
    assert recorder.finish() == []
    assert calls == []
