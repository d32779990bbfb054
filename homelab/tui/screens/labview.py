"""The Lab screen (f5): lab.yaml, edited with keys: the release, the flake inputs (each
with whether flake.lock pins it), the overlays in their order, and every problem with its
place. Changes stay in memory (Lab.open_lab_yaml) until ctrl+s: lab.yaml is checked whole,
written with its comments kept, flake.nix made from it, and a commit offered as after a
profile's save. A lab without lab.yaml is offered one when that is simple."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList
from textual.widgets.option_list import Option

from homelab.editing.labyaml import EditError, LabYaml
from homelab.errors import InvalidInput
from homelab.lab import Lab, LabSummary
from homelab.labconfig.summary import InputLine
from homelab.tui.plain import Label, Static
from homelab.tui.screens.commit import CommitChoice, CommitDialog
from homelab.tui.screens.dialogs import Confirm, Refused
from homelab.tui.screens.labforms import InputChoice, InputForm, OverlayForm
from homelab.tui.widgets.footer import Footer

NO_LAB_YAML = (
    "This lab has no lab.yaml: it keeps a hand-kept flake.nix, which homelab never "
    "writes. A lab.yaml (release, inputs, overlays) lets homelab generate flake.nix; "
    "its modules and overlays are then listed in the profiles and in lab.yaml."
)
NOTE = (
    "ctrl+s saves lab.yaml (checked first), writes flake.nix from it and offers a commit. "
    "Tab moves between the release, the inputs and the overlays; Escape goes back."
)
RELEASE_HINT = "YY.MM: nixpkgs nixos-YY.MM and home-manager release-YY.MM"
FOLLOWS_RELEASE = ("nixpkgs", "home-manager")


def input_text(item: InputLine, width: int) -> Text:
    """One input's line: its name, url, what it follows and whether flake.lock pins it."""
    text = Text()
    text.append(f"{item.name.ljust(width)}  ", style="bold")
    text.append(item.url)
    if item.follows is not None:
        text.append(
            "  follows the lab's nixpkgs" if item.follows else "  keeps its own nixpkgs",
            style="dim",
        )
    if item.pinned:
        text.append(f"  pinned {item.pinned}", style="green")
    elif item.pinned_from:
        text.append(f"  NOT PINNED: flake.lock pins {item.pinned_from}", style="yellow")
    else:
        text.append("  NOT PINNED", style="yellow")
    return text


def overlay_text(number: int, overlay: str) -> Text:
    kind = "a file of the lab" if overlay.startswith(("./", "../")) else "from an input"
    text = Text(f"{number}. {overlay}")
    text.append(f"  ({kind})", style="dim")
    return text


def state_text(summary: LabSummary) -> Text:
    """Below the lists: the lock, then every problem with its place."""
    text = Text()
    if not summary.has_lock:
        text.append("There is no flake.lock yet: run `homelab lock`, and commit it.\n\n")
    text.append("Problems\n", style="bold")
    if not summary.problems:
        text.append("  none\n")
    for problem in summary.problems:
        mark = "warning" if problem.warning else "error"
        text.append(f"  {mark}: ", style="yellow" if problem.warning else "red")
        text.append(f"{problem.place}: {problem.message}\n")
        if problem.hint:
            text.append(f"    hint: {problem.hint}\n", style="dim")
    return text


class LabList(OptionList):
    """A list of the Lab screen: a adds, enter edits, delete removes."""

    noun = "entry"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add"),
        Binding("enter", "edit", "Edit"),
        Binding("delete,backspace", "remove", "Remove"),
    ]

    class Asked(Message):
        def __init__(self, sender: LabList, what: str, index: int | None) -> None:
            super().__init__()
            self.sender, self.what, self.index = sender, what, index

        @property
        def control(self) -> LabList:
            return self.sender

    def action_add(self) -> None:
        self.post_message(self.Asked(self, "add", None))

    def action_edit(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Asked(self, "edit", self.highlighted))

    def action_remove(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Asked(self, "remove", self.highlighted))

    def show(self, options: list[Option]) -> None:
        """New options, the highlight kept where it was (on the last when that is gone)."""
        at = self.highlighted
        self.clear_options()
        self.add_options(options)
        if options and not options[0].disabled:
            self.highlighted = min(at if at is not None else 0, len(options) - 1)


class InputList(LabList):
    """The flake inputs: nixpkgs and home-manager follow the release."""

    noun = "input"


class OverlayList(LabList):
    """The overlays, in the order they apply: shift+up and shift+down move one."""

    noun = "overlay"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("shift+up", "move(-1)", "Move up"),
        Binding("shift+down", "move(1)", "Move down"),
    ]

    def action_move(self, by: int) -> None:
        if self.highlighted is not None:
            self.post_message(self.Asked(self, "up" if by < 0 else "down", self.highlighted))


class LabScreen(Screen[bool]):
    """lab.yaml, edited; dismissed with True when it was saved (the editor reloads)."""

    DEFAULT_CSS = """
    LabScreen #lab-note { color: $text-muted; padding: 0 1; }
    LabScreen #lab-body { padding: 0 1; }
    LabScreen .lab-row { height: auto; }
    LabScreen .lab-row Label { padding: 1 1 0 0; text-style: bold; }
    LabScreen #lab-release { width: 12; }
    LabScreen .lab-hint { color: $text-muted; padding: 1 0 0 1; width: 1fr; }
    LabScreen LabList { height: auto; max-height: 12; margin: 1 0 0 0; }
    LabScreen #lab-state { margin: 1 0 0 0; }
    LabScreen #lab-status { color: $warning; padding: 0 1; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("c", "create", "Start a lab.yaml (a lab without one)"),
        Binding("escape", "back", "Back"),
        Binding("f5", "back", "Back", show=False),
    ]

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab
        self.draft: LabYaml = lab.open_lab_yaml()
        self.saved = False
        self.status = ""

    @property
    def unsaved(self) -> str:
        """What quitting would lose (the app asks each screen before it quits)."""
        return "lab.yaml has unsaved changes" if self.draft.dirty else ""

    # ---- what is shown -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        summary = self.draft.summary()
        if not summary.present:
            yield from self._compose_missing()
            yield Footer()
            return
        yield Static(NOTE, id="lab-note")
        yield Static(self.status, id="lab-status")
        with VerticalScroll(id="lab-body"):
            yield Static(Text("lab.yaml", style="bold") + " · flake.nix is generated from it")
            with Horizontal(classes="lab-row"):
                yield Label("Release")
                yield Input(summary.release, id="lab-release", max_length=8)
                yield Static(RELEASE_HINT, classes="lab-hint")
            inputs = InputList(id="lab-inputs")
            inputs.border_title = "Inputs"
            inputs.border_subtitle = "a adds · enter edits · delete removes"
            yield inputs
            overlays = OverlayList(id="lab-overlays")
            overlays.border_title = "Overlays · applied to every host's pkgs, in order"
            overlays.border_subtitle = "a adds · enter edits · delete removes · shift+↑↓ moves"
            yield overlays
            yield Static(state_text(summary), id="lab-state")
        yield Footer()

    def _compose_missing(self) -> ComposeResult:
        offer = self.draft.release_offer()
        text = NO_LAB_YAML
        if offer is not None:  # its flake.nix is none, or homelab's own: nothing is lost
            text = (
                "This lab has no lab.yaml. With one (release, inputs, overlays), homelab "
                "generates flake.nix from it; its modules and overlays are then listed in "
                "the profiles and in lab.yaml.\n\n"
                f"Press c to start one (release {offer}): it is made here, then ctrl+s "
                "writes it and flake.nix from it (this lab's flake.nix, if any, is "
                "homelab's skeleton or generated: nothing written by hand is replaced)."
            )
        with VerticalScroll(id="lab-body"):
            yield Static(text, id="lab-text")

    def on_mount(self) -> None:
        self.show_lists()
        found = self.query("#lab-release")
        (found.first() if found else self.query_one("#lab-body")).focus()

    def show_lists(self, summary: LabSummary | None = None) -> None:
        if not self.query("#lab-inputs"):
            return
        summary = summary or self.draft.summary()
        width = max((len(i.name) for i in summary.inputs), default=0)
        self.query_one(InputList).show(
            [Option(input_text(i, width), id=i.name) for i in summary.inputs]
        )
        overlays = [Option(overlay_text(n, o)) for n, o in enumerate(summary.overlays, 1)]
        self.query_one(OverlayList).show(overlays or [Option("(none: a adds one)", disabled=True)])
        self.query_one("#lab-state", Static).update(state_text(summary))
        self.query_one("#lab-status", Static).update(
            self.status or ("unsaved changes: ctrl+s saves" if self.draft.dirty else "")
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "create":
            return self.draft.text is None and self.draft.release_offer() is not None
        return True

    # ---- changes -------------------------------------------------------------------------

    def _change(self, what: str, change: Callable[[], None]) -> bool:
        """Make one change to lab.yaml in memory; False (said) when it cannot be made."""
        try:
            change()
        except EditError as err:
            self.notify(f"{what}: {err}", severity="warning")
            return False
        self.status = ""
        self.show_lists()
        return True

    @on(Input.Changed, "#lab-release")
    def _release(self, event: Input.Changed) -> None:
        if event.value.strip() != self.draft.summary().release:
            self._change("release", lambda: self.draft.set_release(event.value.strip()))

    @on(Input.Submitted, "#lab-release")
    def _release_done(self, event: Input.Submitted) -> None:
        self.focus_next()

    @on(LabList.Asked)
    def _asked(self, event: LabList.Asked) -> None:
        event.stop()
        self.ask(event.what, event.index, isinstance(event.control, OverlayList))

    @work(exclusive=True, group="dialog")
    async def ask(self, what: str, index: int | None, overlay: bool) -> None:
        summary = self.draft.summary()
        if overlay:
            await self._overlay(what, index, summary.overlays)
        else:
            await self._input(what, index, summary.inputs)

    async def _input(self, what: str, index: int | None, inputs: tuple[InputLine, ...]) -> None:
        item = inputs[index] if index is not None and index < len(inputs) else None
        if item is not None and item.name in FOLLOWS_RELEASE:
            self.notify(
                f"{item.name} comes with the release: change the release above "
                f"(or give lab.yaml a `{item.name}: {{url: ...}}` of its own)",
                severity="warning",
            )
            return
        if what == "remove" and item is not None:
            self._change("remove", lambda: self.draft.remove_input(item.name))
            return
        given = InputChoice(item.name, item.url, item.follows is not False) if item else None
        choice = await self.app.push_screen_wait(InputForm(given if what == "edit" else None))
        if not isinstance(choice, InputChoice):
            return
        was = item.name if what == "edit" and item is not None else None
        self._change(
            "input", lambda: self.draft.set_input(choice.name, choice.url, choice.follows, was)
        )

    async def _overlay(self, what: str, index: int | None, overlays: tuple[str, ...]) -> None:
        known = index is not None and index < len(overlays)
        if what in ("up", "down", "remove") and not known:
            return
        at = index or 0
        if what in ("up", "down"):
            by = -1 if what == "up" else 1
            if self._change("move", lambda: self.draft.move_overlay(at, by)):
                self.query_one(OverlayList).highlighted = max(0, min(at + by, len(overlays) - 1))
            return
        if what == "remove":
            self._change("remove", lambda: self.draft.remove_overlay(at))
            return
        old = overlays[at] if what == "edit" and known else ""
        if what == "edit" and not known:
            return
        choice = await self.app.push_screen_wait(OverlayForm(old))
        if not isinstance(choice, str) or choice == old:
            return
        if old:
            self._change("overlay", lambda: self.draft.set_overlay(at, choice))
        else:
            self._change("overlay", lambda: self.draft.add_overlay(choice))

    async def action_create(self) -> None:
        offer = self.draft.release_offer()
        if self.draft.text is not None or offer is None:
            return
        self.draft.create(offer)
        await self.recompose()
        self.show_lists()
        self.query_one("#lab-release").focus()

    # ---- saving and leaving ----------------------------------------------------------------

    @work(exclusive=True, group="dialog")
    async def action_save(self) -> None:
        await self.save()

    async def save(self) -> bool:
        """Write lab.yaml and its flake.nix, then offer a commit. False when refused."""
        if self.draft.text is None:
            return False
        try:
            saved = self.draft.save()
        except InvalidInput as err:
            await self.app.push_screen_wait(Refused("Not saved: lab.yaml", err.problems))
            return False
        self.saved = True
        written = ", ".join(saved.written) or "nothing changed"
        lock = ""
        if saved.to_lock:
            lock = (
                f"; inputs new or changed ({', '.join(saved.to_lock)}) need "
                "`homelab lock` to be pinned (then commit flake.lock)"
            )
        self.status = f"saved: {written}{lock}"
        self.show_lists()
        self.notify(self.status)
        try:
            pending = self.draft.pending()
        except Exception as err:
            self.notify(f"cannot prepare a commit: {err}", severity="warning")
            return True
        if pending is None:
            return True
        choice = await self.app.push_screen_wait(
            CommitDialog("", pending.subject, pending.lines, title="Commit lab.yaml")
        )
        if isinstance(choice, CommitChoice):
            try:
                done = self.draft.commit(choice.words or None, choice.subject)
            except InvalidInput as err:
                await self.app.push_screen_wait(Refused("Not committed", err.problems))
                return True
            except Exception as err:
                self.notify(f"commit failed: {err}", severity="error")
                return True
            said = f"committed {done.sha[:7]} {done.subject}" if done else "nothing to commit"
            self.status = said + lock
            self.notify(said)
            self.show_lists()
        return True

    @work(exclusive=True, group="dialog")
    async def action_back(self) -> None:
        if self.draft.dirty:
            answer = await self.app.push_screen_wait(
                Confirm(
                    "Unsaved changes",
                    "lab.yaml has changes that are not saved.\n"
                    "Save them (then leave), throw them away, or go back to them?",
                    [
                        ("Go back", "cancel", "default"),
                        ("Discard", "discard", "error"),
                        ("Save", "save", "primary"),
                    ],
                    focus="cancel",  # Enter right away keeps the changes on screen
                )
            )
            if answer == "save":
                if not await self.save():
                    return
            elif answer != "discard":
                return
        self.dismiss(self.saved)
