"""The Lab screen (f5): lab.yaml as the generated flake reads it: the release, each input
with whether flake.lock pins it, the overlays, and every problem with its place. It shows;
lab.yaml is edited as a file (then `homelab lock`)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header

from homelab.lab import Lab, LabSummary
from homelab.tui.plain import Static

NO_LAB_YAML = (
    "This lab has no lab.yaml: it keeps a hand-kept flake.nix, which homelab never "
    "writes. A lab.yaml (release, inputs, overlays) lets homelab generate flake.nix; "
    "its modules and overlays are then listed in the profiles and in lab.yaml."
)


def lab_text(summary: LabSummary) -> Text:
    """What the screen says, as lines that read the same without colour."""
    text = Text()
    if not summary.present:
        text.append(NO_LAB_YAML + "\n")
        return text
    text.append("lab.yaml", style="bold")
    text.append(" · flake.nix is generated from it\n\n")
    text.append("Release: ", style="bold")
    text.append((summary.release or "(not set)") + "\n\n")
    text.append("Inputs\n", style="bold")
    if not summary.inputs:
        text.append("  (none that can be read)\n")
    width = max((len(i.name) for i in summary.inputs), default=0)
    for item in summary.inputs:
        text.append(f"  {item.name.ljust(width)}  ", style="bold")
        text.append(item.url)
        if item.follows is not None:
            text.append(
                "  follows the lab's nixpkgs" if item.follows else "  keeps its own nixpkgs",
                style="dim",
            )
        if item.pinned:
            text.append(f"  pinned {item.pinned}\n", style="green")
        elif item.pinned_from:
            text.append(f"  NOT PINNED: flake.lock pins {item.pinned_from}\n", style="yellow")
        else:
            text.append("  NOT PINNED\n", style="yellow")
    text.append("\nOverlays (applied to every host's pkgs, in order)\n", style="bold")
    if not summary.overlays:
        text.append("  (none)\n")
    for i, overlay in enumerate(summary.overlays, 1):
        kind = "a file of the lab" if overlay.startswith(("./", "../")) else "from an input"
        text.append(f"  {i}. {overlay}")
        text.append(f"  ({kind})\n", style="dim")
    if not summary.has_lock:
        text.append("\nThere is no flake.lock yet: run `homelab lock`, and commit it.\n")
    text.append("\nProblems\n", style="bold")
    if not summary.problems:
        text.append("  none\n")
    for problem in summary.problems:
        mark = "warning" if problem.warning else "error"
        text.append(f"  {mark}: ", style="yellow" if problem.warning else "red")
        text.append(f"{problem.place}: {problem.message}\n")
        if problem.hint:
            text.append(f"    hint: {problem.hint}\n", style="dim")
    return text


class LabScreen(Screen[None]):
    """lab.yaml, read-only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f5", "back", "Back", show=False),
    ]

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "The lab's lab.yaml: edit it as a file, then `homelab lock` pins new inputs. "
            "Escape goes back.",
            id="lab-note",
        )
        with VerticalScroll(id="lab-body"):
            yield Static(lab_text(self.lab.lab_settings()), id="lab-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#lab-body").focus()

    def action_back(self) -> None:
        self.dismiss(None)
