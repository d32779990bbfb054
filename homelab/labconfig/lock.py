"""The lab's flake inputs, as lab.yaml asks for them and as flake.lock pins them.

Pure: texts in, problems and change lines out. An input of lab.yaml that flake.lock does
not pin (or pins from another place) would be fetched unpinned by every machine that
builds the flake, each maybe at another revision: `validate` warns, `apply` refuses.

flake.lock (version 7, Nix 2.8 and later) is JSON: `nodes.root.inputs` maps each input's
name to its node, and a node pinned by Nix has `locked` (the exact revision) and
`original` (the reference it was locked from, as flake.nix said it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homelab.errors import Problem
from homelab.labconfig import AsWritten, Wanted, as_written

FLAKE_LOCK = "flake.lock"
LOCK_HINT = "run `homelab lock` (or `homelab lock HOST` on a machine with Nix), and commit it"


# ---- flake.lock ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """An input as flake.lock pins it."""

    name: str
    original: str  # the reference it was locked from, as a URL ("" when not known)
    rev: str  # the revision, or the narHash when there is none
    date: str = ""  # lastModified, as YYYY-MM-DD

    @property
    def short(self) -> str:
        return self.rev.removeprefix("sha256-")[:7]


def read_lock(text: str | None) -> dict[str, Pin] | None:
    """The root inputs flake.lock pins, by name; None when there is no flake.lock or it
    is no lock Nix wrote."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, dict):
        return None
    root = nodes.get(data.get("root", "root"))
    inputs = root.get("inputs") if isinstance(root, dict) else None
    out: dict[str, Pin] = {}
    for name, key in inputs.items() if isinstance(inputs, dict) else ():
        node = nodes.get(key) if isinstance(key, str) else None  # a list: follows another
        locked = node.get("locked") if isinstance(node, dict) else None
        if not isinstance(node, dict) or not isinstance(locked, dict):
            continue
        original = node.get("original")
        rev = locked.get("rev") or locked.get("narHash") or ""
        out[name] = Pin(name, url_of(original), str(rev), _date(locked.get("lastModified")))
    return out


def _date(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return ""
    import datetime

    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d")


def url_of(original: Any) -> str:
    """A lock's `original` attributes written back as the URL flake.nix had ("" when of
    a kind not known here: then it is not compared)."""
    if not isinstance(original, dict):
        return ""
    kind = original.get("type")
    if kind in ("github", "gitlab", "sourcehut"):
        parts = [
            original.get("owner"),
            original.get("repo"),
            original.get("ref") or original.get("rev"),
        ]
        url = f"{kind}:" + "/".join(str(p) for p in parts if p)
        return url + (f"?dir={original['dir']}" if original.get("dir") else "")
    if kind == "path" and isinstance(original.get("path"), str):
        return f"path:{original['path']}"
    return ""


def same_reference(asked: str, pinned: str) -> bool:
    """Does flake.lock's `original` stand for the url lab.yaml gives? Unknown kinds and
    spellings Nix may rewrite are taken as the same (Nix re-locks what truly changed)."""
    if not pinned:
        return True
    if asked.startswith(("github:", "gitlab:", "sourcehut:")):
        return asked.rstrip("/").lower() == pinned.lower()
    if asked.startswith("path:"):
        return asked.rstrip("/") == pinned.rstrip("/")
    return True


def unpinned(inputs: Mapping[str, Wanted], lock_text: str | None) -> list[Problem]:
    """A problem (at the input in lab.yaml) for each input flake.lock does not pin, or
    pins from another reference than lab.yaml's."""
    pins = read_lock(lock_text)
    if pins is None and inputs:  # nothing pinned at all: said once, at the first input
        said = "there is no flake.lock" if lock_text is None else "flake.lock is not Nix's lock"
        names = ", ".join(inputs)
        message = f"{said}: no input is pinned ({names}): each machine would fetch them unpinned"
        return [Problem(next(iter(inputs.values())).place, message, hint=LOCK_HINT)]
    out = []
    for name, wanted in inputs.items():
        pin = (pins or {}).get(name)
        if pin is None:
            message = (
                f"input {name} is not pinned (flake.lock does not pin it): "
                "each machine would fetch it unpinned"
            )
        elif not same_reference(wanted.url, pin.original):
            message = (
                f"input {name}: flake.lock pins {pin.original}, lab.yaml asks for {wanted.url}: "
                "each machine would fetch it unpinned"
            )
        else:
            continue
        out.append(Problem(wanted.place, message, hint=LOCK_HINT))
    return out


def lock_problems(lab_yaml: str | None, lock_text: str | None, *, warning: bool) -> list[Problem]:
    """`unpinned` from the two texts; none for a lab without lab.yaml (its hand-kept
    flake.nix is its own business) or whose lab.yaml does not parse."""
    if lab_yaml is None:
        return []
    written = as_written(lab_yaml)
    if written is None:
        return []
    found = unpinned(written.inputs, lock_text)
    return [Problem(p.place, p.message, hint=p.hint, warning=warning) for p in found]


# ---- what changed, in the lab's words ---------------------------------------------------


def _said(item: Wanted) -> str:
    return item.release or item.url


def input_changes(old_yaml: str | None, new_yaml: str | None) -> list[str]:
    """`nixpkgs: 26.05 → 26.11`, `agenix added`, `agenix removed`,
    `agenix: url github:a → github:b`, from two versions of lab.yaml (None: none)."""
    old_lab = as_written(old_yaml) if old_yaml is not None else None
    new_lab = as_written(new_yaml) if new_yaml is not None else None
    old = old_lab.inputs if old_lab is not None else {}
    new = new_lab.inputs if new_lab is not None else {}
    lines = []
    for name in [*new, *(n for n in old if n not in new)]:
        was, now = old.get(name), new.get(name)
        if was is None and now is not None:
            lines.append(f"{name} added" + (f" ({_said(now)})" if now.release else ""))
        elif now is None and was is not None:
            lines.append(f"{name} removed")
        elif was is not None and now is not None:
            if was.url != now.url:  # `url` when neither is a release
                url = "" if was.release or now.release else "url "
                lines.append(f"{name}: {url}{_said(was)} → {_said(now)}")
            if was.follows != now.follows:
                lines.append(
                    f"{name}: follows the lab's nixpkgs"
                    if now.follows
                    else f"{name}: no longer follows the lab's nixpkgs"
                )
    old_overlays = _overlays(old_lab)
    new_overlays = _overlays(new_lab)
    if old_overlays != new_overlays:
        came = [o for o in new_overlays if o not in old_overlays]
        gone = [o for o in old_overlays if o not in new_overlays]
        moves = " ".join([*(f"+ {o}" for o in came), *(f"- {o}" for o in gone)])
        lines.append(f"overlays: {moves or 'reordered'}")
    return lines


def _overlays(lab: AsWritten | None) -> list[str]:
    return list(lab.overlays) if lab is not None else []


def pin_changes(old_lock: str | None, new_lock: str | None) -> list[str]:
    """`nixpkgs pinned anew: 1a2b3c4 (2026-05-01) → 5d6e7f8 (2026-06-01)`, `agenix
    pinned`, `agenix no longer pinned`: what a new flake.lock changes."""
    old = read_lock(old_lock) or {}
    new = read_lock(new_lock) or {}
    lines = []
    for name in [*new, *(n for n in old if n not in new)]:
        was, now = old.get(name), new.get(name)
        if was is None and now is not None:
            lines.append(f"{name} pinned at {_at(now)}")
        elif now is None and was is not None:
            lines.append(f"{name} no longer pinned")
        elif was is not None and now is not None and was.rev != now.rev:
            lines.append(f"{name} pinned anew: {_at(was)} → {_at(now)}")
    return lines


def _at(pin: Pin) -> str:
    return pin.short + (f" ({pin.date})" if pin.date else "")
