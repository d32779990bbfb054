"""TEST DOUBLES of a NixOS machine's commands, for the SSH test rig. NOT the real tools.

One program, called by the name of the command it stands in for (the rig writes small
wrappers into its bin/ folder, first on each simulated machine's PATH):

  nixos-rebuild   checks the uploaded configuration with the real `nix-instantiate
                  --parse`, "builds" a fake system folder in $R/nix/store, keeps the
                  generations in $R/nix/var/nix/profiles, and activates
  nix-env         --set / --switch-generation / --rollback / --list-generations of a profile
  systemd-run     (a shell script the rig writes, see rig.py) runs a command detached
  systemctl       is-active (units listed in $R/.rig/failed-units are "failed"), stop,
                  show (a unit's properties from $R/.rig/units/UNIT.show)
  sudo            runs the command; with $R/.rig/sudo-password, needs that password (-S)
  nvd             `nvd diff OLD NEW`: packages added or removed between two fake systems
  rig-sftp        the sftp subsystem; can cut the connection in the middle of an upload,
                  or refuse to write a file past a size (as a full disk would)
  nix             `nix build` of flake systems (nixosConfigurations.HOST...toplevel),
                  `nix store sign` (a real ed25519 signature of the path's name), `nix copy
                  --to ssh://...` (the real ssh, a tar of the paths on its input); any other
                  `nix` command is the real one
  nix-store       `--serve --write` (what a build key is forced to run on a target):
                  receives that tar into $R/nix/store; any other use is the real one
  activate        what a fake system's bin/switch-to-configuration runs: also writes
                  $R/etc/ssh/authorized_keys.d/USER from the configuration's
                  authorizedKeys.keys and opens encrypted/*.age into $R/run/agenix (agenix)

$R is the simulated machine's root folder (HOMELAB_MACHINE_ROOT, set by its sshd). The
configuration itself says what goes wrong, with marker comments in any uploaded .nix file:

  # rig: fail-build        the build fails
  # rig: fail-activation   activation fails (after the switch began: half-switched)
  # rig: hang              the build never ends
  # rig: cut-connection    activation cuts every SSH connection to the machine, then goes on
  # rig: break-ssh         activation stops sshd (a configuration that "broke SSH");
                           activating a configuration without this marker starts it again

Faults that are not about the configuration are files in $R/.rig/: sudo-password,
cut-upload-after (bytes; used once), max-file-size (bytes: SFTP writes past it fail with
sftp-server's generic "Failure", the answer a full disk gets), rebuild-seconds (how long a
build takes), failed-units, eval-error (text that the build prints on its error output
before it fails: a test puts Nix's own error text for the uploaded files there).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import pwd
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

MARKERS = ("fail-build", "fail-activation", "hang", "cut-connection", "break-ssh")
SFTP_SERVERS = (
    "/usr/lib/openssh/sftp-server",
    "/usr/libexec/openssh/sftp-server",
    "/usr/lib/ssh/sftp-server",
    "/usr/libexec/sftp-server",
)


def root() -> Path:
    value = os.environ.get("HOMELAB_MACHINE_ROOT")
    if not value:
        sys.exit("stand-in: HOMELAB_MACHINE_ROOT is not set (this only runs in the test rig)")
    return Path(value)


def rig(r: Path) -> Path:
    return r / ".rig"


def log(r: Path, name: str, line: str) -> None:
    with open(rig(r) / name, "a", encoding="utf-8") as f:
        f.write(line + "\n")


# ---- fake systems and generations ------------------------------------------------------


def make_system(r: Path, name: str, files: dict[str, bytes], label: str = "") -> Path:
    """A fake system folder in $R/nix/store named after the hash of the configuration."""
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(rel.encode() + b"\0" + files[rel] + b"\0")
    h = digest.hexdigest()[:32]
    path = r / "nix" / "store" / f"{h}-nixos-system-{name}-24.05{label}"
    if path.exists():
        return path
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "bin").mkdir(parents=True)
    (tmp / "config").mkdir()
    text = b"\n".join(files.values()).decode("utf-8", "replace")
    for rel, data in files.items():
        dest = tmp / "config" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    (tmp / "system").write_text("x86_64-linux")
    (tmp / "nixos-version").write_text("24.05.20240601.rig")
    found = [m for m in MARKERS if f"rig: {m}" in text]
    (tmp / "markers").write_text("\n".join(found) + "\n")
    pkgs = sorted(set(re.findall(r"pkgs\.([A-Za-z0-9_-]+)", text)))
    (tmp / "packages").write_text("\n".join(pkgs) + "\n")
    # the system is where the script is (two levels up), not where it was built: a system
    # copied to another machine's store activates as that machine's
    stc = tmp / "bin" / "switch-to-configuration"
    stc.write_text(
        '#!/bin/sh\nsystem="$(dirname "$(dirname "$(readlink -f "$0")")")"\n'
        f'exec {sys.executable} -S {Path(__file__).resolve()} activate "$system" "$@"\n'
    )
    stc.chmod(0o755)
    tmp.rename(path)
    return path


def profiles(r: Path) -> Path:
    return r / "nix" / "var" / "nix" / "profiles"


def generations(profile: Path) -> dict[int, Path]:
    out = {}
    for link in profile.parent.glob(f"{profile.name}-*-link"):
        number = link.name[len(profile.name) + 1 : -len("-link")]
        if number.isdigit():
            out[int(number)] = Path(os.readlink(link))
    return out


def current_generation(profile: Path) -> int | None:
    try:
        name = os.readlink(profile)
    except OSError:
        return None
    number = name[len(profile.name) + 1 : -len("-link")]
    return int(number) if number.isdigit() else None


def set_link(link: Path, target: str) -> None:
    tmp = link.with_name(link.name + ".tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def add_generation(profile: Path, system: Path) -> int:
    gens = generations(profile)
    if gens and gens[max(gens)] == system:  # as Nix does: the same system is no new generation
        set_link(profile, f"{profile.name}-{max(gens)}-link")
        return max(gens)
    number = max(gens, default=0) + 1
    set_link(profile.with_name(f"{profile.name}-{number}-link"), str(system))
    set_link(profile, f"{profile.name}-{number}-link")
    return number


# ---- sshd of this machine --------------------------------------------------------------


def listener_pid(r: Path) -> int | None:
    try:
        pid = int((rig(r) / "sshd.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def cut_sessions(r: Path) -> None:
    """Drop every SSH connection to this machine (the sessions are children of its sshd)."""
    pid = listener_pid(r)
    if pid is None:
        return
    for child in children(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            out.append(int(stat.parent.name))
    return out


def stop_sshd(r: Path) -> None:
    pid = listener_pid(r)
    if pid is not None:
        cut_sessions(r)
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists() or _zombie(pid):
                break
            time.sleep(0.02)


def _zombie(pid: int) -> bool:
    """True for a process that ended (gone, or a zombie nobody reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def start_sshd(r: Path) -> None:
    if listener_pid(r) is None and (rig(r) / "sshd-start").exists():
        subprocess.run(["sh", str(rig(r) / "sshd-start")], check=False)


# ---- the commands -------------------------------------------------------------------------


def nixos_rebuild(args: list[str]) -> int:
    r = root()
    log(r, "commands.log", "nixos-rebuild " + " ".join(args))
    mode = next((a for a in args if not a.startswith("-")), "")
    flake = args[args.index("--flake") + 1] if "--flake" in args else None
    profile = profiles(r) / "system"
    if mode not in ("switch", "boot", "test", "dry-activate", "build", "dry-build"):
        print(f"error: unknown action {mode!r}", file=sys.stderr)
        return 1
    if "--rollback" in args:
        gens = generations(profile)
        now = current_generation(profile)
        older = [g for g in gens if now is not None and g < now]
        if not older:
            print("error: there is no previous generation to roll back to", file=sys.stderr)
            return 1
        set_link(profile, f"system-{max(older)}-link")
        print(f"switching profile from version {now} to {max(older)}")
        return activate([str(gens[max(older)]), "boot" if mode == "boot" else "switch"])
    if flake is not None:
        folder_text, _, attr = flake.partition("#")
        folder = Path(folder_text)
        entry = folder / "hosts" / attr / "configuration.nix"
    else:
        folder = r / "etc" / "nixos"
        attr = (r / "etc" / "hostname").read_text().strip() if (r / "etc/hostname").exists() else ""
        entry = folder / "configuration.nix"
    print("building the system configuration...", flush=True)
    started = time.monotonic()
    if not entry.is_file():
        where = f"flake '{folder}'" if flake else str(folder)
        print(f"error: {where} has no {entry.relative_to(folder)}", file=sys.stderr)
        return 1
    files = {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".homelab")
    }
    nix = [str(folder / rel) for rel in files if rel.endswith(".nix")]
    parsed = subprocess.run(
        ["nix-instantiate", "--store", "dummy://", "--parse", *nix],
        capture_output=True,
        text=True,
        check=False,
    )
    if parsed.returncode != 0:
        print(parsed.stderr, end="", file=sys.stderr)
        return 1
    text = b"\n".join(files.values()).decode("utf-8", "replace")
    if "rig: hang" in text:
        print("building '/nix/store/rig-hang.drv'... (this never ends)", flush=True)
        while True:
            time.sleep(3600)
    if (rig(r) / "eval-error").exists():  # Nix refused the configuration
        print((rig(r) / "eval-error").read_text(), end="", file=sys.stderr, flush=True)
        return 1
    if "rig: fail-build" in text:
        print(
            "error: builder for '/nix/store/0000-nixos-system.drv' failed with exit code 1",
            file=sys.stderr,
        )
        return 1
    seconds = (
        float((rig(r) / "rebuild-seconds").read_text())
        if (rig(r) / "rebuild-seconds").exists()
        else 0
    )
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    system = make_system(r, attr, files)
    if mode in ("build", "dry-build"):
        if mode == "build":
            set_link(Path.cwd() / "result", str(system))
        print(system)
        return 0
    if mode in ("switch", "boot"):
        add_generation(profile, system)
    return activate([str(system), mode])


def activate(args: list[str]) -> int:
    """A fake system's bin/switch-to-configuration ACTION."""
    r = root()
    system, action = Path(args[0]), args[1]
    markers = (system / "markers").read_text().split()
    log(r, "activations.log", f"{action} {system}")
    if action == "dry-activate":
        print("would restart the following units: rig-demo.service")
        return 0
    if action in ("switch", "boot"):
        (rig(r) / "boot-entry").write_text(str(system))
        print("updating the boot loader...")
        if action == "boot":
            return 0
    print("activating the configuration...", flush=True)
    print("setting up /etc...", flush=True)
    write_authorized_keys(r, system)
    open_secrets(r, system)
    set_link(r / "run" / "current-system", str(system))
    if "fail-activation" in markers:
        print("warning: the following units failed: rig-broken.service", flush=True)
        return 4
    if "cut-connection" in markers:
        cut_sessions(r)
        time.sleep(1.0)
        print("the activation went on after the connection was cut", flush=True)
    if "break-ssh" in markers:
        stop_sshd(r)
        print("sshd stopped (this configuration broke SSH)", flush=True)
    else:
        start_sshd(r)
    return 0


# ---- what activation sets up besides current-system -----------------------------------

AUTHORIZED_KEYS = re.compile(r"authorizedKeys\s*\.\s*keys\s*=\s*\[")
NIX_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


def nix_strings(text: str, start: int) -> list[str]:
    """The double-quoted Nix strings of the list that starts at `start` (after its "["),
    their escapes undone; comments skipped; up to the list's "]"."""
    found, i = [], start
    while i < len(text) and text[i] != "]":
        if text[i] == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        elif text[i] == '"':
            chars, i = [], i + 1
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                    chars.append(NIX_ESCAPES.get(text[i], text[i]))
                else:
                    chars.append(text[i])
                i += 1
            found.append("".join(chars))
            i += 1
        else:
            i += 1
    return found


def write_authorized_keys(r: Path, system: Path) -> None:
    """As NixOS writes users.users.NAME.openssh.authorizedKeys.keys to
    /etc/ssh/authorized_keys.d/NAME (sshd's second AuthorizedKeysFile): every key of every
    such list in the configuration, for the rig's login user."""
    keys: list[str] = []
    for path in sorted((system / "config").rglob("*.nix")):
        text = path.read_text(errors="replace")
        for match in AUTHORIZED_KEYS.finditer(text):
            keys += nix_strings(text, match.end())
    folder = r / "etc" / "ssh" / "authorized_keys.d"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / pwd.getpwuid(os.getuid()).pw_name
    if not keys:
        dest.unlink(missing_ok=True)
        return
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_text("".join(k + "\n" for k in keys))
    os.replace(tmp, dest)


def open_secrets(r: Path, system: Path) -> None:
    """agenix: each encrypted/NAME.age of the configuration that the machine's host key
    opens (the real age) goes to $R/run/agenix/NAME, mode 0400; one it cannot open is
    another host's and is skipped. Like agenix, a new generation each activation
    ($R/run/agenix.d/N) and $R/run/agenix a link to it. Without age, nothing."""
    age, key = shutil.which("age"), r / "etc" / "ssh" / "ssh_host_ed25519_key"
    encrypted = sorted((system / "config" / "encrypted").glob("*.age"))
    if age is None or not key.exists() or not encrypted:
        return
    generations_dir = r / "run" / "agenix.d"
    generations_dir.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name) for p in generations_dir.iterdir() if p.name.isdigit()]
    new = generations_dir / str(max(numbers, default=0) + 1)
    new.mkdir()
    for path in encrypted:
        opened = subprocess.run(
            [age, "-d", "-i", str(key), str(path)], capture_output=True, check=False
        )
        if opened.returncode != 0:
            continue  # encrypted to another host
        dest = new / path.name.removesuffix(".age")
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "wb") as f:
            f.write(opened.stdout)
    set_link(r / "run" / "agenix", str(new))
    for number in numbers:
        shutil.rmtree(generations_dir / str(number), ignore_errors=True)


def nix_env(args: list[str]) -> int:
    r = root()
    log(r, "commands.log", "nix-env " + " ".join(args))
    profile = Path(args[args.index("-p") + 1]) if "-p" in args else profiles(r) / "system"
    if "--set" in args:
        number = add_generation(profile, Path(args[args.index("--set") + 1]))
        print(f"created generation {number}")
        return 0
    if "--switch-generation" in args:
        number = int(args[args.index("--switch-generation") + 1])
        if number not in generations(profile):
            print(f"error: generation {number} does not exist", file=sys.stderr)
            return 1
        set_link(profile, f"{profile.name}-{number}-link")
        print(f"switching profile to version {number}")
        return 0
    if "--rollback" in args:
        now = current_generation(profile)
        older = [g for g in generations(profile) if now is not None and g < now]
        if not older:
            print("error: no generation older than the current", file=sys.stderr)
            return 1
        set_link(profile, f"{profile.name}-{max(older)}-link")
        return 0
    if "--list-generations" in args:
        now = current_generation(profile)
        for number in sorted(generations(profile)):
            print(f"{number:5d}   {'(current)' if number == now else ''}")
        return 0
    print("nix-env stand-in: unsupported arguments", file=sys.stderr)
    return 1


def units(r: Path) -> Path:
    path = rig(r) / "units"
    path.mkdir(exist_ok=True)
    return path


def systemctl(args: list[str]) -> int:
    r = root()
    words = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1 : i] != ["-p"]]
    if not words:
        return 0
    verb, names = words[0], words[1:]
    if verb == "is-active":
        failed_file = rig(r) / "failed-units"
        failed = failed_file.read_text().split() if failed_file.exists() else []
        worst = 0
        for name in names:
            state = "failed" if name in failed else "active"
            worst = worst or (3 if state != "active" else 0)
            if "--quiet" not in args:
                print(state)
        return worst
    if verb == "show" and "--value" not in args:  # show UNIT -p A,B: KEY=VALUE lines
        return _show(r, names, args)
    if verb == "show":  # `show -p Result --value UNIT`
        for name in names:
            unit = name.removesuffix(".service")
            result, pid = units(r) / f"{unit}.result", units(r) / f"{unit}.pid"
            if result.exists():
                print("success" if result.read_text().strip() == "0" else "exit-code")
            elif pid.exists() and not _zombie(int(pid.read_text().strip() or 0)):
                print("")  # still running: no result yet
            else:
                print("signal" if pid.exists() else "")
        return 0
    if verb == "stop":
        for name in names:
            pid_file = units(r) / f"{name.removesuffix('.service')}.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(int(pid_file.read_text()), signal.SIGTERM)
        return 0
    return 0


def _show(r: Path, names: list[str], args: list[str]) -> int:
    """A unit's properties as `$R/.rig/units/UNIT.show` holds them (KEY=VALUE lines a test
    wrote); a unit without that file is one the machine does not have (LoadState=not-found,
    the other properties empty, as systemd prints them)."""
    log(r, "commands.log", "systemctl " + " ".join(args))
    wanted = [p for i, a in enumerate(args) if args[i - 1 : i] == ["-p"] for p in a.split(",")]
    for name in names:
        path = units(r) / f"{name}.show"
        known: dict[str, str] = {"LoadState": "not-found"}
        if path.exists():
            known = dict(line.partition("=")[::2] for line in path.read_text().splitlines())
        for prop in wanted:
            print(f"{prop}={known.get(prop, '')}")
    return 0


def sudo(args: list[str]) -> int:
    r = root()
    log(r, "sudo.log", json.dumps(args))  # one line per call, whatever the arguments hold
    options = []
    while args and args[0].startswith("-"):
        word = args.pop(0)
        if word == "--":
            break
        options.append(word)
    password_file = rig(r) / "sudo-password"
    if password_file.exists():
        if "-S" not in options:
            print("sudo: a password is required", file=sys.stderr)
            return 1
        print("[sudo] password for root: ", end="", file=sys.stderr, flush=True)
        line = b""
        while not line.endswith(b"\n"):
            byte = os.read(0, 1)
            if not byte:
                break
            line += byte
        if line.rstrip(b"\n").decode() != password_file.read_text().strip():
            print("\nsudo: 1 incorrect password attempt", file=sys.stderr)
            return 1
        print(file=sys.stderr)
    if not args:
        return 0
    os.execvp(args[0], args)
    return 1


def nvd(args: list[str]) -> int:
    if len(args) < 3 or args[0] != "diff":
        print("usage: nvd diff OLD NEW", file=sys.stderr)
        return 1
    old, new = Path(args[1]), Path(args[2])

    def read(path: Path) -> set[str]:
        file = path / "packages"
        return set(file.read_text().split()) if file.exists() else set()

    before, after = read(old), read(new)
    print(f"<<< {old}")
    print(f">>> {new}")
    for name in sorted(after - before):
        print(f"[A.]  {name}  1.0")
    for name in sorted(before - after):
        print(f"[R.]  {name}  1.0")
    if before == after:
        print("No version or selection state changes.")
    return 0


def rig_sftp(args: list[str]) -> int:
    r = root()
    server = next((s for s in SFTP_SERVERS if os.path.exists(s)), None)
    if server is None:
        print("no sftp-server found", file=sys.stderr)
        return 1
    largest = rig(r) / "max-file-size"
    if largest.exists():
        # write() then fails with EFBIG instead of the signal killing the server: a refused
        # write, answered as sftp-server answers a full disk (SSH2_FX_FAILURE)
        size = int(largest.read_text().strip())
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    fault = rig(r) / "cut-upload-after"
    if not fault.exists():
        os.execv(server, [server])
    limit = int(fault.read_text().strip())
    fault.unlink()  # once: the next connection can clean up
    child = subprocess.Popen([server], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert child.stdin is not None and child.stdout is not None
    seen = 0
    while True:
        ready, _, _ = select.select([0, child.stdout], [], [])
        if 0 in ready:
            data = os.read(0, 65536)
            if not data:
                break
            if seen + len(data) >= limit:
                child.stdin.write(data[: max(0, limit - seen)])
                cut_sessions(r)
                time.sleep(5)
                return 1
            seen += len(data)
            child.stdin.write(data)
        if child.stdout in ready:
            data = os.read(child.stdout.fileno(), 65536)
            if not data:
                break
            os.write(1, data)
    return 0


# ---- nix and nix-store: building for others, signing, copying closures ---------------

NIX_VALUE_OPTIONS = {
    "--extra-experimental-features": 1,
    "--experimental-features": 1,
    "--option": 2,
}
TOPLEVEL = re.compile(r'nixosConfigurations\."?([^".]+)"?\.config\.system\.build\.toplevel')
STORE_NAME = re.compile(r"[0-9a-z]{32}-[A-Za-z0-9+._?=-]+")


def real(name: str, args: list[str]) -> int:
    """The real program of that name: the first on PATH outside the rig's bin folder."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or (Path(folder) / "rig-sftp").exists():
            continue
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            os.execv(path, [name, *args])
    print(f"sh: {name}: not found", file=sys.stderr)
    return 127


def nix(args: list[str]) -> int:
    """`nix build`, `nix store sign` and `nix copy` as the lab's builders run them; any
    other nix command (`nix flake lock`, ...) is the real one."""
    r = root()
    words, i = [], 0
    while i < len(args):
        if args[i] in NIX_VALUE_OPTIONS:
            i += 1 + NIX_VALUE_OPTIONS[args[i]]
            continue
        words.append(args[i])
        i += 1
    # logged without the global options: "nix build ...", "nix store sign ...", "nix copy ..."
    log(r, "commands.log", "nix " + " ".join(words))
    if words[:1] == ["build"]:
        return nix_build(r, words[1:])
    if words[:2] == ["store", "sign"]:
        return nix_store_sign(r, words[2:])
    if words[:1] == ["copy"]:
        return nix_copy(r, words[1:])
    return real("nix", args)


def host_files(folder: Path, attr: str) -> dict[str, bytes]:
    """The flake's files that make host `attr`'s system: all but the other hosts' folders
    (hosts/OTHER/ with a configuration.nix), so one host's system does not change when
    another host's files do."""
    hosts = folder / "hosts"
    others = {
        p.name
        for p in (hosts.iterdir() if hosts.is_dir() else ())
        if p.name != attr and (p / "configuration.nix").is_file()
    }
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or path.name.startswith(".homelab"):
            continue
        if len(rel.parts) > 2 and rel.parts[0] == "hosts" and rel.parts[1] in others:
            continue
        files[str(rel)] = path.read_bytes()
    return files


def parse_errors(folder: Path, rels: list[str]) -> str:
    """What the real `nix-instantiate --parse` says of these .nix files ("" when they parse)."""
    if not rels:
        return ""
    parsed = subprocess.run(
        ["nix-instantiate", "--store", "dummy://", "--parse", *(str(folder / r) for r in rels)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if parsed.returncode == 0 else parsed.stderr or "error: syntax error\n"


def nix_build(r: Path, words: list[str]) -> int:
    """`nix build --no-link --print-out-paths DIR#nixosConfigurations.HOST.config.system
    .build.toplevel ...`: every system as nixos-rebuild would build it (same checks, same
    markers), rebuild-seconds slept once for the whole call, the paths printed in order."""
    installables = [w for w in words if not w.startswith("-")]
    if not installables:
        print("error: nothing to build (no installable given)", file=sys.stderr)
        return 1
    started = time.monotonic()
    wanted: list[tuple[str, Path, dict[str, bytes]]] = []
    errors: list[str] = []
    for installable in installables:
        flake, _, fragment = installable.partition("#")
        folder = Path.cwd() / flake.removeprefix("path:")
        match = TOPLEVEL.fullmatch(fragment)
        if not (folder / "flake.nix").is_file():
            errors.append(f"error: path '{folder / 'flake.nix'}' does not exist\n")
        elif match is None:
            errors.append(
                f"error: flake 'path:{folder}' does not provide attribute "
                f"'packages.x86_64-linux.{fragment}', 'legacyPackages.x86_64-linux.{fragment}' "
                f"or '{fragment}'\n"
            )
        elif not (folder / "hosts" / match[1] / "configuration.nix").is_file():
            entry = folder / "hosts" / match[1] / "configuration.nix"
            errors.append(f"error: path '{entry}' does not exist\n")
        else:
            wanted.append((match[1], folder, host_files(folder, match[1])))
    folders = {folder for _, folder, _ in wanted}
    for folder in sorted(folders):  # every file once; on an error, each host's own files
        every = sorted({rel for _, f, files in wanted if f == folder for rel in files})
        if parse_errors(folder, [rel for rel in every if rel.endswith(".nix")]):
            for _, f, files in wanted:
                if f == folder:
                    errors.append(parse_errors(f, [rel for rel in files if rel.endswith(".nix")]))
    errors = list(dict.fromkeys(errors))  # a file that all hosts share is said once
    if not errors and (rig(r) / "eval-error").exists():  # Nix refused the configuration
        errors.append((rig(r) / "eval-error").read_text())
    if any(errors):
        print("".join(errors), end="", file=sys.stderr, flush=True)
        return 1
    texts = {
        attr: b"\n".join(files.values()).decode("utf-8", "replace") for attr, _, files in wanted
    }
    drvs = {}
    for attr, t in texts.items():
        digest = hashlib.sha256(t.encode()).hexdigest()[:32]
        drvs[attr] = f"/nix/store/{digest}-nixos-system-{attr}-24.05.drv"
    print(f"these {len(drvs)} derivations will be built:", file=sys.stderr)
    for drv in drvs.values():
        print(f"  {drv}", file=sys.stderr, flush=True)
    if any("rig: hang" in t for t in texts.values()):
        print("building ... (this never ends)", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
    seconds = (
        float((rig(r) / "rebuild-seconds").read_text())
        if (rig(r) / "rebuild-seconds").exists()
        else 0
    )
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    failed = [attr for attr, t in texts.items() if "rig: fail-build" in t]
    if failed:
        for attr in failed:
            print(f"error: builder for '{drvs[attr]}' failed with exit code 1", file=sys.stderr)
        return 1
    paths = [make_system(r, attr, files) for attr, _, files in wanted]
    for attr, _, _ in wanted:
        log(r, "builds.log", attr)
    for path in paths:
        print(path)
    return 0


def store_path(r: Path, given: str) -> tuple[Path | None, str]:
    """A path of this machine's store (a link to one is followed, as Nix does), or why not."""
    path = Path(os.path.realpath(Path.cwd() / given))
    store = Path(os.path.realpath(r / "nix" / "store"))
    if path.parent != store or not STORE_NAME.fullmatch(path.name):
        return None, f"error: path '{given}' is not in the Nix store"
    if not path.exists():
        return None, f"error: path '{given}' is not valid"
    return path, ""


def store_paths(r: Path, given: list[str]) -> tuple[list[Path], str]:
    """Paths of this machine's store, or why the first that is not one is not."""
    paths = []
    for word in given:
        path, error = store_path(r, word)
        if path is None:
            return [], error
        paths.append(path)
    return paths, ""


def options(words: list[str], with_value: set[str]) -> tuple[dict[str, str], list[str]]:
    """The options that take a value, and the other (non-option) words."""
    values, rest, i = {}, [], 0
    while i < len(words):
        if words[i] in with_value and i + 1 < len(words):
            values[words[i]] = words[i + 1]
            i += 2
            continue
        if not words[i].startswith("-"):
            rest.append(words[i])
        i += 1
    return values, rest


def signatures(r: Path) -> Path:
    return r / "nix" / "var" / "nix" / "signatures"


def add_signatures(file: Path, lines: list[str]) -> None:
    """Signature lines KEYNAME:SIG into a path's signatures file, one per key name."""
    kept = {}
    for line in [*(file.read_text().split() if file.exists() else []), *lines]:
        kept[line.partition(":")[0]] = line
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in kept.values()))
    os.replace(tmp, file)


def nix_store_sign(r: Path, words: list[str]) -> int:
    """`nix store sign --key-file KEYFILE --recursive PATH...`: a real ed25519 signature of
    each path's name (fake paths have no NAR to sign) with the Nix secret key NAME:BASE64,
    kept as NAME:BASE64SIG in $R/nix/var/nix/signatures/BASENAME."""
    values, given = options(words, {"--key-file", "-k"})
    key_file = values.get("--key-file") or values.get("-k")
    if key_file is None:
        print("error: required argument '--key-file' is missing", file=sys.stderr)
        return 1
    try:
        text = (Path.cwd() / key_file).read_text().strip()
    except OSError as e:
        print(f"error: opening file '{key_file}': {e.strerror}", file=sys.stderr)
        return 1
    name, _, encoded = text.partition(":")
    try:
        secret = base64.b64decode(encoded, validate=True)
    except ValueError:
        secret = b""
    if not name or len(secret) != 64:
        print(f"error: secret key in '{key_file}' is corrupt", file=sys.stderr)
        return 1
    paths, error = store_paths(r, given)
    if error:
        print(error, file=sys.stderr)
        return 1
    import site  # the stand-ins run without site-packages (-S); cryptography lives there

    site.main()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(secret[:32])
    for path in paths:
        signature = base64.b64encode(key.sign(path.name.encode())).decode()
        add_signatures(signatures(r) / path.name, [f"{name}:{signature}"])
    return 0


def nix_copy(r: Path, words: list[str]) -> int:
    """`NIX_SSHOPTS=... nix copy --to ssh://USER@HOST PATH...`: the real ssh (with
    NIX_SSHOPTS split on whitespace, as Nix does) runs `nix-store --serve --write` on the
    target and gets the paths, with their signatures, as a tar on its input."""
    values, given = options(words, {"--to", "--from"})
    url = values.get("--to", "")
    if not url.startswith("ssh://") or not url.removeprefix("ssh://"):
        print(
            f"error: the rig's nix copy only copies --to ssh://HOST, not '{url}'", file=sys.stderr
        )
        return 1
    host = url.removeprefix("ssh://")
    paths, error = store_paths(r, given)
    if error:
        print(error, file=sys.stderr)
        return 1
    for path in paths:
        print(f"copying path '{path}' to '{url}'...", file=sys.stderr, flush=True)
    command = ["ssh", *os.environ.get("NIX_SSHOPTS", "").split(), host]
    command += ["nix-store", "--serve", "--write"]
    with tempfile.TemporaryFile() as errors:
        ssh = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=2, stderr=errors)
        assert ssh.stdin is not None
        with (
            contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError),
            tarfile.open(fileobj=ssh.stdin, mode="w|") as tar,
        ):
            for path in paths:
                tar.add(path, arcname=f"store/{path.name}")
                sigs = signatures(r) / path.name
                if sigs.exists():
                    tar.add(sigs, arcname=f"signatures/{path.name}")
        with contextlib.suppress(BrokenPipeError, OSError):
            ssh.stdin.close()
        code = ssh.wait()
        errors.seek(0)
        said = errors.read().decode(errors="replace")
    if code != 0:
        first = (
            f"error: cannot connect to '{host}'"
            if code == 255
            else f"error: copying to '{url}' failed (exit code {code})"
        )
        print(first, file=sys.stderr)
    print(said, end="", file=sys.stderr)
    return code


def nix_store(args: list[str]) -> int:
    """`nix-store --serve --write` receives paths (the rig's own tar, not Nix's protocol);
    any other nix-store command is the real one."""
    if "--serve" not in args:
        return real("nix-store", args)
    r = root()
    log(r, "commands.log", "nix-store " + " ".join(args))
    if "--write" not in args:
        print("error: the rig's nix-store only receives paths (--serve --write)", file=sys.stderr)
        return 1
    store, var = r / "nix" / "store", r / "nix" / "var" / "nix"
    store.mkdir(parents=True, exist_ok=True)
    var.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="receiving-", dir=var))  # beside the store, not in it
    try:
        try:
            with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as tar:
                for member in tar:
                    parts = PurePosixPath(member.name).parts
                    if (
                        len(parts) < 2
                        or parts[0] not in ("store", "signatures")
                        or not STORE_NAME.fullmatch(parts[1])
                        or (parts[0] == "signatures" and len(parts) != 2)
                    ):
                        print(
                            f"error: unexpected '{member.name}' in the paths received",
                            file=sys.stderr,
                        )
                        return 1
                    tar.extract(member, tmp, filter="data")
        except tarfile.ReadError as e:
            if str(e) == "empty file":  # nothing sent
                return 0
            print(f"error: the paths received are not readable: {e}", file=sys.stderr)
            return 1
        for folder in sorted((tmp / "store").iterdir()) if (tmp / "store").is_dir() else []:
            dest = store / folder.name
            if not dest.exists():  # a path already there is left alone, as Nix does
                folder.rename(dest)
            log(r, "received.log", folder.name)
        for sigs in sorted((tmp / "signatures").iterdir()) if (tmp / "signatures").is_dir() else []:
            add_signatures(signatures(r) / sigs.name, sigs.read_text().split())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


COMMANDS = {
    "nixos-rebuild": nixos_rebuild,
    "nix-env": nix_env,
    "systemctl": systemctl,
    "sudo": sudo,
    "nvd": nvd,
    "rig-sftp": rig_sftp,
    "activate": activate,
    "nix": nix,
    "nix-store": nix_store,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print("usage: standin.py COMMAND ARGS... (a test double)", file=sys.stderr)
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
