"""lab.yaml's `builds:`: the lab's build and signing keys, its remote builders and its
cache, as a JSON Schema (a part of lab.yaml's) and a model (homelab.builds.BuildsSpec),
with the public keys checked. homelab.builds plans them with the profiles."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from homelab.builds import BuilderSpec, BuildsSpec, CacheSpec, KeyRef
from homelab.errors import Place, Problem
from homelab.profile.secretrefs import NAME as SECRET_NAME
from homelab.profile.secretrefs import NAME_HINT
from homelab.yamlfile import Document

_LAB_YAML = "lab.yaml"  # homelab.labconfig.LAB_YAML (which imports this module)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-hint": "where the lab's systems are built: {sshKey: ..., signingKey: ..., "
    "builders: {nuc: {}}, cache: {host: nas}} (README: Building on another machine)",
    "additionalProperties": False,
    "properties": {
        "sshKey": {
            "type": "object",
            "additionalProperties": False,
            "required": ["secret", "public"],
            "x-hint": 'the key builders log in with: ssh-keygen -t ed25519 -N "" -f '
            "build-key, then homelab secrets set build-ssh-key < build-key; "
            '{secret: build-ssh-key, public: "ssh-ed25519 AAAA... homelab-build"}',
            "properties": {
                "secret": {
                    "type": "string",
                    "pattern": "^" + SECRET_NAME.pattern + "$",
                    "x-hint": "the private key's encrypted secret: " + NAME_HINT,
                },
                "public": {
                    "type": "string",
                    "pattern": r"^[^\n\r]*$",
                    "x-hint": "the line of build-key.pub: ssh-ed25519 AAAA... (or ssh-rsa)",
                },
            },
        },
        "signingKey": {
            "type": "object",
            "additionalProperties": False,
            "required": ["secret", "public"],
            "x-hint": "the key built paths are signed with: nix-store "
            "--generate-binary-cache-key lab-builds-1 signing.sec signing.pub, then "
            "homelab secrets set build-signing-key < signing.sec; "
            '{secret: build-signing-key, public: "lab-builds-1:BASE64="}',
            "properties": {
                "secret": {
                    "type": "string",
                    "pattern": "^" + SECRET_NAME.pattern + "$",
                    "x-hint": "the signing key's encrypted secret (signing.sec): " + NAME_HINT,
                },
                "public": {
                    "type": "string",
                    "pattern": r"^[^\n\r]*$",
                    "x-hint": "what signing.pub holds: NAME:BASE64=",
                },
            },
        },
        "builders": {
            "type": "object",
            "x-hint": "hosts that build for the others (Nix remote builders), e.g. "
            "nuc: {systems: [x86_64-linux, aarch64-linux], maxJobs: 4}",
            "additionalProperties": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "x-hint": "a host of the lab (its name or folder): {systems: [...], "
                "maxJobs: 4, speedFactor: 2, features: [big-parallel]}",
                "properties": {
                    "systems": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "pattern": r"^[a-z0-9_]+-[a-z0-9_]+$",
                            "x-hint": "a Nix system, e.g. x86_64-linux or aarch64-linux",
                        },
                        "x-hint": "the systems it builds for (other than its own: "
                        "by emulation, which homelab sets up); default: its own",
                    },
                    "maxJobs": {
                        "type": "integer",
                        "minimum": 1,
                        "x-hint": "how many builds it runs at once (default 1)",
                    },
                    "speedFactor": {
                        "type": "integer",
                        "minimum": 1,
                        "x-hint": "how much faster than the others it is: Nix "
                        "prefers the fastest builder (default 1)",
                    },
                    "features": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "pattern": r"^[A-Za-z0-9_.-]+$",
                            "x-hint": "a system feature, e.g. big-parallel, kvm",
                        },
                        "x-hint": "features it supports, e.g. [big-parallel, kvm]",
                    },
                },
            },
        },
        "cache": {
            "type": "object",
            "additionalProperties": False,
            "x-hint": "a binary cache every host substitutes from: {host: nas} "
            '(a lab host serves its store) or {url: "https://...", publicKey: ...}',
            "properties": {
                "host": {
                    "type": "string",
                    "minLength": 1,
                    "x-hint": "a host of the lab that serves its store (harmonia), "
                    "signed with builds.signingKey",
                },
                "url": {
                    "type": "string",
                    "pattern": r"^https?://[^\s]+$",
                    "x-hint": 'an outside cache, e.g. "https://cache.example.org"',
                },
                "publicKey": {
                    "type": "string",
                    "pattern": r"^[^\n\r]*$",
                    "x-hint": "the outside cache's public key: NAME:BASE64=",
                },
            },
        },
    },
}


_SSH_TYPES = ("ssh-ed25519", "ssh-rsa")
_NIX_KEY = re.compile(r"^([^\s:]+):([A-Za-z0-9+/]+={0,2})$")


def ssh_public_problem(text: str) -> str | None:
    """Why a line is no SSH public key a build key may be (None: it is one)."""
    parts = text.split()
    if len(parts) < 2 or parts[0] not in _SSH_TYPES:
        return "is no SSH public key line (ssh-ed25519 AAAA... or ssh-rsa AAAA...)"
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return "is no SSH public key: its key part is not base64"
    size = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if blob[4 : 4 + size] != parts[0].encode():
        return f"is no {parts[0]} key: its key part holds another type"
    return None


def nix_key_problem(text: str) -> str | None:
    """Why a text is no Nix public signing key NAME:BASE64 (ed25519, 32 bytes)."""
    found = _NIX_KEY.match(text)
    if found is None:
        return "is no Nix public key (NAME:BASE64, as nix-store --generate-binary-cache-key writes)"
    try:
        raw = base64.b64decode(found.group(2), validate=True)
    except (binascii.Error, ValueError):
        return "is no Nix public key: the part after the colon is not base64"
    if len(raw) != 32:
        return f"is no ed25519 Nix public key: it holds {len(raw)} bytes, not 32"
    return None


def parse_builds(data: Mapping[str, Any], doc: Document) -> tuple[BuildsSpec | None, list[Problem]]:
    """`builds:` (the schema has checked its shape), its public keys checked."""
    spec = data.get("builds")
    if spec is None:
        return None, []
    top = Place(_LAB_YAML)
    problems: list[Problem] = []

    def key(name: str, check: Callable[[str], str | None]) -> KeyRef | None:
        given = spec.get(name)
        if given is None:
            return None
        place = doc.marks.value(("builds", name, "public"), top)
        why = check(given["public"])
        if why is not None:
            problems.append(
                Problem(
                    place,
                    f"builds.{name}.public {why}",
                    f"builds.{name}.public",
                    hint=_KEY_HINTS[name],
                )
            )
        return KeyRef(given["secret"], given["public"], doc.marks.key(("builds", name), top))

    ssh = key("sshKey", ssh_public_problem)
    signing = key("signingKey", nix_key_problem)
    builders = tuple(
        BuilderSpec(
            str(host),
            tuple((b or {}).get("systems") or ()),
            (b or {}).get("maxJobs", 1),
            (b or {}).get("speedFactor", 1),
            tuple((b or {}).get("features") or ()),
            doc.marks.key(("builds", "builders", host), top),
        )
        for host, b in (spec.get("builders") or {}).items()
    )
    cache = None
    if spec.get("cache") is not None:
        given = spec["cache"]
        public = given.get("publicKey")
        if public is not None and (why := nix_key_problem(public)) is not None:
            problems.append(
                Problem(
                    doc.marks.value(("builds", "cache", "publicKey"), top),
                    f"builds.cache.publicKey {why}",
                    "builds.cache.publicKey",
                    hint="the key the cache publishes, e.g. cache.example.org-1:BASE64=",
                )
            )
        cache = CacheSpec(
            given.get("host"), given.get("url"), public, doc.marks.key(("builds", "cache"), top)
        )
    return BuildsSpec(ssh, signing, builders, cache, doc.marks.key(("builds",), top)), problems


_KEY_HINTS = {
    "sshKey": 'the line of build-key.pub (ssh-keygen -t ed25519 -N "" -f build-key)',
    "signingKey": "what signing.pub holds (nix-store --generate-binary-cache-key "
    "lab-builds-1 signing.sec signing.pub)",
}
