"""The help screen (? or F1): the keys of the screen you are on, grouped by what they do.

The keys are read from the screens' and widgets' BINDINGS when it opens, so a key added
to a screen or a list shows up here with no edit of this file; only the short intro of
each screen and the words of the groups are written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import OptionList, TextArea
from textual.widgets._select import SelectOverlay

from homelab.tui.plain import Static, plain, title_of

INTROS = {
    "MainScreen": (
        "The editor",
        "Hosts on the left, the chosen host's profile in tabs, its generated Nix on the "
        "right. Edits are checked as you type (Problems, under the tabs) and kept as "
        "drafts; nothing is written until you save. Tab and shift+Tab move between "
        "fields; the line above the problems explains the focused one.",
    ),
    "HistoryScreen": (
        "History",
        "The host's commits, newest first, with what is deployed where; the chosen "
        "commit's summary and Nix diff beside them.",
    ),
    "LabScreen": (
        "Lab",
        "The lab's lab.yaml: its release, each flake input and whether flake.lock pins "
        "it, the overlays, and its problems with their places. Change them here (Tab "
        "moves between the release, the inputs and the overlays); ctrl+s checks lab.yaml, "
        "writes it with its comments and flake.nix, and offers a commit. New inputs then "
        "need `homelab lock`.",
    ),
    "SecretsScreen": (
        "Secrets",
        "The lab's encrypted secrets (encrypted/NAME.age): the hosts that use each, who "
        "should open it and whether they can, read from the file itself; below, the chosen "
        "one's settings and problems. Each action commits at once. A value is shown only "
        "when asked for, and only until its dialog closes.",
    ),
    "MapScreen": (
        "Map",
        "The lab's hosts with their addresses, roles, services, ports and names under the "
        "domain, then every link between two machines: the proxy to its backends, DNS, "
        "Prometheus scrapes, backups and MQTT. `homelab map` draws the same as SVG or Mermaid.",
    ),
    "ApplyScreen": (
        "Apply",
        "Choose hosts (or a tag) and a mode, review what goes out, then apply: each "
        "host's output shows live in its own pane.",
    ),
}
DIALOG = (
    "This dialog",
    "Tab and shift+Tab move between its fields and buttons; Enter presses the focused "
    "button; Escape closes it without doing anything.",
)

# the groups keys are shown in, by the name of their action
GROUPS = {
    "save": "Save and commit",
    "commit": "Save and commit",
    "new_host": "Hosts",
    "remove_host": "Hosts",
    "next_host": "Hosts",
    "toggle_diff": "What you see",
    "toggle_preview": "What you see",
    "widen_preview": "What you see",
    "focus_diff": "What you see",
    "problems": "What you see",
    "review": "What you see",
    "history": "Other screens",
    "apply": "Other screens",
    "lab": "Other screens",
    "secrets": "Other screens",
    "map": "The lab drawn",  # its own: f10 would widen the key column of Other screens
    "set_value": "Secrets",
    "new_secret": "Secrets",
    "show_value": "Secrets",
    "rekey": "Secrets",
    "rekey_stale": "Secrets",
    "back": "Other screens",
    "revert": "Changes",
    "undo": "Changes",
    "go_back": "Changes",
    "filter": "Search",
    "option_search": "Search",
    "complete": "Search",
    "search": "Search",
    "leave": "Moving around",
    "cancel_apply": "Changes",
    "focus_next": "Moving around",
    "focus_previous": "Moving around",
    "cancel": "Moving around",
    "quit": "Everywhere",
    "help": "Everywhere",
    "command_palette": "Everywhere",
}
# Textual's own words for some keys, said plainly
SAID = {"command_palette": "Command palette: every action by its name"}
ORDER = [
    "Tabs",
    "Save and commit",
    "Hosts",
    "What you see",
    "Changes",
    "Secrets",
    "Other screens",
    "The lab drawn",
    "Search",
    "Moving around",
    "More keys",
    "Everywhere",
]
# the keys of every list (moving along it), from Textual's OptionList
LIST_MOVES = {"cursor_up", "cursor_down", "first", "last", "page_up", "page_down", "select"}
# the keys of a YAML box worth knowing (Textual's TextArea has many more: arrows, words)
YAML_KEYS = {"undo", "redo", "cut", "copy", "paste", "select_all", "delete_line"}
YAML_NOTE = "Tab types an indent in a text box; Escape leaves the box."


@dataclass(frozen=True)
class Section:
    title: str
    keys: tuple[tuple[str, str], ...]  # (keys, what they do)
    note: str = ""


def action_name(action: str) -> str:
    """'app.tab('users')' -> 'tab'."""
    return action.split("(")[0].rsplit(".", 1)[-1]


def group_of(action: str) -> str:
    name = action_name(action)
    if "tab" in name.split("_"):
        return "Tabs"
    return GROUPS.get(name, "More keys")


def key_text(app: App[Any], key: str, binding: Binding) -> str:
    shown = binding.key_display or app.get_key_display(Binding(key, binding.action))
    return re.sub(r"\^(?=.)", "ctrl+", shown).replace("shift+ctrl+", "ctrl+shift+")


def _rows(app: App[Any], bindings: Iterable[tuple[str, Binding]]) -> list[tuple[str, str, str]]:
    """(action, keys, description): the keys that do the same together, in their order
    (alt+1 and 1 both show the System tab)."""
    rows: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for key, binding in bindings:
        if binding.system or not binding.description or key.startswith("super+"):
            continue  # super+: the macOS command key, which terminals do not pass on
        shown = key_text(app, key, binding)
        what = SAID.get(action_name(binding.action), binding.description)
        _, keys = rows.setdefault((group_of(binding.action), what), (binding.action, []))
        if shown not in keys:
            keys.append(shown)
    return [(action, ", ".join(keys), what) for (_, what), (action, keys) in rows.items()]


def own_bindings(cls: type[Widget]) -> list[tuple[str, Binding]]:
    """The bindings homelab's own classes give a widget class (not Textual's)."""
    out: list[tuple[str, Binding]] = []
    for base in reversed(cls.__mro__):
        if base.__module__.startswith("homelab.") and "BINDINGS" in base.__dict__:
            out += list(BindingsMap(base.__dict__["BINDINGS"]))
    return out


# lists not on screen yet (their tab was not shown), by what they list
PLACES = {"NameList": "users, containers", "ProgramList": "programs", "ItemList": "list fields"}


def _place(cls: type[Widget], widgets: Sequence[Widget]) -> str:
    """How a list is called: its border titles on screen, else its noun or class name."""
    titles = [title_of(w) for w in widgets if type(w) is cls and title_of(w)]
    if titles:
        return ", ".join(dict.fromkeys(t.split(" ·")[0].lower() for t in titles))
    if cls.__name__ in PLACES:
        return PLACES[cls.__name__]
    noun = getattr(cls, "noun", "")
    if noun and noun != "entry":
        return noun + "s"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cls.__name__).lower()


def lazy_lists(screen: Screen[Any]) -> list[type[Widget]]:
    """Lists a screen makes later (the editor's tabs make theirs when first shown)."""
    if type(screen).__name__ != "MainScreen":
        return []
    from homelab.tui.widgets import editors
    from homelab.tui.widgets.editors.listdetail import EntryList

    editors.load_all()  # a list's class exists once its tab's module is loaded
    found: list[type[Widget]] = []
    todo: list[type[Widget]] = [EntryList]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return [c for c in found if c is not EntryList]


def list_section(app: App[Any], screen: Screen[Any]) -> Section | None:
    # a Select's drop-down is an OptionList too: it is part of the Select, not a list
    widgets = [w for w in screen.query(OptionList) if not isinstance(w, SelectOverlay)]
    if not widgets and type(screen).__name__ != "MainScreen":
        return None
    classes = list(dict.fromkeys([type(w) for w in widgets] + lazy_lists(screen)))
    rows = [
        (keys, what)
        for action, keys, what in _rows(app, OptionList._merge_bindings())
        if action in LIST_MOVES
    ]
    places: dict[tuple[str, str], list[str]] = {}
    for cls in classes:
        for _, keys, what in _rows(app, own_bindings(cls)):
            places.setdefault((keys, what), []).append(_place(cls, widgets))
    homelab_lists = [c for c in classes if c.__module__.startswith("homelab.")]
    for (keys, what), where in places.items():
        if len(where) < len(homelab_lists):  # not every list: say which
            what += "  (" + ", ".join(dict.fromkeys(where)) + ")"
        rows.append((keys, what))
    return Section("In lists", tuple(rows))


def yaml_section(app: App[Any], screen: Screen[Any]) -> Section | None:
    if type(screen).__name__ != "MainScreen":
        return None
    from homelab.tui.widgets.editors import RawNixEditor, YamlEditor
    from homelab.tui.widgets.fields import YamlField

    rows = [(keys, what) for _, keys, what in _rows(app, own_bindings(YamlField))]
    rows += [(keys, what) for _, keys, what in _rows(app, own_bindings(YamlEditor))]
    rows += [(keys, what) for _, keys, what in _rows(app, own_bindings(RawNixEditor))]
    # a key the screen or the app binds first (priority) never reaches the box
    taken = {k for node in (screen, app) for k, b in node._bindings if b.priority}
    box_keys = [(k, b) for k, b in TextArea._merge_bindings() if k not in taken]
    rows += [(keys, what) for action, keys, what in _rows(app, box_keys) if action in YAML_KEYS]
    return Section("In text boxes (YAML, Raw Nix)", tuple(rows), YAML_NOTE)


def sections(screen: Screen[Any]) -> list[Section]:
    """The keys of a screen (and of the app, which work on every screen), grouped."""
    app = screen.app
    groups: dict[str, list[tuple[str, str]]] = {}
    # _bindings: the class's BINDINGS merged with its bases', as Textual dispatches them
    for action, keys, what in _rows(app, screen._bindings):
        groups.setdefault(group_of(action), []).append((keys, what))
    everywhere = groups.setdefault("Everywhere", [])
    for _, keys, what in _rows(app, app._bindings):
        if (keys, what) not in everywhere:
            everywhere.append((keys, what))
    out = [Section(title, tuple(groups[title])) for title in ORDER if groups.get(title)]
    extra = [list_section(app, screen), yaml_section(app, screen)]
    out[-1:-1] = [s for s in extra if s is not None and s.keys]
    return out


def intro(screen: Screen[Any]) -> tuple[str, str]:
    for cls in type(screen).__mro__:
        if cls.__name__ in INTROS:
            return INTROS[cls.__name__]
    return DIALOG if isinstance(screen, ModalScreen) else ("This screen", "")


def render(screen: Screen[Any]) -> Text:
    """The help of a screen, as text: its intro, then its keys by group."""
    _, about = intro(screen)
    text = Text()
    if about:
        text.append(about + "\n")
    for section in sections(screen):
        text.append("\n" + section.title + "\n", style="bold")
        if section.note:
            text.append(section.note + "\n", style="italic")
        width = max(len(keys) for keys, _ in section.keys)
        for keys, what in section.keys:
            text.append("  " + keys.ljust(width), style="bold")
            text.append("  " + what + "\n")
    return text


class HelpScreen(ModalScreen[None]):
    """The keys of the screen under it; escape, q, ? or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary 60%; background: $surface; padding: 0 1;
        border-title-style: bold; border-subtitle-color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", show=False),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        title, _ = intro(self.under)
        box = VerticalScroll()
        box.border_title = plain(f"Keys: {title.lower()}")
        box.border_subtitle = "Escape, q, ? or F1: close"
        with box:
            yield Static(render(self.under), classes="help-text")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # the arrows scroll a long help

    def action_close(self) -> None:
        self.dismiss(None)


def toggle_help(app: App[Any]) -> None:
    """? or F1: the help of the screen shown, or close the help shown."""
    if isinstance(app.screen, HelpScreen):
        app.screen.dismiss(None)
    else:
        app.push_screen(HelpScreen(app.screen))
