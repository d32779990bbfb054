"""The service catalogue: `services/*.yaml`, each a settings schema plus a NixOS mapping.

See services/README.md for the format. Templates are resolved here into plain values
(and `Pkg` references); the renderer turns those into Nix. Nothing here reads a file:
the lab hands in the loaded documents.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jsonschema_rs

from homelab.errors import Place, Problem, format_path
from homelab.nix.expr import NixValueError, Pkg, Raw
from homelab.nix.render import string as render_string
from homelab.yamlfile import Document


class _Omit:
    """The value of a template that leaves its option out."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()

# The NixOS release homelab follows: the skeleton's flake.nix pins nixos-26.05 and
# home-manager's release-26.05, a new lab's lab.yaml says it, and the standard catalogue's
# entries are written for it (their `nixpkgs:`). A lab that follows another release says
# so in lab.yaml; entries written for another release than the lab's are warned of.
RELEASE = "26.05"

_TEMPLATE = {
    "type": ["string", "integer", "number", "boolean", "array", "object", "null"],
}
ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["description", "nixpkgs", "nixos"],
    "properties": {
        "description": {"type": "string"},
        "nixpkgs": {"type": "string"},
        "module": {"type": "string"},
        "settings": {"type": "object"},
        "nixos": {"type": "object"},
        "nixosDefaults": {"type": "object"},
        "merges": {"type": "array", "items": {"type": "string"}},
        "requires": {"type": "object"},
        "conflicts": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["service", "reason"],
                "properties": {"service": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "ports": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["port"],
                "properties": {"port": _TEMPLATE, "protocol": {"enum": ["tcp", "udp"]}},
            },
        },
        "groups": {"type": "array", "items": _TEMPLATE},
        "state": {"type": "array", "items": _TEMPLATE},
        "metrics": {
            "type": "object",
            "additionalProperties": False,
            "required": ["port"],
            "properties": {"port": _TEMPLATE, "path": {"type": "string"}},
        },
        "web": {
            "type": "object",
            "additionalProperties": False,
            "required": ["port"],
            "properties": {
                "port": _TEMPLATE,
                "path": {"type": "string"},
                # the proxy passes websocket upgrades (nginx needs to be told)
                "websockets": {"type": "boolean"},
                # the setting holding the address it listens on: a proxy on another host
                # needs it to listen beyond 127.0.0.1
                "listen": {"type": "string"},
                # options a service needs behind the lab's proxy (trusted proxies, its
                # own URL): templates that also read {fqdn}, {url} and {proxy}
                "behindProxy": {"type": "object"},
            },
        },
        "checks": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "units": {"type": "array"},
                "tcp": {"type": "array"},
                "http": {"type": "array"},
            },
        },
        "proxy": {
            "type": "object",
            "additionalProperties": False,
            "required": ["option", "name", "value"],
            "properties": {
                "option": {"type": "string"},
                "name": {"type": "string"},
                "value": _TEMPLATE,
            },
        },
    },
}
_entry_validator = jsonschema_rs.Draft202012Validator(ENTRY_SCHEMA, offline=True)


@dataclass(frozen=True)
class Port:
    port: int
    protocol: str  # tcp or udp


@dataclass(frozen=True)
class Checks:
    units: tuple[str, ...] = ()
    tcp: tuple[int, ...] = ()
    http: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    """One catalogue entry."""

    name: str
    file: str
    description: str
    nixpkgs: str
    settings_schema: Mapping[str, Any]
    nixos: Mapping[str, Any]
    requires: Mapping[str, Any] = field(default_factory=dict)
    conflicts: tuple[tuple[str, str], ...] = ()
    ports: tuple[Mapping[str, Any], ...] = ()
    # a name: a group the NixOS module creates; a template (`{setting: group}`): the group
    # the person chose for the service, which homelab creates when nothing else does
    groups: tuple[Any, ...] = ()
    web: Mapping[str, Any] | None = None
    # where it serves Prometheus metrics itself: {port: template, path: /metrics}
    metrics: Mapping[str, Any] | None = None
    checks: Mapping[str, Any] = field(default_factory=dict)
    proxy: Mapping[str, Any] | None = None
    # option path -> the NixOS module's own default (services/README.md, "Priorities")
    nixos_defaults: Mapping[str, Any] = field(default_factory=dict)
    merges: frozenset[str] = frozenset()  # lists that join other modules' (never mkDefault)
    module: str = ""  # where in nixpkgs its NixOS module is (for reviewers)
    state: tuple[Any, ...] = ()  # folders holding what the service keeps (what to back up)

    @cached_property
    def option_templates(self) -> list[tuple[tuple[str, ...], Any]]:
        """(option path, template) of each option `nixos:` sets, dotted keys split."""
        return _templates(self.nixos, ())

    @cached_property
    def validator(self) -> jsonschema_rs.Validator:
        """The settings' validator (one per schema text, kept across loads of the lab)."""
        return settings_validator(self.settings_schema)

    def with_defaults(self, settings: Mapping[str, Any] | None) -> dict[str, Any]:
        filled: dict[str, Any] = fill_defaults(self.settings_schema, dict(settings or {}))
        return filled


def _secret_path(value: object) -> bool:
    # a secret's value must never be in a Nix file: only where the machine keeps it
    return not isinstance(value, str) or (
        value.startswith("/") and not value.startswith("/nix/store") and "\x00" not in value
    )


# the formats homelab adds to JSON Schema's own (which are checked too)
FORMATS: dict[str, Callable[[Any], bool]] = {"secret-path": _secret_path}

# keyed by the schema text: every load makes new schema objects, the text stays the same
_validators: dict[str, jsonschema_rs.Validator | jsonschema_rs.ValidationError] = {}


def _compiled(schema: Mapping[str, Any]) -> jsonschema_rs.Validator | jsonschema_rs.ValidationError:
    """The settings schema compiled, or why it is not a valid JSON Schema (checked against
    the metaschema; its patterns must be ECMA-262 regexes and its $refs lead somewhere).
    Offline: a $ref never makes homelab read a file outside the lab, or the network."""
    key = json.dumps(schema, sort_keys=True, default=str)
    if key not in _validators:
        if len(_validators) > 256:
            _validators.clear()
        try:
            found: Any = jsonschema_rs.Draft202012Validator(
                dict(schema), formats=FORMATS, validate_formats=True, offline=True
            )
        except jsonschema_rs.ValidationError as err:
            found = err
        _validators[key] = found
    return _validators[key]


def settings_validator(schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
    """A settings schema compiled once (one that service_from_document has accepted)."""
    found = _compiled(schema)
    if isinstance(found, jsonschema_rs.ValidationError):
        raise found
    return found


def fill_defaults(schema: Mapping[str, Any], value: Any) -> Any:
    """The value with every missing property that has a `default` filled in."""
    if not isinstance(value, dict) or schema.get("type") != "object":
        return value
    out = dict(value)
    for key, sub in (schema.get("properties") or {}).items():
        if key not in out and isinstance(sub, dict) and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if key in out and isinstance(sub, dict):
            out[key] = fill_defaults(sub, out[key])
    return out


@dataclass(frozen=True)
class Catalog:
    services: Mapping[str, Service]

    def get(self, name: str) -> Service | None:
        return self.services.get(name)

    def names(self) -> list[str]:
        return sorted(self.services)

    def group_sources(self) -> dict[str, list[str]]:
        """group -> the services that create it."""
        out: dict[str, list[str]] = {}
        for service in self.services.values():
            for group in service.groups:
                if isinstance(group, str):
                    out.setdefault(group, []).append(service.name)
        return out


def service_from_document(name: str, doc: Document) -> tuple[Service | None, list[Problem]]:
    problems: list[Problem] = []
    top = Place(doc.file)
    for err in _entry_validator.iter_errors(doc.data):
        path = tuple(err.instance_path)
        problems.append(Problem(doc.marks.value(path, top), _said(err), path=format_path(path)))
    if problems:
        return None, problems
    data = doc.data
    settings = data.get("settings") or {"type": "object", "properties": {}}
    compiled = _compiled(settings)
    if isinstance(compiled, jsonschema_rs.ValidationError):
        path = ("settings", *compiled.instance_path)
        return None, [
            Problem(
                doc.marks.value(path, top),
                f"settings is not a valid JSON Schema: {compiled.message}",
                path=format_path(path),
                hint="a $ref leads only within the entry, e.g. #/$defs/port"
                if isinstance(compiled.kind, jsonschema_rs.ValidationErrorKind.Referencing)
                else "",
            )
        ]
    problems = _bad_paths(doc) or _unknown_options(doc)
    if problems:
        return None, problems
    if data.get("web"):  # a web UI may be named under the lab's domain
        properties = {**(settings.get("properties") or {}), "web": WEB_SETTING}
        settings = {**settings, "properties": properties}
    return (
        Service(
            name=name,
            file=doc.file,
            description=data["description"],
            nixpkgs=str(data["nixpkgs"]),
            module=str(data.get("module") or ""),
            settings_schema=settings,
            nixos=data["nixos"],
            requires=data.get("requires") or {},
            conflicts=tuple((c["service"], c["reason"]) for c in data.get("conflicts") or []),
            ports=tuple(data.get("ports") or []),
            groups=tuple(data.get("groups") or []),
            state=tuple(data.get("state") or []),
            web=data.get("web"),
            metrics=data.get("metrics"),
            checks=data.get("checks") or {},
            proxy=data.get("proxy"),
            nixos_defaults=data.get("nixosDefaults") or {},
            merges=frozenset(data.get("merges") or ()),
        ),
        [],
    )


def _bad_paths(doc: Document) -> list[Problem]:
    """Option paths of `nixos:` and `requires:` that cannot be split into names."""
    problems = []
    for section in ("nixos", "requires"):
        for key in doc.data.get(section) or {}:
            try:
                option_path(str(key))
            except TemplateError as err:
                path = (section, key)
                problems.append(
                    Problem(
                        doc.marks.key(path, Place(doc.file)),
                        str(err),
                        path=format_path(path),
                        hint="names joined by dots, e.g. services.caddy.enable; quote a name "
                        'that holds a dot: virtualHosts."a.b"',
                    )
                )
    return problems


def _unknown_options(doc: Document) -> list[Problem]:
    """`nixosDefaults` and `merges` name options of the entry's `nixos:` (a typo would
    silently change nothing)."""
    known = set(option_names(doc.data["nixos"]))
    top = Place(doc.file)
    problems = []
    for key in doc.data.get("nixosDefaults") or {}:
        if key not in known:
            path = ("nixosDefaults", key)
            problems.append(_not_set("", doc.marks.key(path, top), path))
    for i, key in enumerate(doc.data.get("merges") or []):
        if key not in known:
            path = ("merges", i)
            problems.append(_not_set(f"{key} is ", doc.marks.value(path, top), path))
    return problems


def _not_set(subject: str, place: Place, path: tuple[str | int, ...]) -> Problem:
    return Problem(
        place,
        f"{subject}not an option that nixos: sets",
        path=format_path(path),
        hint="name an option of nixos: as it is written there, e.g. services.x.port",
    )


def _said(err: jsonschema_rs.ValidationError) -> str:
    """An entry's error in the words homelab has always used for it."""
    if isinstance(err.kind, jsonschema_rs.ValidationErrorKind.Required):
        return f"{err.kind.property!r} is a required property"
    return err.message


class TemplateError(ValueError):
    pass


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", [], {}, 0) and value is not OMIT


def format_template(text: str, values: Mapping[str, Any]) -> str | Raw:
    """'{name}' replaced by the setting's value; a string, never Nix code. A value that is
    already a Nix expression (an encrypted secret's path on the machine) is joined to the
    text around it with `+`, the text quoted."""
    out: list[str | Raw] = []
    for literal, name, spec, conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        if spec or conversion or name not in values:
            raise TemplateError(f"template {text!r}: no setting named {name!r}")
        value = values[name]
        if isinstance(value, Raw):
            out.append(value)
        else:
            out.append(str(value).lower() if isinstance(value, bool) else str(value))
    if not any(isinstance(part, Raw) for part in out):
        return "".join(str(part) for part in out)
    joined = [p.text if isinstance(p, Raw) else render_string(p) for p in out if p != ""]
    return Raw("(" + " + ".join(joined) + ")")


def resolve(template: Any, values: Mapping[str, Any]) -> Any:
    """A template (services/README.md) with settings put in; OMIT leaves the option out."""
    if isinstance(template, dict):
        if len(template) == 1 and "setting" in template:
            name = template["setting"]
            if name not in values:
                raise TemplateError(f"no setting named {name!r}")
            value = values[name]
            return OMIT if value is None else copy.deepcopy(value)
        if len(template) == 1 and "template" in template:
            return format_template(str(template["template"]), values)
        if len(template) == 1 and "pkgs" in template:
            # {pkgs: {template: "nextcloud{version}"}}: a package a setting chooses; the
            # entry's schema keeps the setting to names (an enum), Pkg refuses any other
            read = template_settings(template["pkgs"])
            if any(values.get(setting) is None for setting in read):
                return OMIT  # the setting left unset: the module's own choice
            name = resolve(template["pkgs"], values)
            try:
                return Pkg(str(name))
            except NixValueError as err:
                raise TemplateError(str(err)) from err
        if _is_packages(template):
            return _packages(template, values)
        if "if" in template and set(template) <= {"if", "then", "else"}:
            name = template["if"]
            if name not in values:
                raise TemplateError(f"no setting named {name!r}")
            branch = "then" if _truthy(values[name]) else "else"
            return resolve(template[branch], values) if branch in template else OMIT
        out = {}
        for key, sub in template.items():
            value = resolve(sub, values)
            if value is not OMIT:
                out[key] = value
        return out
    if isinstance(template, list):
        return [v for v in (resolve(t, values) for t in template) if v is not OMIT]
    return template


def _packages(template: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
    """`{packages: NAME}`: a list setting of package names as packages (`pkgs.NAME`, or
    `pkgs.UNDER.NAME`); with `function: true` the function of a package set that NixOS
    modules take for Python packages (`ps: [ ps.NAME ]`). Every name must be a Nix
    identifier: never code."""
    setting = template["packages"]
    if setting not in values:
        raise TemplateError(f"no setting named {setting!r}")
    names = values[setting]
    if names is None:
        return OMIT
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise TemplateError(f"setting {setting!r} must be a list of package names")
    under = str(template.get("under") or "")
    try:
        if template.get("function"):
            for name in names:
                Pkg(name)  # one identifier each: ps.NAME
            return Raw("ps: [ " + " ".join(f"ps.{n}" for n in names) + " ]")
        return [Pkg(f"{under}.{n}" if under else n) for n in names]
    except NixValueError as err:
        raise TemplateError(str(err)) from err


def template_settings(template: Any) -> frozenset[str]:
    """The names of the settings a template reads (its value depends on them)."""
    if isinstance(template, dict):
        if len(template) == 1 and "setting" in template:
            return frozenset([str(template["setting"])])
        if len(template) == 1 and "template" in template:
            fields = string.Formatter().parse(str(template["template"]))
            return frozenset(name for _, name, _, _ in fields if name is not None)
        if len(template) == 1 and "pkgs" in template:
            return template_settings(template["pkgs"])
        if _is_packages(template):
            return frozenset([str(template["packages"])])
        names = frozenset([str(template["if"])]) if _is_if(template) else frozenset()
        for key, sub in template.items():
            if key != "if":
                names |= template_settings(sub)
        return names
    if isinstance(template, list):
        return frozenset().union(*(template_settings(t) for t in template))
    return frozenset()


def _is_if(template: Mapping[str, Any]) -> bool:
    return "if" in template and set(template) <= {"if", "then", "else"}


def is_plain_map(template: Any) -> bool:
    """A template map that is a set of options, not one of the special one-key forms."""
    if not isinstance(template, dict) or _is_if(template) or _is_packages(template):
        return False
    return not (len(template) == 1 and set(template) & {"setting", "template", "pkgs"})


def _is_packages(template: Mapping[str, Any]) -> bool:
    return "packages" in template and set(template) <= {"packages", "under", "function"}


def option_names(templates: Mapping[str, Any], at: str = "") -> list[str]:
    """The options an entry's `nixos:` sets, as written: a plain map of templates is a set
    of options like dotted keys (`a: {b: 1}` is `a.b`), so each of its leaves has its own
    priority. These are the names `nixosDefaults` and `merges` use."""
    names: list[str] = []
    for key, template in templates.items():
        name = f"{at}.{key}" if at else str(key)
        if is_plain_map(template) and template:
            names.extend(option_names(template, name))
        else:
            names.append(name)
    return names


@dataclass(frozen=True)
class Clash:
    """Two settings that would give one NixOS option two values: a free-form passthrough
    (`config`) holding a key that a named setting (`port`) sets too."""

    setting: str  # the one whose map holds the key: where the person wrote it
    key: tuple[str, ...]  # inside that setting's map
    other: str  # the named setting that sets the same option
    option: str


def setting_clashes(service: Service, settings: Mapping[str, Any]) -> list[Clash]:
    """Where two of the service's settings would set one option to different values.
    The module system would refuse the host ("defined multiple times"); validation says
    which setting to change instead."""
    if not any(isinstance(v, dict) and v for v in settings.values()):
        return []  # no map among the settings: nothing to clash with a named one
    leaves: dict[tuple[str, ...], tuple[Any, frozenset[str], tuple[str, ...]]] = {}
    clashes: list[Clash] = []
    for path, template in service.option_templates:
        value = resolve(template, settings)
        if value is OMIT:
            continue
        read = template_settings(template)
        for leaf, leaf_value in _leaves(path, value):
            seen = leaves.get(leaf)
            if seen is None:
                leaves[leaf] = (leaf_value, read, path)
                continue
            if seen[0] == leaf_value or not (seen[1] and read):
                continue
            # the passthrough is the one whose option path is the shorter (the map's root)
            (mine, root), (theirs, _) = sorted(
                [(seen[1], seen[2]), (read, path)], key=lambda pair: len(pair[1])
            )
            clashes.append(Clash(min(mine), leaf[len(root) :], min(theirs), ".".join(leaf)))
    return clashes


def templates_of(templates: Mapping[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    """(option path, template) of each option a `nixos:`-like map sets, dotted keys split."""
    return _templates(templates, ())


def _templates(
    templates: Mapping[str, Any], at: tuple[str, ...]
) -> list[tuple[tuple[str, ...], Any]]:
    out: list[tuple[tuple[str, ...], Any]] = []
    for key, template in templates.items():
        path = (*at, *option_path(str(key))) if not at else (*at, str(key))
        if is_plain_map(template) and template:
            out.extend(_templates(template, path))
        else:
            out.append((path, template))
    return out


def option_path(text: str) -> list[str]:
    """'services.caddy.virtualHosts."a.b".x' -> its parts; quotes keep dots in a name.
    TemplateError for a path with an empty part or an unclosed quote."""
    parts: list[str] = []
    current = ""
    quoted = False
    was_quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            was_quoted = True
        elif ch == "." and not quoted:
            parts.append(current)
            current, was_quoted = "", False
        else:
            current += ch
    if quoted or (not current and not was_quoted):
        raise TemplateError(f"option path {text!r} is not a dotted path")
    parts.append(current)
    if any(not p for p in parts[:-1]):
        raise TemplateError(f"option path {text!r} has an empty part")
    return parts


def _leaves(path: tuple[str, ...], value: Any) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
        out: list[tuple[tuple[str, ...], Any]] = []
        for key, inner in value.items():
            out.extend(_leaves((*path, key), inner))
        return out
    return [(path, value)]


def service_ports(service: Service, settings: Mapping[str, Any]) -> list[Port]:
    out = []
    for item in service.ports:
        port = resolve(item["port"], settings)
        if isinstance(port, int) and not isinstance(port, bool):
            out.append(Port(port, item.get("protocol", "tcp")))
    return out


def service_checks(service: Service, settings: Mapping[str, Any]) -> Checks:
    checks = resolve(dict(service.checks), settings)
    return Checks(
        units=tuple(str(u) for u in checks.get("units", [])),
        tcp=tuple(int(p) for p in checks.get("tcp", []) if isinstance(p, int)),
        http=tuple(str(u) for u in checks.get("http", [])),
    )


def service_groups(service: Service, settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The groups the service brings on this host: its module's own, and the ones its
    settings name (`chosen_groups`)."""
    found = (resolve(item, settings) for item in service.groups)
    return tuple(dict.fromkeys(g for g in found if isinstance(g, str) and g))


def chosen_groups(service: Service, settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The groups a setting of the service names (a shared `media` group for the services
    that write one downloads folder): NixOS modules create only their default group, so
    homelab creates these."""
    found = (resolve(item, settings) for item in service.groups if not isinstance(item, str))
    return tuple(dict.fromkeys(g for g in found if isinstance(g, str) and g))


def service_state(service: Service, settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The folders on the machine that hold what the service keeps, settings put in."""
    found = (resolve(item, settings) for item in service.state)
    return tuple(str(path) for path in found if isinstance(path, str) and path)


WEB_NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
# what a profile writes under a service that has a web UI: `web: {name: wiki}`
WEB_SETTING: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "description": "Its name under the lab's domain (lab.yaml): wiki gives wiki.DOMAIN",
    "properties": {
        "name": {
            "type": "string",
            "pattern": WEB_NAME_PATTERN,
            "x-hint": "one DNS label: lowercase letters, digits and -, e.g. wiki",
            "description": "one DNS label (wiki gives wiki.DOMAIN)",
        }
    },
}


def web_name(settings: Mapping[str, Any]) -> str | None:
    """The name a profile gives a service under the lab's domain (`web: {name: wiki}`)."""
    web = settings.get("web")
    name = web.get("name") if isinstance(web, Mapping) else None
    return name if isinstance(name, str) else None


def metrics_endpoint(service: Service, settings: Mapping[str, Any]) -> tuple[int, str] | None:
    """The port and path it serves Prometheus metrics on, settings put in."""
    if not service.metrics:
        return None
    port = resolve(service.metrics["port"], settings)
    if not isinstance(port, int) or isinstance(port, bool):
        return None
    return port, str(service.metrics.get("path") or "/metrics")


def web_port(service: Service, settings: Mapping[str, Any]) -> int | None:
    if not service.web:
        return None
    port = resolve(service.web["port"], settings)
    return port if isinstance(port, int) and not isinstance(port, bool) else None
