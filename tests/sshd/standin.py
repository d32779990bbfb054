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
  activate        what a fake system's bin/switch-to-configuration runs

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

import contextlib
import hashlib
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    stc = tmp / "bin" / "switch-to-configuration"
    stc.write_text(
        f'#!/bin/sh\nexec {sys.executable} -S {Path(__file__).resolve()} activate "{path}" "$@"\n'
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


COMMANDS = {
    "nixos-rebuild": nixos_rebuild,
    "nix-env": nix_env,
    "systemctl": systemctl,
    "sudo": sudo,
    "nvd": nvd,
    "rig-sftp": rig_sftp,
    "activate": activate,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print("usage: standin.py COMMAND ARGS... (a test double)", file=sys.stderr)
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
