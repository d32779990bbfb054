"""What the editor holds between keystrokes: each open profile's text, saved or not.

No Textual here: any front end can hold one (Lab.open_session). The profile text is the
one truth: forms write into it with round-trip edits (homelab.profile.edit), checks and
previews read the lab with the unsaved texts laid on top, and saving writes it back only
when the file on disk is still the one that was opened (a person's edits elsewhere are
never overwritten unasked).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from homelab.catalog import Catalog
from homelab.editing.drafts import Draft, DraftStore, Kept, profile_rel
from homelab.errors import InvalidInput, Place, Problem
from homelab.labfiles import PROFILE, HostState, LabFiles, LabState
from homelab.optionindex.model import OptionIndex
from homelab.profile import edit
from homelab.profile.edit import EditError
from homelab.source import DiskSource, OnlyHosts, Unreadable, read_file
from homelab.webplan import secret_uses
from homelab.write import apply_plan, atomic_write, plan
from homelab.yamlfile import load_plain

__all__ = [
    "ChangedOnDisk",
    "Check",
    "Draft",
    "EditError",
    "Kept",
    "OnDisk",
    "Session",
    "profile_rel",
]


class ChangedOnDisk(Exception):
    """The profile changed on disk since it was opened: the person must choose."""

    def __init__(self, folder: str, disk_text: str | None) -> None:
        self.folder, self.disk_text = folder, disk_text
        super().__init__(f"hosts/{folder}/{PROFILE} changed on disk")


REPLACED = "\ufffd"  # what a byte that is not UTF-8 shows as


@dataclass(frozen=True)
class Check:
    """One host checked with its unsaved text: problems, and the Nix it compiles to."""

    host: HostState
    generated: dict[str, str] | None  # None when the profile has problems
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()  # never block saving (homelab.profile.advice)

    @property
    def valid(self) -> bool:
        return self.generated is not None and not self.problems

    @property
    def shown(self) -> tuple[Problem, ...]:
        """What an editor shows: the problems, then the warnings."""
        return (*self.problems, *self.warnings)


@dataclass(frozen=True)
class OnDisk:
    """A profile as read from disk, readable or not."""

    text: str | None  # None: no file, or one that cannot be read
    not_utf8: bool = False
    unreadable: str | None = None

    def draft(self, folder: str) -> Draft:
        return Draft(folder, self.text, self.text or "", self.not_utf8)


def read_profile(root: Path, folder: str) -> OnDisk:
    """The profile on disk. Bytes that are not UTF-8 show as U+FFFD (the check says where,
    and saving waits until they are retyped); a file that cannot be read at all (a FIFO, no
    permission, a link out of the lab) has no text: the check says why."""
    try:
        data = read_file(root, profile_rel(folder))
    except Unreadable as err:
        return OnDisk(None, unreadable=err.reason)
    if data is None:
        return OnDisk(None)
    try:
        return OnDisk(data.decode("utf-8"))
    except UnicodeDecodeError:
        return OnDisk(data.decode("utf-8", errors="replace"), not_utf8=True)


def replaced_characters(rel: str, text: str) -> list[Problem]:
    """One problem per line that still holds a character read from bytes that are not UTF-8."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if REPLACED in line:
            problems.append(
                Problem(
                    Place(rel, number, line.index(REPLACED) + 1),
                    f"{REPLACED} stands for bytes that are not UTF-8 text in the file",
                    hint="type the character again (or delete it); saving writes UTF-8",
                )
            )
    return problems


def plain(text: str) -> Any:
    """The data of a profile text, or None when it does not parse."""
    try:
        return load_plain(text)
    except yaml.YAMLError:
        return None


L = TypeVar("L", bound=LabFiles)


class Session(Generic[L]):
    """The lab as the editor sees it: saved state plus unsaved drafts."""

    def __init__(self, lab: L, read_index: Callable[[], OptionIndex | None] = lambda: None) -> None:
        self.lab = lab
        self._read_index = read_index  # the lab's option index: read once, when first checked
        self._index: list[OptionIndex | None] = []
        self.drafts: dict[str, Draft] = {}
        self.state: LabState | None = None  # every host, from a full load (in the background)
        self.catalog: Catalog | None = None
        # of the lab as a whole (lab.yaml, the catalogue, flake.lock), from the last load:
        # every host's check shows them
        self.lab_problems: tuple[Problem, ...] = ()
        self.lab_warnings: tuple[Problem, ...] = ()
        self.checks: dict[str, Check] = {}
        self.last_generated: dict[str, dict[str, str]] = {}  # last valid preview per host
        self.removed: set[str] = set()
        self.kept = DraftStore(lab.root)  # unsaved edits on disk, for a crash or a kill

    # ---- reading ---------------------------------------------------------------------

    def folders(self) -> list[str]:
        on_disk = set(self.lab.host_folders()) - self.removed
        return sorted(on_disk | {f for f, d in self.drafts.items() if d.base is None})

    def disk_text(self, folder: str) -> str | None:
        return read_profile(self.lab.root, folder).text

    def draft(self, folder: str) -> Draft:
        if folder not in self.drafts:
            self.drafts[folder] = read_profile(self.lab.root, folder).draft(folder)
        return self.drafts[folder]

    def text(self, folder: str) -> str:
        return self.draft(folder).text

    def data(self, folder: str) -> Any:
        """The host's own profile data (without includes); {} when it does not parse."""
        data = plain(self.text(folder))
        return data if isinstance(data, dict) else {}

    def merged(self, folder: str) -> Any:
        """The host's data with includes merged, from its last check."""
        check = self.checks.get(folder)
        doc = check.host.document if check else None
        return doc.data if doc is not None and isinstance(doc.data, dict) else {}

    def dirty(self) -> list[str]:
        return sorted(f for f, d in self.drafts.items() if d.dirty)

    def unsaved(self) -> dict[str, str]:
        return {d.rel: d.text for d in self.drafts.values() if d.dirty}

    # ---- checking --------------------------------------------------------------------

    def option_index(self) -> OptionIndex | None:
        """The index the options are checked against (None: the lab has none yet)."""
        if not self._index:
            self._index.append(self._read_index())
        return self._index[0]

    def load_all(self) -> LabState:
        """Every host, saved texts with unsaved drafts on top (slow on big labs: a worker's job)."""
        state = self.lab.load(texts=self.unsaved(), index=self.option_index())
        self.state, self.catalog = state, state.catalog
        self.lab_problems, self.lab_warnings = state.problems, state.warnings
        return state

    def check(self, folder: str) -> Check:
        """The host checked with its unsaved text: fast, reads only this host's files."""
        texts = self.unsaved()
        if self.catalog is None:
            state = self.lab.load(
                texts=texts,
                source=OnlyHosts(DiskSource(self.lab.root), {folder}),
                index=self.option_index(),
            )
            self.catalog = state.catalog
            self.lab_problems, self.lab_warnings = state.problems, state.warnings
            host = state.hosts.get(folder) or self.lab.load_host(
                folder, state.catalog, texts, self.option_index()
            )
        else:
            host = self.lab.load_host(folder, self.catalog, texts, self.option_index())
        problems = [*self.lab_problems, *host.problems]
        draft = self.drafts.get(folder)
        if draft is not None and draft.not_utf8 and draft.dirty:
            problems.extend(replaced_characters(draft.rel, draft.text))
        generated = None
        if host.profile is not None and not host.problems:
            # the lab's names as the last load of the whole lab saw them
            web = self.state.web if self.state is not None else None
            part = web.hosts.get(folder) if web is not None else None
            if part is not None and part.secrets:
                uses = secret_uses(part)
                host = replace(host, profile=replace(host.profile, lab_secrets=uses))
            try:
                generated = self.lab.generated(
                    LabState(self.catalog, {folder: host}, web=web), [folder]
                )
            except InvalidInput as err:
                problems.extend(err.problems)
        check = Check(host, generated, tuple(problems), (*self.lab_warnings, *host.warnings))
        self.checks[folder] = check
        if generated is not None:
            self.last_generated[folder] = generated
        return check

    # ---- editing ---------------------------------------------------------------------

    def replace_text(self, folder: str, text: str) -> None:
        self.draft(folder).text = text

    def _edit(self, folder: str, change: Callable[[str], str]) -> None:
        draft = self.draft(folder)
        draft.text = change(draft.text)

    def set(self, folder: str, path: Sequence[str | int], value: Any) -> None:
        self._edit(folder, lambda text: edit.set_value(text, tuple(path), value))

    def delete(self, folder: str, path: Sequence[str | int]) -> None:
        """Remove the value at path; nothing happens when it is not there."""
        try:
            self._edit(folder, lambda text: edit.delete_value(text, tuple(path)))
        except edit.EditError:
            if self.has(folder, path):
                raise

    def rename(self, folder: str, path: Sequence[str | int], new_name: str) -> None:
        self._edit(folder, lambda text: edit.rename_key(text, tuple(path), new_name))

    def has(self, folder: str, path: Sequence[str | int]) -> bool:
        try:
            edit.get_value(self.text(folder), tuple(path))
        except (KeyError, edit.EditError):
            return False
        return True

    # ---- hosts -----------------------------------------------------------------------

    def add_host(self, folder: str, text: str) -> None:
        """A new host, unsaved until save writes its profile."""
        self.removed.discard(folder)
        self.drafts[folder] = Draft(folder, None, text)

    def remove_host(self, folder: str) -> list[str]:
        """Delete the host's profile and its generated modules; returns what was deleted.
        Files a person wrote (hardware-configuration.nix) stay, and so does a generated
        file edited by hand: then nothing is deleted (InvalidInput says which)."""
        # nothing is wanted in the folder any more: the plan deletes our files only
        the_plan = plan(self.lab.root, {}, [folder])
        if the_plan.edited:
            apply_plan(self.lab.root, the_plan)  # refuses, naming the edited files
        draft = self.drafts.pop(folder, None)
        self.checks.pop(folder, None)
        self.removed.add(folder)
        path = self.lab.root / profile_rel(folder)
        deleted: list[str] = []
        if path.exists():
            path.unlink()
            deleted.append(profile_rel(folder))
        elif draft is not None and draft.base is None:
            return deleted  # never saved: nothing on disk
        deleted.extend(apply_plan(self.lab.root, the_plan).deleted)
        if self.state is not None and folder in self.state.hosts:
            hosts = {f: h for f, h in self.state.hosts.items() if f != folder}
            self.state = dataclasses.replace(self.state, hosts=hosts)
        _remove_if_empty(self.lab.root / "hosts" / folder)
        return deleted

    # ---- drafts: unsaved edits kept on disk ------------------------------------------

    def keep_drafts(self) -> None:
        """Write the unsaved edits as drafts, remove those saved or dropped since (raises
        OSError when the disk refuses)."""
        self.kept.sync(self.drafts)

    def restore(self, kept: Kept) -> None:
        """An earlier editor's draft, back as unsaved edits (nothing is written)."""
        self.removed.discard(kept.folder)
        self.drafts[kept.folder] = Draft(kept.folder, kept.base, kept.text, kept.not_utf8)
        self.kept.take([kept])

    # ---- saving ----------------------------------------------------------------------

    def changed_on_disk(self) -> list[str]:
        """Open profiles whose file changed on disk since they were opened or saved."""
        return sorted(
            f
            for f, d in self.drafts.items()
            if f not in self.removed
            and (d.base is not None or self.disk_text(f) is not None)
            and self.disk_text(f) != d.base
        )

    def reload(self, folder: str) -> None:
        """Take the disk's text, dropping unsaved edits."""
        self.drafts[folder] = read_profile(self.lab.root, folder).draft(folder)

    def keep_mine(self, folder: str) -> None:
        """The person saw the disk change and keeps their text: the next save writes it."""
        draft, disk = self.draft(folder), read_profile(self.lab.root, folder)
        draft.base, draft.not_utf8 = disk.text, disk.not_utf8

    def save(self, folder: str) -> list[str]:
        """Write the profile and rebuild the host's Nix; returns the paths written.

        Raises InvalidInput (with every reason) when the profile has problems, and
        ChangedOnDisk when the file changed since it was opened: nothing is written then.
        """
        draft = self.draft(folder)
        on_disk = read_profile(self.lab.root, folder)
        if on_disk.unreadable is not None:
            raise InvalidInput(
                [
                    Problem(
                        Place(draft.rel),
                        f"not saved over a file that cannot be read: {on_disk.unreadable}",
                        hint="fix or remove the file, then save again (your text stays here)",
                    )
                ]
            )
        disk = on_disk.text
        if disk != draft.base:
            raise ChangedOnDisk(folder, disk)
        check = self.check(folder)
        if not check.valid:
            raise InvalidInput(check.problems or [Problem(Place(draft.rel), "cannot compile")])
        written: list[str] = []
        if draft.dirty:
            atomic_write(self.lab.root / draft.rel, draft.text)
            written.append(draft.rel)
        draft.base, draft.not_utf8 = draft.text, False
        state = self.state or self.load_all()
        state = dataclasses.replace(state, hosts={**state.hosts, folder: check.host})
        folders = [folder]
        if state.web is not None or state.wiring is not None or _joined(state):
            # the lab's names and roles read every host: this host's change may be in the
            # others' modules (the proxy's virtual hosts, the DNS records). Read from disk,
            # so no other host's unsaved draft is built.
            whole = self.lab.load(index=self.option_index())
            peers = {
                *(whole.web.hosts if whole.web else ()),
                *(whole.wiring.peers if whole.wiring else ()),
            }
            folders += sorted(f for f in peers if f != folder)
            state = dataclasses.replace(
                state, hosts={**state.hosts, **{f: whole.hosts[f] for f in folders}},
                web=whole.web, wiring=whole.wiring,
            )  # fmt: skip
        self.state = state
        result = self.lab.build(state, folders)
        written.extend(result.written)
        written.extend(result.deleted)
        return written


def _joined(state: LabState) -> bool:
    """Does lab.yaml join the hosts (a domain for names, or roles)?"""
    return state.config is not None and (
        state.config.domain is not None or bool(state.config.wiring)
    )


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
