"""The words of an apply as types: Enums that still read, and are recorded, as before."""

from __future__ import annotations

import pytest

from homelab.deploy.models import FINAL, ApplyOptions, ApplyState, Generation, Method, Mode
from homelab.deploy.ssh import SshSettings


def test_modes_states_and_methods_read_as_the_words_people_know() -> None:
    assert [str(m) for m in Mode] == ["switch", "boot", "test", "dry-activate", "build"]
    assert f"{ApplyState.ROLLING_BACK}" == "rolling back"
    assert ApplyState.DONE == "done" and {"done": "ok"}[ApplyState.DONE] == "ok"
    assert [s.value for s in FINAL] == ["done", "failed", "cancelled", "interrupted"]
    assert ApplyState.INTERRUPTED.final and not ApplyState.BUILDING.final
    assert Method("channels") is Method.CHANNELS


def test_the_mode_a_front_end_gives_is_made_a_mode_and_a_wrong_one_refused() -> None:
    assert ApplyOptions(mode="dry-activate", ssh=SshSettings()).mode is Mode.DRY_ACTIVATE  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nope"):
        ApplyOptions(mode="nope", ssh=SshSettings())  # type: ignore[arg-type]


def test_what_activates_and_what_changes_the_system() -> None:
    assert [m for m in Mode if m.activates] == [Mode.SWITCH, Mode.TEST]
    assert [m for m in Mode if m.changes_system] == [Mode.SWITCH, Mode.BOOT, Mode.TEST]


def test_a_generation_reads_as_its_number_or_its_system() -> None:
    assert str(Generation(4, "/nix/store/x")) == "generation 4"
    assert str(Generation(None, "/nix/store/abc-nixos-system")) == "abc-nixos-system"
    assert str(Generation(None, "")) == "unknown"
