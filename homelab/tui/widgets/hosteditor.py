"""The selected host's editor: a tab per part of its profile (each editor made when its
tab is first shown) and the problems panel under them.

The screen says which host to show and when its data changed; the editor brings the
visible tab up to date (the others wait until they are shown), puts the problems next to
their fields, hands over the edits still waiting for a typing pause, and brings a
problem's field into view (a jump from the problems panel).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, TabbedContent, TabPane, Tabs

from homelab.editing.session import Session, profile_rel
from homelab.errors import Problem
from homelab.lab import Lab
from homelab.optionindex.model import Option
from homelab.tui.labpart import HostPart
from homelab.tui.widgets import editors as ed  # each tab's module loads when first shown
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors.base import Editor
from homelab.tui.widgets.editors.form import NetworkEditor, SystemEditor
from homelab.tui.widgets.fieldhelp import FieldHelp
from homelab.tui.widgets.problems import ProblemsPanel

# tab id, title, the generated file it is about (the preview scrolls to it)
# the tabs' editors not shown yet are made ahead, one at a time, once no key came for a while
AHEAD_EVERY = 0.1  # seconds between two
AHEAD_QUIET = 0.5  # seconds without a key before one is made
# not in a headless run (the tests): there a tab's widgets are only those of tabs visited
AHEAD_HEADLESS = False

TABS: list[tuple[str, str, str]] = [
    ("system", "System", "boot.nix"),
    ("networking", "Network", "networking.nix"),
    ("users", "Users", "users.nix"),
    ("home", "Home", "home.nix"),
    ("services", "Services", "services.nix"),
    ("containers", "Containers", "containers.nix"),
    ("options", "Options", "options.nix"),
    ("nix", "Raw Nix", "extra.nix"),
    ("yaml", "YAML", "configuration.nix"),
]


def tabs_for(path: str) -> list[str]:
    """Where a problem's field may be, most likely first."""
    if path.startswith("users."):
        parts = path.split(".")
        return ["home", "users"] if len(parts) > 2 and parts[2].startswith("home") else ["users"]
    for prefix, tab in (
        ("services.", "services"),
        ("containers.", "containers"),
        ("options", "options"),
        ("extraConfig", "nix"),
    ):
        if path.startswith(prefix) or path == prefix.rstrip("."):
            return [tab]
    if path.startswith(("networking", "deploy")):
        return ["networking"]
    if path:
        return ["system"]
    return []


def changes_lists(path: Sequence[str | int]) -> bool:
    """An edit that changes what a list shows (an entry added or removed): the lists show
    merged data, so it is checked again before they are."""
    if len(path) == 2 and path[0] in ("users", "containers", "services"):
        return True
    return "programs" in path and (len(path) == 5 or path[-1] == "enable")


class HostEditor(Vertical):
    """The tabs and the problems panel of the host the screen shows."""

    def __init__(
        self,
        session: Session[Lab],
        *,
        id: str | None = None,
        catalogue: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(id=id)
        self.session = session
        self.whole_catalogue = catalogue  # the whole catalogue read, when it is not yet
        self.folder: str | None = None
        self.editors: dict[str, Editor] = {}
        self.stale: set[str] = set()  # editors whose host data changed since they showed it
        self._ahead: Timer | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            for tab, title, _ in TABS:
                yield TabPane(title, id=f"tab-{tab}")
        yield FieldHelp(lambda: self.session.catalog, id="fieldhelp")
        yield ProblemsPanel(id="problems")

    # ---- tabs ------------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        return (self.query_one(TabbedContent).active or "tab-system").removeprefix("tab-")

    def show_tab(self, tab: str, focus: bool = False) -> None:
        """Show the tab. Focus left in the tab that is hidden goes to the tab bar (a
        widget in another tab would make that tab the active one again); focus: the tab
        bar takes it wherever it is (the command palette gives it back when it closes)."""
        tabs = self.query_one(TabbedContent)
        bar = tabs.query_one(Tabs)
        if focus or self.in_tab(self.screen.focused):
            self.screen.set_focus(bar)
        tabs.active = f"tab-{tab}"

    def step_tab(self, step: int) -> None:
        """The next (1) or previous (-1) tab, round the end."""
        names = [tab for tab, _, _ in TABS]
        self.show_tab(names[(names.index(self.active_tab) + step) % len(names)])

    def in_tab(self, widget: Widget | None) -> bool:
        """The widget is in a tab's content (not the tab bar)."""
        switcher = self.query_one(TabbedContent).query_one(ContentSwitcher)
        return widget is not None and switcher in widget.ancestors

    def leave(self, widget: Widget | None) -> bool:
        """Move the focus one step up from widget (escape): from a field to its entry
        list (users, services, programs) or to the tab bar, from the tab bar to the
        hosts. False when the screen moves it (the tab bar, a widget outside the editor)."""
        if widget is None or self not in widget.ancestors_with_self:
            return False
        bar = self.query_one(TabbedContent).query_one(Tabs)
        if widget is bar:
            return False  # the screen takes it to the hosts
        editor = self.editors.get(self.active_tab)
        target: Widget = bar
        if isinstance(editor, ed.ListDetail) and widget is not editor.entries:
            into = [editor.detail(), *editor.query(".detail-add")]
            if any(box in widget.ancestors_with_self for box in into):
                target = editor.entries
        self.screen.set_focus(target)
        target.scroll_visible(animate=False)
        return True

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        self.show_active()  # not stopped: the screen scrolls the preview to the tab's file

    def _mount_editor(self, tab: str, problems: list[Problem]) -> None:
        editor = self.make_editor(tab)
        self.editors[tab] = editor
        self.query_one(f"#tab-{tab}", TabPane).mount(editor)
        editor.problems = problems
        self.call_after_refresh(editor.set_problems, problems)

    def make_ahead(self) -> None:
        """From now on, make the editors of the tabs not shown yet in pauses of the keys
        (called once the lab has loaded: not to slow the opening)."""
        if self._ahead is None and (AHEAD_HEADLESS or not self.app.is_headless):
            self._ahead = self.set_interval(AHEAD_EVERY, self._make_one_ahead)

    def _make_one_ahead(self) -> None:
        """Make one more tab's editor, hidden, while no key comes: a tab's first visit
        then only shows it (making the Home or Services tab's widgets takes a few hundred
        milliseconds, a wait after a key that a person notices)."""
        missing = [tab for tab, _, _ in TABS if tab not in self.editors]
        if not missing and self._ahead is not None:
            self._ahead.stop()
            return
        quiet = time.monotonic() - getattr(self.app, "last_key", 0.0) > AHEAD_QUIET
        if self.folder is None or not quiet or self.app.screen is not self.screen:
            return
        self._mount_editor(missing[0], self._problems())

    def make_editor(self, tab: str) -> Editor:
        assert self.folder is not None
        own, merged = self.session.data(self.folder), self.session.merged(self.folder)
        if tab == "system":
            return SystemEditor(own, merged, id="ed-system")
        if tab == "networking":
            return NetworkEditor(own, merged, lab=self.lab_part, id="ed-networking")
        if tab == "users":
            return ed.UsersEditor(own, merged, id="ed-users")
        if tab == "home":
            return ed.HomeEditor(own, merged, id="ed-home")
        if tab == "services":
            self.whole_catalogue()  # it offers every entry
            assert self.session.catalog is not None
            return ed.ServicesEditor(
                self.session.catalog,
                own,
                merged,
                domain=self.lab_domain,
                lab=self.lab_part,
                id="ed-services",
            )
        if tab == "containers":
            return ed.ContainersEditor(own, merged, id="ed-containers")
        if tab == "options":
            return ed.OptionsEditor(own, merged, id="ed-options")
        if tab == "nix":
            return ed.RawNixEditor(own, merged, self.profile_text, id="ed-nix")
        return ed.YamlEditor(self.session.text(self.folder), id="ed-yaml")

    def lab_domain(self) -> tuple[str | None, bool]:
        """lab.yaml's domain, and whether the lab is loaded (before, none is known)."""
        state = self.session.state
        if state is None:
            return None, False
        domain = state.config.domain if state.config is not None else None
        return (domain.name if domain is not None else None), True

    def lab_part(self) -> HostPart:
        """The shown host's part in the lab's wiring, as the last full load planned it."""
        state = self.session.state
        return HostPart(state.wiring if state is not None else None, self.folder)

    def lab_loaded(self) -> None:
        """The whole lab is loaded: the Services tab learns the lab's domain, and the
        Network and Services tabs what the lab's wiring sets."""
        editor = self.editors.get("services")
        if isinstance(editor, ed.ServicesEditor) and editor.composed:
            editor.show_domain()
            editor.show_lab()
        network = self.editors.get("networking")
        if isinstance(network, NetworkEditor) and network.composed:
            network.show_lab()

    # ---- an option from the option search ----------------------------------------------

    def home_user(self) -> str | None:
        """The user whose home form is shown (the Home tab), whose home.options the option
        search adds to; None elsewhere."""
        editor = self.editors.get("home")
        if self.active_tab != "home" or not isinstance(editor, ed.HomeEditor):
            return None
        return editor.user

    async def add_option(self, option: Option, user: str | None) -> None:
        """The option added (or selected, when set already) in the Options tab, or in the
        Home tab's options of user; the focus on its value."""
        tab = "options" if user is None else "home"
        editor = await self._open_tab(tab)
        # a fresh tab makes its form on the next refreshes, the rows' insides after the
        # rows: the type's select can be there before the path's input (inserting then
        # failed), so every part the insert fills is waited for
        parts = ("#option-path", "#option-kind", "#option-value", "#option-value-says")
        for _ in range(50):
            if all(editor.query(part) for part in parts):
                break
            await asyncio.sleep(0.02)
        kind = ed.OptionsEditor
        options = editor if isinstance(editor, kind) else editor.query_one(kind)
        options.insert(option)

    def profile_text(self) -> str:
        """The shown host's profile, unsaved edits and all."""
        return self.session.text(self.folder) if self.folder is not None else ""

    def _problems(self) -> list[Problem]:
        check = self.session.checks.get(self.folder) if self.folder is not None else None
        return list(check.shown) if check else []

    def show_active(self) -> None:
        """Bring the visible tab up to date (others wait until they are shown)."""
        if self.folder is None:
            return
        tab = self.active_tab
        problems = self._problems()
        if tab not in self.editors:
            self._mount_editor(tab, problems)
            return
        editor = self.editors[tab]
        if tab in self.stale and not (editor.is_mounted and editor.children):
            self.call_after_refresh(self.show_active)  # still mounting: show it then
            return
        if tab in self.stale:
            self.stale.discard(tab)
            if isinstance(editor, ed.YamlEditor):
                editor.show_text(self.session.text(self.folder))
            else:
                editor.show(self.session.data(self.folder), self.session.merged(self.folder))
            editor.set_problems(problems, again=True)  # its fields were refilled
            return
        editor.set_problems(problems)

    def changed(self, *, all_tabs: bool = True) -> None:
        """The host's data changed: every tab shows it again when shown (but the visible
        one, whose edit it was, unless all_tabs)."""
        keep = set() if all_tabs else {self.active_tab}
        self.stale = set(self.editors) - keep

    def pending(self) -> list[Message]:
        """Edits still waiting for a typing pause, in every editor, taken now."""
        return [m for editor in list(self.editors.values()) for m in editor.pending()]

    def show_problems(self, problems: list[Problem]) -> None:
        self.query_one(ProblemsPanel).show(problems)
        editor = self.editors.get(self.active_tab)
        if editor is not None and self.active_tab not in self.stale:
            editor.set_problems(problems)

    def names_to_offer(self, kind: str) -> list[str]:
        """Names a field completes as they are typed (kind: groups): the shown host's,
        from its last check with a valid profile."""
        check = self.session.checks.get(self.folder) if self.folder is not None else None
        if kind == "groups" and check is not None and check.host.groups:
            self._groups = list(check.host.groups)
        return getattr(self, "_groups", [])

    def focus_problems(self) -> None:
        self.query_one(ProblemsPanel).focus()

    # ---- jumping to a problem --------------------------------------------------------

    @on(ProblemsPanel.Jump)
    async def _jump(self, event: ProblemsPanel.Jump) -> None:
        event.stop()
        await self.jump(event.problem)

    async def jump(self, problem: Problem) -> None:
        if self.folder is None:
            return
        path = problem.path
        for tab in tabs_for(path):
            target = await self._find_in(tab, path)
            if target is not None:
                self._focus(target)
                return
        if problem.place.file == profile_rel(self.folder) and problem.place.line:
            await self._open_tab("yaml")
            editor = self.editors["yaml"]
            assert isinstance(editor, ed.YamlEditor)
            editor.go_to(problem.place.line, problem.place.column)
            editor.area.focus()
            return
        self.notify(
            f"{problem.place}: {problem.message}", title="in another file", severity="warning"
        )

    async def _open_tab(self, tab: str) -> Editor:
        self.show_tab(tab)
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
            await asyncio.sleep(0.02)
        self.show_active()
        return editor

    async def _find_in(self, tab: str, path: str) -> Widget | None:
        editor = await self._open_tab(tab)
        for _ in range(3):  # a fresh editor mounts its fields on the next refreshes
            target = editor.find(path)
            if target is not None:
                return target
            await asyncio.sleep(0.02)
        return None

    def _focus(self, target: Widget) -> None:
        if isinstance(target, f.Field | f.Group):
            target.focus_control()
        else:
            target.focus()
        target.scroll_visible(animate=False)
