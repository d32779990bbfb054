"""Lab: one lab repository. The one API that the CLI and the editor call.

It is the lab's files (homelab.labfiles: load, select, build) and, above them, the
questions and jobs the front ends have about history, deploys and editing, each one call
here so that the command line and the editor can never drift apart.

Over 500 lines on purpose: a list of one-call methods, each deferring its import for
start-up; split, the front ends would hold two APIs.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab.labfiles import COMMON, PROFILE, HostState, LabFiles, LabNotFound, LabState, find_lab

if TYPE_CHECKING:
    import threading

    from homelab.catalog import Catalog
    from homelab.catalogcheck import CatalogueCheck
    from homelab.deploy.adopt import Adopted
    from homelab.deploy.models import ApplyOptions, ApplyState, Event, HostResult, Mode, Stop
    from homelab.deploy.report import Report
    from homelab.deploy.ssh import ConnectError, HostKeyError, SshSettings
    from homelab.deploy.workflow import Outcome, Ready
    from homelab.editing.labyaml import LabYaml
    from homelab.editing.secrets import SecretsDone
    from homelab.editing.session import Session
    from homelab.history.commit import Committed, Pending
    from homelab.history.diff import HostDiff
    from homelab.history.log import Entry, Shown
    from homelab.history.records import DeployRecord
    from homelab.history.revert import Reverted
    from homelab.history.status import DeployMark, HostStatus
    from homelab.history.undo import Choices
    from homelab.labconfig.summary import LabSummary
    from homelab.labmap import LabMap
    from homelab.optionindex.model import OptionIndex
    from homelab.profile.moveable import Moves
    from homelab.profile.new import NewProfile
    from homelab.secrets.crypt import AdminKey, SecretsError
    from homelab.secrets.view import LabSecrets

__all__ = [
    "COMMON",
    "PROFILE",
    "AdminKey",
    "ApplyOptions",
    "ApplyState",
    "Choices",
    "Committed",
    "ConnectError",
    "DeployMark",
    "DeployRecord",
    "Entry",
    "Event",
    "HostDiff",
    "HostKeyError",
    "HostResult",
    "HostState",
    "HostStatus",
    "Lab",
    "LabNotFound",
    "LabSecrets",
    "LabState",
    "LabSummary",
    "Mode",
    "Moves",
    "NewProfile",
    "Pending",
    "Report",
    "Reverted",
    "SecretsDone",
    "SecretsError",
    "Shown",
    "SshSettings",
    "Stop",
    "find_lab",
]

# Types the front ends name, from the layers below, looked up when first asked for
# (deferred: start-up; `homelab --help` and `homelab history` never load deploy/).
_DEFERRED_TYPES = {
    **dict.fromkeys(
        ["ApplyOptions", "ApplyState", "Event", "HostResult", "Mode", "Stop"],
        "homelab.deploy.models",
    ),
    **dict.fromkeys(["ConnectError", "HostKeyError", "SshSettings"], "homelab.deploy.ssh"),
    **dict.fromkeys(["DeployMark", "HostStatus"], "homelab.history.status"),
    **dict.fromkeys(["Entry", "Shown"], "homelab.history.log"),
    "DeployRecord": "homelab.history.records",
    "HostDiff": "homelab.history.diff",
    "NewProfile": "homelab.profile.new",
    "Moves": "homelab.profile.moveable",
    **dict.fromkeys(["Committed", "Pending"], "homelab.history.commit"),
    "Reverted": "homelab.history.revert",
    "Choices": "homelab.history.undo",
    "LabSummary": "homelab.labconfig.summary",
    "Report": "homelab.deploy.report",
    **dict.fromkeys(["AdminKey", "SecretsError"], "homelab.secrets.crypt"),
    "LabSecrets": "homelab.secrets.view",
    "SecretsDone": "homelab.editing.secrets",
}


def __getattr__(name: str) -> Any:
    module = _DEFERRED_TYPES.get(name)
    if module is None:
        raise AttributeError(f"module 'homelab.lab' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


class Lab(LabFiles):
    """A lab repository: hosts/, services/, flake.nix, and its git history."""

    @classmethod
    def new(cls, folder: Path) -> Lab:
        """`homelab init`: a new lab in an empty (or new) folder, all in a first commit."""
        from homelab.init import init_lab  # deferred: start-up (git)

        return cls(init_lab(folder))

    # ---- history (git) -----------------------------------------------------------------

    def check_can_commit(self) -> None:
        """Refuse (InvalidInput) before any work when a commit could not be made."""
        from homelab.history import check_can_commit  # deferred: start-up (git)

        check_can_commit(self.root)

    def commit(
        self,
        hosts: Sequence[str] | None = None,
        *,
        message: str | None = None,
        subject: str | None = None,
    ) -> Committed | None:
        """Commit these hosts' files (all, with what they share, when None) as they are on
        disk; None when nothing changed."""
        from homelab.history import commit_lab  # deferred: start-up (git)

        return commit_lab(self, message=message, hosts=hosts, subject=subject)

    def head(self) -> str:
        """The commit HEAD names; "" before the first commit or outside a repository."""
        from homelab.history.repo import head_of  # deferred: start-up (git)

        return head_of(self.root) or ""

    def subject(self, rev: str) -> str:
        """The first line of a commit's message."""
        from homelab.history.repo import open_repository  # deferred: start-up (git)

        return str(open_repository(self.root).repo.commit(rev).summary)

    def history(self, host: str | None = None, limit: int | None = None) -> list[Entry]:
        """Commits that touched a host (or the lab), newest first."""
        from homelab.history.log import host_history  # deferred: start-up (git)

        return host_history(self, host, limit)

    def show_commit(self, host: str, rev: str) -> Shown:
        """What one commit changed in a host."""
        from homelab.history.log import show_commit  # deferred: start-up (git)

        return show_commit(self, host, rev)

    def diff_words(self, words: Sequence[str]) -> tuple[str | None, list[str]]:
        """`diff [REV] [HOST ...]`: the revision (when the first word is one) and the hosts."""
        from homelab.history.diff import split_words  # deferred: start-up (git)

        return split_words(self, words)

    def diff(
        self, rev: str | None = None, hosts: Sequence[str] = (), now: LabState | None = None
    ) -> list[HostDiff]:
        """What the working tree changes on each host since rev (default: its last deploy,
        else HEAD); `now` is the working tree's lab when it is loaded already."""
        from homelab.history.diff import diff_lab  # deferred: start-up (git)

        return diff_lab(self, rev, hosts, now)

    def revert(self, rev: str, hosts: Sequence[str] = ()) -> Reverted:
        """Go back: hosts' profiles as they were at rev, rebuilt, as a new commit."""
        from homelab.history.revert import revert_hosts  # deferred: start-up (git)

        return revert_hosts(self, rev, hosts)

    def undo(self, rev: str, hosts: Sequence[str] = ()) -> Reverted:
        """Undo one commit's changes to hosts' profiles, rebuilt, as a new commit; refused
        when later commits changed the same lines."""
        from homelab.history.undo import undo_commit  # deferred: start-up (git)

        return undo_commit(self, rev, hosts)

    def history_choices(self, host: str, rev: str) -> Choices:
        """What a host's history offers for one commit (undo it, go back to it), with the
        reason when it offers neither."""
        from homelab.history.undo import choices  # deferred: start-up (git)

        return choices(self, host, rev)

    def status(self) -> list[HostStatus]:
        """What is deployed on each host, from the deploy records (no machine is asked)."""
        from homelab.history.status import lab_status  # deferred: start-up (git)

        return lab_status(self)

    def deploy_marks(self) -> dict[str, DeployMark]:
        """For each host folder: never deployed, changed since its deploy, or deployed as
        it is (none when the lab has no commit yet)."""
        from homelab.history.status import deploy_marks  # deferred: start-up (git)

        return deploy_marks(self)

    def deploy_log(self, host: str | None = None) -> list[DeployRecord]:
        """Every deploy recorded (of one host folder, or all), newest first."""
        from homelab.history.records import deploy_log  # deferred: start-up (git)

        return deploy_log(self.root, host)

    def committed_generated(self, folder: str) -> dict[str, str] | None:
        """The host's generated modules as committed at HEAD (None: no commit yet)."""
        from homelab.history.diff import committed_generated  # deferred: start-up (git)

        return committed_generated(self, folder)

    def committed_profile(self, folder: str) -> str | None:
        """The host's profile.yaml as committed at HEAD (None: not there, no commit)."""
        from homelab.history.diff import committed_profile  # deferred: start-up (git)

        return committed_profile(self, folder)

    @staticmethod
    def nix_diff(old: dict[str, str], new: dict[str, str]) -> list[str]:
        """Unified diff lines between two sets of generated files ({path: text})."""
        from homelab.history.nixdiff import unified  # deferred: start-up

        return unified(old, new)

    def pending_commit(self, host: HostState, catalog: Catalog) -> Pending | None:
        """What a commit of this host (as saved now) would say; None when nothing would be
        committed, or there is no repository yet."""
        from homelab.history.commit import pending_commit  # deferred: start-up (git)

        return pending_commit(self, host, catalog)

    # ---- editing -----------------------------------------------------------------------

    def open_session(self) -> Session[Lab]:
        """An editing session on this lab: profiles edited as text, checked with the
        unsaved edits on top, saved only over what was opened (homelab.editing)."""
        from homelab.editing.session import Session  # deferred: start-up (the compiler)

        return Session(self, self.option_index)

    @staticmethod
    def new_profile(start: NewProfile) -> str:
        """The text of a new host's profile (InvalidInput when a value cannot be in one):
        the one place new profiles are made, for the editor, adopt and init alike."""
        from homelab.profile.new import new_profile  # deferred: start-up

        return new_profile(start)

    @staticmethod
    def nixos_options(path: Sequence[str | int], catalog: Catalog | None = None) -> list[str]:
        """The NixOS options a profile's value sets (a service setting's, from its
        catalogue entry): the editor names them beside the focused field."""
        from homelab.optionmap import nixos_options

        return nixos_options(path, catalog)

    @staticmethod
    def extra_moves(state: LabState, folder: str) -> Moves | None:
        """What of a host's extraConfig could move into `options:` (None: it has none),
        read from its profile as written, valid or not (InvalidInput when that cannot be
        read at all)."""
        from homelab.errors import InvalidInput
        from homelab.profile.moveable import moves  # deferred: start-up

        host = state.hosts[folder]
        if host.document is None:
            raise InvalidInput(list(host.problems))
        data = host.document.data
        extra = data.get("extraConfig") if isinstance(data, dict) else None
        if not isinstance(extra, str) or not extra.strip():
            return None
        found = moves(extra, data.get("options"))
        where = host.document.marks.values.get(("extraConfig",))
        block = host.document.marks.blocks.get(("extraConfig",))
        if where is not None and block is not None:  # `|`: where its first line is
            where = dataclasses.replace(where, line=block[0], column=block[1] + 1)
        return dataclasses.replace(found, where=where)

    def release(self) -> str:
        """The NixOS release the lab follows: lab.yaml's, else the skeleton's. A new
        host's stateVersion starts as it."""
        from homelab import labconfig  # deferred: start-up
        from homelab.catalog import RELEASE

        config, _ = labconfig.load(lambda rel: self._text(rel))
        return config.release if config is not None else RELEASE

    def catalogue_check(self, index: OptionIndex) -> CatalogueCheck:
        """`homelab catalogue check`: every entry of services/ against the index's NixOS
        options and the release the lab follows."""
        from homelab.catalogcheck import Entry, check_catalogue  # deferred: start-up
        from homelab.yamlfile import load_text

        state = self.load()
        entries = []
        for service in state.catalog.services.values():
            doc, _ = load_text(service.file, self._text(service.file) or "")
            if doc is not None:
                entries.append(Entry(service, doc))
        broken = [p for p in state.problems if p.place.file.startswith("services/")]
        return check_catalogue(entries, index.nixos, self.release(), broken)

    def lab_settings(self) -> LabSummary:
        """lab.yaml as the editor's Lab screen shows it: release, inputs (pinned or not),
        overlays and every problem; `present` False when the lab has none."""
        from homelab.labconfig.summary import summary  # deferred: start-up

        return summary(self._text)

    def open_lab_yaml(self) -> LabYaml:
        """lab.yaml to edit (the Lab screen): changed in memory with its comments kept,
        checked whole, then saved with the flake.nix it makes, and committed in the lab's
        words (homelab.editing.labyaml)."""
        from homelab.editing.labyaml import LabYaml  # deferred: start-up

        return LabYaml(self)

    @staticmethod
    def lab_map(state: LabState) -> LabMap:
        """The lab drawn as data (homelab map, the editor's map screen): hosts with their
        services, ports and names, and every link between machines."""
        from homelab.labmap import lab_map  # deferred: start-up

        return lab_map(state)

    def builds_elsewhere(self) -> bool:
        """Does lab.yaml say where systems are built (`builds:`)? Read without loading the
        lab, so that `homelab status` loads it only then (a buildOn without `builds:` is an
        error that validate shows)."""
        import re

        try:
            text = (self.root / "lab.yaml").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        return re.search(r"^builds\s*:", text, re.M) is not None

    @staticmethod
    def where_built(state: LabState) -> dict[str, str]:
        """For each host folder, where its system is built and what it builds with, in a
        few words ("built on nuc; cache: http://nas:5000"); hosts with nothing to say are
        left out (they build their own, from cache.nixos.org)."""
        from homelab.builds import said  # deferred: start-up

        if state.builds is None:
            return {}

        def name_of(folder: str) -> str:
            host = state.hosts.get(folder)
            return host.profile.name if host is not None and host.profile else folder

        found = {f: said(state.builds.of(f), name_of) for f in sorted(state.hosts)}
        return {f: words for f, words in found.items() if words}

    # ---- encrypted secrets (homelab.editing.secrets) ------------------------------------

    def secrets_state(self) -> LabSecrets:
        """The lab's encrypted secrets as they stand: who uses each, who can read it."""
        from homelab.editing.secrets import secrets_state  # deferred: start-up

        return secrets_state(self)

    @staticmethod
    def open_identity(
        path: Path | None = None, ask_passphrase: Callable[[str], str | None] | None = None
    ) -> AdminKey:
        """The admin's private key (path, else $HOMELAB_AGE_IDENTITY, else
        ~/.config/homelab/age.key); SecretsError when it cannot be opened."""
        from homelab.secrets.crypt import load_identity  # deferred: start-up

        return load_identity(path, ask_passphrase)

    @staticmethod
    def check_secret_name(name: str) -> None:
        """InvalidInput when `name` cannot be a secret's (it names encrypted/NAME.age)."""
        from homelab.editing.secrets import check_name  # deferred: start-up

        check_name(name)

    def secret_value(self, name: str, key: AdminKey) -> bytes:
        """A secret's value, opened with the admin's key (in memory only)."""
        from homelab.editing.secrets import secret_value  # deferred: start-up

        return secret_value(self, name, key)

    def set_secret(self, name: str, plaintext: bytes) -> SecretsDone:
        """Encrypt a secret to the hosts that use it and every admin, committed (the agenix
        input added to lab.yaml when it lacks it)."""
        from homelab.editing.secrets import set_secret  # deferred: start-up

        return set_secret(self, name, plaintext)

    def rekey_secrets(self, names: Sequence[str] = (), key: AdminKey | None = None) -> SecretsDone:
        """Encrypt the stale secrets (or these) anew to exactly their readers, committed."""
        from homelab.editing.secrets import rekey_secrets  # deferred: start-up

        return rekey_secrets(self, names, key)

    def add_admin(self, name: str, public_key: str, key: AdminKey | None) -> SecretsDone:
        """An admin in lab.yaml, every secret rekeyed to include them (with `key`), committed."""
        from homelab.editing.admins import add_admin  # deferred: start-up

        return add_admin(self, name, public_key, key)

    def remove_admin(self, name: str, key: AdminKey | None) -> SecretsDone:
        """An admin out of lab.yaml, every secret rekeyed without them (with `key`), committed."""
        from homelab.editing.admins import remove_admin  # deferred: start-up

        return remove_admin(self, name, key)

    def import_agenix(self, path: Path, key: AdminKey | None) -> SecretsDone:
        """An agenix secrets.nix (read with nix-instantiate in restricted mode) and its
        .age files into encrypted/, rekeyed to the lab's readers with `key`, committed."""
        from homelab.editing.agenix import import_agenix  # deferred: start-up

        return import_agenix(self, path, key)

    def migrate_secrets(self, key: AdminKey | None = None) -> SecretsDone:
        """Every copy-at-apply `secrets:` entry encrypted as encrypted/NAME.age and its
        `source:` taken out of the profile, committed (`key`: to tell whether a file
        already there holds the same value)."""
        from homelab.editing.secretmoves import migrate_secrets  # deferred: start-up

        return migrate_secrets(self, key)

    def _text(self, rel: str) -> str | None:
        from homelab.source import DiskSource, Unreadable

        try:
            return DiskSource(self.root).read(rel)
        except (UnicodeDecodeError, Unreadable):
            return None

    def shared_fragments(self) -> list[str]:
        """What a new host includes from hosts/common: its base fragment, when there is one
        (homelab init makes it)."""
        base = self.root / "hosts" / COMMON / "base.yaml"
        return [f"../{COMMON}/base.yaml"] if base.is_file() else []

    # ---- the machines (SSH) ------------------------------------------------------------

    def only_apply(self, what: str = "homelab apply") -> contextlib.AbstractContextManager[None]:
        """Hold the lab's apply lock (LabFailure when another apply holds it)."""
        from homelab.deploy.lablock import only_apply  # deferred: start-up (deploy)

        return only_apply(self.root, what)

    def prepare_apply(
        self,
        words: Sequence[str],
        *,
        commit: bool = True,
        ssh: SshSettings | None = None,
        jobs: int = 0,
    ) -> Ready:
        """Check everything that can be checked before a commit is made, and build; with
        `ssh`, connecting to the chosen hosts meanwhile (Ready.close closes what is not sent)."""
        from homelab.deploy.workflow import prepare  # deferred: start-up (deploy)

        return prepare(self, words, commit=commit, ssh=ssh, jobs=jobs)

    def send(
        self,
        ready: Ready,
        options: ApplyOptions,
        on_event: Callable[[Event], None] | None = None,
        stop: threading.Event | None = None,
        on_note: Callable[[str], None] | None = None,
        before_sending: Callable[[], None] | None = None,
    ) -> Outcome:
        """Commit what goes out, send it, pin accepted keys, record (homelab.deploy.workflow;
        `before_sending` runs before HEAD moves or anything is sent)."""
        from homelab.deploy.workflow import send  # deferred: start-up (deploy)

        return send(ready, options, on_event, stop, on_note, before_sending)

    def rollback(
        self,
        host: str,
        options: ApplyOptions,
        on_event: Callable[[Event], None] | None = None,
        stop: threading.Event | None = None,
        on_note: Callable[[str], None] | None = None,
        *,
        commit: bool = True,
    ) -> Outcome:
        """Switch a machine back to its previous generation: no build, no commit; accepted
        keys pinned (committed unless `commit` is False) and records, as an apply's."""
        from homelab.deploy.workflow import rollback  # deferred: start-up (deploy)

        return rollback(self, [host], options, on_event, stop, on_note, commit=commit)

    def status_live(
        self,
        words: Sequence[str],
        options: ApplyOptions,
        on_note: Callable[[str], None] | None = None,
    ) -> list[HostResult]:
        """Ask the machines what they run, recording how interrupted deploys ended."""
        from homelab.deploy.workflow import look_live  # deferred: start-up (deploy)

        return look_live(self, words, options, on_note=on_note)

    @staticmethod
    def fingerprint(key: str) -> str:
        """A host key line's SHA256:... fingerprint, as `ssh-keygen -l` prints it."""
        from homelab.deploy.ssh import fingerprint  # deferred: start-up (deploy)

        return fingerprint(key)

    @staticmethod
    def apply_report(results: Sequence[HostResult]) -> Report:
        """What an apply did, in words: a row per host, then what went wrong and why."""
        from homelab.deploy.report import report  # deferred: start-up (deploy)

        return report(results)

    def read_machine(
        self, name: str, address: str, ssh: SshSettings, trust: Callable[[HostKeyError], bool]
    ) -> Adopted:
        """`adopt`, first half: read a running machine at user@address[:port], asking
        `trust` about an unknown host key. InvalidInput when that is no address."""
        from homelab.deploy.adopt import parse_address, read_machine  # deferred: start-up
        from homelab.errors import InvalidInput, Place, Problem

        try:
            where = parse_address(address)
        except ValueError as err:
            raise InvalidInput([Problem(Place("address"), str(err))]) from None
        return read_machine(name, where, ssh, trust, self.release())

    def adopt(self, adopted: Adopted) -> list[str]:
        """`adopt`, second half: check the machine's new host folder and write it whole."""
        from homelab.deploy.adopt import check_adopted, write_adopted  # deferred: start-up

        check_adopted(self, adopted)
        return write_adopted(self, adopted)

    def lock(
        self,
        update: bool,
        on_line: Callable[[str], None],
        *,
        host: str | None = None,
        ssh: SshSettings | None = None,
    ) -> bool:
        """Pin the flake's inputs in flake.lock, with Nix here or on a host that has it
        (flake.nix generated from lab.yaml first, when the lab has one); False when
        flake.lock did not change."""
        # deferred: start-up
        from homelab.deploy.lock import lock_here, lock_on, write_flake, write_lock
        from homelab.deploy.plan import plan_connection
        from homelab.deploy.ssh import SshSettings
        from homelab.errors import InvalidInput, Place, Problem

        if write_flake(self.root):
            on_line("wrote flake.nix (from lab.yaml)")
        if not (self.root / "flake.nix").is_file():
            raise InvalidInput([Problem(Place("flake.nix"), "the lab has no flake.nix to lock")])
        if host is None:
            return write_lock(self.root, lock_here(self.root, update, on_line))
        state = self.load()
        chosen = self.select(state, [host])
        problems = state.all_problems(chosen)
        if problems:
            raise InvalidInput(problems)
        plan = plan_connection(state, chosen[0])
        data = lock_on(plan.endpoint, ssh or SshSettings.from_home(), self.root, update, on_line)
        return write_lock(self.root, data)

    def commit_lock(self, message: str) -> str | None:
        """Commit flake.lock alone; its commit, or None when it did not change."""
        from homelab.deploy.lock import commit_lock  # deferred: start-up (git)

        return commit_lock(self.root, message)

    def option_index(self) -> OptionIndex | None:
        """The option index of the (nixpkgs, home-manager) pair flake.lock pins; None when
        none has been made for it (`homelab options update`), or its file is damaged."""
        from homelab.deploy.optionupdate import read_cached  # deferred: start-up

        return read_cached(self.root)

    def update_options(
        self,
        on_line: Callable[[str], None],
        *,
        host: str | None = None,
        ssh: SshSettings | None = None,
        small: bool = False,
    ) -> tuple[OptionIndex, Path]:
        """`homelab options update`: make the option index of the pinned pair, with Nix
        here or on the lab machine `host` (it evaluates the flake's configuration of that
        host; here, of `host` or the first host; a machine with little memory only when
        `small`). The index and its file."""
        # deferred: start-up
        from homelab.deploy import optionupdate
        from homelab.deploy.plan import plan_connection, plan_hosts
        from homelab.deploy.ssh import SshSettings
        from homelab.errors import InvalidInput, Place, Problem
        from homelab.history.repo import head_of
        from homelab.labconfig.lock import LOCK_HINT

        pair = optionupdate.lock_pair(self.root)
        if pair is None:
            raise InvalidInput(
                [Problem(Place("flake.lock"), "no flake.lock pins nixpkgs", hint=LOCK_HINT)]
            )
        state = self.load()
        folders = self.select(state, [host]) if host is not None else sorted(state.hosts)
        folders = [f for f in folders if state.hosts[f].profile is not None]
        if not folders:
            raise InvalidInput([Problem(Place("hosts"), "the lab has no host to evaluate")])
        folder = folders[0]
        problems = state.all_problems([folder])
        if problems:
            raise InvalidInput(problems)
        plan = plan_hosts(self, state, [folder], head_of(self.root) or "", {})[0]
        if f"hosts/{folder}/configuration.nix" not in plan.files:
            raise InvalidInput(
                [
                    Problem(
                        Place(f"hosts/{folder}/configuration.nix"),
                        "the last commit does not hold it: Nix evaluates what a commit holds",
                        hint="homelab build --commit",
                    )
                ]
            )
        profile = state.hosts[folder].profile
        assert profile is not None
        homes = [m for u in profile.users if u.home for m in u.home.modules]
        modules = tuple(dict.fromkeys(m.written for m in (*profile.modules, *homes)))
        on_line(optionupdate.MEMORY)
        if host is None:
            raw = optionupdate.evaluate_here(plan.files, folder, on_line)
        else:
            endpoint = plan_connection(state, folder).endpoint
            raw = optionupdate.evaluate_on(
                endpoint, ssh or SshSettings.from_home(), plan.files, folder, on_line, small=small
            )
        index = optionupdate.build_index(raw, pair, folder, modules)
        return index, optionupdate.write_cached(self.root, pair, index)
