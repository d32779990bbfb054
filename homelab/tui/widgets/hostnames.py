"""The selected host's names under the lab's domain, under the host list: its services'
names (wiki.home.example.org) and, on the lab's proxy, how many names it fronts. Hidden
when the host has none (or the lab no domain)."""

from __future__ import annotations

from homelab.lab import LabState
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
