"""Warnings about a valid profile: what may be wrong but does not stop a build.

A warning is a Problem with warning=True. Validation (homelab.profile.validate) says what
is certainly wrong and blocks saving and building; advice says what homelab cannot be
sure of, because NixOS modules and raw Nix can do things homelab does not see: a group a
module creates, a root file system set in a file homelab does not read. Pure: the files
it needs come through `read`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from homelab.catalog import Catalog, service_groups
from homelab.errors import Place, Problem, format_path
from homelab.profile.created import groups_in_options, groups_in_raw_nix
from homelab.profile.model import Profile
from homelab.yamlfile import Document, Path_

# Groups NixOS itself knows: the names of ids.gids in nixos/modules/misc/ids.nix (nixpkgs
# 001d025fd4d70322f01b25021f074db9c359ae0a). A gid there is reserved for the group; most
# of these exist on every host (wheel, audio, ...), the rest once their module is on.
NIXOS_GROUPS = frozenset(
    """
    root wheel kmem tty messagebus haldaemon disk ftp atd postfix postdrop dovecot tomcat
    audio floppy uucp lp proc pulseaudio gpsd cdrom tape video dialout utmp davfs2 disnix
    osgi tor git fourstore fourstorehttp virtuoso dovecot2 dovenull2 mpd clamav wwwrun adm
    spamd networkmanager nslcd scanner nginx chrony systemd-journal smtpd smtpq supybot
    iodined libvirtd graphite transmission postgres vboxusers vboxsf smbguest varnish
    datadog lighttpd lightdm freenet ircd bacula deluge mysql rabbitmq activemq gnunet
    oidentd quassel amule minidlna elasticsearch firebird keys munin dictd couchdb jenkins
    systemd-journal-gateway aerospike vault murmur foundationdb newrelic starbound hydra
    spiped teamspeak influxdb nsd gitolite znc polipo mopidy docker gdm siproxd mlmmj
    riemann riemanndash uhub redmine prosody i2pd systemd-network systemd-resolve
    systemd-timesync liquidsoap hbase opentsdb scollector bosun kubernetes gitlab nylon exim
    input sddm zabbix mediatomb ihaskell i2p lambdabot asterisk plex sabnzbd uwsgi gitit
    riemanntools subsonic gateone namecoin xtreemfs calibre-server bepasty nm-openvpn
    mathics ejabberd postsrsd opendkim dspam matrix-synapse rspamd cfdyndns pdnsd octoprint
    syncthing caddy taskd sniproxy nzbget mosquitto turnserver gocd-agent gocd-server
    terraria mattermost prometheus gitlab-runner postgrey leaps ipfs infinoted sickbeard
    headphones fcron sonarr radarr jackett aria2 clickhouse rslsync minio kanboard kodi
    mighttpd2 hass ceph duplicati monetdb restic openvpn yarn hdfs mapred hadoop cfssl
    cassandra qemu-libvirtd kvm render sgx lirc lidarr slurm kapacitor alerta minetest
    rss2email cockroachdb zoneminder paperless zigbee2mqtt shadow hqplayer moonraker distcc
    webdav pipewire rstudio-server localtimed automatic-timezoned uinput shoko onepassword
    onepassword-cli users nixbld nogroup
    """.split()  # noqa: SIM905 - the names as ids.nix lists them, easy to compare
)

# Groups common NixOS modules create without a reserved gid (users.groups.<name> in the
# module named beside each): people put their users in these by hand.
MODULE_GROUPS = frozenset(
    {
        "camera",  # programs.gphoto2
        "i2c",  # hardware.i2c
        "ydotool",  # programs.ydotool
        "adbusers",  # programs.adb
        "wireshark",  # programs.wireshark
        "plugdev",  # hardware.rtl-sdr and other udev rules
        "lxd",  # virtualisation.lxd
        "incus-admin",  # virtualisation.incus
        "tss",  # security.tpm2
        "jackaudio",  # services.jack
        "gamemode",  # programs.gamemode
        "openrazer",  # hardware.openrazer
        "podman",  # virtualisation.podman
        "rtkit",  # security.rtkit
    }
)

# users.groups.NAME, users.groups."NAME", and the names of `users.groups = { NAME = ...`.
# A textual scan: it sees groups written out in the text, not ones a Nix expression
# computes (a let binding, `${...}`, lib.genAttrs) or a module imported from elsewhere
# makes; the warning says so in its hint.
_GROUP_ATTR = re.compile(r'users\.groups\.(?:"([^"$]+)"|([A-Za-z_][\w-]*))')
_GROUP_SET = re.compile(r"users\.groups\s*=[^{;]{0,200}\{")  # also `= lib.mkIf cond {`
_SET_NAME = re.compile(r'(?:^|[;{])\s*(?:"([^"$]+)"|([A-Za-z_][\w-]*))\s*(?:=|\.)')

# fileSystems."/" = ..., fileSystems = { "/" = ... }: textual as the groups above. A
# disko setup makes the root file system from its own description: taken as one.
_ROOT_ATTR = re.compile(r'fileSystems\s*\.\s*"/"\s*[.=]')
_FS_SET = re.compile(r"fileSystems\s*=[^{;]{0,200}\{")
_ROOT_NAME = re.compile(r'(?:^|[;{])\s*"/"\s*[.=]')
_DISKO = re.compile(r"\bdisko\.devices\b")


def _comment_free(nix: str) -> str:
    """Nix text without its # and /* */ comments (a commented-out line creates nothing)."""
    nix = re.sub(r"/\*.*?\*/", "", nix, flags=re.S)
    return re.sub(r"(?m)(^|\s)#.*$", r"\1", nix)


def _brace_body(text: str, start: int) -> str:
    """The text inside the braces opened just before `start`, nested braces included."""
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return text[start:]


def _top_level(body: str) -> str:
    """The body with nested { ... } blocks emptied: only its own attribute names stay."""
    out, depth = [], 0
    for char in body:
        if char == "}":
            depth -= 1
        if depth == 0:
            out.append(char)
        if char == "{":
            depth += 1
    return "".join(out)


def _set_bodies(text: str, opening: re.Pattern[str]) -> Iterator[str]:
    """The top level of each `NAME = { ... }` that `opening` finds. Each is read once,
    the next search starting after it: a megabyte of raw Nix takes linear time."""
    pos = 0
    while (match := opening.search(text, pos)) is not None:
        body = _brace_body(text, match.end())
        pos = match.end() + len(body)
        yield _top_level(body)


def groups_in_nix(nix: str) -> set[str]:
    """The groups raw Nix creates, as far as a textual scan can tell (see _GROUP_ATTR)."""
    text = _comment_free(nix)
    found = {a or b for a, b in _GROUP_ATTR.findall(text)}
    for body in _set_bodies(text, _GROUP_SET):
        found |= {a or b for a, b in _SET_NAME.findall(body)}
    return found


def root_in_nix(nix: str) -> bool:
    """Raw Nix sets the root file system, as far as a textual scan can tell."""
    text = _comment_free(nix)
    if _ROOT_ATTR.search(text) or _DISKO.search(text):
        return True
    return any(_ROOT_NAME.search(body) for body in _set_bodies(text, _FS_SET))


def raw_nix(profile: Profile, read: Callable[[str], str | None]) -> list[str]:
    """The host's raw Nix homelab can read: extraConfig, the hardware configuration and
    the NixOS module files it imports."""
    texts = [profile.extra_config or ""]
    if profile.hardware.configuration:
        texts.append(read(f"hosts/{profile.folder}/{profile.hardware.configuration}") or "")
    texts += [read(m.file) or "" for m in profile.modules if m.file is not None]
    return texts


def created_groups(profile: Profile, nix: Iterable[str] = ()) -> set[str]:
    """The groups the host's own profile makes: its groups: section, users.groups under
    options:, and those its raw Nix creates (read with tree-sitter-nix, and textually
    for what a parse does not see). NixOS gives a normal user the group `users`, not one
    named after them."""
    texts = list(nix)
    found = {g.name for g in profile.groups} | groups_in_options(profile.options)
    found |= groups_in_raw_nix(texts)
    for text in texts:
        found |= groups_in_nix(text)
    return found


def known_groups(profile: Profile, catalog: Catalog, nix: Iterable[str] = ()) -> set[str]:
    """The groups a host has: NixOS's own, those of its services, and those it creates
    (`created_groups`)."""
    known = set(NIXOS_GROUPS | MODULE_GROUPS)
    for use in profile.services:
        service = catalog.get(use.name)
        if service is not None:
            known.update(service_groups(service, use.settings))
    return known | created_groups(profile, nix)


# the groups people mostly put users in: offered first when a group name is typed
USUAL_GROUPS = (
    *("wheel", "networkmanager", "audio", "video", "input", "dialout", "docker", "podman"),
    *("libvirtd", "kvm", "users", "adbusers", "wireshark", "plugdev", "lp", "scanner"),
    *("camera", "i2c", "render", "uinput", "tss"),
)


def groups_to_offer(profile: Profile, catalog: Catalog, nix: Iterable[str] = ()) -> list[str]:
    """The host's groups in the order an editor offers them: its own (from its services
    and raw Nix) first, then the usual ones, then the rest of NixOS's, by name."""
    everyone = NIXOS_GROUPS | MODULE_GROUPS
    own = sorted(known_groups(profile, catalog, nix) - everyone)
    rest = sorted(everyone - set(USUAL_GROUPS))
    return [*own, *USUAL_GROUPS, *rest]


def advise(
    doc: Document,
    profile: Profile,
    catalog: Catalog,
    read: Callable[[str], str | None],
    release: str | None = None,
) -> list[Problem]:
    """The warnings of a host whose profile is valid. `read(lab-relative path)` gives a
    file's text, or None when it is not there or cannot be read; `release` is the one the
    lab follows (lab.yaml's; None when the lab has none, or it is not valid)."""
    nix = raw_nix(profile, read)
    return [
        replace(p, warning=True)
        for p in (
            *_unknown_groups(doc, profile, catalog, nix),
            *_no_root(doc, profile, nix, read),
            *_other_release(doc, profile, catalog, release),
        )
    ]


def _other_release(
    doc: Document, profile: Profile, catalog: Catalog, release: str | None
) -> list[Problem]:
    """Services whose catalogue entry was written for another release than the lab's: an
    option it sets may be named otherwise there, or not be there at all (the build says)."""
    if release is None:
        return []
    out = []
    for use in profile.services:
        service = catalog.get(use.name)
        if service is None or service.nixpkgs == release:
            continue
        path: Path_ = ("services", use.name)
        out.append(
            Problem(
                doc.marks.key(path, Place(doc.file)),
                f"its catalogue entry {service.file} is written for NixOS {service.nixpkgs}, "
                f"and the lab follows {release} (lab.yaml)",
                path=format_path(path),
                hint=f"check the entry's options against nixpkgs nixos-{release}, then set its "
                f'nixpkgs: "{release}"; or set release: "{service.nixpkgs}" in lab.yaml',
            )
        )
    return out


def _unknown_groups(
    doc: Document, profile: Profile, catalog: Catalog, nix: list[str]
) -> list[Problem]:
    known = known_groups(profile, catalog, nix)
    # a group a catalogue service makes, on a host without it, is validation's error
    known |= set(catalog.group_sources())
    choices = sorted(known)
    out = []
    for user in profile.users:
        named: list[tuple[Path_, str]] = [
            (("users", user.name, "groups", i), g) for i, g in enumerate(user.groups)
        ]
        if user.group is not None:
            named.append((("users", user.name, "group"), user.group))
        for path, group in named:
            if group in known:
                continue
            close = difflib.get_close_matches(group, choices, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            out.append(
                Problem(
                    doc.marks.value(path, Place(doc.file)),
                    f"unknown group '{group}'",
                    path=format_path(path),
                    hint=guess + f"declare it under groups: (`{group}: {{}}`); "
                    "if a NixOS module homelab cannot see makes it, all is well",
                )
            )
    return out


def _no_root(
    doc: Document, profile: Profile, nix: list[str], read: Callable[[str], str | None]
) -> list[Problem]:
    if any(fs.mount_point == "/" for fs in profile.hardware.file_systems):
        return []
    if any(root_in_nix(text) for text in nix):
        return []
    path: Path_ = ("hardware", "fileSystems")
    hint = (
        "run `homelab adopt` on the running machine (it copies its "
        "hardware-configuration.nix), or add a file system for `/` under hardware.fileSystems"
    )
    hardware = f"hosts/{profile.folder}/hardware-configuration.nix"
    if not profile.hardware.configuration and read(hardware) is not None:
        hint = (
            f"{hardware} is there but not used: set hardware.configuration: "
            "hardware-configuration.nix, or add a file system for `/` under hardware.fileSystems"
        )
    return [
        Problem(
            doc.marks.value(path, Place(doc.file, 1, 1)),
            'no root file system: NixOS cannot build a machine without fileSystems."/"',
            path=format_path(path),
            hint=hint,
        )
    ]
