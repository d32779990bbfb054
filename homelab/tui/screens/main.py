"""The main screen: hosts on the left, the selected host's editor in tabs, its Nix on the right.

Every edit goes into the profile text through the session (round-trip YAML edits), then
the host alone is checked and compiled again, at most every CHECK_EVERY seconds while
typing. The other hosts are loaded once, in a worker, for their marks.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane, Tabs
from textual.worker import get_current_worker

from homelab.editing.drafts import Kept
from homelab.editing.session import ChangedOnDisk, Check, EditError, Session, profile_rel
from homelab.errors import InvalidInput, Problem
from homelab.lab import Lab, LabState, NewProfile
from homelab.tui.screens.dialogs import (
    CommitChoice,
    CommitDialog,
    Confirm,
    NewHost,
    NewHostDialog,
    Refused,
)
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors import (
    ContainersEditor,
    Editor,
    FormEditor,
    HomeEditor,
    RawNixEditor,
    ServicesEditor,
    TextReplaced,
    UsersEditor,
    YamlEditor,
)
from homelab.tui.widgets.fields import FieldEdited, RenameEntry
from homelab.tui.widgets.hostlist import LEGEND, HostList, HostRow
from homelab.tui.widgets.preview import Preview
from homelab.tui.widgets.problems import ProblemsPanel

CHECK_EVERY = 0.1  # seconds between checks while typing (the first one runs at once)
DRAFTS_EVERY = 0.5  # seconds between writes of the unsaved edits as drafts while typing
HEAD_EVERY = 2.0  # seconds a looked-up HEAD is trusted (commits made here forget it)

# tab id, title, the generated file it is about (the preview scrolls to it)
TABS: list[tuple[str, str, str]] = [
    ("system", "System", "boot.nix"),
    ("networking", "Network", "networking.nix"),
    ("users", "Users", "users.nix"),
    ("home", "Home", "home.nix"),
    ("services", "Services", "services.nix"),
    ("containers", "Containers", "containers.nix"),
    ("nix", "Raw Nix", "extra.nix"),
    ("yaml", "YAML", "configuration.nix"),
]


class LabLoaded(Message):
    """The worker's full load: every host checked, and deploy marks when there is git."""

    def __init__(self, state: LabState, marks: dict[str, str]) -> None:
        super().__init__()
        self.state, self.marks = state, marks


class MainScreen(Screen[None]):
    DISK_EVERY = 2.0  # seconds between looks at the open profiles on disk
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("f2", "toggle_diff", "Nix/diff"),
        Binding("f3", "history", "History"),
        Binding("f4", "apply", "Apply"),
        Binding("f6", "problems", "Problems"),
        Binding("f7", "toggle_preview", "Preview", show=False),
        Binding("ctrl+n", "new_host", "New host"),
        Binding("alt+down", "next_host(1)", "Next host", show=False),
        Binding("alt+up", "next_host(-1)", "Previous host", show=False),
        *(
            Binding(f"alt+{i + 1}", f"tab('{tab}')", title, show=False)
            for i, (tab, title, _) in enumerate(TABS)
        ),
    ]

    def __init__(self, session: Session[Lab]) -> None:
        super().__init__()
        self.session = session
        self.folder: str | None = None
        self.editors: dict[str, Editor] = {}
        self.stale: set[str] = set()
        self.marks: dict[str, str] = {}
        self.committed: dict[str, tuple[str | None, dict[str, str] | None]] = {}
        self._check_timer: Timer | None = None
        self._drafts_timer: Timer | None = None
        self._drafts_trouble = ""  # why drafts could not be written, once said
        self._last_check = 0.0
        self._asked_disk: dict[str, str | None] = {}  # folder -> disk text already asked about
        self._head: tuple[float, str | None] = (0.0, None)
        self.loaded = False  # the worker's full load arrived

    # ---- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="side"):
                hosts = HostList(id="hosts")
                hosts.border_title = "Hosts"
                yield hosts
                yield Static(LEGEND, id="legend")
            with Vertical(id="editor"):
                with TabbedContent(id="tabs"):
                    for tab, title, _ in TABS:
                        yield TabPane(title, id=f"tab-{tab}")
                yield ProblemsPanel(id="problems")
            yield Preview(id="preview")
        yield Footer()

    def on_mount(self) -> None:
        folders = self.session.folders()
        hosts = self.query_one(HostList)
        first = getattr(self.app, "first_host", None)
        if first not in folders:
            first = folders[0] if folders else None
        hosts.set_rows([HostRow(folder) for folder in folders], selected=first)
        self.app.sub_title = self.session.lab.root.name
        if first is not None:
            self.select_host(first)
        hosts.focus()
        # the other hosts load once the first screen is up, not while it is drawn
        self.set_timer(0.3, self.load_lab)
        self.set_interval(self.DISK_EVERY, self.check_disk)

    # ---- the lab in the background ---------------------------------------------------

    def load_lab(self) -> None:
        """Every host, in a worker; the unsaved texts are taken here, on the UI's thread."""
        self._load_lab(self.session.unsaved())

    @work(thread=True, exclusive=True, group="load")
    def _load_lab(self, texts: dict[str, str]) -> None:
        worker = get_current_worker()
        state = self.session.lab.load(texts=texts)
        try:
            marks: dict[str, str] = dict(self.session.lab.deploy_marks())
        except Exception:
            marks = {}
        if not worker.is_cancelled:
            self.post_message(LabLoaded(state, marks))

    def on_lab_loaded(self, message: LabLoaded) -> None:
        self.session.state = message.state
        self.session.catalog = message.state.catalog
        self.marks = message.marks
        first = not self.loaded
        self.loaded = True
        if first and getattr(self.app, "first_screen", "main") == "apply":
            self.action_apply(review=True)
        hosts = self.query_one(HostList)
        for folder in hosts.rows:
            self.update_row(folder)
        # a big lab is many long-lived objects: leave them out of garbage collection,
        # whose full passes over them would stall keystrokes for a quarter second
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def update_row(self, folder: str) -> None:
        hosts = self.query_one(HostList)
        check = self.session.checks.get(folder)
        state = self.session.state.hosts.get(folder) if self.session.state else None
        host = check.host if check is not None else state
        invalid = None
        if check is not None:
            invalid = not check.valid
        elif state is not None:
            invalid = not state.valid
        system = ""
        if host is not None and host.profile is not None:
            system = host.profile.host.system
        elif (
            host is not None and host.document is not None and isinstance(host.document.data, dict)
        ):
            system = str((host.document.data.get("host") or {}).get("system") or "")
        draft = self.session.drafts.get(folder)
        hosts.update_row(
            HostRow(
                folder, system, invalid, bool(draft and draft.dirty), self.marks.get(folder, "")
            )
        )

    # ---- choosing a host -------------------------------------------------------------

    @on(HostList.OptionHighlighted, "#hosts")
    def _host_highlighted(self, event: HostList.OptionHighlighted) -> None:
        if event.option.id:
            self.select_host(event.option.id)

    @on(HostList.OptionSelected, "#hosts")
    def _host_chosen(self, event: HostList.OptionSelected) -> None:
        self.query_one(TabbedContent).focus()

    def select_host(self, folder: str) -> None:
        if folder == self.folder:
            return
        self.flush_editors()
        self.folder = folder
        self.run_check()
        self.stale = set(self.editors)
        self.show_active()
        self.update_row(folder)

    def action_next_host(self, step: int) -> None:
        hosts = self.query_one(HostList)
        if hosts.option_count:
            index = (hosts.highlighted or 0) + step
            hosts.highlighted = max(0, min(index, hosts.option_count - 1))

    # ---- tabs ------------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        return (self.query_one(TabbedContent).active or "tab-system").removeprefix("tab-")

    def action_tab(self, tab: str, focus: bool = False) -> None:
        """Show the tab; focus: move the focus to the tab bar too (from the command
        palette, whose closing gives the focus back to where it was: a widget in another
        tab would make that tab the active one again)."""
        tabs = self.query_one(TabbedContent)
        tabs.active = f"tab-{tab}"
        if focus:
            self.set_focus(tabs.query_one(Tabs))

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.show_active()
        file = next((name for tab, _, name in TABS if tab == self.active_tab), None)
        if file:
            self.query_one(Preview).scroll_to_file(file)

    def make_editor(self, tab: str) -> Editor:
        assert self.folder is not None
        own, merged = self.session.data(self.folder), self.session.merged(self.folder)
        if tab == "system":
            return FormEditor(
                ["host", "hardware", "packages", "nix", "include"], own, merged, id="ed-system"
            )
        if tab == "networking":
            return FormEditor(["networking", "deploy"], own, merged, id="ed-networking")
        if tab == "users":
            return UsersEditor(own, merged, id="ed-users")
        if tab == "home":
            return HomeEditor(own, merged, id="ed-home")
        if tab == "services":
            assert self.session.catalog is not None
            return ServicesEditor(self.session.catalog, own, merged, id="ed-services")
        if tab == "containers":
            return ContainersEditor(own, merged, id="ed-containers")
        if tab == "nix":
            return RawNixEditor(own, merged, id="ed-nix")
        return YamlEditor(self.session.text(self.folder), id="ed-yaml")

    def show_active(self) -> None:
        """Bring the visible tab up to date (others wait until they are shown)."""
        if self.folder is None:
            return
        tab = self.active_tab
        check = self.session.checks.get(self.folder)
        problems = list(check.problems) if check else []
        if tab not in self.editors:
            editor = self.make_editor(tab)
            self.editors[tab] = editor
            self.query_one(f"#tab-{tab}", TabPane).mount(editor)
            editor.problems = problems
            self.call_after_refresh(editor.set_problems, problems)
            return
        editor = self.editors[tab]
        if tab in self.stale and not (editor.is_mounted and editor.children):
            self.call_after_refresh(self.show_active)  # still mounting: show it then
            return
        if tab in self.stale:
            self.stale.discard(tab)
            if isinstance(editor, YamlEditor):
                editor.show_text(self.session.text(self.folder))
            else:
                editor.show(self.session.data(self.folder), self.session.merged(self.folder))
            editor.set_problems(problems, again=True)  # its fields were refilled
            return
        editor.set_problems(problems)

    def flush_editors(self) -> None:
        """Take edits still waiting for a typing pause, in every editor, now."""
        for editor in list(self.editors.values()):
            for message in editor.pending():
                self.apply(message)

    # ---- editing ---------------------------------------------------------------------

    def apply(self, message: Message, *, reshow: bool = False) -> None:
        folder = self.folder
        if folder is None:
            return
        try:
            if isinstance(message, FieldEdited):
                if message.remove:
                    self.session.delete(folder, message.path)
                else:
                    self.session.set(folder, message.path, message.value)
            elif isinstance(message, RenameEntry):
                self.session.rename(folder, message.path, message.new_name)
            elif isinstance(message, TextReplaced):
                self.session.replace_text(folder, message.text)
        except EditError as err:
            self.notify(f"cannot write that: {err}", severity="error")
            return
        active = self.active_tab
        self.stale = set(self.editors) - ({active} if not reshow else set())
        self.update_row(folder)
        self.keep_drafts()
        if reshow:
            self.run_check()  # the lists show merged data: it must be fresh
            self.show_active()
        else:
            self.schedule_check()

    @on(FieldEdited)
    def _field_edited(self, event: FieldEdited) -> None:
        event.stop()
        self.apply(event, reshow=self._structural(event.path))

    @on(RenameEntry)
    def _renamed(self, event: RenameEntry) -> None:
        event.stop()
        self.apply(event, reshow=True)

    @on(TextReplaced)
    def _text_replaced(self, event: TextReplaced) -> None:
        event.stop()
        self.apply(event)

    @staticmethod
    def _structural(path: Sequence[str | int]) -> bool:
        """Edits that change what a list shows (an entry added or removed)."""
        if len(path) == 2 and path[0] in ("users", "containers", "services"):
            return True
        return "programs" in path and (len(path) == 5 or path[-1] == "enable")

    # ---- drafts: unsaved edits survive a crash or a kill -----------------------------

    def keep_drafts(self) -> None:
        """Write the unsaved edits as drafts soon: at most every DRAFTS_EVERY seconds."""
        if self._drafts_timer is None:
            self._drafts_timer = self.set_timer(DRAFTS_EVERY, self.write_drafts)

    def write_drafts(self) -> bool:
        """Write them now; False (and said once) when the disk refuses."""
        if self._drafts_timer is not None:
            self._drafts_timer.stop()
            self._drafts_timer = None
        try:
            self.session.keep_drafts()
        except OSError as err:
            trouble = f"unsaved edits cannot be kept as drafts: {err.strerror or err}"
            if trouble != self._drafts_trouble:
                self._drafts_trouble = trouble
                self.notify(trouble + "; save when you can", severity="warning", timeout=10)
            return False
        self._drafts_trouble = ""
        return True

    def restore(self, kept: Sequence[Kept]) -> None:
        """An earlier editor's drafts, back as unsaved edits; profiles changed on disk
        since are asked about, as any change on disk under unsaved edits."""
        for draft in kept:
            self.session.restore(draft)
        hosts = self.query_one(HostList)
        hosts.set_rows([hosts.row(f) for f in self.session.folders()], selected=self.folder)
        for folder in self.session.folders():
            self.update_row(folder)
        if self.folder is None and self.session.folders():
            self.select_host(self.session.folders()[0])
        elif self.folder in {draft.folder for draft in kept}:
            self.run_check()
            self.stale = set(self.editors)
            self.show_active()
        self.write_drafts()
        self.check_disk()
        self.notify("restored unsaved edits of " + ", ".join(d.folder for d in kept))

    # ---- checking and the preview ----------------------------------------------------

    def schedule_check(self) -> None:
        """Check at once after a pause, then at most every CHECK_EVERY seconds."""
        if self._check_timer is not None:
            return
        wait = CHECK_EVERY - (time.monotonic() - self._last_check)
        self._check_timer = self.set_timer(max(wait, 0.01), self._timed_check)

    def _timed_check(self) -> None:
        self._check_timer = None
        self.run_check()

    def run_check(self) -> Check | None:
        folder = self.folder
        if folder is None:
            return None
        self._last_check = time.monotonic()
        check = self.session.check(folder)
        self.show_check(folder, check)
        return check

    def show_check(self, folder: str, check: Check) -> None:
        files = check.generated
        note = ""
        if files is None:
            files = self.session.last_generated.get(folder)
            if files:
                note = "The profile has problems: this is its last valid Nix."
        diff = None
        committed = self.committed_files(folder)
        if committed is not None and files is not None:
            diff = self.session.lab.nix_diff(committed, files)
        self.query_one(Preview).show(folder, files, diff, note)
        self.query_one(ProblemsPanel).show(check.problems)
        editor = self.editors.get(self.active_tab)
        if editor is not None and self.active_tab not in self.stale:
            editor.set_problems(check.problems)
        self.update_row(folder)

    def head(self) -> str | None:
        """HEAD, looked up at most every HEAD_EVERY seconds (git is slow to open)."""
        now = time.monotonic()
        if now - self._head[0] > HEAD_EVERY:
            self._head = (now, self.session.lab.head() or None)
        return self._head[1]

    def forget_head(self) -> None:
        self._head = (0.0, None)
        self.committed.clear()

    def committed_files(self, folder: str) -> dict[str, str] | None:
        head = self.head()
        cached = self.committed.get(folder)
        if cached is None or cached[0] != head:
            cached = (head, self.session.lab.committed_generated(folder) if head else None)
            self.committed[folder] = cached
        return cached[1]

    def action_toggle_diff(self) -> None:
        self.query_one(Preview).toggle()

    def action_toggle_preview(self) -> None:
        """Hide the preview to give the editor the whole width (a narrow terminal)."""
        preview = self.query_one(Preview)
        preview.display = not preview.display

    def action_problems(self) -> None:
        self.query_one(ProblemsPanel).focus()

    # ---- jumping to a problem --------------------------------------------------------

    @on(ProblemsPanel.Jump)
    async def _jump(self, event: ProblemsPanel.Jump) -> None:
        event.stop()
        await self.jump(event.problem)

    async def jump(self, problem: Problem) -> None:
        if self.folder is None:
            return
        rel = profile_rel(self.folder)
        path = problem.path
        candidates = _tabs_for(path)
        for tab in candidates:
            target = await self._find_in(tab, path)
            if target is not None:
                self._focus(target)
                return
        if problem.place.file == rel and problem.place.line:
            await self._open_tab("yaml")
            editor = self.editors["yaml"]
            assert isinstance(editor, YamlEditor)
            editor.go_to(problem.place.line, problem.place.column)
            editor.area.focus()
            return
        self.notify(
            f"{problem.place}: {problem.message}", title="in another file", severity="warning"
        )

    async def _open_tab(self, tab: str) -> Editor:
        self.action_tab(tab)
        await self.app.animator.wait_until_complete()
        if tab not in self.editors:
            self.show_active()
        editor = self.editors.get(tab)
        if editor is None:
            editor = self.make_editor(tab)
            self.editors[tab] = editor
            await self.query_one(f"#tab-{tab}", TabPane).mount(editor)
        elif not editor.is_mounted:
            await self.app.animator.wait_until_complete()
        for _ in range(50):  # a fresh editor makes its widgets on the next refreshes
            if editor.composed:
                break
            await self._settle()
        self.show_active()
        return editor

    async def _find_in(self, tab: str, path: str) -> Widget | None:
        editor = await self._open_tab(tab)
        for _ in range(3):  # a fresh editor mounts its fields on the next refreshes
            target = editor.find(path)
            if target is not None:
                return target
            await self._settle()
        return None

    async def _settle(self) -> None:
        import asyncio

        await asyncio.sleep(0.02)

    def _focus(self, target: Widget) -> None:
        if isinstance(target, f.Field | f.Group):
            target.focus_control()
        else:
            target.focus()
        target.scroll_visible(animate=False)

    # ---- saving ----------------------------------------------------------------------

    @work(exclusive=True, group="dialog")
    async def action_save(self) -> None:
        self.flush_editors()
        folder = self.folder
        if folder is None:
            return
        await self.save(folder)

    async def save(self, folder: str, *, commit: bool = True) -> bool:
        """Write the profile, rebuild its Nix, then offer to commit. False when refused."""
        try:
            written = self.session.save(folder)
        except ChangedOnDisk:
            answer = await self.app.push_screen_wait(
                Confirm(
                    "Changed on disk",
                    f"{profile_rel(folder)} was changed by someone else since you opened it.\n"
                    "Reload it (your unsaved edits to it are dropped), "
                    "or keep yours and save over it?",
                    [
                        ("Cancel", "cancel", "default"),
                        ("Reload theirs", "reload", "warning"),
                        ("Keep mine", "keep", "primary"),
                    ],
                )
            )
            if answer == "reload":
                self.reload(folder)
                return False
            if answer != "keep":
                return False
            self.session.keep_mine(folder)
            return await self.save(folder, commit=commit)
        except InvalidInput as err:
            check = self.session.checks.get(folder)
            if check is not None and folder == self.folder:
                self.show_check(folder, check)
            await self.app.push_screen_wait(
                Refused(f"Not saved: hosts/{folder} has problems", err.problems)
            )
            return False
        self.update_row(folder)
        self.forget_head()
        self.keep_drafts()
        if folder == self.folder:
            self.run_check()
        self.notify(
            f"saved hosts/{folder}: "
            + (", ".join(p.rsplit("/", 1)[-1] for p in written) or "nothing changed")
        )
        if commit:
            await self.offer_commit(folder)
        return True

    async def offer_commit(self, folder: str) -> None:
        check = self.session.checks.get(folder)
        if check is None or self.session.catalog is None:
            return
        try:
            pending = self.session.lab.pending_commit(check.host, self.session.catalog)
        except Exception as err:
            self.notify(f"cannot prepare a commit: {err}", severity="warning")
            return
        if pending is None:
            return
        choice = await self.app.push_screen_wait(
            CommitDialog(folder, pending.subject, pending.lines)
        )
        if not isinstance(choice, CommitChoice):
            return
        try:
            done = self.session.lab.commit(
                [folder], message=choice.words or None, subject=choice.subject or None
            )
        except InvalidInput as err:
            await self.app.push_screen_wait(Refused("Not committed", err.problems))
            return
        except Exception as err:
            self.notify(f"commit failed: {err}", severity="error")
            return
        self.forget_head()
        self.notify(f"committed {done.sha[:7]} {done.subject}" if done else "nothing to commit")
        self.load_lab()
        if folder == self.folder:
            self.run_check()

    # ---- changes on disk -------------------------------------------------------------

    def check_disk(self) -> None:
        if self._drafts_timer is None and self.session.dirty():
            self.write_drafts()  # a change that reached no edit path still becomes a draft
        for folder in self.session.changed_on_disk():
            draft = self.session.drafts[folder]
            disk = self.session.disk_text(folder)
            if not draft.dirty:
                self.reload(folder)
                self.notify(f"{profile_rel(folder)} changed on disk: reloaded")
            elif self._asked_disk.get(folder, object()) != disk:
                self._asked_disk[folder] = disk
                self.ask_disk(folder)

    @work(exclusive=True, group="disk")
    async def ask_disk(self, folder: str) -> None:
        answer = await self.app.push_screen_wait(
            Confirm(
                "Changed on disk",
                f"{profile_rel(folder)} was changed on disk while you were editing it.\n"
                "Reload it (dropping your unsaved edits to it), "
                "or keep yours (saving will write yours)?",
                [("Keep mine", "keep", "primary"), ("Reload theirs", "reload", "warning")],
            )
        )
        if answer == "reload":
            self.reload(folder)
        elif answer == "keep":
            self.session.keep_mine(folder)
            self.keep_drafts()

    def reload(self, folder: str) -> None:
        self.session.reload(folder)
        self._asked_disk.pop(folder, None)
        self.keep_drafts()
        if folder == self.folder:
            self.run_check()
            self.stale = set(self.editors)
            self.show_active()
        self.update_row(folder)

    # ---- hosts -----------------------------------------------------------------------

    @work(exclusive=True, group="dialog")
    async def action_new_host(self) -> None:
        answer = await self.app.push_screen_wait(NewHostDialog(self.session.folders()))
        if not isinstance(answer, NewHost):
            return
        self.add_host(answer)

    def add_host(self, new: NewHost) -> None:
        lab = self.session.lab
        start = NewProfile(
            new.name,
            system=new.system,
            loader=new.loader,
            address=new.address or None,
            includes=lab.shared_fragments(),
        )
        try:
            text = lab.new_profile(start)
        except InvalidInput as err:
            self.app.push_screen(Refused(f"hosts/{new.name} not added", err.problems))
            return
        self.session.add_host(new.name, text)
        self.keep_drafts()
        hosts = self.query_one(HostList)
        hosts.set_rows([hosts.row(f) for f in self.session.folders()], selected=new.name)
        self.select_host(new.name)
        self.notify(f"host {new.name} added: save (ctrl+s) to write hosts/{new.name}/profile.yaml")

    @work(exclusive=True, group="dialog")
    async def action_remove_host(self) -> None:
        folder = self.folder
        if folder is None:
            return
        answer = await self.app.push_screen_wait(
            Confirm(
                f"Remove host {folder}?",
                f"This deletes hosts/{folder}/profile.yaml and the Nix generated from it. "
                "Files you wrote there (hardware-configuration.nix) stay. Commit afterwards to "
                "record it; git keeps the old profile.",
                [("Cancel", "cancel", "default"), ("Remove", "remove", "error")],
            )
        )
        if answer != "remove":
            return
        try:
            deleted = self.session.remove_host(folder)
        except InvalidInput as err:
            await self.app.push_screen_wait(Refused(f"hosts/{folder} not removed", err.problems))
            return
        self.folder = None
        self.keep_drafts()
        hosts = self.query_one(HostList)
        folders = self.session.folders()
        hosts.set_rows([hosts.row(f) for f in folders])
        if folders:
            self.select_host(folders[0])
        self.notify(f"removed {folder}: " + ", ".join(deleted))

    # ---- other screens ---------------------------------------------------------------

    def action_history(self) -> None:
        if self.folder is None:
            return
        from homelab.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.session, self.folder), self._after_history)

    def _after_history(self, reverted: Any) -> None:
        if reverted:
            for folder in list(self.session.drafts):
                if not self.session.drafts[folder].dirty:
                    self.session.reload(folder)
            self.forget_head()
            self.stale = set(self.editors)
            self.run_check()
            self.show_active()
            self.load_lab()

    def action_apply(self, review: bool = False) -> None:
        from homelab.tui.screens.apply import ApplyScreen

        self.flush_editors()
        screen = ApplyScreen(self.session, self.folder, review=review)
        self.app.push_screen(screen, self._after_apply)

    def _after_apply(self, _: object) -> None:
        self.load_lab()


def _tabs_for(path: str) -> list[str]:
    """Where a problem's field may be, most likely first."""
    if path.startswith("users."):
        parts = path.split(".")
        return ["home", "users"] if len(parts) > 2 and parts[2].startswith("home") else ["users"]
    for prefix, tab in (
        ("services.", "services"),
        ("containers.", "containers"),
        ("extraConfig", "nix"),
    ):
        if path.startswith(prefix) or path == prefix.rstrip("."):
            return [tab]
    if path.startswith(("networking", "deploy")):
        return ["networking"]
    if path:
        return ["system"]
    return []
