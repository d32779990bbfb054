"""The schemas of the repository, and what homelab's explained errors say of a value."""

from __future__ import annotations

from typing import Any

import yaml

from homelab.errors import Problem
from homelab.profile.schema import schema_problems
from homelab.yamlfile import Document, Marks
from tests.conftest import REPO


def catalogue_schemas() -> list[tuple[str, dict[str, Any]]]:
    """(service, settings schema) of every entry of the standard catalogue."""
    out = []
    for path in sorted((REPO / "services").glob("*.yaml")):
        entry = yaml.safe_load(path.read_text())
        if isinstance(entry, dict) and isinstance(entry.get("settings"), dict):
            out.append((path.stem, entry["settings"]))
    return out


def explained(validator: Any, schema: dict[str, Any], value: Any) -> list[Problem]:
    """Every problem the explained errors give, asked for whatever the yes/no said."""
    doc = Document("t.yaml", value, Marks())
    return [
        p for err in validator.iter_errors(value) for p in schema_problems(err, doc, value, schema)
    ]
