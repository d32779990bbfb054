"""Plain forms over some top-level sections of a profile: the System and Network tabs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.lazy import Lazy
from textual.widget import Widget

from homelab.errors import Problem
from homelab.profile.schema import profile_schema
from homelab.tui.labpart import HostPart
from homelab.tui.schema import fields
from homelab.tui.widgets import fields as f
from homelab.tui.widgets.editors.base import Data, Editor

EAGER = 2  # sections of a form mounted before its first frame


class FormEditor(Editor, VerticalScroll):
    """Fields for some top-level sections of the profile, in the order of `sections`."""

    # Textual styles a widget by the classes of its first base's line only, so
    # VerticalScroll's own rules never reached this one: a tall form did not scroll, and
    # a field below the fold was focused out of sight
    DEFAULT_CSS = """
    FormEditor { layout: vertical; overflow-x: hidden; overflow-y: auto; }
    """

    sections: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        own: Data,
        merged: Data,
        *,
        lab: Callable[[], HostPart] = lambda: HostPart(None, None),
        id: str | None = None,
    ):
        super().__init__(id=id)
        self.lab = lab  # the shown host's part in the lab's wiring, as last loaded
        self.lab_notes = lab().notes()
        root = profile_schema()
        wanted = set(self.sections)
        specs = fields(root, root, skip=frozenset(k for k in root["properties"] if k not in wanted))
        order = {name: i for i, name in enumerate(self.sections)}
        self.specs = sorted(specs, key=lambda s: order[_top(s)])
        self.own, self.merged = own, merged

    def compose(self) -> ComposeResult:
        for i, widget in enumerate(f.build(self.specs, (), self.own, self.merged)):
            # the first sections draw at once, the rest a frame later: a big form opens fast
            yield widget if i < EAGER else Lazy(widget)

    def show(self, own: Data, merged: Data) -> None:
        self.own, self.merged = own, merged
        f.fill(self, (), own, merged)
        self.show_lab()

    def show_lab(self) -> None:
        """The notes beside the values the lab's wiring sets (the host's, or the lab's
        newly loaded)."""
        self.lab_notes = self.lab().notes()
        for field in self.query(f.Field):
            field.show_lab(self.lab_notes.get(field.path))

    def show_problems(self, problems: Sequence[Problem]) -> None:
        f.show_problems(self, problems)

    def find(self, path: str) -> Widget | None:
        return f.lookup(self, path)


def _top(spec: f.Spec) -> str:
    if isinstance(spec, tuple):
        return _top(spec[1][0])
    return str(spec.rel[0])


class SystemEditor(FormEditor):
    """The host, its hardware, packages, NixOS modules, Nix settings and includes."""

    sections = ("host", "hardware", "packages", "modules", "nix", "include")


class NetworkEditor(FormEditor):
    """Networking, and how homelab reaches the machine (deploy)."""

    sections = ("networking", "deploy")
