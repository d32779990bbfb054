"""The SSH test rig: real OpenSSH servers on loopback, each one a simulated NixOS machine.

Every `Machine` is its own `sshd` (own port, own host key, own authorized_keys) whose
sessions get HOMELAB_MACHINE_ROOT=<a temporary folder that stands for its "/"> and a
PATH with the stand-ins of tests/sshd/standin.py first. Those stand-ins are TEST DOUBLES
(a fake nixos-rebuild, nix-env, systemd-run, systemctl, sudo, nvd, and nix build / store
sign / copy and nix-store --serve --write for builds on another machine); ssh, sftp, the shell,
coreutils, flock and nix-instantiate are the real ones. Nothing is shared between two
machines but the stand-in programs, so many can run at once.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.sshd import standin

HERE = Path(__file__).resolve().parent
STANDIN = HERE / "standin.py"
COMMANDS = ("nixos-rebuild", "nix-env", "systemctl", "sudo", "nvd", "nix", "nix-store")


SYSTEMD_RUN = r"""#!/bin/sh
# TEST DOUBLE of systemd-run (see standin.py): runs the command detached, in its own
# session, as a transient unit would; $R/.rig/units/UNIT.pid and .result for systemctl.
R="$HOMELAB_MACHINE_ROOT"
mkdir -p "$R/.rig/units"
echo "systemd-run $*" >> "$R/.rig/commands.log"
unit="run-$$"
while [ $# -gt 0 ]; do
  case "$1" in
    --unit=*) unit="${1#--unit=}" ;;
    --) shift; break ;;
    -*) ;;
    *) break ;;
  esac
  shift
done
setsid sh -c 'echo $$ > "$0.pid"; "$@"; echo $? > "$0.result"' "$R/.rig/units/$unit" "$@" \
  </dev/null >/dev/null 2>&1 &
"""


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing (the SSH test rig needs it)")
    pytest.skip(f"{what} is missing (the SSH test rig needs it)")


def require_tools() -> str:
    """The sshd program; skips (or fails when CI=true) when a needed tool is missing."""
    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
    if sshd is None:
        _missing("sshd (Debian: openssh-server)")
    for tool in ("ssh-keygen", "nix-instantiate", "flock", "setsid"):
        if shutil.which(tool) is None:
            _missing(tool)
    if not any(os.path.exists(s) for s in standin.SFTP_SERVERS):
        _missing("sftp-server (Debian: openssh-sftp-server)")
    assert sshd is not None
    return sshd


def require_root(what: str) -> None:
    """Skips (or fails when CI=true) unless the tests run as root."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        message = f"{what} needs root (and mount): run the tests as root to check it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path, comment: str, kind: str = "ed25519") -> str:
    """A new key pair at path (ed25519, or `kind`); returns the public key line (type and
    base64)."""
    if path.exists():
        path.unlink()
    path.with_name(path.name + ".pub").unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(path)],
        check=True,
    )
    words = path.with_name(path.name + ".pub").read_text().split()
    return f"{words[0]} {words[1]}"


@dataclass
class Machine:
    """One simulated NixOS machine behind its own sshd."""

    name: str
    folder: Path  # the rig's files for it: sshd_config, host key, log
    root: Path  # its "/"
    port: int
    sshd: str
    bin: Path
    authorized: str  # the public key line allowed to log in
    systemd: bool = True
    host_key: str = ""  # the key its sshd presents
    ecdsa: bool = False  # sshd presents an ECDSA key; the ed25519 one is only in $R/etc/ssh
    started: list[int] = field(default_factory=list)
    mounts: list[Path] = field(default_factory=list)

    # ---- its sshd -------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self.root / "root"

    @property
    def config(self) -> Path:
        return self.folder / "sshd_config"

    def write_config(self) -> None:
        user = getpass.getuser()
        path = f"{self.bin}:/usr/local/bin:/usr/bin:/bin"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    *(
                        [
                            f"HostKey {self.folder / 'ssh_host_ecdsa_key'}",
                            "HostKeyAlgorithms ecdsa-sha2-nistp256",
                        ]
                        if self.ecdsa
                        else [f"HostKey {self.folder / 'ssh_host_ed25519_key'}"]
                    ),
                    # the rig's own client key; then what the running configuration
                    # authorizes (users.users.NAME.openssh.authorizedKeys.keys on NixOS)
                    "AuthorizedKeysFile "
                    f"{self.folder / 'authorized_keys'} "
                    f"{self.root / 'etc' / 'ssh' / 'authorized_keys.d'}/%u",
                    f"PidFile {self.root / '.rig' / 'sshd.pid'}",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin yes",
                    f"AllowUsers {user}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "AllowTcpForwarding yes",
                    "MaxStartups 200:30:400",
                    "MaxSessions 100",
                    "LogLevel INFO",
                    # its own HOME: the login shell reads no startup file of the real user
                    f"SetEnv HOMELAB_MACHINE_ROOT={self.root} PATH={path} HOME={self.home}",
                    f"Subsystem sftp {self.bin / 'rig-sftp'}",
                    "",
                ]
            )
        )
        (self.folder / "authorized_keys").write_text(self.authorized + " rig-client\n")
        start = f"exec {self.sshd} -f {self.config} -E {self.folder / 'sshd.log'}\n"
        (self.root / ".rig" / "sshd-start").write_text(start)

    def start(self) -> None:
        self.write_config()
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        pidfile = self.root / ".rig" / "sshd.pid"
        pidfile.unlink(missing_ok=True)
        subprocess.run(
            [self.sshd, "-f", str(self.config), "-E", str(self.folder / "sshd.log")], check=True
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if pidfile.exists() and self.answers():
                self.started.append(int(pidfile.read_text().split()[0]))
                return
            time.sleep(0.02)
        raise RuntimeError(f"sshd for {self.name} did not start: {self.log()}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                return s.recv(4).startswith(b"SSH-")
        except OSError:
            return False

    def stop(self) -> None:
        pid = standin.listener_pid(self.root)
        if pid is not None:
            standin.cut_sessions(self.root)
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self.answers():
                time.sleep(0.02)

    def running(self) -> bool:
        return standin.listener_pid(self.root) is not None and self.answers()

    @property
    def ed25519_key(self) -> str:
        """The public ed25519 host key (the one age encrypts to), as a key line."""
        pub = self.host_private_key.with_name(self.host_private_key.name + ".pub")
        words = pub.read_text().split()
        return f"{words[0]} {words[1]}"

    @property
    def host_private_key(self) -> Path:
        """The private half of the machine's ed25519 host key: what agenix decrypts with."""
        return self.folder / "ssh_host_ed25519_key"

    def publish_host_key(self) -> None:
        """The host key where a NixOS machine keeps it: $R/etc/ssh/, the public half as
        homelab reads it (over the verified connection) to pin deploy.ageHostKey, the
        private half (mode 0600) as the stand-in agenix decrypts with."""
        etc = self.root / "etc" / "ssh"
        etc.mkdir(parents=True, exist_ok=True)
        pub = self.host_private_key.with_name(self.host_private_key.name + ".pub")
        shutil.copyfile(pub, etc / "ssh_host_ed25519_key.pub")
        private = etc / "ssh_host_ed25519_key"
        private.unlink(missing_ok=True)
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.host_private_key.read_bytes())

    def new_host_key(self) -> str:
        """The machine "reinstalled": a new host key (and sshd restarted with it). The old
        private key is kept beside it as ssh_host_ed25519_key.old, to show what it can no
        longer open."""
        self.stop()
        key = self.host_private_key
        if key.exists():
            shutil.copyfile(key, key.with_name(key.name + ".old"))
        self.host_key = keygen(key, f"{self.name}-new")
        self.publish_host_key()
        if self.ecdsa:
            self.host_key = keygen(self.folder / "ssh_host_ecdsa_key", self.name, "ecdsa")
        self.start()
        return self.host_key

    def log(self) -> str:
        path = self.folder / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ---- faults ---------------------------------------------------------------------------

    def fault(self, name: str, value: str = "1") -> None:
        (self.root / ".rig" / name).write_text(value)

    def clear(self, name: str) -> None:
        (self.root / ".rig" / name).unlink(missing_ok=True)

    def small_disk(self, kib: int) -> None:
        """The state folder (uploads, secrets on their way, runs) on a disk of its own, a
        tmpfs of `kib` KiB: full disks for real. Needs root: skips (fails under CI=true)."""
        require_root("a small disk on a simulated machine")
        folder = self.state()
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kib}k,mode=0755", "tmpfs", str(folder)],
            check=True,
        )
        self.mounts.append(folder)

    def resize_disk(self, kib: int) -> None:
        """The small disk grows (or shrinks), keeping what is on it."""
        subprocess.run(["mount", "-o", f"remount,size={kib}k", str(self.state())], check=True)

    def unmount(self) -> None:
        for folder in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(folder)], check=False)
        self.mounts.clear()

    # ---- what the machine is now ------------------------------------------------------

    @property
    def profile(self) -> Path:
        return self.root / "nix" / "var" / "nix" / "profiles" / "system"

    def generation(self) -> int | None:
        return standin.current_generation(self.profile)

    def generations(self) -> list[int]:
        return sorted(standin.generations(self.profile))

    def current(self) -> str:
        return os.readlink(self.root / "run" / "current-system")

    def system_of(self, generation: int) -> str:
        return str(standin.generations(self.profile)[generation])

    def running_config(self, rel: str) -> str:
        """A file of the configuration the machine runs now (as it was built)."""
        return (Path(self.current()) / "config" / rel).read_text()

    def state(self) -> Path:
        return self.root / "var" / "lib" / "homelab"

    def staging_leftovers(self) -> list[str]:
        uploads = self.state() / "uploads"
        found = [p.name for p in uploads.glob("*.partial")] if uploads.exists() else []
        if (self.state() / "secrets.partial").exists():
            found.append("secrets.partial")
        return found

    def lines(self, name: str) -> list[str]:
        path = self.root / ".rig" / name
        return path.read_text().splitlines() if path.exists() else []

    def built(self) -> list[str]:
        """The hosts whose systems this machine built for itself or others with `nix
        build` (not nixos-rebuild), in order, one entry per system built."""
        return self.lines("builds.log")

    def received(self) -> list[str]:
        """The store paths (basenames) `nix-store --serve --write` received, in order."""
        return self.lines("received.log")

    def store(self) -> list[str]:
        """The basenames in its $R/nix/store."""
        return sorted(p.name for p in (self.root / "nix" / "store").iterdir())

    def signatures(self, basename: str) -> list[str]:
        """The signatures (KEYNAME:BASE64) it keeps for a store path."""
        path = self.root / "nix" / "var" / "nix" / "signatures" / basename
        return path.read_text().split() if path.exists() else []

    @property
    def user(self) -> str:
        """The one user its sshd lets in (the tests' own)."""
        return getpass.getuser()

    def processes(self) -> list[str]:
        """Command lines of processes still working for this machine (not its sshd)."""
        mark = f"HOMELAB_MACHINE_ROOT={self.root}".encode()
        found = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if mark in environ.read_bytes().split(b"\0"):
                    cmdline = (environ.parent / "cmdline").read_bytes()
                    found.append(cmdline.replace(b"\0", b" ").decode(errors="replace").strip())
            except OSError:
                continue
        return [c for c in found if c]

    def kill_processes(self, *words: str, whole: bool = False) -> None:
        """Kill this machine's processes whose command line holds one of the words (is
        one of them, with whole)."""
        mark = f"HOMELAB_MACHINE_ROOT={self.root}".encode()
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if mark not in environ.read_bytes().split(b"\0"):
                    continue
                raw = (environ.parent / "cmdline").read_bytes()
                cmdline = raw.replace(b"\0", b" ").decode(errors="replace").strip()
                if any(w == cmdline if whole else w in cmdline for w in words):
                    os.kill(int(environ.parent.name), signal.SIGKILL)
            except (OSError, ValueError):
                continue

    def kill_leftovers(self) -> None:
        """Stop every process that still works for this machine (a hung build, a timer)."""
        mark = f"HOMELAB_MACHINE_ROOT={self.root}".encode()
        me = os.getpid()
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                pid = int(environ.parent.name)
                if pid != me and mark in environ.read_bytes().split(b"\0"):
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                continue


class Rig:
    """Simulated machines plus the client side: a key, known_hosts, an ssh_config."""

    def __init__(self, base: Path) -> None:
        self.sshd = require_tools()
        self.base = base
        self.bin = base / "bin"
        self.bin.mkdir(parents=True)
        for name in COMMANDS:
            wrapper = self.bin / name
            wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -S {STANDIN} {name} "$@"\n')
            wrapper.chmod(0o755)
        # systemd-run in plain sh: it starts every run, so it should cost what the real one does
        (self.bin / "systemd-run").write_text(SYSTEMD_RUN)
        server = next(p for p in standin.SFTP_SERVERS if os.path.exists(p))
        (self.bin / "rig-sftp").write_text(
            "#!/bin/sh\n# the sftp subsystem: the real sftp-server, or the stand-in that cuts\n"
            '[ -e "$HOMELAB_MACHINE_ROOT/.rig/cut-upload-after" ] || '
            '[ -e "$HOMELAB_MACHINE_ROOT/.rig/max-file-size" ] || '
            f"exec {server}\n"
            f'exec {sys.executable} -S {STANDIN} rig-sftp "$@"\n'
        )
        for name in ("systemd-run", "rig-sftp"):
            (self.bin / name).chmod(0o755)
        self.home = base / "home"
        ssh = self.home / ".ssh"
        ssh.mkdir(parents=True, mode=0o700)
        self.key = ssh / "id_ed25519"
        self.public = keygen(self.key, "rig-client")
        (ssh / "known_hosts").write_text("")
        (ssh / "config").write_text("")
        self.machines: list[Machine] = []

    @property
    def known_hosts(self) -> Path:
        return self.home / ".ssh" / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.home / ".ssh" / "config"

    def add(
        self, name: str, *, systemd: bool = True, known: bool = True, ecdsa: bool = False
    ) -> Machine:
        """A new machine on generation 1, with an alias `name` in the ssh_config. With
        `ecdsa`, its sshd presents an ECDSA host key (what homelab pins as deploy.hostKey)
        while its ed25519 key is only in $R/etc/ssh (pinned as deploy.ageHostKey)."""
        folder = self.base / "machines" / name
        root = folder / "root"
        for sub in (".rig", "etc/nixos", "run", "nix/store", "nix/var/nix/profiles", "root"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        if systemd:
            (root / "run" / "systemd" / "system").mkdir(parents=True)
        (root / "etc" / "hostname").write_text(name + "\n")
        (root / "etc" / "os-release").write_text('ID=nixos\nVERSION_ID="24.05"\n')
        hardware = '{ ... }:\n{\n  boot.initrd.availableKernelModules = [ "ahci" ];\n}\n'
        configuration = (
            "{ ... }:\n{\n  imports = [ ./hardware-configuration.nix ];\n"
            '  system.stateVersion = "23.11";\n}\n'
        )
        (root / "etc" / "nixos" / "hardware-configuration.nix").write_text(hardware)
        (root / "etc" / "nixos" / "configuration.nix").write_text(configuration)
        first = standin.make_system(
            root,
            name,
            {
                "configuration.nix": configuration.encode(),
                "hardware-configuration.nix": hardware.encode(),
            },
            "-installed",
        )
        standin.add_generation(root / "nix" / "var" / "nix" / "profiles" / "system", first)
        standin.set_link(root / "run" / "current-system", str(first))
        machine = Machine(
            name=name,
            folder=folder,
            root=root,
            port=free_port(),
            sshd=self.sshd,
            bin=self.bin,
            authorized=self.public,
            systemd=systemd,
            ecdsa=ecdsa,
        )
        machine.host_key = keygen(folder / "ssh_host_ed25519_key", name)
        machine.publish_host_key()
        if ecdsa:
            machine.host_key = keygen(folder / "ssh_host_ecdsa_key", name, "ecdsa")
        machine.start()
        self.machines.append(machine)
        with self.ssh_config.open("a") as f:
            user = getpass.getuser()
            f.write(f"Host {name}\n  HostName 127.0.0.1\n  Port {machine.port}\n  User {user}\n\n")
        if known:
            self.know(machine)
        return machine

    def know(self, machine: Machine) -> None:
        with self.known_hosts.open("a") as f:
            f.write(f"[127.0.0.1]:{machine.port} {machine.host_key}\n")

    def ssh(
        self, machine: Machine, command: str, *, env: str = "", timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """`command` run in a session on the machine by the real ssh client with the rig's
        key (a sh command line; `env` is put before it, e.g. "NIX_SSHOPTS='...'")."""
        return subprocess.run(
            [
                "ssh",
                "-F",
                str(self.ssh_config),
                "-i",
                str(self.key),
                "-o",
                f"UserKnownHostsFile={self.known_hosts}",
                "-o",
                "GlobalKnownHostsFile=/dev/null",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "BatchMode=yes",
                machine.name,
                f"{env} {command}".strip(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def settings(self, **overrides: object) -> object:
        from homelab.deploy.ssh import SshSettings

        base = {
            "config_file": self.ssh_config,
            "known_hosts": (self.known_hosts,),
            "key_files": (self.key,),
            "use_agent": False,
            "connect_timeout": 5.0,
        }
        base.update(overrides)
        return SshSettings(**base)  # type: ignore[arg-type]

    def close(self) -> None:
        for machine in self.machines:
            machine.kill_leftovers()
            with contextlib.suppress(OSError):
                machine.stop()
            machine.unmount()
