"""The main screen: hosts on the left, the selected host's editor in tabs, its Nix on the right.

Every edit goes into the profile text through the session (round-trip YAML edits), then
the host alone is checked and compiled again, at most every CHECK_EVERY seconds while
typing. The other hosts are loaded in the background, for their marks (labload.py).

Over 500 lines for now: its workers, tab switching and the save flow share the screen's
state; the save flow is the part to move out next.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Header, TabbedContent
from textual.worker import get_current_worker

from homelab.editing.drafts import Kept
from homelab.editing.session import ChangedOnDisk, Check, EditError, Session, profile_rel
from homelab.errors import InvalidInput
from homelab.lab import Lab, LabState
from homelab.tui import firstlook, labload
from homelab.tui.messages import EditAfterYes, FieldEdited
from homelab.tui.plain import Static
from homelab.tui.screens.dialogs import Confirm, Refused, changed_on_disk, remove_host
from homelab.tui.widgets import editors as ed  # each tab's module loads when first shown
from homelab.tui.widgets.footer import Footer
from homelab.tui.widgets.hints import unused_key
from homelab.tui.widgets.hosteditor import TABS, HostEditor, changes_lists
from homelab.tui.widgets.hostlist import LEGEND, HostList
from homelab.tui.widgets.hostnames import HostNames, HostWiring
from homelab.tui.widgets.preview import Preview
from homelab.tui.widgets.textbox import typing

if TYPE_CHECKING:
    from homelab.catalog import Catalog
    from homelab.errors import Problem
    from homelab.tui.screens.newhost import NewHost
    from homelab.tui.widgets.editors import EntriesEditor, YamlEditor

__all__ = ["TABS", "MainScreen"]

CHECK_EVERY = 0.1  # seconds between checks while typing (the first one runs at once)
LOAD_AFTER = 0.3  # seconds after opening until the whole lab's load starts
LOAD_APART_AFTER = 1.0  # the same for a lab loaded in another process
DRAFTS_EVERY = 0.5  # seconds between writes of the unsaved edits as drafts while typing
TAB_KEYS = Binding.Group("Tab")


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
        Binding("f5", "lab", "Lab", show=False),  # the footer is full: help and palette say it
        # priority: a text box's own f6/f7 (select line, select all) would take them
        Binding("f6", "problems", "Problems", priority=True),
        Binding("f7", "toggle_preview", "Preview", show=False, priority=True),
        Binding("f8", "widen_preview", "Wide preview"),
        Binding("f9", "secrets", "Secrets", show=False),  # the footer is full, as for f5
        Binding("f10", "map", "Map", show=False),  # the footer is full, as for f5
        Binding("ctrl+n", "new_host", "New host"),
        Binding("ctrl+o", "option_search", "Find an option and add it", show=False, priority=True),
        Binding("alt+down", "next_host(1)", "Next host", show=False),
        Binding("alt+up", "next_host(-1)", "Previous host", show=False),
        # tabs by keys that every terminal sends: ] [ and 1-9 where they are not typed
        # into a text input (the footer shows them then), ctrl+pgdn/pgup always (the
        # footer shows them while typing). alt+1-9 too, where the terminal sends them.
        # ] [ and digits are no priority bindings, which would overtake a tab typed just
        # before them; ctrl+pgup/pgdn are, over the scroll containers' paging sideways.
        Binding(
            "left_square_bracket",
            "step_tab(-1)",
            "Previous tab",
            key_display="[",
            group=TAB_KEYS,
        ),
        Binding(
            "right_square_bracket",
            "step_tab(1)",
            "Next tab",
            key_display="]",
            group=TAB_KEYS,
        ),
        Binding("ctrl+pageup", "page_tab(-1)", "Previous tab", group=TAB_KEYS, priority=True),
        Binding("ctrl+pagedown", "page_tab(1)", "Next tab", group=TAB_KEYS, priority=True),
        Binding("ctrl+pageup", "step_tab(-1)", "Previous tab", show=False, priority=True),
        Binding("ctrl+pagedown", "step_tab(1)", "Next tab", show=False, priority=True),
        *(
            Binding(f"{i + 1}", f"number_tab('{tab}')", title, show=False)
            for i, (tab, title, _) in enumerate(TABS)
        ),
        *(
            Binding(f"alt+{i + 1}", f"tab('{tab}')", title, show=False)
            for i, (tab, title, _) in enumerate(TABS)
        ),
        Binding("escape", "leave", "Back"),
    ]

    def __init__(self, session: Session[Lab]) -> None:
        super().__init__()
        self.session = session
        self.host_editor = HostEditor(session, id="editor", catalogue=self.whole_catalogue)
        self._check_timer: Timer | None = None
        self._drafts_timer: Timer | None = None
        self._drafts_trouble = ""  # why drafts could not be written, once said
        self._last_check = 0.0
        self._asked_disk: dict[str, str | None] = {}  # folder -> disk text already asked about
        self.loaded = False  # the worker's full load arrived
        self.opened = False  # the first host is shown (after the host list is drawn)
        # the catalogue entries the first check read, until the rest is read (firstlook.py)
        self._first_entries: frozenset[str] | None = None
        self._first_checked = False

    # ---- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="side"):
                hosts = HostList(self.session, id="hosts")
                hosts.border_title = "Hosts"
                yield hosts
                yield HostNames(id="host-names")
                yield HostWiring(id="host-wiring")
                yield Static(LEGEND, id="legend")
            yield self.host_editor
            yield Preview(self.session.lab, id="preview")
        yield Footer()

    def on_key(self, event: events.Key) -> None:
        unused_key(self, event)  # a key that nothing took: say where focus is

    def on_mount(self) -> None:
        folders = self.session.folders()
        hosts = self.query_one(HostList)
        first = getattr(self.app, "first_host", None)
        if first not in folders:
            first = folders[0] if folders else None
        hosts.show_folders(first, folders)  # read once: each read opens every profile
        self.app.sub_title = self.session.lab.root.name
        hosts.focus()
        # the host list is drawn first; the host's check and form, a frame later
        self.call_after_refresh(self._show_first)
        # the other hosts load once the first screen is up, not while it is drawn; a big
        # lab's load starts a process, which stalled a host switch made then by ~100 ms:
        # later, past a person's first look at the first host
        big = len(folders) >= labload.IN_PROCESS_BELOW
        self.set_timer(LOAD_APART_AFTER if big else LOAD_AFTER, self.load_lab)
        self.set_interval(self.DISK_EVERY, self.check_disk)

    # ---- the lab in the background ---------------------------------------------------

    def load_lab(self) -> None:
        """Every host, in the background (homelab/tui/labload.py); the unsaved texts are
        taken here, on the UI's thread."""
        texts = self.session.unsaved()
        if len(self.query_one(HostList).rows) < labload.IN_PROCESS_BELOW:
            self._load_here(texts)
        else:
            self._load_apart(texts)

    @work(thread=True, exclusive=True, group="load")
    def _load_here(self, texts: dict[str, str]) -> None:
        worker = get_current_worker()
        loaded = labload.load_here(self.session.lab, texts)
        if not worker.is_cancelled:
            self.post_message(LabLoaded(loaded.state, loaded.marks))

    @work(exclusive=True, group="load")
    async def _load_apart(self, texts: dict[str, str]) -> None:
        last_key = lambda: getattr(self.app, "last_key", 0.0)  # noqa: E731
        try:
            loaded = await labload.load_apart(self.session.lab.root, texts, last_key)
        except labload.LoadFailed:
            self._load_here(texts)  # as a small lab: what went wrong shows there, if real
            return
        self.post_message(LabLoaded(loaded.state, loaded.marks))

    def on_lab_loaded(self, message: LabLoaded) -> None:
        self._first_entries = None  # the whole catalogue is here
        self.session.state = message.state
        self.session.catalog = message.state.catalog
        # the lab's own problems as the whole lab says them (the first check saw one host)
        said = (message.state.problems, message.state.warnings)
        renewed = said != (self.session.lab_problems, self.session.lab_warnings)
        self.session.lab_problems, self.session.lab_warnings = said
        self.query_one(HostList).marks = message.marks
        first = not self.loaded
        self.loaded = True
        if first and getattr(self.app, "first_screen", "main") == "apply":
            self.action_apply(review=True)
        elif first and getattr(self.app, "first_screen", "main") == "secrets":
            self.action_secrets()
        elif first and getattr(self.app, "first_screen", "main") == "map":
            self.action_map()
        hosts = self.query_one(HostList)
        for folder in hosts.rows:
            self.update_row(folder)
        self.show_names()
        if renewed and self.folder is not None:
            self.run_check()  # the problems panel shows the lab's problems anew
        self.host_editor.lab_loaded()
        # a big lab is many long-lived objects: leave them out of garbage collection,
        # whose full passes over them would stall keystrokes for a quarter second. No
        # collection first: a lab's state holds no cycles, the one it replaces is freed as
        # it is dropped (a full collection here stalled the editor as the marks came in)
        gc.freeze()
        self.host_editor.make_ahead()

    def update_row(self, folder: str) -> None:
        self.query_one(HostList).show(folder)

    # ---- choosing a host -------------------------------------------------------------

    def _show_first(self) -> None:
        self.opened = True
        folder = self.query_one(HostList).folder  # a key pressed meanwhile moved it
        if folder is not None:
            # the first check reads the catalogue entries its host names (firstlook.py);
            # the rest is read in a thread once the host is shown
            self._first_entries = firstlook.first_look(self.session, folder)
            self.select_host(folder)
            self.preview_tab_file()  # its tab was shown before its Nix was there
            if self._first_entries is not None:
                self._read_catalogue()
        collector = getattr(self.app, "collector", None)
        if collector is not None:  # the first screen is up: collections may run again
            self.call_after_refresh(collector.start)

    @work(thread=True, exclusive=True, group="catalogue")
    def _read_catalogue(self) -> None:
        """The rest of the catalogue read beside the UI, long before the lab's load brings
        it: a host switched to then rarely needs entries read on the UI's thread."""
        read = self.session.lab.catalogue()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.whole_catalogue, read=read)

    def whole_catalogue(
        self, *, check: bool = True, read: tuple[Catalog, list[Problem]] | None = None
    ) -> None:
        """The rest of the catalogue before the lab's load brings it (firstlook.py), and
        its entries' problems with the lab's: shown at once, the shown host checked again
        (check). A host checked without problems or warnings gets none from entries it
        does not name: it is not checked again (that would redraw its preview)."""
        entries, self._first_entries = self._first_entries, None
        if entries is None:
            return
        more = firstlook.rest(self.session, entries, read)
        if not (check and self.folder is not None and self._first_checked):
            return
        shown = self.session.checks.get(self.folder)
        if more or shown is None or shown.shown:
            self.call_later(self.run_check)  # not within what asked (a tab being made)

    @on(HostList.OptionHighlighted, "#hosts")
    def _host_highlighted(self, event: HostList.OptionHighlighted) -> None:
        if event.option.id and self.opened:
            self.select_host(event.option.id)

    @on(HostList.OptionSelected, "#hosts")
    def _host_chosen(self, event: HostList.OptionSelected) -> None:
        self.host_editor.query_one("#tabs").focus()

    def select_host(self, folder: str) -> None:
        if folder == self.folder:
            return
        self.flush_editors()
        self.folder = folder
        self.reshow()
        self.update_row(folder)
        self.show_names()

    def show_names(self) -> None:
        """The shown host's names under the lab's domain and its part in the lab's wiring,
        as the last full load saw them."""
        self.query_one(HostNames).show(self.session.state, self.folder)
        self.query_one(HostWiring).show(self.session.state, self.folder)

    def action_next_host(self, step: int) -> None:
        self.query_one(HostList).step(step)

    # ---- the host's editor (widgets/hosteditor.py) ----------------------------------

    @property
    def folder(self) -> str | None:
        """The host folder shown."""
        return self.host_editor.folder

    @folder.setter
    def folder(self, folder: str | None) -> None:
        self.host_editor.folder = folder

    def action_tab(self, tab: str, focus: bool = False) -> None:
        self.host_editor.show_tab(tab, focus)

    def action_number_tab(self, tab: str) -> None:
        self.host_editor.show_tab(tab)

    def action_step_tab(self, step: int) -> None:
        self.host_editor.step_tab(step)

    def action_page_tab(self, step: int) -> None:
        self.host_editor.step_tab(step)

    def action_leave(self) -> None:
        """Escape: one step up, from a field to its list or the tab bar, then the hosts."""
        if not self.host_editor.leave(self.focused):
            self.query_one(HostList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("step_tab", "number_tab"):
            return not typing(self.focused)  # the key is typed into the text instead
        if action == "page_tab":
            return typing(self.focused)  # otherwise step_tab has the key, and the footer
        if action == "leave":
            return self.focused not in (None, self.query_one(HostList))
        return True

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.preview_tab_file()

    def preview_tab_file(self) -> None:
        """The preview scrolled to the file the shown tab makes."""
        shown = self.host_editor.active_tab
        file = next((name for tab, _, name in TABS if tab == shown), None)
        if file:
            self.query_one(Preview).scroll_to_file(file)

    def flush_editors(self) -> None:
        """Take edits still waiting for a typing pause, in every editor, now."""
        for message in self.host_editor.pending():
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
            elif isinstance(message, ed.EntriesEditor.Renamed):
                self.session.rename(folder, message.path, message.new_name)
            elif isinstance(message, ed.YamlEditor.TextReplaced):
                self.session.replace_text(folder, message.text)
        except EditError as err:
            self.notify(f"cannot write that: {err}", severity="error")
            return
        self.host_editor.changed(all_tabs=reshow)
        self.update_row(folder)
        self.keep_drafts()
        if reshow:
            self.run_check()  # the lists show merged data: it must be fresh
            self.host_editor.show_active()
        else:
            self.schedule_check()

    @on(FieldEdited)
    def _field_edited(self, event: FieldEdited) -> None:
        event.stop()
        self.apply(event, reshow=changes_lists(event.path))

    @on(EditAfterYes)
    def _asked(self, event: EditAfterYes) -> None:
        event.stop()
        label, yes = event.yes
        answers = [("Cancel", "cancel", "default"), (label, yes, "error")]

        def answered(answer: str | None) -> None:
            if answer == yes:
                self.post_message(event.edit)

        self.app.push_screen(Confirm(event.title, event.text, answers), answered)

    # by their names, not @on: that would load those tabs' modules at start-up
    def on_entries_editor_renamed(self, event: EntriesEditor.Renamed) -> None:
        event.stop()
        self.apply(event, reshow=True)

    def on_yaml_editor_text_replaced(self, event: YamlEditor.TextReplaced) -> None:
        event.stop()
        self.apply(event)

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
        self.query_one(HostList).show_folders(self.folder)
        for folder in self.session.folders():
            self.update_row(folder)
        if self.folder is None and self.session.folders():
            self.select_host(self.session.folders()[0])
        elif self.folder in {draft.folder for draft in kept}:
            self.reshow()
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
        if self._first_checked and self._first_entries is not None:
            grown = firstlook.extend(self.session, folder, self._first_entries)
            if grown is None:
                self.whole_catalogue(check=False)  # what it names cannot be told
            else:
                self._first_entries = grown
        check = self.session.check(folder)
        self._first_checked = True
        self.show_check(folder, check)
        return check

    def reshow(self) -> None:
        """The shown host's data changed under every tab: check it, show it again."""
        self.run_check()
        self.host_editor.changed()
        self.host_editor.show_active()

    def show_check(self, folder: str, check: Check) -> None:
        files = check.generated
        note = ""
        if files is None:
            files = self.session.last_generated.get(folder)
            if files:
                note = "The profile has problems: this is its last valid Nix."
        self.query_one(Preview).show_host(folder, files, note, self.session.text(folder))
        self.host_editor.show_problems(list(check.shown))
        self.update_row(folder)

    def forget_head(self) -> None:
        self.query_one(Preview).forget_head()

    def action_toggle_diff(self) -> None:
        self.query_one(Preview).toggle()

    def action_toggle_preview(self) -> None:
        """Hide the preview to give the editor the whole width (a narrow terminal)."""
        preview = self.query_one(Preview)
        if preview.wide:  # never hide everything: the editor comes back first
            preview.toggle_wide()
        preview.display = not preview.display

    def action_widen_preview(self) -> None:
        """The preview on the whole width, and back."""
        self.query_one(Preview).toggle_wide()

    def action_problems(self) -> None:
        self.host_editor.focus_problems()

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
            rel = profile_rel(folder)
            answer = await self.app.push_screen_wait(changed_on_disk(rel, saving=True))
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
            # the lab's names and roles: other hosts' modules the save rebuilt go in too
            others = sorted({p.split("/")[1] for p in written if p.startswith("hosts/")} - {folder})
            await self.offer_commit(folder, others)
        return True

    async def offer_commit(self, folder: str, others: Sequence[str] = ()) -> None:
        from homelab.tui.screens.commit import offer_commit  # deferred: start-up

        check = self.session.checks.get(folder)
        catalog = self.session.catalog
        if check is None or catalog is None:
            return
        lab = self.session.lab
        if await offer_commit(self.app, lab, folder, check.host, catalog, others):
            self.forget_head()
            self.load_lab()
            if folder == self.folder:
                self.run_check()

    # ---- changes on disk -------------------------------------------------------------

    def check_disk(self) -> None:
        if self._covered():
            return  # History or Apply may be writing profiles: theirs, not news
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

    def _covered(self) -> bool:
        """Another screen of the editor is open over this one (History, Apply): it writes
        profiles itself (an undo, a pinned host key), and they are taken back, without a
        word, when it closes (take_back); the timer would see them as changes on disk."""
        stack = self.app.screen_stack
        above = stack[stack.index(self) + 1 :] if self in stack else []
        return any(not isinstance(screen, ModalScreen) for screen in above)

    def take_back(self) -> None:
        """The profiles the editor's other screens wrote, as they are now: a draft without
        unsaved edits follows its file (one with edits is asked about by check_disk)."""
        for folder in self.session.changed_on_disk():
            if not self.session.drafts[folder].dirty:
                self.reload(folder)

    @work(exclusive=True, group="disk")
    async def ask_disk(self, folder: str) -> None:
        answer = await self.app.push_screen_wait(changed_on_disk(profile_rel(folder), saving=False))
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
            self.reshow()
        self.update_row(folder)

    # ---- the option search (ctrl+o) --------------------------------------------------

    @work(exclusive=True, group="dialog")
    async def action_option_search(self) -> None:
        """Find an option in the index and add it to the host's options: (or the user's
        home.options, from the Home tab), with a field of its type."""
        from homelab.tui.screens.optionsearch import OptionSearch

        self.flush_editors()
        index = getattr(self.app, "option_index", lambda: None)()
        if index is None:
            self.notify(
                "No option index for this lab yet: make one with `homelab options update` "
                "(locally with Nix, or on a lab machine: `homelab options update HOST`)",
                title="option search",
                severity="warning",
                timeout=10,
            )
            return
        if self.folder is None:
            self.notify("Choose a host first: the option goes into its profile")
            return
        user = self.host_editor.home_user()
        if user is not None:
            search = OptionSearch(index.home, "home-manager", f"{user}'s home.options")
        else:
            search = OptionSearch(index.nixos, "NixOS", f"{self.folder}'s options:")
        chosen = await self.app.push_screen_wait(search)
        if chosen is not None:
            await self.host_editor.add_option(chosen, user)

    # ---- hosts -----------------------------------------------------------------------

    @work(exclusive=True, group="dialog")
    async def action_new_host(self) -> None:
        from homelab.tui.screens.newhost import NewHost, NewHostDialog  # deferred: start-up

        wizard = NewHostDialog(self.session.folders(), self.session.lab.root)
        answer = await self.app.push_screen_wait(wizard)
        if not isinstance(answer, NewHost):
            return
        self.add_host(answer)

    def add_host(self, new: NewHost) -> None:
        lab = self.session.lab
        try:
            text = lab.new_profile(
                new.profile(includes=lab.shared_fragments(), release=lab.release())
            )
        except InvalidInput as err:
            self.app.push_screen(Refused(f"hosts/{new.name} not added", err.problems))
            return
        self.session.add_host(new.name, text)
        self.keep_drafts()
        self.query_one(HostList).show_folders(new.name)
        self.select_host(new.name)
        then = f"save (ctrl+s) to write hosts/{new.name}/profile.yaml"
        if new.hardware_file:
            then = f"copy its hardware-configuration.nix to hosts/{new.name}/, then " + then
        self.notify(f"host {new.name} added: {then}")

    @work(exclusive=True, group="dialog")
    async def action_remove_host(self) -> None:
        folder = self.folder
        if folder is None:
            return
        if await self.app.push_screen_wait(remove_host(folder)) != "remove":
            return
        try:
            deleted = self.session.remove_host(folder)
        except InvalidInput as err:
            await self.app.push_screen_wait(Refused(f"hosts/{folder} not removed", err.problems))
            return
        self.folder = None
        self.keep_drafts()
        self.query_one(HostList).show_folders()
        folders = self.session.folders()
        if folders:
            self.select_host(folders[0])
        self.notify(f"removed {folder}: " + ", ".join(deleted))

    # ---- other screens ---------------------------------------------------------------

    def action_history(self) -> None:
        if self.folder is None:
            return
        from homelab.tui.screens.history import HistoryScreen  # deferred: start-up (git)

        self.app.push_screen(HistoryScreen(self.session, self.folder), self._after_history)

    def _after_history(self, reverted: Any) -> None:
        if reverted:
            for folder in list(self.session.drafts):
                if not self.session.drafts[folder].dirty:
                    self.session.reload(folder)
            self.forget_head()
            self.reshow()
            self.load_lab()

    def action_apply(self, review: bool = False) -> None:
        from homelab.tui.screens.apply import ApplyScreen  # deferred: start-up (paramiko)

        self.flush_editors()
        screen = ApplyScreen(self.session, self.folder, review=review)
        self.app.push_screen(screen, self._after_apply)

    def action_lab(self) -> None:
        from homelab.tui.screens.labview import LabScreen

        self.app.push_screen(LabScreen(self.session.lab), self._after_lab)

    def action_secrets(self) -> None:
        from homelab.tui.screens.secrets import SecretsScreen

        self.flush_editors()
        screen = SecretsScreen(self.session.lab, self.session.state, self.session.unsaved)
        self.app.push_screen(screen, self._after_lab)  # a commit: reload as after lab.yaml

    def action_map(self) -> None:
        from homelab.tui.screens.map import MapScreen

        self.flush_editors()
        self.app.push_screen(MapScreen(self.session.lab, self.session.state, self.session.unsaved))

    def _after_lab(self, saved: bool | None) -> None:
        if saved:  # lab.yaml changed: the lab's problems and every host's check read it
            self._first_entries = None
            self.session.catalog = None
            self.forget_head()
            self.load_lab()
            self.run_check()

    def _after_apply(self, _: object) -> None:
        self.take_back()  # a host key the apply pinned in a profile
        self.load_lab()
