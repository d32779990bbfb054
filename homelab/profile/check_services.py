"""The checks of services and containers: services the catalogue has, with settings its
schema accepts, none that cannot run together, and no port two of them want."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from homelab.catalog import (
    Catalog,
    Clash,
    Port,
    Service,
    TemplateError,
    service_ports,
    setting_clashes,
)
from homelab.errors import Place, Problem, format_path
from homelab.profile import secretrefs
from homelab.profile.schema import as_map as _map
from homelab.profile.schema import schema_errors, schema_problems
from homelab.yamlfile import Document, Path_


def service_problems(
    doc: Document, services: Mapping[str, Any], catalog: Catalog, data: Mapping[str, Any]
) -> Iterator[Problem]:
    top = Place(doc.file)
    known = catalog.names()
    used: dict[tuple[int, str], str] = {}

    def claim(port: Port, who: str, path: Path_) -> Iterator[Problem]:
        key = (port.port, port.protocol)
        if key in used and used[key] != who:
            yield Problem(
                doc.marks.key(path, top),
                f"{who} wants port {port.port}/{port.protocol}, which {used[key]} already uses",
                path=format_path(path),
                hint="change the port in one of their settings, or enable only one",
            )
        else:
            used[key] = who

    for name, settings in services.items():
        path: Path_ = ("services", name)
        service = catalog.get(name)
        if service is None:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            yield Problem(
                doc.marks.key(path, top),
                f"unknown service '{name}'",
                path=format_path(path),
                hint=f"did you mean '{close[0]}'?"
                if close
                else "the catalogue has: " + ", ".join(known),
            )
            continue
        if settings is not None and not isinstance(settings, dict):
            continue  # the profile schema already said so
        if settings and "web" in settings and not service.web:
            at = (*path, "web")
            yield Problem(
                doc.marks.key(at, top),
                f"{name} has no web port, so it cannot have a name under the lab's domain",
                path=format_path(at),
                hint="names go to services with a web UI: homelab catalogue list shows them",
            )
            settings = {k: v for k, v in settings.items() if k != "web"}
        bad = False
        refused: set[str] = set()  # said once: not again as a map where the schema wants text
        known_settings = _settings_checked(service, settings, path)
        for at, ref, allowed in known_settings.refs:
            place = doc.marks.value(at, top)
            if not allowed:
                bad = True
                refused.add(format_path(at))
                yield Problem(
                    place,
                    f"{service.name} does not take a secret here",
                    path=format_path(at),
                    hint="`secret: NAME` goes where a setting takes a secret's file "
                    "(format: secret-path in the catalogue entry)",
                )
            for problem in secretrefs.ref_problems(ref, at, place, doc.marks):
                bad = True
                yield problem
        checked = known_settings.checked
        for err in known_settings.errors:
            bad = True
            for problem in schema_problems(err, doc, checked, service.settings_schema, prefix=path):
                if problem.path not in refused:
                    yield problem
        for other, reason in service.conflicts:
            if other in services and (name < other or not _lists(catalog, other, name)):
                yield Problem(
                    doc.marks.key(path, top),
                    f"{name} and {other} cannot run together: {reason}",
                    path=format_path(path),
                    hint="enable only one of them",
                )
        if bad:
            continue
        outcome = known_settings.outcome()
        if isinstance(outcome, TemplateError):
            yield Problem(Place(service.file), f"catalogue entry {name}: {outcome}")
            continue
        ports, clashes = outcome
        for port in ports:
            yield from claim(port, f"service {name}", path)
        yield from _clashes(doc, clashes, path)

    containers = _map(data.get("containers"))
    for cname, spec in containers.items():
        if not isinstance(spec, dict):
            continue
        for i, mapping in enumerate(spec.get("ports") or []):
            if not isinstance(mapping, str):
                continue
            host_port = container_host_port(mapping)
            if host_port is None:
                continue
            path = ("containers", cname, "ports", i)
            if not 1 <= host_port.port <= 65535:
                yield Problem(
                    doc.marks.value(path, top),
                    f"port {host_port.port} is out of range: from 1 to 65535",
                    path=format_path(path),
                )
                continue
            yield from claim(host_port, f"container {cname}", path)


def container_host_port(mapping: str) -> Port | None:
    """The host side of a port mapping like 127.0.0.1:8080:80/udp."""
    spec, _, proto = mapping.partition("/")
    parts = spec.rsplit(":", 2)
    if len(parts) < 2 or not parts[-2].isdigit():
        return None
    return Port(int(parts[-2]), proto or "tcp")


def _lists(catalog: Catalog, service: str, other: str) -> bool:
    """Whether `service`'s entry names `other` among its conflicts (then the pair is
    said once, from the first of the two names)."""
    entry = catalog.get(service)
    return entry is not None and any(name == other for name, _ in entry.conflicts)


def _clashes(doc: Document, found: Sequence[Clash], path: Path_) -> Iterator[Problem]:
    """A key of a free-form passthrough that a named setting sets too: NixOS would refuse
    the two values; the named setting is the one the entry's checks and proxy follow."""
    for clash in found:
        at = (*path, clash.setting, *clash.key)
        yield Problem(
            doc.marks.key(at, Place(doc.file)),
            f"{format_path((clash.setting, *clash.key))} sets {clash.option}, "
            f"which the setting {clash.other} sets too",
            path=format_path(at),
            hint=f"remove it here and give {clash.other}: instead",
        )


class _Checked:
    """What the checks find in one service's settings, whichever host gives them: its
    secret references and schema errors; then, asked only when there are none of those,
    its ports and clashes (or the catalogue entry's template error)."""

    __slots__ = ("_outcome", "checked", "errors", "refs", "service")

    def __init__(self, service: Service, settings: Any, path: Path_) -> None:
        self.service = service
        self.refs = tuple(secretrefs.refs(settings or {}, service.settings_schema, path))
        # the settings with a placeholder path for each secret
        self.checked = secretrefs.placeholders(settings or {}, service.settings_schema)
        self.errors = tuple(schema_errors(service.validator, self.checked))
        self._outcome: tuple[tuple[Port, ...], tuple[Clash, ...]] | TemplateError | None = None

    def outcome(self) -> tuple[tuple[Port, ...], tuple[Clash, ...]] | TemplateError:
        """The ports and clashes of valid settings, or the entry's template error."""
        if self._outcome is None:
            self._outcome = self._work_out()
        return self._outcome

    def _work_out(self) -> tuple[tuple[Port, ...], tuple[Clash, ...]] | TemplateError:
        service = self.service
        try:
            filled = service.with_defaults(self.checked)
            ports = tuple(service_ports(service, filled))
        except TemplateError as err:
            return err
        try:
            clashes = tuple(setting_clashes(service, filled))
        except (TemplateError, ValueError, KeyError, TypeError):
            clashes = ()
        return ports, clashes


# Hosts mostly give a service the same settings (`jellyfin: {}`, a domain, a port): what
# the checks find is kept by service and settings text. The service is kept alive with
# its entry, so that its id is not another's.
_KNOWN: dict[tuple[int, str, Path_], tuple[Service, _Checked]] = {}
_MOST_KNOWN = 4096


def _settings_checked(service: Service, settings: Any, path: Path_) -> _Checked:
    key = (id(service), repr(settings), path)
    known = _KNOWN.get(key)
    if known is not None and known[0] is service:
        return known[1]
    found = _Checked(service, settings, path)
    if len(_KNOWN) >= _MOST_KNOWN:
        _KNOWN.clear()
    _KNOWN[key] = (service, found)
    return found
