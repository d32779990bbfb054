"""What the lab's names and wiring changed for one host, in the lab's words: a fourth host
makes the DNS server answer its name and the monitoring host scrape it, and the commit says
so (`wiring: dns answers + box, box.home.example.org`) instead of "generated files rebuilt"."""

from __future__ import annotations

from collections.abc import Iterable

from homelab.labfiles import LabState


def _served(state: LabState, folder: str) -> dict[str, set[str]]:
    """What the host serves the others, by what: the names it proxies, the records it
    answers, the hosts it scrapes, keeps backups of, or brokers for."""
    out: dict[str, set[str]] = {}
    web = state.web.hosts.get(folder) if state.web is not None else None
    if web is not None and web.fronts:
        out["proxy serves"] = {s.fqdn for s in web.fronts}
    wiring = state.wiring
    if wiring is None:
        return out
    for name, role in wiring.roles.items():
        if role.provider.folder != folder:
            continue
        if name == "dns":
            out["dns answers"] = {n for n, _ in wiring.records}
        elif name == "monitoring":
            out["monitoring scrapes"] = {p.name for p in wiring.peers.values()}
        elif name == "backups":
            out["backups keep"] = {wiring.peers[f].name for f in wiring.backups}
        elif name == "mqtt":
            out["mqtt brokers for"] = {wiring.peers[f].name for f in wiring.mqtt_users}
    return out


def _provider(state: LabState, role: str) -> str | None:
    found = state.wiring.roles.get(role) if state.wiring is not None else None
    return found.provider.name if found is not None else None


def lab_wiring_lines(old: LabState, new: LabState, folder: str) -> list[str]:
    """Lines for a host whose web.nix or wiring.nix changed."""
    lines: list[str] = []
    before, after = _served(old, folder), _served(new, folder)
    for what in sorted(set(before) | set(after)):
        came = sorted(after.get(what, set()) - before.get(what, set()))
        gone = sorted(before.get(what, set()) - after.get(what, set()))
        if came or gone:
            lines.append(f"wiring: {what} " + _plus_minus(came, gone))
    for role in ("dns", "monitoring", "backups", "mqtt"):
        was, now = _provider(old, role), _provider(new, role)
        if was != now and folder in _peers(new):
            lines.append(
                f"wiring: {role} now from {now}" if now else f"wiring: {role} no longer wired"
            )
    return lines


def _peers(state: LabState) -> Iterable[str]:
    return state.wiring.peers if state.wiring is not None else ()


def _plus_minus(came: list[str], gone: list[str]) -> str:
    return " ".join([*(f"+ {x}" for x in came), *(f"- {x}" for x in gone)])
