"""A host's part in the lab's wiring, in the editor's words: the roles it plays, what it
gets from the others, and the notes beside the values the wiring sets ("set by the lab:
monitoring"). Pure: the wiring of the last full load and the host's folder in, text out.

The words follow homelab.wiringnix, which writes these values into the host's wiring.nix:
what a note says is set here is what that module sets, under the same conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homelab.tui.schema import Path
from homelab.wiring import Role, Wiring
from homelab.wiringnix.mqtt import USER

NAMESERVERS: Path = ("networking", "nameservers")


@dataclass(frozen=True)
class LabNote:
    """A value the lab sets on a host at a default's priority: the host's own replaces it."""

    role: str
    value: str  # what the lab sets, as said ("192.168.1.2, 9.9.9.9")

    def text(self, own: bool) -> str:
        """The note; own: the host names its own value, so the lab's is not used."""
        if own:
            return f"not used: the lab's {self.role} ({self.value})"
        return f"set by the lab: {self.role} ({self.value})"


@dataclass(frozen=True)
class HostPart:
    """One host in the lab's wiring (nothing when the lab has none, or the host is not in
    it: a host with mistakes is left out of the wiring until they are mended)."""

    wiring: Wiring | None
    folder: str | None

    def _role(self, name: str) -> Role | None:
        if self.wiring is None or self.folder not in self.wiring.peers:
            return None
        return self.wiring.role(name)

    def _here(self, role: Role) -> bool:
        return role.provider.folder == self.folder

    def plays(self) -> list[str]:
        """The roles the host plays for the others."""
        if self.wiring is None:
            return []
        return [name for name in sorted(self.wiring.roles) if self._plays(name)]

    def _plays(self, name: str) -> bool:
        role = self._role(name)
        return role is not None and self._here(role)

    def gets(self) -> list[str]:
        """What the host gets from the other hosts' roles, short."""
        got: list[str] = []
        dns = self._role("dns")
        if dns and not self._here(dns) and self.folder not in self.wiring_of().own_nameservers:
            got.append(f"nameserver {dns.provider.name}")
        monitoring = self._role("monitoring")
        if monitoring and not self._here(monitoring):
            got.append(f"scraped by {monitoring.provider.name}")
        backups = self._role("backups")
        if backups and backups.spec.password and self.folder in self.wiring_of().backups:
            where = "its own repository" if self._here(backups) else backups.provider.name
            got.append(f"backed up to {where}")
        mqtt = self._role("mqtt")
        if mqtt and not self._here(mqtt) and self.folder in self.wiring_of().mqtt_users:
            got.append(f"MQTT broker {mqtt.provider.name}")
        return got

    def wiring_of(self) -> Wiring:
        assert self.wiring is not None
        return self.wiring

    def lines(self) -> list[str]:
        """What the box under the host list says (nothing when the lab has no wiring)."""
        lines = []
        if plays := self.plays():
            lines.append("plays: " + ", ".join(plays))
        if gets := self.gets():
            lines.append("from the lab: " + "; ".join(gets))
        return lines

    def notes(self) -> dict[Path, LabNote]:
        """The notes beside the profile's own fields, by the field's path."""
        dns = self._role("dns")
        if dns is None:
            return {}
        first = "127.0.0.1" if self._here(dns) else dns.provider.address
        return {NAMESERVERS: LabNote("dns", ", ".join([first, *dns.spec.fallback]))}

    def service_line(self, service: str, settings: Mapping[str, Any], enabled: bool) -> str:
        """The line at the top of a service's form when the lab's wiring sets some of its
        options ("" when it sets none); settings: the keys the host gives it."""
        if service == "prometheus-node-exporter":
            return self._exporter(enabled)
        if not enabled:
            return ""  # the wiring sets options of a service the host runs only
        for name in ("dns", "monitoring", "mqtt"):  # the roles a catalogue service plays
            role = self._role(name)
            if role is not None and self._here(role) and role.service == service:
                return f"set by the lab: {name} — {self._provides(name, role)}"
        said = self._client(service, settings)
        scraped = self._scraped(service)
        return "; ".join(x for x in (said, scraped) if x).replace("; set by the lab: ", "; ")

    def _scraped(self, service: str) -> str:
        """A service whose own metrics the lab's Prometheus scrapes (the entry's metrics:)."""
        role = self._role("monitoring")
        if role is None:
            return ""
        found = [s for s in self.wiring_of().scrapes if s[0] == self.folder and s[1] == service]
        if not found:
            return ""
        where = "this host's" if self._here(role) else f"{role.provider.name}'s"
        _, _, port, path = found[0]
        return (
            f"set by the lab: monitoring — its metrics ({port}{path}) scraped by {where} Prometheus"
        )

    def _exporter(self, enabled: bool) -> str:
        """Every host of a monitored lab runs the node exporter, its entry enabled or not."""
        role = self._role("monitoring")
        if role is None:
            return ""
        where = "this host" if self._here(role) else role.provider.name
        runs = "runs here" if enabled else "runs here though not enabled"
        return f"set by the lab: monitoring — {runs}, scraped by {where}"

    def _provides(self, name: str, role: Role) -> str:
        wiring = self.wiring_of()
        if name == "dns":
            count = len({n for n, _ in wiring.records})
            return f"answers {count} name{'' if count == 1 else 's'} of the lab"
        if name == "monitoring":
            count = len(wiring.peers)
            return f"scrapes {count} host{'' if count == 1 else 's'}"
        clients = [wiring.peers[f].name for f in wiring.mqtt_users if f != self.folder]
        said = f"the lab user {USER}" if role.spec.password else "the lab's broker"
        return said + (f", its port open to {', '.join(clients)}" if clients else "")

    def _client(self, service: str, settings: Mapping[str, Any]) -> str:
        if service == "grafana" and (role := self._role("monitoring")):
            where = "this host's" if self._here(role) else f"{role.provider.name}'s"
            return f"set by the lab: monitoring — the data source {where} Prometheus"
        mqtt = self._role("mqtt")
        if mqtt is None:
            return ""
        if service == "zigbee2mqtt":
            parts = [] if "mqttServer" in settings else ["the broker's address"]
            if mqtt.spec.password and not {"mqttUser", "environmentFile"} & set(settings):
                parts.append("the lab user")
            return f"set by the lab: mqtt — {' and '.join(parts)}" if parts else ""
        if service == "home-assistant":
            components = settings.get("extraComponents")
            if isinstance(components, list) and "mqtt" in components:
                return ""  # the host lists it itself: the lab adds nothing
            return "set by the lab: mqtt — the MQTT integration (extraComponents)"
        return ""
