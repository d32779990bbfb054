"""The selected host's boxes under the host list: its names under the lab's domain (its
services' names, wiki.home.example.org, and on the lab's proxy how many names it fronts),
and its part in the lab's wiring (the roles it plays, what it gets from the others). Each
hidden when it has nothing to say."""

from __future__ import annotations

from homelab.lab import LabState
from homelab.tui.labpart import HostPart
from homelab.tui.plain import Static, plain


def name_lines(state: LabState | None, folder: str | None) -> list[str]:
    """What the panel says of the host, as the last load of the whole lab planned it."""
    web = state.web if state is not None else None
    if web is None or folder is None:
        return []
    lines = list(web.names_of(folder))
    part = web.hosts.get(folder)
    count = len(part.fronts) if part is not None else 0
    if count and count != len(lines):  # as `homelab hosts` says it: not a host's own alone
        lines.append(f"proxy for {count} name{'' if count == 1 else 's'}")
    return lines


class HostNames(Static):
    """The host's names, one a line."""

    DEFAULT_CSS = """
    HostNames { height: auto; max-height: 12; padding: 0 1; text-wrap: nowrap;
                text-overflow: ellipsis; border: round $primary 40%;
                border-title-color: $text-primary; display: none; }
    HostNames.-shown { display: block; }
    """

    def show(self, state: LabState | None, folder: str | None) -> None:
        lines = name_lines(state, folder)
        self.border_title = plain("Names")
        self.update("\n".join(lines))
        self.tooltip = plain("\n".join(lines)) if lines else None  # names cut at the edge
        self.set_class(bool(lines), "-shown")


class HostWiring(Static):
    """The host's part in the lab's wiring: "plays: dns", "from the lab: nameserver pi;
    scraped by nas" (wrapped: the box is narrow, and each part is worth reading whole)."""

    DEFAULT_CSS = """
    HostWiring { height: auto; max-height: 12; padding: 0 1; border: round $primary 40%;
                 border-title-color: $text-primary; display: none; }
    HostWiring.-shown { display: block; }
    """

    def show(self, state: LabState | None, folder: str | None) -> None:
        lines = HostPart(state.wiring if state is not None else None, folder).lines()
        self.border_title = plain("Wiring")
        self.update("\n".join(lines))
        self.set_class(bool(lines), "-shown")
