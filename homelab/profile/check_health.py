"""The checks of `deploy.checks`: its `services:` name services this host has, and a
first start's grace is no shorter than the grace it stands beside."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from homelab.catalog import Catalog
from homelab.errors import Place, Problem, format_path
from homelab.profile.schema import as_map as _map
from homelab.yamlfile import Document, Path_

AT: Path_ = ("deploy", "checks")


def health_check_problems(
    doc: Document, data: Mapping[str, Any], catalog: Catalog
) -> Iterator[Problem]:
    checks = _map(_map(data.get("deploy")).get("checks"))
    host_services = list(_map(data.get("services")))
    yield from _grace_problems(doc, checks, AT, checks.get("grace"))
    for name, settings in _map(checks.get("services")).items():
        path: Path_ = (*AT, "services", name)
        if name not in host_services:
            yield _not_on_host(doc, path, name, host_services, catalog)
            continue
        if isinstance(settings, dict):
            grace = settings.get("grace", checks.get("grace"))
            yield from _grace_problems(doc, settings, path, grace)


def _not_on_host(
    doc: Document, path: Path_, name: str, host_services: list[str], catalog: Catalog
) -> Problem:
    close = difflib.get_close_matches(name, host_services, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean '{close[0]}'?"
    elif catalog.get(name) is not None:
        hint = f"add {name} under services:, or remove this entry"
    elif host_services:
        hint = "this host's services: " + ", ".join(host_services)
    else:
        hint = "this host has no services: its own checks go in deploy.checks units/tcp/http"
    return Problem(
        doc.marks.key(path, Place(doc.file)),
        f"'{name}' is not a service of this host: its checks cannot be set here",
        path=format_path(path),
        hint=hint,
    )


def _grace_problems(
    doc: Document, checks: Mapping[str, Any], path: Path_, grace: Any
) -> Iterator[Problem]:
    """A first start's grace shorter than the grace beside it would shorten the wait
    exactly when a service needs longer: surely a slip."""
    first = checks.get("firstGrace")
    if not _seconds(first) or not _seconds(grace) or first >= grace:
        return
    at = (*path, "firstGrace")
    yield Problem(
        doc.marks.value(at, Place(doc.file)),
        f"firstGrace {first} is shorter than grace {grace}: a first start would get less time "
        "than any other",
        path=format_path(at),
        hint=f"give firstGrace at least {grace}, or leave it out (it then is the grace)",
    )


def _seconds(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3600
