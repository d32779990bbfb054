"""A new host's profile: the one place that decides what a new profile looks like.

The editor's new-host wizard, `homelab adopt` and `homelab init`'s example all make their
first profile here, from typed inputs. Every value is checked against the profile's rules
first (a hostile one is refused, said with what is wrong, never written), then written
through the round-trip YAML editor (homelab.profile.edit), which quotes each value as YAML
needs it: no value is ever pasted into the text.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from homelab.catalog import Catalog
from homelab.errors import InvalidInput, Place, Problem
from homelab.profile import edit
from homelab.profile.schema import profile_schema
from homelab.profile.validate import HOSTNAME, validate
from homelab.yamlfile import Path_, load_text

# The NixOS release the lab follows (its flake.nix pins nixos-26.05 and home-manager's
# release-26.05): a new host's stateVersion unless its machine says otherwise. One place
# for it today; a lab.yaml will say it per lab once there is one.
RELEASE = "26.05"

COMMON = "common"  # hosts/common holds the fragments that hosts share: no host is named so
STATE_NOTE = "host.stateVersion is the NixOS release it was first installed with: keep it."
UEFI_LOADERS = ("systemd-boot", "grub")  # set up for UEFI (efi: true) unless said otherwise


@dataclass(frozen=True)
class NewProfile:
    """What a new host's profile says; everything left out stays out of the text."""

    name: str  # the host's name and its folder under hosts/
    system: str = "x86_64-linux"  # host.system
    release: str = RELEASE  # host.stateVersion
    loader: str | None = None  # hardware.boot.loader
    hardware_configuration: str | None = None  # a file that comes with the new host
    address: str | None = None  # deploy.address
    port: int | None = None  # deploy.port
    user: str | None = None  # deploy.user
    sudo: bool = False  # deploy.sudo: the rebuild runs through sudo (not root)
    host_key: str | None = None  # deploy.hostKey: the machine's SSH host key, pinned
    includes: Sequence[str] = ()  # fragments merged under the profile
    notes: Sequence[str] = ()  # comment lines on top (default: "<name>: a new host.")

    def values(self) -> list[tuple[Path_, object]]:
        """(profile path, value) of everything this profile says, in the order written."""
        out: list[tuple[Path_, object]] = []
        if self.includes:
            out.append((("include",), list(self.includes)))
        out += [(("host", "system"), self.system), (("host", "stateVersion"), self.release)]
        if self.hardware_configuration is not None:
            out.append((("hardware", "configuration"), self.hardware_configuration))
        if self.loader is not None:
            out.append((("hardware", "boot", "loader"), self.loader))
            if self.loader in UEFI_LOADERS:
                out.append((("hardware", "boot", "efi"), True))
        deploy: list[tuple[str, object]] = [
            ("address", self.address),
            ("port", self.port),
            ("user", self.user),
            ("sudo", self.sudo or None),
            ("hostKey", self.host_key),
        ]
        out += [(("deploy", key), value) for key, value in deploy if value is not None]
        return out


def new_profile(start: NewProfile) -> str:
    """The text of a new host's profile. Raises InvalidInput, with every reason, when a
    value would not make a valid profile (the name first: it names the file)."""
    name_problem = _name_problem(start.name)
    if name_problem is not None:
        raise InvalidInput([name_problem])
    notes = start.notes or (f"{start.name}: a new host.",)
    text = "".join(f"# {_one_line(note)}\n" for note in (*notes, STATE_NOTE))
    for path, value in start.values():
        text = edit.set_value(text, path, value)
    rel = f"hosts/{start.name}/profile.yaml"
    doc, problems = load_text(rel, text)
    if doc is not None:
        # the only file a new profile may name is one that comes with it
        conf = start.hardware_configuration
        beside = {_inside(f"hosts/{start.name}/{conf}")} if conf is not None else set()
        problems += validate(
            doc, start.name, Catalog({}), lambda path: _inside(path) in beside, _inside
        )
    if problems:
        raise InvalidInput(problems)
    return text


def _name_problem(name: str) -> Problem | None:
    if HOSTNAME.fullmatch(name) and name != COMMON:
        return None
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name[:80])
    hint = profile_schema()["properties"]["host"]["properties"]["name"]["x-hint"]
    if name == COMMON:
        hint = "hosts/common holds the fragments hosts share: choose another name"
    return Problem(Place("hosts/"), f"'{shown}' cannot name a new host", hint=hint)


def _inside(rel: str) -> str | None:
    """A lab-relative path as written, or None when it leads out of the lab."""
    path = posixpath.normpath(rel)
    return None if path.startswith(("../", "/")) or path == ".." else path


def _one_line(note: str) -> str:
    """A note as one comment line: a line break (or any other character that is not
    printable) becomes a space, so that no note can write a YAML line of its own."""
    return "".join(c if c.isprintable() else " " for c in note).rstrip()
