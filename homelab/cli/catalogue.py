"""`homelab catalogue list` and `catalogue show`: find a service in the lab's catalogue and
read what it takes, without opening its YAML."""

from __future__ import annotations

import argparse
import difflib
import json
import textwrap
from collections.abc import Mapping
from typing import Any

from homelab.catalog import (
    Catalog,
    Service,
    service_checks,
    service_groups,
    service_ports,
    service_state,
    web_port,
)
from homelab.cli import FAILED, INVALID, OK, err
from homelab.cli.common import open_lab, usage
from homelab.errors import Problem

WIDTH = 88


def cmd_list(args: argparse.Namespace) -> int:
    catalog, problems = open_lab(args).catalogue()
    words = [w.lower() for w in args.words]
    found = [s for s in catalog.services.values() if _matches(s, words)]
    found.sort(key=lambda s: s.name)
    width = max((len(s.name) for s in found), default=0)
    for service in found:
        web = web_port(service, service.with_defaults({}))
        tail = f"  (web {web})" if web is not None else ""
        print(f"{service.name:<{width}}  {service.description}{tail}")
    _report(problems)
    if not found:
        said = " ".join(args.words)
        err(f"no entry of the catalogue matches '{said}'" if said else "the catalogue is empty")
        return INVALID if problems else FAILED
    print(
        f"{len(found)} of {len(catalog.services)} entries; "
        "`homelab catalogue show NAME` for one's settings"
    )
    return INVALID if problems else OK


def cmd_show(args: argparse.Namespace) -> int:
    catalog, problems = open_lab(args).catalogue()
    service = catalog.get(args.name)
    if service is None:
        _report(problems)
        raise usage(f"the catalogue has no entry '{args.name}'{_did_you_mean(catalog, args.name)}")
    print("\n".join(entry_lines(service)))
    return OK


def entry_lines(service: Service) -> list[str]:
    """What a person needs to enable the service: its settings with their defaults, and
    what it brings to the machine with those defaults."""
    defaults = service.with_defaults({})
    lines = [f"{service.name}: {service.description}"]
    if service.module:
        lines.append(f"  NixOS module {service.module}, as of NixOS {service.nixpkgs}")
    properties: Mapping[str, Any] = service.settings_schema.get("properties") or {}
    if properties:
        lines += ["", f"settings (in a profile: services: {{{service.name}: {{SETTING: value}}}}):"]
        for name, spec in properties.items():
            lines.append(f"  {name}: {_kind(spec)}{_default(spec)}")
            text = spec.get("description") if isinstance(spec, dict) else None
            if isinstance(text, str) and text.strip():
                lines += textwrap.wrap(
                    " ".join(text.split()),
                    WIDTH,
                    initial_indent=" " * 6,
                    subsequent_indent=" " * 6,
                    break_on_hyphens=False,
                )
    else:
        lines += ["", f"no settings: `{service.name}: {{}}` under services: enables it"]
    lines.append("")
    lines += _brings(service, defaults)
    return lines


def _brings(service: Service, settings: Mapping[str, Any]) -> list[str]:
    out = []
    ports = service_ports(service, settings)
    if ports:
        out.append("ports: " + ", ".join(f"{p.port}/{p.protocol}" for p in ports))
    web = web_port(service, settings)
    if web is not None:
        out.append(f"web UI: port {web}")
    groups = service_groups(service, settings)
    if groups:
        out.append("groups users may join: " + ", ".join(groups))
    state = service_state(service, settings)
    if state:
        out.append("keeps its data in: " + ", ".join(state))
    checks = service_checks(service, settings)
    said = [
        *(f"unit {u}" for u in checks.units),
        *(f"port {p}" for p in checks.tcp),
        *(f"GET {u}" for u in checks.http),
    ]
    if said:
        out.append("checked after apply: " + "; ".join(said))
    for other, reason in service.conflicts:
        out.append(f"not beside {other}: {reason}")
    return out or ["(with its default settings it opens no port and has no checks)"]


def _kind(spec: Any) -> str:
    if not isinstance(spec, dict):
        return "any value"
    if spec.get("format") == "secret-path":
        return "a secret's file (an absolute path, or {secret: NAME})"
    if "enum" in spec:
        return "one of " + ", ".join(json.dumps(v) for v in spec["enum"])
    kinds = spec.get("type")
    names = [kinds] if isinstance(kinds, str) else list(kinds or [])
    words = [_type_word(k, spec) for k in names if k != "null"]
    text = " or ".join(words) if words else "any value"
    return text + (" (or null)" if "null" in names else "")


def _type_word(kind: str, spec: Mapping[str, Any]) -> str:
    if kind in ("integer", "number"):
        low, high = spec.get("minimum"), spec.get("maximum")
        if low is not None and high is not None:
            return f"{kind} {low}-{high}"
        return kind
    if kind == "array":
        items = spec.get("items")
        inner = items.get("type") if isinstance(items, dict) else None
        return f"list of {inner}s" if isinstance(inner, str) else "list"
    if kind == "object":
        return "map"
    return kind


def _default(spec: Any) -> str:
    if not isinstance(spec, dict) or "default" not in spec:
        return ""
    text = json.dumps(spec["default"])
    if len(text) > 48:
        text = text[:45] + "..."
    return f", default {text}"


def _did_you_mean(catalog: Catalog, name: str) -> str:
    near = difflib.get_close_matches(name, catalog.names(), n=3, cutoff=0.6)
    if near:
        return "; did you mean " + " or ".join(near) + "?"
    return "; `homelab catalogue list` lists them"


def _matches(service: Service, words: list[str]) -> bool:
    text = f"{service.name} {service.description}".lower()
    return all(w in text for w in words)


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        err(str(problem))
