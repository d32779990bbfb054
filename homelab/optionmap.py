"""Which NixOS options a profile field sets: what the editor's help line names.

Read off homelab/compile.py (the profile) and each catalogue entry's `nixos` and
`requires` mappings (service settings). A field missing here sets no single option the
compiler names (raw Nix, includes, secrets): the help line then names none.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Sequence
from typing import Any

from homelab.catalog import Catalog, Service
from homelab.profile.options import SECTION, NotAnOptionPath, key_text, parse_key
from homelab.yamlfile import TAGS

# profile path ("*": a name the person chose) -> the options compile.py sets from it;
# "{0}" in an option is the first "*" of the path, "{1}" the second
PROFILE: dict[str, tuple[str, ...]] = {
    "host.name": ("networking.hostName",),
    "host.system": ("nixpkgs.hostPlatform",),
    "host.stateVersion": ("system.stateVersion",),
    "host.timezone": ("time.timeZone",),
    "host.locale": ("i18n.defaultLocale",),
    "host.keyboard": ("services.xserver.xkb.layout", "console.useXkbConfig"),
    "hardware.boot.loader": (
        "boot.loader.systemd-boot.enable",
        "boot.loader.grub.enable",
        "boot.loader.generic-extlinux-compatible.enable",
    ),
    "hardware.boot.efi": ("boot.loader.efi.canTouchEfiVariables", "boot.loader.grub.efiSupport"),
    "hardware.boot.efiMountPoint": ("boot.loader.efi.efiSysMountPoint",),
    "hardware.boot.device": ("boot.loader.grub.device",),
    "hardware.boot.configurationLimit": (
        "boot.loader.systemd-boot.configurationLimit",
        "boot.loader.grub.configurationLimit",
        "boot.loader.generic-extlinux-compatible.configurationLimit",
    ),
    "hardware.kernel.package": ("boot.kernelPackages",),
    "hardware.kernel.modules": ("boot.kernelModules",),
    "hardware.kernel.initrdModules": ("boot.initrd.availableKernelModules",),
    "hardware.kernel.params": ("boot.kernelParams",),
    "hardware.cpu": ("hardware.cpu.intel.updateMicrocode", "hardware.cpu.amd.updateMicrocode"),
    "hardware.fileSystems.*": ("fileSystems.{0}",),
    "hardware.fileSystems.*.device": ("fileSystems.{0}.device",),
    "hardware.fileSystems.*.fsType": ("fileSystems.{0}.fsType",),
    "hardware.fileSystems.*.options": ("fileSystems.{0}.options",),
    "hardware.swap": ("swapDevices",),
    "hardware.firmware": ("hardware.enableRedistributableFirmware",),
    "networking.networkmanager": ("networking.networkmanager.enable",),
    "networking.domain": ("networking.domain",),
    "networking.interfaces.*.addresses": (
        "networking.interfaces.{0}.ipv4.addresses",
        "networking.interfaces.{0}.ipv6.addresses",
    ),
    "networking.interfaces.*.dhcp": ("networking.interfaces.{0}.useDHCP",),
    "networking.gateway": ("networking.defaultGateway",),
    "networking.nameservers": ("networking.nameservers",),
    "networking.firewall.enable": ("networking.firewall.enable",),
    "networking.firewall.tcp": ("networking.firewall.allowedTCPPorts",),
    "networking.firewall.udp": ("networking.firewall.allowedUDPPorts",),
    "networking.firewall.trustedInterfaces": ("networking.firewall.trustedInterfaces",),
    "users.*": ("users.users.{0}.isNormalUser",),
    "users.*.description": ("users.users.{0}.description",),
    "users.*.admin": ("users.users.{0}.extraGroups",),
    "users.*.groups": ("users.users.{0}.extraGroups",),
    "users.*.shell": ("users.users.{0}.shell",),
    "users.*.sshKeys": ("users.users.{0}.openssh.authorizedKeys.keys",),
    "users.*.packages": ("users.users.{0}.packages",),
    "users.*.uid": ("users.users.{0}.uid",),
    "users.*.system": ("users.users.{0}.isSystemUser",),
    "users.*.group": ("users.users.{0}.group",),
    "users.*.hashedPassword": ("users.users.{0}.hashedPassword",),
    "users.*.hashedPasswordFile": ("users.users.{0}.hashedPasswordFile",),
    "groups.*": ("users.groups.{0}",),
    "groups.*.gid": ("users.groups.{0}.gid",),
    "users.*.home.stateVersion": ("home-manager.users.{0}.home.stateVersion",),
    "users.*.home.packages": ("home-manager.users.{0}.home.packages",),
    "users.*.home.programs.*": ("home-manager.users.{0}.programs.{1}",),
    "users.*.home.programs.*.enable": ("home-manager.users.{0}.programs.{1}.enable",),
    "users.*.home.programs.*.settings": ("home-manager.users.{0}.programs.{1}.settings",),
    "users.*.home.files.*.text": ("home-manager.users.{0}.home.file.{1}.text",),
    "users.*.home.files.*.source": ("home-manager.users.{0}.home.file.{1}.source",),
    "users.*.home.files.*.executable": ("home-manager.users.{0}.home.file.{1}.executable",),
    "users.*.home.sessionVariables": ("home-manager.users.{0}.home.sessionVariables",),
    "containers.*": ("virtualisation.oci-containers.containers.{0}",),
    "containers.*.image": ("virtualisation.oci-containers.containers.{0}.image",),
    "containers.*.ports": ("virtualisation.oci-containers.containers.{0}.ports",),
    "containers.*.volumes": ("virtualisation.oci-containers.containers.{0}.volumes",),
    "containers.*.environment": ("virtualisation.oci-containers.containers.{0}.environment",),
    "containers.*.environmentFiles": (
        "virtualisation.oci-containers.containers.{0}.environmentFiles",
    ),
    "containers.*.extraOptions": ("virtualisation.oci-containers.containers.{0}.extraOptions",),
    "containers.*.cmd": ("virtualisation.oci-containers.containers.{0}.cmd",),
    "containers.*.autoStart": ("virtualisation.oci-containers.containers.{0}.autoStart",),
    "packages": ("environment.systemPackages",),
    "nix.flakes": ("nix.settings.experimental-features",),
    "nix.gc.automatic": ("nix.gc.automatic",),
    "nix.gc.dates": ("nix.gc.dates",),
    "nix.gc.options": ("nix.gc.options",),
    "nix.autoOptimise": ("nix.settings.auto-optimise-store",),
    "nix.trustedUsers": ("nix.settings.trusted-users",),
    "nix.substituters": ("nix.settings.substituters",),
    "nix.trustedPublicKeys": ("nix.settings.trusted-public-keys",),
    "nix.allowUnfree": ("nixpkgs.config.allowUnfree",),
}

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")


def _name(part: str | int) -> str:
    """A name as one part of an option path: quoted when it is not a plain Nix name."""
    text = str(part)
    return text if _PLAIN_NAME.fullmatch(text) else '"' + text.replace('"', '\\"') + '"'


def nixos_options(path: Sequence[str | int], catalog: Catalog | None = None) -> list[str]:
    """The NixOS options the value at path sets (with the names it holds put in)."""
    if path and path[0] == SECTION:
        return _written(path[1:])
    if len(path) >= 4 and path[0] == "users" and path[2:4] == ("home", SECTION):
        inner = _written(path[4:])
        return [f"home-manager.users.{_name(path[1])}.{o}" for o in inner]
    if len(path) >= 2 and path[0] == "services":
        service = catalog.get(str(path[1])) if catalog is not None else None
        if service is None:
            return []
        if len(path) == 2:
            return [o for o in service.nixos if o.endswith(".enable")][:1]
        return setting_options(service, str(path[2]))
    for pattern, options in PROFILE.items():
        names = _match(pattern.split("."), path)
        if names is not None:
            return [o.format(*(_name(n) for n in names)) for o in options]
    return []


def _written(keys: Sequence[str | int]) -> list[str]:
    """The option an `options:` key (and the keys under it) names."""
    names: list[str] = []
    for key in keys:
        if isinstance(key, int) or key in TAGS:
            break  # inside a list or a tagged value: the option is the one above
        try:
            names.extend(parse_key(key))
        except NotAnOptionPath:
            return []
    return [key_text(names)] if names else []


def _match(pattern: list[str], path: Sequence[str | int]) -> list[str | int] | None:
    if len(pattern) != len(path):
        return None
    names: list[str | int] = []
    for want, part in zip(pattern, path, strict=True):
        if want == "*":
            names.append(part)
        elif want != part:
            return None
    return names


def setting_options(service: Service, setting: str) -> list[str]:
    """The options of a catalogue entry whose value depends on one of its settings."""
    mappings = [*service.nixos.items(), *service.requires.items()]
    return [option for option, template in mappings if setting in set(_settings_in(template))]


def _settings_in(template: Any) -> Iterator[str]:
    """The settings a template reads (services/README.md: setting, template, if)."""
    if isinstance(template, dict):
        if set(template) == {"setting"}:
            yield str(template["setting"])
            return
        if set(template) == {"template"}:
            for _, name, _, _ in string.Formatter().parse(str(template["template"])):
                if name:
                    yield name
            return
        if "if" in template and set(template) <= {"if", "then", "else"}:
            yield str(template["if"])
        for value in template.values():
            yield from _settings_in(value)
    elif isinstance(template, list):
        for value in template:
            yield from _settings_in(value)
