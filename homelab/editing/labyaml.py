"""lab.yaml as an editor holds it (Lab.open_lab_yaml): the text as opened and as edited,
changed with homelab.labconfig.edit (comments kept), shown as the Lab screen shows it.

Saving checks it whole before anything is written, then writes lab.yaml and the flake.nix
it makes (as `homelab build` writes flake.nix: a hand-edited one is never overwritten);
committing takes lab.yaml, that flake.nix and its overlay files, with a subject in the
lab's words (`lab: agenix added`, `lab: release 26.05 → 26.11`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from homelab import labconfig
from homelab.compile import body_hash_matches
from homelab.errors import InvalidInput, Place, Problem
from homelab.history.changes import input_lines
from homelab.history.commit import Committed, Pending, commit_paths, state_at
from homelab.history.paths import flake_inputs
from homelab.history.repo import GitSource, check_writable, open_repository
from homelab.labconfig import edit
from homelab.labconfig.edit import EditError
from homelab.labconfig.flake import flake_text
from homelab.labconfig.summary import LabSummary, summary
from homelab.labfiles import LabFiles
from homelab.source import DiskSource, Unreadable
from homelab.write import apply_plan, atomic_write, plan
from homelab.yamlfile import LimitError, load_plain

__all__ = ["EditError", "LabYaml", "Saved"]

LAB_YAML = labconfig.LAB_YAML
SUBJECT_WIDTH = 72


@dataclass(frozen=True)
class Saved:
    written: tuple[str, ...]  # lab-relative paths written (lab.yaml, flake.nix)
    to_lock: tuple[str, ...]  # inputs new or changed since: `homelab lock` pins them


def read(root: Path, rel: str) -> str | None:
    """A lab file's text; None when missing or unreadable."""
    try:
        return DiskSource(root).read(rel)
    except (UnicodeDecodeError, Unreadable):
        return None


def _inputs(config: labconfig.LabConfig | None) -> dict[str, str]:
    if config is None:
        return {}
    urls = {labconfig.NIXPKGS: config.nixpkgs_url, labconfig.HOME_MANAGER: config.home_manager_url}
    return urls | {i.name: i.url for i in config.inputs}


def save(lab: LabFiles, text: str, base: str | None) -> Saved:
    """Write lab.yaml (`text`) and regenerate flake.nix. `base` is lab.yaml as the editor
    read it (None: there was none). InvalidInput, with nothing written, when lab.yaml has
    problems, changed on disk since, or flake.nix was edited by hand."""
    root = lab.root
    disk = read(root, LAB_YAML)
    if disk != base:
        raise InvalidInput(
            [
                Problem(
                    Place(LAB_YAML),
                    "lab.yaml changed on disk since it was opened here: not saved over it",
                    hint="leave the Lab screen (your changes are dropped) and open it again",
                )
            ]
        )

    def lab_file(rel: str) -> str | None:
        return text if rel == LAB_YAML else read(root, rel)

    config, problems = labconfig.parse(text, lab_file)
    if problems or config is None:
        raise InvalidInput(problems or [Problem(Place(LAB_YAML), "lab.yaml cannot be read")])
    flake = plan(root, {labconfig.FLAKE: flake_text(config)}, [])
    force = base is None and _skeleton_flake(root)  # homelab's own, not a person's
    if flake.edited and not force:
        apply_plan(root, flake)  # refuses, saying why, before lab.yaml is written
    written: list[str] = []
    if text != disk:
        atomic_write(root / LAB_YAML, text)
        written.append(LAB_YAML)
    written.extend(apply_plan(root, flake, force=force).written)
    before = _inputs(labconfig.parse(base, lambda rel: read(root, rel))[0] if base else None)
    changed = [name for name, url in _inputs(config).items() if before.get(name) != url]
    return Saved(tuple(written), tuple(changed))


def _skeleton_flake(root: Path) -> bool:
    """Is the lab's flake.nix the skeleton's, unchanged (a lab made before lab.yaml)?"""
    flake = read(root, labconfig.FLAKE)
    skeleton = resources.files("homelab").joinpath("skeleton").joinpath(labconfig.FLAKE)
    return flake is not None and flake == skeleton.read_text(encoding="utf-8")


def release_offer(lab: LabFiles) -> str | None:
    """The release a new lab.yaml would start with, when making one is simple: the lab
    has none, and no flake.nix a person keeps (homelab would replace it: a generated one
    or the skeleton's unchanged is not a person's). None otherwise."""
    root = lab.root
    if read(root, LAB_YAML) is not None or (root / LAB_YAML).exists():
        return None
    flake = read(root, labconfig.FLAKE)
    generated = flake is not None and body_hash_matches(flake) is True
    if (root / labconfig.FLAKE).exists() and not generated and not _skeleton_flake(root):
        return None
    return labconfig.DEFAULT_RELEASE


def new_text(release: str) -> str:
    """A new lab's lab.yaml, with its examples as comments."""
    return labconfig.lab_yaml_text(release)


# ---- committing ------------------------------------------------------------------------


def _plain(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        data: Any = load_plain(text, LAB_YAML)
    except (yaml.YAMLError, LimitError):
        return {}
    return data if isinstance(data, dict) else {}


def _release(text: str | None) -> str:
    release = _plain(text).get("release")
    return str(release) if isinstance(release, str | int | float) else ""


def _overlays(text: str | None) -> list[str]:
    found = _plain(text).get("overlays")
    return [o for o in found if isinstance(o, str)] if isinstance(found, list) else []


def _overlay_lines(old: str | None, new: str | None) -> list[str]:
    was, now = _overlays(old), _overlays(new)
    lines = [f"overlay {o} added" for o in now if o not in was]
    lines += [f"overlay {o} removed" for o in was if o not in now]
    if not lines and was != now:
        lines.append("overlays reordered")
    return lines


def change_lines(old: str | None, new: str | None) -> list[str]:
    """What changed between two versions of lab.yaml, in the lab's words: a new release
    is said once (`release 26.05 → 26.11`), not as its nixpkgs and home-manager."""
    lines = [
        line
        for line in input_lines(LAB_YAML, old, new) or []
        if not line.startswith("overlays:")  # said one by one below
    ]
    lines += _overlay_lines(old, new)
    was, now = _release(old), _release(new)
    if old is None and new is not None:
        made = f"lab.yaml created (release {now})" if now else "lab.yaml created"
        said = {f"{n} added ({now})" for n in (labconfig.NIXPKGS, labconfig.HOME_MANAGER)}
        return [made, *(line for line in lines if line not in said)]
    if was != now and was and now:
        said = {f"{n}: {was} → {now}" for n in (labconfig.NIXPKGS, labconfig.HOME_MANAGER)}
        lines = [f"release {was} → {now}", *(line for line in lines if line not in said)]
    return lines or (["lab.yaml edited"] if old != new else [])


def subject(lines: list[str]) -> str:
    """`lab: agenix added; overlay agenix.overlays.default added`, cut to a subject's
    width."""
    said = "lab: " + "; ".join(lines)
    if len(said) <= SUBJECT_WIDTH or len(lines) == 1:
        return said
    for kept in range(len(lines) - 1, 0, -1):  # as many whole changes as fit
        said = "lab: " + "; ".join(lines[:kept]) + f" and {len(lines) - kept} more"
        if len(said) <= SUBJECT_WIDTH:
            break
    return said


def pending(lab: LabFiles) -> Pending | None:
    """What a commit of lab.yaml would say, compared with the last commit; None when it
    did not change (or the lab is in no repository yet)."""
    try:
        lr = open_repository(lab.root)
    except InvalidInput:
        return None
    head = lr.head()
    old = GitSource(lr, head).read(LAB_YAML) if head else None
    new = read(lab.root, LAB_YAML)
    if old == new:
        return None
    lines = change_lines(old, new)
    return Pending(subject(lines), tuple(lines))


def commit(lab: LabFiles, message: str | None = None, title: str | None = None) -> Committed | None:
    """Commit lab.yaml, the flake.nix made from it and its overlay files, nothing else;
    None when nothing changed."""
    lr = open_repository(lab.root, create=True)
    check_writable(lr)
    head = lr.head()
    before = GitSource(lr, head) if head else None
    paths = flake_inputs(DiskSource(lab.root)) | (flake_inputs(before) if before else set())
    if not paths:
        return None
    old_text = before.read(LAB_YAML) if before else None
    said = title or subject(change_lines(old_text, read(lab.root, LAB_YAML)))
    done = commit_paths(
        lab, lr, paths, state_at(lab, lr, head), lab.load(), head, message=message,
        subject=lambda _: said,
    )  # fmt: skip
    if done is None:
        return None
    return Committed(done[0], lr.run("show", "-s", "--format=%s", done[0]).strip())


# ---- what an editor holds ---------------------------------------------------------------


class LabYaml:
    """lab.yaml being edited: `base` as read (None: the lab has none), `text` as edited.
    Each change raises EditError (nothing changed) when it cannot be made in the text."""

    def __init__(self, lab: LabFiles) -> None:
        self.lab = lab
        self.base = read(lab.root, LAB_YAML)
        self.text = self.base

    @property
    def dirty(self) -> bool:
        return self.text != self.base

    def summary(self) -> LabSummary:
        """The release, inputs (pinned or not), overlays and problems of the text as
        edited: what saving would check."""
        text = self.text

        def lab_file(rel: str) -> str | None:
            return text if rel == LAB_YAML else read(self.lab.root, rel)

        return summary(lab_file)

    def release_offer(self) -> str | None:
        """The release a new lab.yaml would start with, when making one is simple."""
        return release_offer(self.lab) if self.text is None else None

    def create(self, release: str) -> None:
        self.text = new_text(release)

    def _text(self) -> str:
        if self.text is None:
            raise EditError("the lab has no lab.yaml yet")
        return self.text

    def set_release(self, release: str) -> None:
        self.text = edit.set_release(self._text(), release)

    def set_input(self, name: str, url: str, follows: bool, was: str | None = None) -> None:
        self.text = edit.set_input(self._text(), name, url, follows, was=was)

    def remove_input(self, name: str) -> None:
        self.text = edit.remove_input(self._text(), name)

    def add_overlay(self, overlay: str) -> None:
        self.text = edit.add_overlay(self._text(), overlay)

    def set_overlay(self, index: int, overlay: str) -> None:
        self.text = edit.set_overlay(self._text(), index, overlay)

    def remove_overlay(self, index: int) -> None:
        self.text = edit.remove_overlay(self._text(), index)

    def move_overlay(self, index: int, by: int) -> None:
        self.text = edit.move_overlay(self._text(), index, by)

    def save(self) -> Saved:
        """Write it (see `save`); InvalidInput with nothing written when refused."""
        saved = save(self.lab, self._text(), self.base)
        self.base = self.text
        return saved

    def pending(self) -> Pending | None:
        return pending(self.lab)

    def commit(self, message: str | None = None, title: str | None = None) -> Committed | None:
        return commit(self.lab, message, title)
