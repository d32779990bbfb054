"""A lab's files as hosts: read and check the profiles, choose hosts, compile and write.

The layer that history and deploy build on; front ends reach it through homelab.lab.Lab.
The work is in homelab.labload, imported when a command first reads a profile: the
commands that never do (history, --help) start without the loader, the profile model and
the catalogue behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from homelab.errors import InvalidInput, Place, Problem
from homelab.hosthints import unknown_host
from homelab.labstate import COMMON, PROFILE, HostState, LabNotFound, LabState, find_lab

if TYPE_CHECKING:
    from homelab.catalog import Catalog
    from homelab.optionindex.model import OptionIndex
    from homelab.source import Source
    from homelab.write import BuildResult, Plan

__all__ = ["COMMON", "PROFILE", "HostState", "LabFiles", "LabNotFound", "LabState", "find_lab"]


class LabFiles:
    """A lab repository's files: hosts/, services/, flake.nix."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ---- reading (homelab.labload, deferred: start-up) --------------------------------

    def host_folders(self, source: Source | None = None) -> list[str]:
        from homelab import labload
        from homelab.source import DiskSource

        return labload.host_folders(source or DiskSource(self.root))

    def load(
        self,
        texts: dict[str, str] | None = None,
        source: Source | None = None,
        index: OptionIndex | None = None,
    ) -> LabState:
        """Read and check every host; `texts` lays unsaved edits on top, `source` reads
        another revision; `index`: the lab's option index, which the options every host
        sets are checked against (None: they are not)."""
        from homelab import labload

        return labload.load(self.root, texts, source, index)

    def overview(self) -> LabState:
        """Every host with its profile, and the lab's names and roles, as `homelab hosts`
        lists them; quicker than load (see labload.overview)."""
        from homelab import labload

        return labload.overview(self.root)

    def load_host(
        self,
        folder: str,
        catalog: Catalog,
        texts: dict[str, str] | None = None,
        index: OptionIndex | None = None,
    ) -> HostState:
        """One host read and checked on its own, with unsaved `texts` on top and the
        catalogue of an earlier load: what an editor needs after each keystroke."""
        from homelab import labload

        return labload.load_host(self.root, folder, catalog, texts, index)

    def catalogue(self) -> tuple[Catalog, list[Problem]]:
        """The lab's catalogue alone (services/*.yaml), without its hosts."""
        from homelab import labload

        return labload.catalogue(self.root)

    # ---- choosing hosts ------------------------------------------------------------

    def select(self, state: LabState, wanted: Sequence[str]) -> list[str]:
        """Host folders for names and @tags; all hosts when none are named."""
        if not wanted:
            return sorted(state.hosts)
        chosen: list[str] = []
        problems: list[Problem] = []
        for word in wanted:
            if word.startswith("@"):
                tag = word[1:]
                found = [f for f, h in sorted(state.hosts.items()) if tag in h.tags]
                if not found:
                    problems.append(Problem(Place("hosts/"), f"no host has the tag '{tag}'"))
                chosen.extend(f for f in found if f not in chosen)
                continue
            folder = self._folder_for(state, word)
            if folder is None:
                hint = unknown_host(word, state.hosts)
                problems.append(Problem(Place("hosts/"), f"no host named '{word}'", hint=hint))
            elif folder not in chosen:
                chosen.append(folder)
        if problems:
            raise InvalidInput(problems)
        return chosen

    @staticmethod
    def _folder_for(state: LabState, word: str) -> str | None:
        if word in state.hosts:
            return word
        for folder, host in state.hosts.items():
            if host.profile is not None and host.profile.name == word:
                return folder
        return None

    # ---- compiling and writing (homelab.labload, deferred: start-up) --------------------

    def generated(self, state: LabState, folders: Sequence[str] | None = None) -> dict[str, str]:
        """{lab-relative path: text} of the chosen hosts' generated modules (pure)."""
        from homelab import labload

        return labload.generated(state, folders)

    def orphan_folders(self) -> list[str]:
        """Host folders whose profile is gone but generated files remain."""
        from homelab import labload

        return labload.orphan_folders(self.root)

    def plan_build(
        self, state: LabState, folders: Sequence[str], wanted: dict[str, str] | None = None
    ) -> Plan:
        """What a build of these hosts would write and delete (the whole lab's build also
        deletes the generated files of hosts whose profile is gone)."""
        from homelab import labload

        return labload.plan_build(self.root, state, folders, wanted)

    @staticmethod
    def lab_generated(state: LabState) -> dict[str, str]:
        """flake.nix, generated from lab.yaml: nothing for a lab without one."""
        from homelab import labload

        return labload.lab_generated(state)

    def flake_up_to_date(self) -> bool:
        """Is flake.nix what lab.yaml makes (True when the lab has no lab.yaml)?"""
        from homelab import labload

        return labload.flake_up_to_date(self.root)

    def build(
        self, state: LabState, folders: Sequence[str], *, check: bool = False, force: bool = False
    ) -> BuildResult:
        """Write the generated modules of these hosts; with check, only say what is stale."""
        from homelab import labload

        return labload.build(self.root, state, folders, check=check, force=force)

    def unchanged_since_last_build(
        self, folders: Sequence[str] | None = None, current: Sequence[str] | None = None
    ) -> bool:
        """True when nothing a build of these hosts (all when None) reads or writes has
        changed since the last build: then a build would write nothing. `current` is
        host_folders() when the caller already has it."""
        from homelab import labload

        return labload.unchanged_since_last_build(self.root, folders, current)
