"""What is known of a lab once loaded: each host's state (HostState) and the lab's
(LabState), the names of its files, and where the lab is (find_lab).

Light on purpose: the commands that never read a profile (history, --help) import these
types through homelab.lab without the loader behind them (homelab.labload)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab.errors import Problem

if TYPE_CHECKING:
    from homelab import labconfig
    from homelab.builds import Builds
    from homelab.catalog import Catalog
    from homelab.optionindex.check import Checked
    from homelab.profile import model
    from homelab.secrets.view import LabSecrets
    from homelab.webplan import WebPlan
    from homelab.wiring import Wiring
    from homelab.yamlfile import Document

PROFILE = "profile.yaml"
COMMON = "common"


class LabNotFound(Exception):
    """No lab here: said with what was tried and how to make one."""


def find_lab(
    option: str | None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Path:
    """The lab from --lab, else HOMELAB_LAB, else the current folder or a parent with hosts/."""
    env = dict(os.environ) if env is None else env
    if option:
        root = Path(option).expanduser()
        if not (root / "hosts").is_dir():
            raise LabNotFound(f"{root} is not a lab: it has no hosts/ folder")
        return root.resolve()
    if env.get("HOMELAB_LAB"):
        root = Path(env["HOMELAB_LAB"]).expanduser()
        if not (root / "hosts").is_dir():
            raise LabNotFound(f"HOMELAB_LAB={root} is not a lab: it has no hosts/ folder")
        return root.resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "hosts").is_dir():
            return folder
    raise LabNotFound(
        f"no lab found in {here} or its parents (a lab is a folder with hosts/).\n"
        "Make one with `homelab init DIR`, or point at one with --lab DIR or HOMELAB_LAB."
    )


@dataclass(frozen=True)
class HostState:
    """One host as loaded: its merged document, its problems, its profile when valid."""

    folder: str
    document: Document | None
    problems: tuple[Problem, ...]
    profile: model.Profile | None
    includes: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = ()  # of a valid profile; they never block
    groups: tuple[str, ...] = ()  # the groups it has (a valid profile), usual ones first

    @property
    def valid(self) -> bool:
        return self.profile is not None and not self.problems

    @property
    def tags(self) -> tuple[str, ...]:
        data = self.document.data if self.document else {}
        deploy = data.get("deploy") if isinstance(data, dict) else None
        tags = deploy.get("tags") if isinstance(deploy, dict) else None
        return tuple(t for t in tags or () if isinstance(t, str))


@dataclass(frozen=True)
class LabState:
    catalog: Catalog
    hosts: dict[str, HostState]  # by folder name
    problems: tuple[Problem, ...] = ()  # of the lab itself: catalogue, duplicate names
    texts: dict[str, str] = field(default_factory=dict)  # every file read, lab-relative
    warnings: tuple[Problem, ...] = ()  # of the lab itself (an input flake.lock lacks)
    config: labconfig.LabConfig | None = None  # lab.yaml (None: none, or not valid)
    # options set (options:, home.options:, extraConfig) that no option index checked:
    # loaded without one, validation says so once for the lab
    options_not_checked: int = 0
    # with an index: the option values it checked, and those it could not (!nix values,
    # types it cannot check, raw Nix)
    option_values: Checked | None = None
    secrets: LabSecrets | None = None  # the lab's encrypted secrets, as they stand
    web: WebPlan | None = None  # the lab's names under its domain (lab.yaml)
    wiring: Wiring | None = None  # the lab's roles: DNS, monitoring, backups, MQTT
    builds: Builds | None = None  # where systems are built: builders, the cache (lab.yaml)

    def all_problems(self, folders: Iterable[str] | None = None) -> list[Problem]:
        chosen = self.hosts if folders is None else {f: self.hosts[f] for f in folders}
        seen: dict[tuple[Any, ...], Problem] = {}
        for p in [*self.problems, *(p for h in chosen.values() for p in h.problems)]:
            seen.setdefault((p.place, p.message, p.path), p)
        return sorted(seen.values(), key=Problem.sort_key)

    def built_on(self) -> dict[str, str]:
        """Host folder -> the name of the host that builds its system (deploy.buildOn)."""
        if self.builds is None:
            return {}
        out: dict[str, str] = {}
        for folder, spec in self.builds.build_on.items():
            builder = self.hosts[spec.builder].profile if spec.builder in self.hosts else None
            if builder is not None:
                out[folder] = builder.name
        return out

    def all_warnings(self, folders: Iterable[str] | None = None) -> list[Problem]:
        chosen = self.hosts if folders is None else {f: self.hosts[f] for f in folders}
        seen: dict[tuple[Any, ...], Problem] = {}  # a shared fragment's: once, not per host
        for w in [*self.warnings, *(w for h in chosen.values() for w in h.warnings)]:
            seen.setdefault((w.place, w.message, w.path), w)
        return sorted(seen.values(), key=Problem.sort_key)

    def profiles(self, folders: Iterable[str] | None = None) -> list[model.Profile]:
        names = sorted(self.hosts) if folders is None else folders
        return [p for f in names if (p := self.hosts[f].profile) is not None]
