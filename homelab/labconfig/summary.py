"""lab.yaml as a person reads it: the release, each input with whether flake.lock pins
it, the overlays, and every problem with its place. Read from what is written even when
lab.yaml has problems, so that a front end can show both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homelab.errors import Problem
from homelab.labconfig import HOME_MANAGER, LAB_YAML, NIXPKGS, as_written, load, lock


@dataclass(frozen=True)
class InputLine:
    name: str
    url: str
    follows: bool | None  # None for nixpkgs and home-manager (nothing to follow)
    pinned: str  # "abc1234 (2026-05-01)", or "" when flake.lock does not pin it
    pinned_from: str = ""  # the reference flake.lock pins it from, when not lab.yaml's


@dataclass(frozen=True)
class LabSummary:
    present: bool  # False: the lab keeps a hand-kept flake.nix
    release: str = ""
    inputs: tuple[InputLine, ...] = ()
    overlays: tuple[str, ...] = ()
    has_lock: bool = False
    problems: tuple[Problem, ...] = ()  # lab.yaml's, then the lock warnings


def summary(read: Callable[[str], str | None]) -> LabSummary:
    """The lab's lab.yaml through `read` (lab-relative path -> text, None when missing)."""
    text = read(LAB_YAML)
    if text is None:
        return LabSummary(present=False)
    _, problems = load(read)
    lock_text = read(lock.FLAKE_LOCK)
    problems += lock.lock_problems(text, lock_text, warning=True)
    written = as_written(text)
    if written is None:
        return LabSummary(True, has_lock=lock_text is not None, problems=tuple(problems))
    pins = lock.read_lock(lock_text) or {}
    lines = []
    for name, wanted in written.inputs.items():
        pin = pins.get(name)
        said = "" if pin is None else pin.short + (f" ({pin.date})" if pin.date else "")
        other = ""
        if pin is not None and not lock.same_reference(wanted.url, pin.original):
            said, other = "", pin.original
        extra = name not in (NIXPKGS, HOME_MANAGER)
        lines.append(InputLine(name, wanted.url, wanted.follows if extra else None, said, other))
    return LabSummary(
        True,
        written.release,
        tuple(lines),
        written.overlays,
        lock_text is not None,
        tuple(problems),
    )
