"""`homelab catalogue check`: every catalogue entry against the option index of the lab's
pinned nixpkgs. The options an entry sets (`nixos:`, `requires:`, its proxy's) must
exist and take the values it writes with its default settings, and the entry must be
written for the release the lab follows (lab.yaml): what keeps the catalogue true as
nixpkgs moves.

The values are those the entry writes with its default settings, and those it writes
when one setting is changed: a switch turned the other way (both branches of an `if`),
each member of an enum. A value that depends on a setting without a default (a secret's
path, say) cannot be known here: it is counted as not checked, like a value of a type
the index cannot check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homelab.catalog import (
    OMIT,
    Service,
    TemplateError,
    is_plain_map,
    resolve,
    template_settings,
)
from homelab.errors import Place, Problem, format_path
from homelab.nix.expr import NixValueError, Pkg
from homelab.optionindex.check import Checked, check
from homelab.optionindex.model import OptionSet
from homelab.optionindex.suggest import suggestions
from homelab.profile.options import NotAnOptionPath, parse_key
from homelab.yamlfile import Document

KeyPath = tuple[str | int, ...]
_NAME = "example"  # a name standing for the host's choice (the proxy's virtual host)


@dataclass(frozen=True)
class Entry:
    """One catalogue entry, with its document for the places of its keys."""

    service: Service
    document: Document


@dataclass(frozen=True)
class CatalogueCheck:
    problems: tuple[Problem, ...]
    entries: int  # entries checked
    options: int  # options they set
    checked: int  # values checked against their option's type
    unchecked: int  # values that could not be (see the module's words)

    @property
    def errors(self) -> list[Problem]:
        """The problems that are not warnings (a renamed option still works)."""
        return [p for p in self.problems if not p.warning]

    def summary(self) -> str:
        errors = self.errors
        entries = {p.place.file for p in errors}
        found = (
            f"{_count(len(errors), 'problem')} in {_count(len(entries), 'entry')}"
            if errors
            else "no problems"
        )
        warned = len(self.problems) - len(errors)
        if warned:
            found += f" ({_count(warned, 'warning')})"
        return (
            f"{_count(self.entries, 'entry')} setting {_count(self.options, 'option')}: "
            f"{found}; {_count(self.checked, 'value')} checked, {self.unchecked} not checked "
            "(set by a setting without a default, or of a type homelab cannot check)"
        )


def _count(n: int, word: str) -> str:
    plural = "entries" if word == "entry" else word + "s"
    return f"{n} {word if n == 1 else plural}"


def check_catalogue(
    entries: Sequence[Entry], options: OptionSet, release: str, broken: Sequence[Problem] = ()
) -> CatalogueCheck:
    """Every entry against the NixOS options of the index; release: the lab's; broken: the
    problems of entries that did not load (said first, as they stand)."""
    problems: list[Problem] = list(broken)
    total = Checked()
    count = 0
    for entry in entries:
        problems.extend(_release(entry, release))
        for name, at, template in _settings(entry.service):
            count += 1
            problems.extend(_option(entry, options, name, at, template, total))
    return CatalogueCheck(
        tuple(sorted(problems, key=Problem.sort_key)),
        len(entries) + len({p.place.file for p in broken}),
        count,
        total.checked,
        total.unchecked,
    )


def _release(entry: Entry, release: str) -> list[Problem]:
    written = entry.service.nixpkgs
    if written == release:
        return []
    doc = entry.document
    return [
        Problem(
            doc.marks.value(("nixpkgs",), Place(doc.file)),
            f"written for NixOS {written}; the lab follows {release}",
            path="nixpkgs",
            hint=f'check its options against {release}\'s, then write nixpkgs: "{release}"',
        )
    ]


def _option(
    entry: Entry, options: OptionSet, name: str, at: KeyPath, template: Any, total: Checked
) -> list[Problem]:
    """The problems of one option an entry sets, with the values it writes (counted)."""
    service, doc = entry.service, entry.document
    place = doc.marks.key(at, Place(doc.file))
    try:
        path = parse_key(name)
    except NotAnOptionPath as err:
        return [Problem(place, str(err), path=format_path(at))]
    defaults = service.with_defaults({})
    found = _check_value(options, path, template, defaults)
    total.add(found)
    said = [(error, "") for error in found.problems]
    if not any(error.key for error in found.problems):
        # the values other settings make it write: each branch of an `if`, each member of
        # an enum (a problem said once, with the setting that makes it)
        reads = template_settings(template)
        for setting, value, settings in _variants(service, defaults):
            if setting in reads:
                other = _check_value(options, path, template, settings)
                total.add(other)
                said += [(e, f"with {setting}: {_yaml(value)}, ") for e in other.problems]
    problems: list[Problem] = []
    seen: set[str] = set()
    for error, when in said:
        if error.message in seen:
            continue
        seen.add(error.message)
        near = "" if not error.key else _near(options, path)
        message = error.message if name in error.message else f"{name}: {error.message}"
        problems.append(
            Problem(place, when + message, hint=error.hint or near, warning=error.warning)
        )
    return problems


def _check_value(
    options: OptionSet, path: Sequence[str], template: Any, settings: Mapping[str, Any]
) -> Checked:
    """The value the template writes with these settings, checked (the path alone when
    it cannot be known, or the template leaves the option out)."""
    try:
        value = resolve(template, settings)
    except (TemplateError, NixValueError):
        value = OMIT  # depends on a setting without a default
    return check(options, path, _UNKNOWN if value is OMIT else _as_data(value))


def _variants(
    service: Service, defaults: Mapping[str, Any]
) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Settings other than the defaults, one setting changed: a switch turned the other
    way, an enum's other members. (setting, its value, all settings)"""
    properties = service.settings_schema.get("properties") or {}
    for setting, schema in properties.items():
        if not isinstance(schema, Mapping) or setting not in defaults:
            continue
        now = defaults[setting]
        others: list[Any] = [m for m in schema.get("enum") or () if m != now]
        if schema.get("type") == "boolean" and isinstance(now, bool):
            others.append(not now)
        for value in others:
            yield setting, value, {**defaults, setting: value}


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


# a value the check cannot know: a `!nix` value is accepted and counted as not checked
_UNKNOWN: Any = {"!nix": "<a setting without a default>"}


def _near(options: OptionSet, path: Sequence[str]) -> str:
    near = suggestions(options, path)
    return "did you mean " + " or ".join(near) + "?" if near else ""


def _settings(service: Service) -> Iterator[tuple[str, KeyPath, Any]]:
    """Each option the entry sets: its name, where its key is in the entry, its template.
    A plain map of templates is a set of options like dotted keys (catalog.option_names)."""
    yield from _walk(service.nixos, ("nixos",), "")
    yield from _walk(service.requires, ("requires",), "")
    proxy = service.proxy
    if proxy and isinstance(proxy.get("value"), dict):
        option = f'{proxy["option"]}."{_NAME}"'
        yield from _walk(proxy["value"], ("proxy", "value"), option)


def _walk(
    templates: Mapping[str, Any], at: KeyPath, prefix: str
) -> Iterator[tuple[str, KeyPath, Any]]:
    for key, template in templates.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if is_plain_map(template) and template:
            yield from _walk(template, (*at, key), name)
        else:
            yield name, (*at, key), template


def _as_data(value: Any) -> Any:
    """A resolved template as the checker reads values: a package as `!pkg`."""
    if isinstance(value, Pkg):
        return {"!pkg": value.attr}
    if isinstance(value, dict):
        return {k: _as_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_data(v) for v in value]
    return value
