"""The host profile as frozen dataclasses, built from a validated document.

Names follow the profile's keys. Free-form data (program settings, service settings,
file systems) stays as mappings: it is passed through to NixOS as data.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homelab.catalog import Checks
from homelab.errors import Place
from homelab.profile import modules as module_entries
from homelab.profile.options import SECTION, Setting, settings
from homelab.yamlfile import Path_


@dataclass(frozen=True)
class Host:
    name: str
    system: str
    state_version: str
    timezone: str | None = None
    locale: str | None = None
    keyboard: str | None = None


@dataclass(frozen=True)
class Boot:
    loader: str | None = None  # systemd-boot, grub, extlinux
    efi: bool | None = None
    efi_mount_point: str | None = None
    device: str | None = None
    configuration_limit: int | None = None


@dataclass(frozen=True)
class FileSystem:
    mount_point: str
    device: str
    fs_type: str | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Swap:
    device: str
    size: int | None = None


@dataclass(frozen=True)
class Hardware:
    boot: Boot = field(default_factory=Boot)
    kernel_package: str | None = None
    kernel_modules: tuple[str, ...] = ()
    initrd_modules: tuple[str, ...] = ()
    kernel_params: tuple[str, ...] = ()
    cpu: str | None = None
    file_systems: tuple[FileSystem, ...] = ()
    swap: tuple[Swap, ...] = ()
    configuration: str | None = None  # hardware-configuration.nix in the host folder
    firmware: bool | None = None


@dataclass(frozen=True)
class Interface:
    name: str
    addresses: tuple[str, ...] = ()
    dhcp: bool | None = None


@dataclass(frozen=True)
class Firewall:
    enable: bool | None = None
    tcp: tuple[int, ...] = ()
    udp: tuple[int, ...] = ()
    trusted_interfaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Networking:
    networkmanager: bool | None = None
    domain: str | None = None
    interfaces: tuple[Interface, ...] = ()
    gateway: str | None = None
    nameservers: tuple[str, ...] = ()
    firewall: Firewall = field(default_factory=Firewall)


@dataclass(frozen=True)
class ModuleEntry:
    """One entry of modules: (home.modules:): an input's attribute path as written
    (`agenix.nixosModules.default`), or a module file of the lab (`file`, lab-relative)."""

    written: str
    file: str | None = None

    @property
    def input(self) -> str | None:
        """The flake input an attribute entry comes from (None for a file)."""
        return None if self.file is not None else self.written.split(".", 1)[0]


@dataclass(frozen=True)
class HomeFile:
    path: str
    text: str | None = None
    source: str | None = None
    executable: bool | None = None


@dataclass(frozen=True)
class Home:
    state_version: str
    packages: tuple[str, ...] = ()
    programs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    files: tuple[HomeFile, ...] = ()
    session_variables: Mapping[str, Any] = field(default_factory=dict)
    options: tuple[Setting, ...] = ()  # home-manager options written as YAML
    modules: tuple[ModuleEntry, ...] = ()  # home-manager modules to import


@dataclass(frozen=True)
class User:
    name: str
    description: str | None = None
    admin: bool = False
    groups: tuple[str, ...] = ()
    shell: str | None = None
    ssh_keys: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    uid: int | None = None
    system: bool = False  # a system user (isSystemUser), not a person
    group: str | None = None  # the primary group
    hashed_password: str | None = None
    hashed_password_file: str | SecretUse | None = None
    home: Home | None = None


@dataclass(frozen=True)
class Group:
    """A group the profile creates (users.groups), with its id when it is fixed."""

    name: str
    gid: int | None = None


@dataclass(frozen=True)
class ServiceUse:
    name: str
    settings: Mapping[str, Any]  # with the catalogue's defaults filled in
    given: frozenset[str] = frozenset()  # the settings the person wrote (the rest are defaults)


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    environment_files: tuple[str, ...] = ()
    extra_options: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    auto_start: bool = True


@dataclass(frozen=True)
class NixSettings:
    flakes: bool = True
    gc_automatic: bool | None = None
    gc_dates: str | None = None
    gc_options: str | None = None
    auto_optimise: bool | None = None
    trusted_users: tuple[str, ...] = ()
    substituters: tuple[str, ...] = ()
    trusted_public_keys: tuple[str, ...] = ()
    allow_unfree: bool | None = None


@dataclass(frozen=True)
class SecretUse:
    """An encrypted secret of the lab (encrypted/NAME.age) that a host uses: named by
    `secret: NAME` in a setting, or by a `secrets:` entry without a source. The machine
    decrypts it at activation (agenix) to `target` (else /run/agenix/NAME)."""

    name: str
    at: Path_  # where the profile names it
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    target: str | None = None
    place: Place | None = None  # where it is named outside the profile (lab.yaml)

    @property
    def install(self) -> tuple[str | None, str | None, str | None, str | None]:
        """How it is installed: every use of a name on one host must agree."""
        return (self.owner, self.group, self.mode, self.target)


@dataclass(frozen=True)
class Secret:
    """A `secrets:` entry: a local file copied at apply (`source`), or, without a source,
    the lab's encrypted secret of that name installed at `target` by agenix."""

    name: str
    source: str | None
    target: str
    owner: str | None = None
    group: str | None = None
    mode: str = "0600"


@dataclass(frozen=True)
class ServiceChecks:
    """`deploy.checks.services.NAME`: how one service's health checks run on this host."""

    enable: bool = True
    grace: int | None = None  # seconds; None: the host's
    first_grace: int | None = None  # seconds, on its first start here; None: the host's
    extra: Checks = field(default_factory=Checks)  # checks beside the catalogue's


@dataclass(frozen=True)
class HostChecks:
    """`deploy.checks`: the host's own checks, and how all of its checks run."""

    enable: bool = True
    grace: int | None = None  # seconds; None: the apply's --check-timeout
    first_grace: int | None = None  # seconds, for a service's first start; None: grace
    extra: Checks = field(default_factory=Checks)  # units, tcp, http of the host itself
    services: Mapping[str, ServiceChecks] = field(default_factory=dict)

    def of(self, service: str) -> ServiceChecks:
        return self.services.get(service) or ServiceChecks()


@dataclass(frozen=True)
class Deploy:
    address: str | None = None
    port: int | None = None
    user: str | None = None
    sudo: bool = False
    host_key: str | None = None
    tags: tuple[str, ...] = ()
    method: str = "flake"
    age_host_key: str | None = None  # the ed25519 host key secrets are encrypted to
    checks: HostChecks = field(default_factory=HostChecks)
    build_on: str | None = None  # another host builds the system; this one activates it


@dataclass(frozen=True)
class Profile:
    """One host, as its profile (with includes merged) says it should be."""

    folder: str  # the folder under hosts/
    file: str  # lab-relative path of profile.yaml
    host: Host
    hardware: Hardware = field(default_factory=Hardware)
    networking: Networking = field(default_factory=Networking)
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    services: tuple[ServiceUse, ...] = ()
    containers: tuple[Container, ...] = ()
    packages: tuple[str, ...] = ()
    nix: NixSettings = field(default_factory=NixSettings)
    secrets: tuple[Secret, ...] = ()
    deploy: Deploy = field(default_factory=Deploy)
    extra_config: str | None = None
    options: tuple[Setting, ...] = ()  # NixOS options written as YAML (`options:`)
    includes: tuple[str, ...] = ()  # lab-relative fragment files this profile pulled in
    modules: tuple[ModuleEntry, ...] = ()  # NixOS modules to import
    # secrets the lab gives the host beside its profile's (the DNS credentials of the
    # lab's proxy, lab.yaml)
    lab_secrets: tuple[SecretUse, ...] = ()

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def module_files(self) -> tuple[str, ...]:
        """The lab's module files this host imports (its own and its users'): they go to
        the machine and into the commit with the profile."""
        entries = [*self.modules, *(m for u in self.users if u.home for m in u.home.modules)]
        return tuple(sorted({m.file for m in entries if m.file is not None}))

    def service(self, name: str) -> ServiceUse | None:
        return next((s for s in self.services if s.name == name), None)

    @property
    def encrypted(self) -> tuple[SecretUse, ...]:
        """Every use of an encrypted secret, in the profile's order."""
        found: list[SecretUse] = []
        for s in self.services:
            found.extend(_uses_in(s.settings))
        found.extend(
            u.hashed_password_file
            for u in self.users
            if isinstance(u.hashed_password_file, SecretUse)
        )
        found.extend(
            SecretUse(s.name, ("secrets", s.name), s.owner, s.group, s.mode, s.target)
            for s in self.secrets
            if s.source is None
        )
        found.extend(self.lab_secrets)
        return tuple(found)

    @property
    def secret_files(self) -> tuple[str, ...]:
        """The lab's encrypted files this host uses: they go to the machine with the flake
        (only these), and only its host key and the admins' open them."""
        return tuple(f"encrypted/{name}.age" for name in self.secret_names)

    @property
    def secret_names(self) -> tuple[str, ...]:
        """The encrypted secrets this host uses, each once, sorted."""
        return tuple(sorted({u.name for u in self.encrypted}))


def _uses_in(value: Any) -> list[SecretUse]:
    if isinstance(value, SecretUse):
        return [value]
    if isinstance(value, Mapping):
        return [u for v in value.values() for u in _uses_in(v)]
    if isinstance(value, list | tuple):
        return [u for v in value for u in _uses_in(v)]
    return []


def _t(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


def build(
    data: Mapping[str, Any],
    folder: str,
    file: str,
    service_settings: Mapping[str, Mapping[str, Any]],
    includes: tuple[str, ...] = (),
    named_in: Callable[[Path_], str] | None = None,
) -> Profile:
    """A Profile from a document that passed validation (no checks here). `named_in(path)`
    is the file that wrote the value at `path` (a fragment's module file is beside the
    fragment); without it, the profile `file` wrote everything."""
    where = named_in or (lambda path: file)
    h = data.get("host") or {}
    host = Host(
        name=h.get("name", folder),
        system=h.get("system", "x86_64-linux"),
        state_version=h["stateVersion"],
        timezone=h.get("timezone"),
        locale=h.get("locale"),
        keyboard=h.get("keyboard"),
    )
    hw = data.get("hardware") or {}
    b = hw.get("boot") or {}
    k = hw.get("kernel") or {}
    hardware = Hardware(
        boot=Boot(
            loader=b.get("loader"),
            efi=b.get("efi"),
            efi_mount_point=b.get("efiMountPoint"),
            device=b.get("device"),
            configuration_limit=b.get("configurationLimit"),
        ),
        kernel_package=k.get("package"),
        kernel_modules=_t(k.get("modules")),
        initrd_modules=_t(k.get("initrdModules")),
        kernel_params=_t(k.get("params")),
        cpu=hw.get("cpu"),
        file_systems=tuple(
            FileSystem(mp, fs["device"], fs.get("fsType"), _t(fs.get("options")))
            for mp, fs in (hw.get("fileSystems") or {}).items()
        ),
        swap=tuple(Swap(s["device"], s.get("size")) for s in hw.get("swap") or []),
        configuration=hw.get("configuration"),
        firmware=hw.get("firmware"),
    )
    n = data.get("networking") or {}
    fw = n.get("firewall") or {}
    networking = Networking(
        networkmanager=n.get("networkmanager"),
        domain=n.get("domain"),
        interfaces=tuple(
            Interface(name, _t(i.get("addresses")), i.get("dhcp"))
            for name, i in (n.get("interfaces") or {}).items()
        ),
        gateway=n.get("gateway"),
        nameservers=_t(n.get("nameservers")),
        firewall=Firewall(
            enable=fw.get("enable"),
            tcp=_t(fw.get("tcp")),
            udp=_t(fw.get("udp")),
            trusted_interfaces=_t(fw.get("trustedInterfaces")),
        ),
    )
    users = []
    for name, u in (data.get("users") or {}).items():
        hm = u.get("home")
        home = None
        if hm is not None:
            home = Home(
                state_version=hm.get("stateVersion", host.state_version),
                packages=_t(hm.get("packages")),
                programs={p: dict(spec or {}) for p, spec in (hm.get("programs") or {}).items()},
                files=tuple(
                    HomeFile(path, f.get("text"), _plain(f.get("source")), f.get("executable"))
                    for path, f in (hm.get("files") or {}).items()
                ),
                session_variables=dict(hm.get("sessionVariables") or {}),
                options=_options(hm.get(SECTION), ("users", name, "home", SECTION)),
                modules=_modules(hm.get("modules"), ("users", name, "home", "modules"), where),
            )
        users.append(
            User(
                name=name,
                description=u.get("description"),
                admin=bool(u.get("admin", False)),
                groups=_t(u.get("groups")),
                shell=u.get("shell"),
                ssh_keys=_t(u.get("sshKeys")),
                packages=_t(u.get("packages")),
                uid=u.get("uid"),
                system=bool(u.get("system", False)),
                group=u.get("group"),
                hashed_password=u.get("hashedPassword"),
                hashed_password_file=_password_file(u.get("hashedPasswordFile"), name),
                home=home,
            )
        )
    containers = tuple(
        Container(
            name=name,
            image=c["image"],
            ports=_t(c.get("ports")),
            volumes=_t(c.get("volumes")),
            environment={k: _env(v) for k, v in (c.get("environment") or {}).items()},
            environment_files=_t(c.get("environmentFiles")),
            extra_options=_t(c.get("extraOptions")),
            cmd=_t(c.get("cmd")),
            auto_start=c.get("autoStart", True),
        )
        for name, c in (data.get("containers") or {}).items()
    )
    x = data.get("nix") or {}
    gc = x.get("gc") or {}
    nix = NixSettings(
        flakes=x.get("flakes", True),
        gc_automatic=gc.get("automatic"),
        gc_dates=gc.get("dates"),
        gc_options=gc.get("options"),
        auto_optimise=x.get("autoOptimise"),
        trusted_users=_t(x.get("trustedUsers")),
        substituters=_t(x.get("substituters")),
        trusted_public_keys=_t(x.get("trustedPublicKeys")),
        allow_unfree=x.get("allowUnfree"),
    )
    d = data.get("deploy") or {}
    c = d.get("checks") or {}
    deploy = Deploy(
        address=d.get("address"),
        port=d.get("port"),
        user=d.get("user"),
        sudo=bool(d.get("sudo", False)),
        host_key=d.get("hostKey"),
        age_host_key=d.get("ageHostKey"),
        tags=_t(d.get("tags")),
        method=d.get("method", "flake"),
        checks=_host_checks(c),
        build_on=d.get("buildOn"),
    )
    secrets = tuple(
        Secret(
            name,
            posixpath.normpath(s["source"]) if s.get("source") is not None else None,
            s["target"],
            s.get("owner"),
            s.get("group"),
            s.get("mode", "0600"),
        )
        for name, s in (data.get("secrets") or {}).items()
    )
    return Profile(
        folder=folder,
        file=file,
        host=host,
        hardware=hardware,
        networking=networking,
        users=tuple(users),
        groups=tuple(
            Group(name, (g or {}).get("gid")) for name, g in (data.get("groups") or {}).items()
        ),
        services=tuple(
            ServiceUse(name, service_settings[name], _given(given))
            for name, given in (data.get("services") or {}).items()
        ),
        containers=containers,
        packages=_t(data.get("packages")),
        nix=nix,
        secrets=secrets,
        deploy=deploy,
        extra_config=data.get("extraConfig"),
        options=_options(data.get(SECTION), (SECTION,)),
        includes=includes,
        modules=_modules(data.get("modules"), ("modules",), where),
    )


def _checks(c: Mapping[str, Any]) -> Checks:
    return Checks(_t(c.get("units")), _t(c.get("tcp")), _t(c.get("http")))


def _host_checks(c: Mapping[str, Any]) -> HostChecks:
    return HostChecks(
        enable=c.get("enable", True) is not False,
        grace=c.get("grace"),
        first_grace=c.get("firstGrace"),
        extra=_checks(c),
        services={
            name: ServiceChecks(
                enable=s.get("enable", True) is not False,
                grace=s.get("grace"),
                first_grace=s.get("firstGrace"),
                extra=_checks(s),
            )
            for name, s in (c.get("services") or {}).items()
            if isinstance(s, Mapping)
        },
    )


def _password_file(value: Any, user: str) -> str | SecretUse | None:
    if isinstance(value, Mapping):
        at = ("users", user, "hashedPasswordFile")
        return SecretUse(
            str(value["secret"]), at, value.get("owner"), value.get("group"), value.get("mode")
        )
    return value if isinstance(value, str) else None


def _modules(entries: Any, at: Path_, named_in: Callable[[Path_], str]) -> tuple[ModuleEntry, ...]:
    out = []
    for i, entry in enumerate(entries or ()):
        if module_entries.is_file_entry(entry):
            # validation refused a file outside the lab
            out.append(ModuleEntry(entry, module_entries.lab_path(entry, named_in((*at, i)))))
        else:
            out.append(ModuleEntry(entry))
    return tuple(out)


def _options(section: Any, where: tuple[str, ...]) -> tuple[Setting, ...]:
    found, _ = settings(section, where)  # validation refused every problem first
    return tuple(found)


def _given(settings: Any) -> frozenset[str]:
    return frozenset(settings) if isinstance(settings, dict) else frozenset()


def _plain(path: str | None) -> str | None:
    """`./files/../x` as `x`: a path is compared and uploaded in one spelling."""
    return None if path is None else posixpath.normpath(path)


def _env(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
