"""Connecting to a machine over SSH with paramiko, the way `ssh` itself would.

The person's ~/.ssh/config is honoured (Host aliases, HostName, Port, User, IdentityFile,
IdentitiesOnly, ProxyJump, UserKnownHostsFile, HostKeyAlias); keys come from ssh-agent and
the usual key files. Host keys are always verified, against ~/.ssh/known_hosts and the key
pinned in the profile (`deploy.hostKey`): an unknown key is refused with its fingerprint
(or, with accept_new, accepted once and handed back to be pinned), a changed key always.
A person who checked an unknown key's fingerprint accepts exactly that key (accept_keys).
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import os
import re
import socket
import stat
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import paramiko

DEFAULT_KEY_FILES = ("id_ed25519", "id_ecdsa", "id_rsa")

# What may be looked up in ~/.ssh/config: a host name, an IPv4 address or an alias, or an
# IPv6 address (with its zone). Its `Match exec` lines run a shell command with the name in
# it (%h, %n), and paramiko, unlike OpenSSH since 9.6, takes any name. The profile schema's
# deploy.address and deploy.user are these patterns (a test keeps them the same).
ADDRESS = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?"
USER = r"[A-Za-z_][A-Za-z0-9_.-]{0,31}"


def safe_address(text: str) -> bool:
    return re.fullmatch(ADDRESS, text) is not None


def safe_user(text: str) -> bool:
    return re.fullmatch(USER, text) is not None


class ConnectError(Exception):
    """The machine could not be reached or would not let us in; `short` fits a table."""

    def __init__(self, message: str, short: str = "") -> None:
        super().__init__(message)
        self.short = short or message


class HostKeyError(ConnectError):
    """The machine's host key is unknown or not the one we know: never connected."""

    def __init__(
        self, kind: str, message: str, short: str, presented: str, *, pinnable: bool = False
    ) -> None:
        super().__init__(message, short)
        self.kind = kind  # "unknown" or "changed"
        self.presented = presented  # the key line the machine showed
        self.pinnable = pinnable  # the machine's own key (not a jump host's): the profile pins it


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect, as a profile's `deploy` section says."""

    address: str
    port: int | None = None
    user: str | None = None
    host_key: str | None = None  # pinned: "ssh-ed25519 AAAA..."
    label: str = ""  # how to name the machine in messages (the host name)
    pin_file: str = ""  # the profile that pins the key, for hints


@dataclass(frozen=True)
class SshSettings:
    """The person's SSH setup: where their config, known hosts and keys are."""

    config_file: Path | None = None
    known_hosts: tuple[Path, ...] = ()
    key_files: tuple[Path, ...] = ()  # tried after the agent and IdentityFile
    use_agent: bool = True
    connect_timeout: float = 10.0
    accept_new: bool = False
    # host name -> the key line a person checked and accepted for it: that key, and no other,
    # is accepted as accept_new would (and pinned)
    accept_keys: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_home(cls, home: Path | None = None, **overrides: Any) -> SshSettings:
        ssh = (home or Path(os.path.expanduser("~"))) / ".ssh"
        base = cls(
            config_file=ssh / "config",
            known_hosts=(ssh / "known_hosts", ssh / "known_hosts2"),
            key_files=tuple(ssh / name for name in DEFAULT_KEY_FILES),
        )
        return cls(**{**base.__dict__, **overrides})


@dataclass(frozen=True)
class Route:
    """An endpoint resolved through ssh_config: what we actually connect to."""

    hostname: str
    port: int
    user: str
    identity_files: tuple[Path, ...] = ()
    identities_only: bool = False
    proxy_jump: tuple[str, ...] = ()
    known_hosts: tuple[Path, ...] = ()
    key_alias: str | None = None
    connect_timeout: float = 10.0

    @property
    def known_name(self) -> str:
        """The name of this machine in known_hosts."""
        if self.key_alias:
            return self.key_alias
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"

    def __str__(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"


def resolve(endpoint: Endpoint, settings: SshSettings) -> Route:
    """The endpoint with ~/.ssh/config applied; the profile's own port and user win, as
    options on the `ssh` command line win over the config file. A name that is not one
    is refused before the config sees it: nothing of it can reach a local shell."""
    if not safe_address(endpoint.address):
        raise ConnectError(
            f"{endpoint.address!r} is not a host name, an IP address or an ssh_config alias; "
            "homelab does not hand it to ~/.ssh/config, whose `Match exec` lines would put it "
            "in a shell command",
            "not a host name: refused",
        )
    if endpoint.user is not None and not safe_user(endpoint.user):
        raise ConnectError(
            f"{endpoint.user!r} is not a user name; homelab does not log in with it",
            "not a user name: refused",
        )
    found: dict[str, Any] = {}
    config = _ssh_config(settings.config_file)
    if config is not None:
        found = dict(config.lookup(endpoint.address))
    port = endpoint.port or int(found.get("port", 22))
    user = endpoint.user or found.get("user") or getpass.getuser()
    files = tuple(Path(os.path.expanduser(p)) for p in found.get("identityfile", []))
    jump = found.get("proxyjump", "")
    jumps = tuple(j.strip() for j in jump.split(",") if j.strip()) if jump.lower() != "none" else ()
    known = settings.known_hosts
    if found.get("userknownhostsfile"):
        known = tuple(Path(os.path.expanduser(p)) for p in str(found["userknownhostsfile"]).split())
    timeout = float(found.get("connecttimeout", settings.connect_timeout))
    return Route(
        hostname=found.get("hostname", endpoint.address),
        port=port,
        user=user,
        identity_files=files,
        identities_only=str(found.get("identitiesonly", "no")).lower() == "yes",
        proxy_jump=jumps,
        known_hosts=known,
        key_alias=found.get("hostkeyalias"),
        connect_timeout=timeout,
    )


_configs: dict[tuple[str, int, int], paramiko.SSHConfig] = {}
_configs_lock = threading.Lock()


def _ssh_config(path: Path | None) -> paramiko.SSHConfig | None:
    """The ssh_config, parsed once for all the hosts of an apply (read again only when
    the file changed)."""
    if path is None:
        return None
    try:
        seen = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(seen.st_mode):
        return None
    key = (str(path), seen.st_mtime_ns, seen.st_size)
    with _configs_lock:
        if key not in _configs:
            import paramiko  # deferred: start-up (paramiko takes a while to import)

            _configs.clear()
            _configs[key] = paramiko.SSHConfig.from_path(str(path))
        return _configs[key]


def load() -> None:
    """Import paramiko now, once: threads that each reach a lazy import first queue on
    Python's import lock, one after another."""
    import paramiko  # noqa: F401


# ---- host keys ------------------------------------------------------------------------


def key_line(key: paramiko.PKey) -> str:
    """`ssh-ed25519 AAAA...`: the form known_hosts and deploy.hostKey use."""
    return f"{key.get_name()} {key.get_base64()}"


def ed25519_line(text: str) -> str | None:
    """`ssh-ed25519 AAAA...` from a .pub file's text (its comment dropped); None when the
    text is not one ed25519 public key."""
    words = text.split()
    if len(words) < 2 or words[0] != "ssh-ed25519":
        return None
    try:
        blob = base64.b64decode(words[1], validate=True)
    except ValueError:
        return None
    # the wire form: a string "ssh-ed25519" then the 32-byte key, each length-prefixed
    if blob != b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + blob[19:] or len(blob) != 51:
        return None
    return f"{words[0]} {words[1]}"


def same_key(a: str | None, b: str | None) -> bool:
    """Do two key lines name the same key (type family and blob; comments aside)?"""
    if not a or not b:
        return False
    (ka, ba), (kb, bb) = _parts(a), _parts(b)
    return (_family(ka), ba) == (_family(kb), bb)


def fingerprint(line_or_key: str | paramiko.PKey) -> str:
    """SHA256:... as `ssh-keygen -l` prints it."""
    if isinstance(line_or_key, str):
        blob = base64.b64decode(line_or_key.split()[1])
    else:
        blob = line_or_key.asbytes()
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def _parts(line: str) -> tuple[str, str]:
    words = line.split()
    return (words[0], words[1]) if len(words) >= 2 else ("", "")


def _family(kind: str) -> str:
    return "ssh-rsa" if kind.startswith(("rsa-sha2", "ssh-rsa")) else kind


@dataclass(frozen=True)
class Verdict:
    """What we make of the key a machine presented."""

    trusted: bool
    kind: str = ""  # "", "unknown" or "changed"
    source: str = ""  # what the key was checked against


def check_host_key(presented: str, pinned: str | None, known: Sequence[str]) -> Verdict:
    """Pure: the presented key line against the pinned one and the known_hosts lines.

    A pinned key is the authority: anything else is a changed key. Without a pin, a key
    of the same type as a known_hosts entry must match it.
    """
    p_type, p_blob = _parts(presented)
    if pinned:
        pin_type, pin_blob = _parts(pinned)
        if (_family(pin_type), pin_blob) == (_family(p_type), p_blob):
            return Verdict(True, source="profile")
        return Verdict(False, "changed", "profile")
    same_type = [_parts(k) for k in known if _family(_parts(k)[0]) == _family(p_type)]
    if any(blob == p_blob for _, blob in same_type):
        return Verdict(True, source="known_hosts")
    if same_type:
        return Verdict(False, "changed", "known_hosts")
    return Verdict(False, "unknown")


def known_keys(route: Route) -> list[str]:
    """The known_hosts lines for this machine (hashed entries included)."""
    import paramiko  # deferred: start-up

    out: list[str] = []
    for path in route.known_hosts:
        if not path.is_file():
            continue
        keys = paramiko.HostKeys()
        try:
            keys.load(str(path))
        except (OSError, paramiko.SSHException, ValueError):
            continue
        entry = keys.lookup(route.known_name)
        if entry:
            out.extend(key_line(entry[name]) for name in entry)
    return out


def _preferred_types(pinned: str | None, known: Sequence[str]) -> list[str]:
    """Host key algorithms to ask for first: the ones we can check."""
    out: list[str] = []
    for line in ([pinned] if pinned else []) + list(known):
        kind = _parts(line)[0]
        names = ["rsa-sha2-512", "rsa-sha2-256"] if _family(kind) == "ssh-rsa" else [kind]
        out.extend(n for n in names if n not in out)
    return out


def _refuse(endpoint: Endpoint, route: Route, presented: str, verdict: Verdict) -> HostKeyError:
    name = endpoint.label or endpoint.address
    where = f"{route.hostname}:{route.port}"
    kind = presented.split()[0]
    fp = fingerprint(presented)
    pin_file = endpoint.pin_file or "its profile"
    if verdict.kind == "changed":
        was = (
            f"{pin_file} pins {fingerprint(endpoint.host_key or presented)}"
            if verdict.source == "profile"
            else f"~/.ssh/known_hosts knows it as {_known_fp(route, kind)}"
        )
        message = (
            f"HOST KEY CHANGED for {name} ({where})!\n"
            f"    The machine presented {kind} {fp}, but {was}.\n"
            "    Someone may be intercepting the connection, or the machine was reinstalled.\n"
            "    homelab will not connect. If the machine was reinstalled, read its new key on\n"
            "    its own console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and put it\n"
            f"    in deploy.hostKey of {pin_file}"
            + (" (and remove the old known_hosts entry)." if verdict.source != "profile" else ".")
            + (
                "\n    Or remove deploy.hostKey (and deploy.ageHostKey) there and run apply"
                "\n    with --accept-new: it pins the key it is shown and re-encrypts the"
                "\n    host's secrets to it."
                if verdict.source == "profile"
                else ""
            )
        )
        return HostKeyError("changed", message, f"HOST KEY CHANGED ({fp}): refused", presented)
    message = (
        f"unknown host key for {name} ({where}): {kind} {fp}\n"
        "    Check it on the machine's own console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub),\n"
        f"    then run again with --accept-new to trust it and pin it in {pin_file}."
    )
    return HostKeyError(
        "unknown", message, f"unknown host key {fp} (check it, then --accept-new)", presented
    )


def _accepting(settings: SshSettings, endpoint: Endpoint, presented: str) -> bool:
    """Is this unknown key accepted: any (accept_new), or the very one a person checked?"""
    if settings.accept_new:
        return True
    confirmed = settings.accept_keys.get(endpoint.label or endpoint.address)
    if not confirmed:
        return False
    (kind, blob), (p_kind, p_blob) = _parts(confirmed), _parts(presented)
    return (_family(kind), blob) == (_family(p_kind), p_blob)


def _known_fp(route: Route, kind: str) -> str:
    for line in known_keys(route):
        if _family(_parts(line)[0]) == _family(kind):
            return fingerprint(line)
    return "another key"


# ---- connecting -----------------------------------------------------------------------


@dataclass
class Connection:
    """An authenticated SSH connection (and the jump hosts it goes through)."""

    transport: paramiko.Transport
    route: Route
    accepted_key: str | None = None  # an unknown key accepted with accept_new: pin it
    jumps: list[Connection] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.transport.is_active())

    def close(self) -> None:
        self.transport.close()
        for jump in reversed(self.jumps):
            jump.close()


def connect(endpoint: Endpoint, settings: SshSettings) -> Connection:
    """Connect, verify the host key, authenticate; ConnectError with a clear reason."""
    route = resolve(endpoint, settings)
    jumps: list[Connection] = []
    try:
        sock: Any = None
        for hop in route.proxy_jump:
            user, _, rest = hop.rpartition("@")
            host, _, port = rest.partition(":")
            jump_endpoint = Endpoint(host, int(port) if port else None, user or None)
            jump = _open(jump_endpoint, resolve(jump_endpoint, settings), settings, sock, None)
            jumps.append(jump)
            try:
                sock = jump.transport.open_channel(
                    "direct-tcpip", (route.hostname, route.port), ("127.0.0.1", 0),
                    timeout=route.connect_timeout,
                )  # fmt: skip
            except Exception as err:
                raise ConnectError(
                    f"jump host {hop} could not reach {route.hostname}:{route.port}: {err}",
                    f"unreachable via {hop}",
                ) from None
        conn = _open(endpoint, route, settings, sock, endpoint)
        conn.jumps = jumps
        return conn
    except BaseException:
        for jump in reversed(jumps):
            jump.close()
        raise


def _open(
    endpoint: Endpoint,
    route: Route,
    settings: SshSettings,
    sock: Any,
    pinned_for: Endpoint | None,
) -> Connection:
    import paramiko  # deferred: start-up

    where = f"{route.hostname}:{route.port}"
    if sock is None:
        try:
            sock = socket.create_connection((route.hostname, route.port), route.connect_timeout)
            # every SFTP write waits for its answer: without this, Nagle and delayed ACKs
            # hold each round trip for ~40 ms (600 KB took half a second on loopback)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except ConnectionRefusedError:
            raise ConnectError(
                f"{where} refused the connection (is sshd running? is the port right?)",
                "connection refused",
            ) from None
        except TimeoutError:
            raise ConnectError(
                f"no answer from {where} within {route.connect_timeout:g} s", "connection timed out"
            ) from None
        except OSError as err:
            raise ConnectError(
                f"cannot reach {where}: {err.strerror or err}",
                f"unreachable: {err.strerror or err}",
            ) from None
    transport = paramiko.Transport(sock)
    try:
        pinned = pinned_for.host_key if pinned_for else None
        known = known_keys(route)
        options = transport.get_security_options()
        preferred = _preferred_types(pinned, known)
        available = list(options.key_types)
        options.key_types = [t for t in preferred if t in available] + [
            t for t in available if t not in preferred
        ]
        transport.banner_timeout = route.connect_timeout
        transport.auth_timeout = route.connect_timeout
        try:
            transport.start_client(timeout=route.connect_timeout)
        except (paramiko.SSHException, OSError, EOFError) as err:
            raise ConnectError(
                f"SSH handshake with {where} failed: {err or type(err).__name__}",
                "SSH handshake failed",
            ) from None
        presented = key_line(transport.get_remote_server_key())
        verdict = check_host_key(presented, pinned, known)
        accepted = None
        if not verdict.trusted:
            endpoint_for_message = pinned_for or endpoint
            if (
                verdict.kind == "unknown"
                and pinned_for is not None
                and _accepting(settings, pinned_for, presented)
            ):
                accepted = presented
            else:
                refused = _refuse(endpoint_for_message, route, presented, verdict)
                refused.pinnable = pinned_for is not None
                raise refused
        _authenticate(transport, route, settings)
        transport.set_keepalive(5)
        return Connection(transport, route, accepted)
    except BaseException:
        transport.close()
        raise


def _authenticate(transport: paramiko.Transport, route: Route, settings: SshSettings) -> None:
    """Agent keys, then IdentityFile keys, then the usual key files, as ssh does."""
    import paramiko  # deferred: start-up

    tried: list[str] = []
    skipped: list[str] = []
    wanted_files = list(route.identity_files)
    if not route.identities_only:
        wanted_files += [p for p in settings.key_files if p not in wanted_files]
    wanted_blobs: set[bytes] = set()
    file_keys: list[tuple[str, paramiko.PKey]] = []
    for path in wanted_files:
        if not path.is_file():
            continue
        try:
            key = paramiko.PKey.from_path(path)
        except paramiko.PasswordRequiredException:
            skipped.append(f"{path} (has a passphrase: add it to ssh-agent)")
            continue
        except (paramiko.SSHException, OSError, ValueError) as err:
            skipped.append(f"{path} ({err})")
            continue
        file_keys.append((str(path), key))
        wanted_blobs.add(key.asbytes())
        pub = path.with_name(path.name + ".pub")
        if pub.is_file():
            words = pub.read_text(errors="replace").split()
            if len(words) >= 2:
                with contextlib.suppress(ValueError):
                    wanted_blobs.add(base64.b64decode(words[1]))
    candidates: list[tuple[str, paramiko.PKey]] = []
    agent = None
    if settings.use_agent and os.environ.get("SSH_AUTH_SOCK"):
        try:
            agent = paramiko.Agent()
            for key in agent.get_keys():
                if route.identities_only and key.asbytes() not in wanted_blobs:
                    continue
                candidates.append((f"agent key {fingerprint(key)}", key))
        except paramiko.SSHException:
            agent = None
    candidates += file_keys
    try:
        for label, key in candidates:
            tried.append(label)
            try:
                transport.auth_publickey(route.user, key)
            except paramiko.BadAuthenticationType as err:
                raise ConnectError(
                    f"{route} does not accept key logins "
                    f"(it allows: {', '.join(err.allowed_types)})",
                    "no key login allowed",
                ) from None
            except paramiko.AuthenticationException:
                continue
            except (paramiko.SSHException, OSError, EOFError) as err:
                raise ConnectError(f"{route}: lost the connection while logging in: {err}",
                                   "connection lost while logging in") from None  # fmt: skip
            if transport.is_authenticated():
                return
    finally:
        if agent is not None:
            agent.close()
    what = ", ".join(tried) if tried else "no keys at all (no ssh-agent, no key files)"
    extra = f"; skipped {', '.join(skipped)}" if skipped else ""
    raise ConnectError(
        f"{route} refused our keys (tried {what}{extra}). Is the right public key in the "
        f"machine's authorized_keys for {route.user}?",
        f"login refused for {route.user} (wrong key?)",
    )
