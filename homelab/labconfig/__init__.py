"""lab.yaml: what is lab-wide (the release it follows, its flake inputs and overlays).

A lab without lab.yaml keeps its hand-kept flake.nix and works as before; with one, homelab
generates flake.nix from it (homelab.labconfig.flake). Read through homelab.yamlfile, checked
with a JSON Schema (errors at their place, in the profile's words), then turned into a
frozen model.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema_rs

from homelab.builds import BuildsSpec
from homelab.catalog import RELEASE
from homelab.errors import Place, Problem
from homelab.labconfig.builds import SCHEMA as BUILDS_SCHEMA
from homelab.labconfig.builds import parse_builds
from homelab.nix.names import is_identifier
from homelab.profile.schema import schema_errors, schema_problems
from homelab.profile.secretrefs import NAME as SECRET_NAME
from homelab.profile.secretrefs import NAME_HINT
from homelab.secrets.keys import Recipient, parse_recipient
from homelab.webplan import Domain
from homelab.wiring import RoleSpec
from homelab.yamlfile import Document, load_text

LAB_YAML = "lab.yaml"
FLAKE = "flake.nix"
# homelab's release (the skeleton's): a new lab's, and a new host's stateVersion when
# there is no lab.yaml
DEFAULT_RELEASE = RELEASE
NIXPKGS = "nixpkgs"
HOME_MANAGER = "home-manager"
_IDENTIFIER_HINT = "a Nix identifier: letters, digits, _, ' and -, not starting with a digit"

DOMAIN_PATTERN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
_URL: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "pattern": r"^[^\s\"\\$]+$",
    "x-hint": 'a flake reference, e.g. "github:ryantm/agenix" or "path:./vendor/x"',
}
_SOURCE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {"url": _URL},
}
_SECRET_REF: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["secret"],
    "properties": {
        "secret": {
            "type": "string",
            "pattern": "^" + SECRET_NAME.pattern + "$",
            "x-hint": NAME_HINT,
        }
    },
}
_IP = r"^([0-9]{1,3}\.){3}[0-9]{1,3}$|^[0-9a-fA-F:]+$"  # a nameserver: an address
_ROLE: dict[str, Any] = {"type": ["object", "null"], "additionalProperties": False}
_ROLE_HOST: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "x-hint": "the host that plays it (its name or folder); left out: the host that runs "
    "its service",
}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "lab.yaml",
    "type": "object",
    "additionalProperties": False,
    "required": ["release"],
    "properties": {
        "release": {
            "type": "string",
            "pattern": r"^[0-9]{2}\.[0-9]{2}$",
            "x-hint": 'a NixOS release in quotes, e.g. "26.05" (nixos-26.05, home-manager '
            "release-26.05)",
        },
        "nixpkgs": {**_SOURCE, "x-hint": "overrides the release's nixpkgs: {url: ...}"},
        "home-manager": {**_SOURCE, "x-hint": "overrides the release's home-manager: {url: ...}"},
        "inputs": {
            "type": "object",
            "x-hint": 'extra flake inputs by name, e.g. agenix: {url: "github:ryantm/agenix"}',
            "additionalProperties": {
                "type": "object",
                "x-hint": 'an input is {url: "github:OWNER/REPO"}; follows: false keeps its '
                "own nixpkgs",
                "additionalProperties": False,
                "required": ["url"],
                "properties": {
                    "url": _URL,
                    "follows": {
                        "type": "boolean",
                        "x-hint": "false: the input keeps its own nixpkgs (default: the lab's)",
                    },
                },
            },
        },
        "admins": {
            "type": "object",
            "x-hint": "who may open the lab's encrypted secrets: a name and a public key each, "
            "e.g. alice: age1... (age-keygen -y FILE prints it) or an ssh-ed25519 key",
            "additionalProperties": {
                "type": "string",
                "minLength": 1,
                "x-hint": "an age public key (age1...) or an SSH public key "
                "(ssh-ed25519 AAAA... or ssh-rsa AAAA...)",
            },
        },
        "domain": {
            "type": "object",
            "x-hint": "the lab's domain and its certificates: {name: home.example.org, "
            "email: you@example.org, challenge: dns, dnsProvider: cloudflare, "
            "credentials: {secret: NAME}}",
            "additionalProperties": False,
            "required": ["name", "email"],
            "properties": {
                "name": {
                    "type": "string",
                    "pattern": DOMAIN_PATTERN,
                    "x-hint": "a DNS name the lab owns, e.g. home.example.org",
                },
                "email": {
                    "type": "string",
                    "pattern": r"^[^@\s]+@[^@\s]+$",
                    "x-hint": "the ACME account's e-mail address (Let's Encrypt writes "
                    "to it before a certificate expires)",
                },
                "challenge": {
                    "enum": ["http", "dns"],
                    "x-hint": "http: HTTP-01, the names face the internet; dns: DNS-01, "
                    "a certificate for *.DOMAIN even when no name faces the internet",
                },
                "dnsProvider": {
                    "type": "string",
                    "pattern": r"^[a-z0-9][a-z0-9._-]*$",
                    "x-hint": "lego's name of the DNS provider, e.g. cloudflare, "
                    "digitalocean, ovh (go-acme.github.io/lego/dns)",
                },
                "credentials": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["secret"],
                    "x-hint": "credentials are an encrypted secret, never a value: "
                    "{secret: NAME} (homelab secrets set NAME < provider.env)",
                    "properties": {
                        "secret": {
                            "type": "string",
                            "pattern": "^" + SECRET_NAME.pattern + "$",
                            "x-hint": NAME_HINT,
                        }
                    },
                },
                "public": {
                    "type": "boolean",
                    "x-hint": "true: the names resolve on the internet and port 80 reaches "
                    "the proxy (HTTP-01 works); false (default): only inside the lab",
                },
            },
        },
        "proxy": {
            "type": "object",
            "x-hint": "the host fronting every named service: {host: gateway, server: caddy}",
            "additionalProperties": False,
            "properties": {
                "host": {
                    "type": "string",
                    "minLength": 1,
                    "x-hint": "a host of the lab (its name or folder); without it each "
                    "host fronts its own named services",
                },
                "server": {"enum": ["caddy", "nginx"], "x-hint": "caddy (default) or nginx"},
            },
        },
        "wiring": {
            "type": "object",
            "x-hint": "what one host does for the others: dns, monitoring, backups, mqtt, "
            "e.g. wiring: {dns: {}, monitoring: {}} (README: The lab's wiring)",
            "additionalProperties": False,
            "properties": {
                "dns": {
                    **_ROLE,
                    "properties": {
                        "host": _ROLE_HOST,
                        "fallback": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "pattern": _IP,
                                "x-hint": "an address, e.g. 9.9.9.9: a nameserver is asked "
                                "by its address",
                            },
                            "x-hint": "nameservers every host asks after the lab's, e.g. [9.9.9.9]",
                        },
                    },
                },
                "monitoring": {**_ROLE, "properties": {"host": _ROLE_HOST}},
                "backups": {
                    **_ROLE,
                    "type": "object",
                    "required": ["host", "password"],
                    "properties": {
                        "host": {
                            **_ROLE_HOST,
                            "x-hint": "the host that keeps every host's backups (the NAS)",
                        },
                        "schedule": {
                            "type": "string",
                            "pattern": r"^[A-Za-z0-9 *:,./~-]+$",
                            "x-hint": "when each host backs up: a systemd calendar, e.g. "
                            "daily or *-*-* 03:00:00",
                        },
                        "keep": {
                            "type": "object",
                            "additionalProperties": False,
                            "x-hint": "how many to keep: {daily: 7, weekly: 4, monthly: 6}",
                            "properties": {
                                k: {"type": "integer", "minimum": 1}
                                for k in ("last", "daily", "weekly", "monthly", "yearly")
                            },
                        },
                        "password": {
                            **_SECRET_REF,
                            "x-hint": "the repository's password: "
                            "{secret: NAME} (homelab secrets set NAME)",
                        },
                    },
                },
                "mqtt": {
                    **_ROLE,
                    "properties": {
                        "host": _ROLE_HOST,
                        "password": {
                            **_SECRET_REF,
                            "x-hint": "the lab's MQTT user's password: {secret: NAME}",
                        },
                    },
                },
            },
        },
        "builds": BUILDS_SCHEMA,
        "overlays": {
            "type": "array",
            "x-hint": "INPUT.attr.path (e.g. agenix.overlays.default) or ./file.nix of the lab",
            "items": {"type": "string", "minLength": 1},
        },
    },
}


@dataclass(frozen=True)
class Input:
    """An extra flake input."""

    name: str  # a Nix identifier
    url: str
    follows: bool = True  # its nixpkgs input follows the lab's


@dataclass(frozen=True)
class Overlay:
    """An overlay: an attribute of an input (`input` set) or a .nix file of the lab."""

    text: str  # as written in lab.yaml
    input: str | None = None  # agenix for agenix.overlays.default
    file: str | None = None  # lab-relative path of a local overlay, normalised

    @property
    def is_file(self) -> bool:
        return self.file is not None


@dataclass(frozen=True)
class Admin:
    """A person who may open the lab's encrypted secrets: every secret is encrypted to
    their key too."""

    name: str
    key: Recipient


@dataclass(frozen=True)
class LabConfig:
    release: str
    nixpkgs_url: str
    home_manager_url: str
    inputs: tuple[Input, ...] = ()
    overlays: tuple[Overlay, ...] = ()
    admins: tuple[Admin, ...] = ()
    domain: Domain | None = None  # the lab's domain, certificates and proxy
    wiring: Mapping[str, RoleSpec] = field(default_factory=dict)  # roles by name
    builds: BuildsSpec | None = None  # where the systems are built (builds:)

    @property
    def input_names(self) -> tuple[str, ...]:
        """Every input a module or overlay may name."""
        return (NIXPKGS, HOME_MANAGER, *(i.name for i in self.inputs))


def release_urls(release: str) -> tuple[str, str]:
    return (
        f"github:NixOS/nixpkgs/nixos-{release}",
        f"github:nix-community/home-manager/release-{release}",
    )


@dataclass(frozen=True)
class Wanted:
    """A flake input as lab.yaml asks for it, with where it asks (read leniently)."""

    name: str
    url: str
    place: Place  # where lab.yaml names it (its key), or the release it follows
    release: str = ""  # nixpkgs and home-manager that follow `release:`
    follows: bool = True  # follows the lab's nixpkgs (extra inputs only)


@dataclass(frozen=True)
class AsWritten:
    """lab.yaml as written, read even when it has problems (`parse` reports them):
    whatever is malformed is left out."""

    release: str
    inputs: Mapping[str, Wanted]  # nixpkgs and home-manager first, then `inputs:`
    overlays: tuple[str, ...]


def as_written(text: str) -> AsWritten | None:
    """The release, the inputs with their places and the overlays lab.yaml gives, for
    the lock checks and for front ends that show lab.yaml beside its problems; None when
    it is no YAML mapping."""
    doc, _ = load_text(LAB_YAML, text)
    if doc is None or not isinstance(doc.data, dict):
        return None
    data: Mapping[str, Any] = doc.data
    top = Place(LAB_YAML, 1, 1)
    given_release = data.get("release")
    release = str(given_release) if isinstance(given_release, str | int | float) else ""
    inputs: dict[str, Wanted] = {}
    for name, release_url in zip((NIXPKGS, HOME_MANAGER), release_urls(release), strict=True):
        given = data.get(name)
        url = given.get("url") if isinstance(given, dict) else None
        if isinstance(url, str) and url:
            inputs[name] = Wanted(name, url, doc.marks.key((name,), top))
        elif release:
            inputs[name] = Wanted(name, release_url, doc.marks.key(("release",), top), release)
    extra = data.get("inputs")
    for name, spec in extra.items() if isinstance(extra, dict) else ():
        url = spec.get("url") if isinstance(spec, dict) else None
        if isinstance(name, str) and isinstance(url, str) and url:
            follows = spec.get("follows", True) is not False
            place = doc.marks.key(("inputs", name), top)
            inputs[name] = Wanted(name, url, place, follows=follows)
    overlays = data.get("overlays")
    written = [o for o in overlays if isinstance(o, str)] if isinstance(overlays, list) else []
    return AsWritten(release, inputs, tuple(written))


@cache
def _validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator(SCHEMA, offline=True)


def parse(
    text: str, read: Callable[[str], str | None] | None = None
) -> tuple[LabConfig | None, list[Problem]]:
    """lab.yaml's text -> its model, or None with every problem. `read` gives a lab file's
    text (None when missing): overlays from files are checked with it."""
    doc, problems = load_text(LAB_YAML, text)
    if doc is None or problems:
        return None, problems
    data = doc.data if doc.data is not None else {}
    for err in schema_errors(_validator(), data):
        problems += schema_problems(err, doc, data, SCHEMA)
    if problems:
        return None, sorted(set(problems), key=Problem.sort_key)
    inputs_data: Mapping[str, Any] = data.get("inputs") or {}
    for name in inputs_data:
        if not is_identifier(name) or name in (NIXPKGS, HOME_MANAGER, "self"):
            said = f"'{name}' cannot name an input"
            hint = (
                f"{name} is set at the top of lab.yaml"
                if name in (NIXPKGS, HOME_MANAGER)
                else "self is the flake itself"
                if name == "self"
                else _IDENTIFIER_HINT + ", e.g. nixos-hardware"
            )
            problems.append(
                Problem(doc.marks.key(("inputs", name), Place(LAB_YAML)), said, hint=hint)
            )
    inputs = tuple(
        Input(name, spec["url"], spec.get("follows", True)) for name, spec in inputs_data.items()
    )
    admins: list[Admin] = []
    for name, text in (data.get("admins") or {}).items():
        key = parse_recipient(text)
        if isinstance(key, str):
            place = doc.marks.value(("admins", name), Place(LAB_YAML))
            problems.append(Problem(place, f"admin {name}'s key {key}", path=f"admins.{name}"))
        else:
            admins.append(Admin(str(name), key))
    release = data["release"]
    nixpkgs_url, home_manager_url = release_urls(release)
    config = LabConfig(
        release,
        (data.get(NIXPKGS) or {}).get("url", nixpkgs_url),
        (data.get(HOME_MANAGER) or {}).get("url", home_manager_url),
        inputs,
    )
    overlays: list[Overlay] = []
    for i, written in enumerate(data.get("overlays") or ()):
        overlay, problem = _overlay(written, config, doc, i, read)
        if problem is not None:
            problems.append(problem)
        elif overlay is not None:
            overlays.append(overlay)
    domain, found = _domain(data, doc)
    problems += found
    builds, found = parse_builds(data, doc)
    problems += found
    if problems:
        return None, problems
    return LabConfig(
        config.release,
        config.nixpkgs_url,
        config.home_manager_url,
        config.inputs,
        tuple(overlays),
        tuple(admins),
        domain,
        _wiring(data, doc),
        builds,
    ), []


def _wiring(data: Mapping[str, Any], doc: Document) -> dict[str, RoleSpec]:
    """`wiring:` (the schema has checked its shape): each role written, even empty."""
    top = Place(LAB_YAML)
    out: dict[str, RoleSpec] = {}
    for role, spec in (data.get("wiring") or {}).items():
        spec = spec or {}
        at = ("wiring", role)
        out[role] = RoleSpec(
            role,
            host=spec.get("host"),
            place=doc.marks.key(at, top),
            host_place=doc.marks.value((*at, "host"), top),
            fallback=tuple(spec.get("fallback") or ()),
            schedule=spec.get("schedule", "daily"),
            keep=dict(spec.get("keep") or {"daily": 7, "weekly": 4, "monthly": 6}),
            password=(spec.get("password") or {}).get("secret"),
            password_place=doc.marks.value((*at, "password"), top),
        )
    return out


def _domain(data: Mapping[str, Any], doc: Document) -> tuple[Domain | None, list[Problem]]:
    """`domain:` and `proxy:` (the schema has checked their shapes)."""
    spec = data.get("domain")
    proxy = data.get("proxy") or {}
    top = Place(LAB_YAML)
    if spec is None:
        if data.get("proxy") is not None:
            return None, [
                Problem(
                    doc.marks.key(("proxy",), top),
                    "a proxy needs the lab's domain, which lab.yaml does not give",
                    "proxy",
                    hint="add  domain: {name: home.example.org, email: you@example.org}",
                )
            ]
        return None, []
    public = bool(spec.get("public", False))
    challenge = spec.get("challenge") or ("http" if public else "dns")
    problems: list[Problem] = []
    if challenge == "http" and not public:
        problems.append(
            Problem(
                doc.marks.value(("domain", "challenge"), top),
                "an HTTP-01 challenge needs names that face the internet, and these are "
                "only inside the lab (public: false)",
                "domain.challenge",
                hint="challenge: dns (a DNS-01 challenge with your DNS provider), or "
                "public: true when port 80 of the proxy is reachable from the internet",
            )
        )
    credentials = (spec.get("credentials") or {}).get("secret")
    if challenge == "dns":
        for key, what in (("dnsProvider", "a DNS provider"), ("credentials", "credentials")):
            if key not in spec:
                problems.append(
                    Problem(
                        doc.marks.key(("domain",), top),
                        f"a DNS-01 challenge needs {what}: domain.{key} is missing",
                        "domain",
                        hint="dnsProvider: lego's name of it (e.g. cloudflare); credentials: "
                        "{secret: NAME}, an encrypted secret with the provider's variables",
                    )
                )
    return Domain(
        name=spec["name"],
        email=spec["email"],
        challenge=challenge,
        public=public,
        dns_provider=spec.get("dnsProvider"),
        credentials=credentials,
        proxy_host=proxy.get("host"),
        server=proxy.get("server", "caddy"),
        proxy_place=doc.marks.value(("proxy", "host"), top),
        credentials_place=doc.marks.value(("domain", "credentials"), top),
    ), problems


def _overlay(
    written: str,
    config: LabConfig,
    doc: Document,
    i: int,
    read: Callable[[str], str | None] | None,
) -> tuple[Overlay | None, Problem | None]:
    place = doc.marks.value(("overlays", i), Place(LAB_YAML))
    path = f"overlays[{i}]"
    if written.startswith(("./", "../", "/")):
        rel = posixpath.normpath(written)
        if written.startswith("/") or rel == ".." or rel.startswith("../"):
            return None, Problem(
                place,
                f"overlay file '{written}' is outside the lab",
                path,
                hint="put the overlay in the lab, e.g. ./overlays/tools.nix",
            )
        from homelab.nix.expr import NixPath, NixValueError

        try:
            NixPath("./" + rel)
        except NixValueError:
            return None, Problem(
                place,
                f"'{written}' cannot be written as a Nix path",
                path,
                hint="letters, digits and . _ + - / only",
            )
        if not rel.endswith(".nix"):
            return None, Problem(place, f"'{written}' is not a .nix file", path)
        text = read(rel) if read is not None else None
        if text is None:
            return None, Problem(
                place,
                f"overlay file '{written}' is missing",
                path,
                hint="write it (final: prev: { ... }), or remove it from overlays",
            )
        from homelab.nix.syntax import check_expression  # deferred: the parser is slow to load

        errors = check_expression(text)
        if errors:
            e = errors[0]
            return None, Problem(
                Place(rel, e.line, e.column),
                f"this overlay does not parse: {e.message}",
                hint="an overlay is a function: final: prev: { ... }",
            )
        return Overlay(written, file=rel), None
    parts = written.split(".")
    if len(parts) < 2 or not all(is_identifier(p) for p in parts):
        return None, Problem(
            place,
            f"'{written}' is not an overlay",
            path,
            hint="INPUT.attr.path, e.g. agenix.overlays.default, or a file: ./overlays/x.nix",
        )
    if parts[0] not in config.input_names:
        return None, Problem(
            place,
            f"overlay '{written}' names input '{parts[0]}', which lab.yaml lacks",
            path,
            hint=f"add it under inputs: (known: {', '.join(config.input_names)})",
        )
    return Overlay(written, input=parts[0]), None


def load(
    read: Callable[[str], str | None],
) -> tuple[LabConfig | None, list[Problem]]:
    """The lab's lab.yaml through `read` (lab-relative path -> text, None when missing):
    (None, []) when the lab has none."""
    text = read(LAB_YAML)
    if text is None:
        return None, []
    return parse(text, read)


def lab_yaml_text(release: str = DEFAULT_RELEASE) -> str:
    """A new lab's lab.yaml."""
    return (
        "# The lab as a whole: homelab generates flake.nix from this file.\n"
        f'release: "{release}"  # nixpkgs nixos-{release}, home-manager release-{release}\n'
        "# extra flake inputs (they follow the lab's nixpkgs; `follows: false` says not to):\n"
        "# inputs:\n"
        '#   agenix: {url: "github:ryantm/agenix"}\n'
        "# overlays, applied to every host's pkgs in order:\n"
        "# overlays:\n"
        "#   - agenix.overlays.default\n"
        "#   - ./overlays/tools.nix\n"
    )
