"""The shell scripts homelab runs on a machine, as text, with every value a positional
argument (never pasted into the script): `sh -c SCRIPT homelab ARG...`.

They need only a POSIX shell and coreutils/util-linux (flock, tail, readlink, mv -T), all
on every NixOS system. Paths are relative to the machine's root, `$R`, which is "" on a
real machine (a test rig sets HOMELAB_MACHINE_ROOT so that several simulated machines can
share one computer; only PROBE reads it, the others get it as an argument).

On the machine, /var/lib/homelab holds:
  lock, lock.owner     the per-host lock (flock) and who holds it; the holder touches
                       lock.owner at each heartbeat of its apply, so a lock whose
                       apply went silent (killed, cut off) is taken over
  uploads/ID[.partial] uploaded configurations (.partial while uploading)
  config -> uploads/ID the configuration in place; swapped atomically by a symlink rename
  secrets.partial/     secrets on their way to their targets (0700)
  secrets.json         hashes of the secrets last installed (0600, outside the Nix store)
  runs/ID/             one detached run: job.sh, log, pid, status; runs/current -> ID
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

STATE = "/var/lib/homelab"
CURRENT_SYSTEM = "/run/current-system"
SYSTEM_PROFILE = "/nix/var/nix/profiles/system"
MANIFEST = ".homelab-manifest.json"
MARK = "@homelab "  # lines the job writes for homelab itself, not shown as output


def command(script: str, *args: str) -> str:
    """A command line for the login shell: sh -c SCRIPT with its arguments quoted."""
    return shlex.join(["sh", "-c", script, "homelab", *args])


def sudo_command(script: str, *args: str, sudo: str = "") -> str:
    """As `command`, run through sudo: sudo -n (no password) or sudo -S (password on the
    first line of standard input; never on the command line, never a prompt option)."""
    if not sudo:
        return command(script, *args)
    body = "exec </dev/null\n" + script  # what sudo -S did not read is not for the script
    return shlex.join(["sudo", sudo, "sh", "-c", body, "homelab", *args])


# $1 the machine's ed25519 host public key (/etc/ssh/ssh_host_ed25519_key.pub): the key
# agenix decrypts the host's secrets with. Read over the verified connection; world-readable.
HOST_KEY = r"""
R="${HOMELAB_MACHINE_ROOT:-}"
exec cat -- "$R$1"
"""


# $1 who is applying, $2 seconds to wait for the lock, $3 check sudo (1/0), $4 run id
# (make a staging folder for it), $5 the heartbeat in whole seconds. Prints facts, then
# `ready`, then holds the lock until homelab closes the channel, touching lock.owner at
# every heartbeat line. A lock whose owner missed three heartbeats is taken over: its
# holder is stopped (`tookover=`).
PROBE = r"""
R="${HOMELAB_MACHINE_ROOT:-}"
S="$R/var/lib/homelab"
echo "root=$R"
echo "user=$(id -un)"
if [ "$3" = 1 ]; then
  if sudo -n true >/dev/null 2>&1; then echo "sudo=ok"; else echo "sudo=password"; fi
fi
if [ ! -d "$S" ] || [ ! -w "$S" ]; then
  if [ "$(id -u)" = 0 ]; then mkdir -p "$S" && chmod 0755 "$S"
  else echo "state=missing"; echo ready; exit 0; fi
fi
exec 9>>"$S/lock"
if [ "$2" = 0 ]; then flock -n 9; else flock -w "$2" 9; fi || {
  owner="$(head -n 1 "$S/lock.owner" 2>/dev/null)"
  beat="$(sed -n 's/^beat=//p' "$S/lock.owner" 2>/dev/null)"
  holder="$(sed -n 's/^holder=//p' "$S/lock.owner" 2>/dev/null)"
  age=$(( $(date +%s) - $(stat -c %Y "$S/lock.owner" 2>/dev/null || date +%s) ))
  if [ -n "$beat" ] && [ -n "$holder" ] && [ "$age" -gt $((beat * 3 + 2)) ] \
     && kill "$holder" 2>/dev/null && flock -w 10 9; then
    echo "tookover=$owner (silent for $age s)"
  else
    echo "locked=$owner"; echo ready; exit 0
  fi
}
printf '%s\nholder=%s\nbeat=%s\n' "$1" "$$" "${5:-}" > "$S/lock.owner"
mkdir -p "$S/uploads" "$S/runs"
run="$(readlink "$S/runs/current" 2>/dev/null)"; busy=""
if [ -n "$run" ] && [ ! -e "$S/runs/$run/status" ] && [ -s "$S/runs/$run/pid" ] \
   && [ -d "/proc/$(cat "$S/runs/$run/pid")" ]; then echo "running=$run"; busy=1; fi
if [ -z "$busy" ]; then
  for d in "$S"/uploads/*.partial "$S/secrets.partial"; do
    if [ -e "$d" ]; then rm -rf "$d" && echo "cleaned=${d#"$R"}"; fi
  done
fi
echo "current=$(readlink -f "$R/run/current-system" 2>/dev/null)"
echo "profile=$(readlink "$R/nix/var/nix/profiles/system" 2>/dev/null)"
[ -d "$R/run/systemd/system" ] && echo "systemd=1"
command -v nvd >/dev/null 2>&1 && echo "nvd=1"
command -v nix >/dev/null 2>&1 && echo "nix=1"
command -v nixos-rebuild >/dev/null 2>&1 && echo "rebuild=1"
if [ -r "$S/config/.homelab-manifest.json" ]; then
  printf 'manifest='; tr -d '\n' < "$S/config/.homelab-manifest.json"; echo
fi
if [ -r "$S/secrets.json" ]; then printf 'secrets='; tr -d '\n' < "$S/secrets.json"; echo; fi
if [ -n "$4" ] && [ -z "$busy" ]; then
  mkdir -p "$S/uploads/$4.partial"
  if [ -d "$S/config/" ]; then cp -a "$S/config/." "$S/uploads/$4.partial/"; fi
  echo "staging=${S#"$R"}/uploads/$4.partial"
fi
echo ready
while IFS= read -r _; do touch "$S/lock.owner"; done
"""

# $1 root, $2 the user who owns the state folder: make it (run with sudo)
MAKE_STATE = r"""
install -d -m 0755 -o "$2" "$1/var/lib/homelab"
"""

# $1 root, $2 staging folder (machine path) to remove
CLEAN_STAGING = r"""
rm -rf "$1$2" "$1/var/lib/homelab/secrets.partial"
"""

# $1 root, $2 run id, $3 systemd (1/0), $4 sudo ("", -n, -S), $5 "install" to put the
# uploaded configuration in place first. Then it follows the run like FOLLOW.
START = r"""
R="$1"; S="$R/var/lib/homelab"; id="$2"; run="$S/runs/$id"
if [ "$5" = install ]; then
  old="$(readlink "$S/config" 2>/dev/null)"
  mv -T "$S/uploads/$id.partial" "$S/uploads/$id" \
    || { echo "start=cannot move the upload into place" >&2; exit 1; }
  ln -sfn "uploads/$id" "$S/config.new" && mv -T "$S/config.new" "$S/config" \
    || { echo "start=cannot swap the configuration" >&2; exit 1; }
  for d in "$S"/uploads/*; do
    case "${d##*/}" in "$id"|"${old##*/}"|*.partial) ;; *) rm -rf "$d" ;; esac
  done
fi
: > "$run/log"
ln -sfn "$id" "$S/runs/current.new" && mv -T "$S/runs/current.new" "$S/runs/current"
find "$S/runs" -mindepth 1 -maxdepth 1 -type d -mtime +30 -exec rm -rf {} + 2>/dev/null
if [ "$3" = 1 ]; then
  ${4:+sudo $4} systemd-run --unit="homelab-$id" --description="homelab apply $id" \
    --quiet -- sh "$run/job.sh" >/dev/null 2>"$run/start.err"
else
  # the job's parent waits for it, so it never lingers as a zombie (tail --pid watches it)
  ${4:+sudo $4} sh -c 'setsid nohup sh -c "sh \"\$0\"; exit \$?" "$0" >/dev/null 2>&1 \
    </dev/null &' "$run/job.sh" 2>"$run/start.err"
fi
if [ "$?" != 0 ]; then
  echo "start=could not start the run: $(grep -v '^\[sudo\]' "$run/start.err" | head -n 3)" >&2
  exit 1
fi
exec sh -c "$6" follow "$run" 0 "$R" "$3"
"""

# $1 run folder, $2 bytes of the log already seen, $3 root, $4 systemd (1/0). The log on
# stdout until the run ends; then facts on stderr.
FOLLOW = r"""
run="$1"; R="$3"; i=0
while [ ! -s "$run/pid" ] && [ ! -e "$run/status" ]; do
  i=$((i+1)); [ "$i" -gt 300 ] && break; sleep 0.05
done
pid="$(cat "$run/pid" 2>/dev/null)"
if [ -n "$pid" ]; then
  tail -c +"$(($2+1))" -s 0.1 --pid="$pid" -f "$run/log"
else
  tail -c +"$(($2+1))" "$run/log"
  echo "nostart=$(head -c 300 "$run/start.err" 2>/dev/null | tr '\n' ' ')" >&2
fi
i=0
while [ ! -e "$run/status" ] && [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$i" -lt 50 ]; do
  i=$((i+1)); sleep 0.1
done
echo "status=$(cat "$run/status" 2>/dev/null)" >&2
echo "current=$(readlink -f "$R/run/current-system" 2>/dev/null)" >&2
echo "profile=$(readlink "$R/nix/var/nix/profiles/system" 2>/dev/null)" >&2
[ -e "$run/confirm-fired" ] && echo "fired=1" >&2
if [ ! -e "$run/status" ] && [ "$4" = 1 ]; then
  echo "unit=$(systemctl show -p Result --value "homelab-${run##*/}.service" 2>/dev/null)" >&2
fi
exit 0
"""

# $1 root, $2 run id, $3 systemd (1/0): stop a run (as root)
STOP = r"""
run="$1/var/lib/homelab/runs/$2"
if [ "$3" = 1 ]; then systemctl stop "homelab-$2.service" 2>/dev/null; fi
pid="$(cat "$run/pid" 2>/dev/null)"
group=""
[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] && read -r _ _ _ _ group _ < "/proc/$pid/stat"
for signal in TERM KILL; do
  if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
    kill -"$signal" -- "-${group:-$pid}" 2>/dev/null || kill -"$signal" "$pid" 2>/dev/null
    sleep 0.5
  fi
done
exit 0
"""

# $1 root, $2 run id: disarm the confirm timer; exit 3 when it already fired
DISARM = r"""
rm "$1/var/lib/homelab/runs/$2/confirm-armed" 2>/dev/null && exit 0
exit 3
"""

# $1 a systemd unit (the lab's backup job): whether the machine has it and how its last
# run ended, as systemctl's KEY=VALUE lines; nothing on a machine without systemctl.
# Reading a unit's properties needs no root.
UNIT_RUN = r"""
command -v systemctl >/dev/null 2>&1 || exit 0
exec systemctl show "$1" -p LoadState,ActiveState,Result,ExecMainExitTimestamp
"""

# $1 run id ("" for none): how that run ended (an apply that was interrupted left it
# going), and what the machine runs now
RUN_STATE = r"""
R="${HOMELAB_MACHINE_ROOT:-}"; run="$R/var/lib/homelab/runs/$1"
echo "current=$(readlink -f "$R/run/current-system" 2>/dev/null)"
echo "profile=$(readlink "$R/nix/var/nix/profiles/system" 2>/dev/null)"
if [ -n "$1" ]; then
  if [ ! -d "$run" ]; then echo "run=missing"
  elif [ -e "$run/status" ]; then echo "run=ended"; echo "status=$(cat "$run/status")"
  elif [ -s "$run/pid" ] && [ -d "/proc/$(cat "$run/pid")" ]; then echo "run=running"
  else echo "run=vanished"; fi
  [ -e "$run/confirm-fired" ] && echo "fired=1"
  [ -e "$run/confirm-armed" ] && echo "armed=1"
fi
exit 0
"""

# $1 root, $2 run id: the current state (after a rollback by the confirm timer)
STATE_NOW = r"""
echo "current=$(readlink -f "$1/run/current-system" 2>/dev/null)"
echo "profile=$(readlink "$1/nix/var/nix/profiles/system" 2>/dev/null)"
[ -n "$2" ] && [ -e "$1/var/lib/homelab/runs/$2/confirm-fired" ] && echo "fired=1"
exit 0
"""

# $1 "unit..." to check with systemctl is-active; prints "NAME STATE" per unit
UNITS = r"""
for u in "$@"; do echo "$u $(systemctl is-active "$u" 2>/dev/null || true)"; done
"""

# facts for adopt
ADOPT_FACTS = r"""
R="${HOMELAB_MACHINE_ROOT:-}"
echo "system=$(cat "$R/run/current-system/system" 2>/dev/null)"
echo "machine=$(uname -m)"
echo "version=$(cat "$R/run/current-system/nixos-version" 2>/dev/null || nixos-version 2>/dev/null)"
echo "os=$(. "$R/etc/os-release" 2>/dev/null; echo "$ID $VERSION_ID")"
echo "hostname=$(cat "$R/etc/hostname" 2>/dev/null || uname -n)"
echo "stateversion=$(sed -n 's/.*system\.stateVersion *= *"\([^"]*\)".*/\1/p' \
  "$R/etc/nixos/configuration.nix" 2>/dev/null | head -n 1)"
echo "hardware=$R/etc/nixos/hardware-configuration.nix"
echo "root=$R"
"""

# ---- building on another machine (deploy.buildOn; homelab.deploy.elsewhere) ------------

# On the builder: who we are, its root, and a build folder for run $1 (made, emptied)
BUILDER_FACTS = r"""
R="${HOMELAB_MACHINE_ROOT:-}"
echo "root=$R"
echo "uid=$(id -u)"
d="$R/var/lib/homelab/builds/$1"
# build folders an apply that was killed left behind, a day old and more
find "${d%/*}" -mindepth 1 -maxdepth 1 -type d -mtime +0 -exec rm -rf {} + 2>/dev/null
mkdir -p "$d" 2>/dev/null || sudo -n mkdir -p "$d" 2>/dev/null
[ -w "$d" ] || sudo -n chown "$(id -un)" "$d" "${d%/*}" 2>/dev/null
[ -w "$d" ] && echo "folder=${d#"$R"}"
command -v nix >/dev/null 2>&1 && echo "nix=1"
exit 0
"""

# On the builder: $1 the build folder; then the flake installables to build, in one
# `nix build` (what they share is built once). Out: one system path per line.
BUILD = r"""
cd "$1" || exit 70
shift
exec nix --extra-experimental-features 'nix-command flakes' build --no-link --print-out-paths "$@"
"""

# On the builder (as root: the keys are root's): sign a system's closure with the lab's
# key and copy it to its target. $1 the system, $2 the signing key, $3 the build key, $4
# the known-hosts file to write, $5 USER@ADDRESS, $6 its SSH port, $7 the known-hosts line
# that pins the target's host key. Nix splits NIX_SSHOPTS on spaces: the paths are
# homelab's own (no spaces).
SEND_CLOSURE = r"""
( umask 077; printf '%s\n' "$7" > "$4" ) || exit 70
nix --extra-experimental-features nix-command store sign --key-file "$2" --recursive "$1" \
  || exit $?
NIX_SSHOPTS="-i $3 -o UserKnownHostsFile=$4 -o GlobalKnownHostsFile=/dev/null"
NIX_SSHOPTS="$NIX_SSHOPTS -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes"
NIX_SSHOPTS="$NIX_SSHOPTS -o ConnectTimeout=15 -p $6"
export NIX_SSHOPTS
exec nix --extra-experimental-features nix-command copy --to "ssh://$5" "$1"
"""

# On the target: $1 the user the builder logs in as, $2 the build key's base64: does the
# running system let it in yet (NixOS writes authorizedKeys to /etc/ssh/authorized_keys.d)?
KNOWS_BUILD_KEY = r"""
R="${HOMELAB_MACHINE_ROOT:-}"
if grep -qF -- "$2" "$R/etc/ssh/authorized_keys.d/$1" 2>/dev/null; then echo yes; else echo no; fi
"""

# On the builder: $1 the build folder to remove
CLEAN_BUILD = r"""
rm -rf -- "$1"
"""


# a private temporary folder for `homelab lock`
TEMP_DIR = r"""
d="$(mktemp -d "${TMPDIR:-/tmp}/homelab-lock.XXXXXX")" && echo "$d"
"""


# The job's own functions, for the steps (homelab.deploy.steps) that need more than one
# program. Each takes its values as arguments; a failure returns the job's exit code for it.
JOB_FUNCTIONS = r"""
take_built() { new="$(readlink -f result)"; say built "$new"; }
# $1 the system another machine built and copied here (deploy.buildOn)
take_arrived() {
  new="$R$1"
  [ -x "$new/bin/switch-to-configuration" ] || { say problem "$1 did not arrive"; return 74; }
  say built "$new"
}
# $1 the running system, $2 the new one
closure_diff() {
  if command -v nvd >/dev/null 2>&1; then nvd diff "$1" "$2"
  elif command -v nix >/dev/null 2>&1; then
    nix --extra-experimental-features nix-command store diff-closures "$1" "$2"
  else echo "no nvd or nix on the machine: no closure diff"; fi
}
# $1 the uploaded secret, $2 where it goes, $3 its mode, $4 its name
install_secret() {
  install -D -m "$3" "$1" "$2.homelab-new" && mv -f "$2.homelab-new" "$2" \
    || { say note "cannot install secret $4"; return 71; }
}
# $1 a secret, $2 its owner[:group]; if that fails: $3 quiet, note or problem, $4 what to say
chown_secret() {
  if [ "$3" = quiet ]; then chown "$2" "$1" 2>/dev/null; return 0; fi
  chown "$2" "$1" && return 0
  say "$3" "$4"
  if [ "$3" = problem ]; then return 73; fi
}
# $1 the configuration in place, $2 /etc/nixos; the first one homelab replaces is kept
put_in_etc_nixos() {
  rm -rf "$2.homelab-new" && mkdir -p "$2.homelab-new" && cp -a "$1/." "$2.homelab-new/" \
    || return 72
  if [ -d "$2" ] && [ ! -e "$2.before-homelab" ]; then cp -a "$2" "$2.before-homelab"; fi
  rm -rf "$2.previous"
  if [ -d "$2" ]; then mv "$2" "$2.previous"; fi
  mv "$2.homelab-new" "$2" || return 72
}
# $1 the file, $2 the secrets' digests: written last, so that a run that stops before
# here sends its secrets again next time
keep_secret_digests() {
  ( umask 077; printf '%s\n' "$2" > "$1" ) && chown --reference="${1%/*}" "$1" 2>/dev/null
  return 0
}
# $1 the confirm timer's script, $2 its systemd unit ("" without systemd)
start_timer() {
  if [ -n "$2" ]; then systemd-run --unit="$2" --quiet -- sh "$1" >/dev/null 2>&1
  else setsid nohup sh "$1" >/dev/null 2>&1 </dev/null & fi
}
"""


def job_script(*, run: str, root: str, lines: Sequence[str]) -> str:
    """The detached job: runs as root, writes everything to its log, records its status.

    `lines` are Step.line()s (homelab.deploy.command); each may call `finish CODE` to stop.
    """
    head = f"""#!/bin/sh
# written by homelab: one detached run, so that a dropped SSH connection cannot leave
# this machine half-switched. Its output is in ./log, its exit code in ./status.
run={q(run)}
R={q(root)}
S="$R/var/lib/homelab"
exec >>"$run/log" 2>&1 </dev/null
echo $$ > "$run/pid"
cd "$run" || exit 70
say() {{ echo "{MARK}$*"; }}
finish() {{
  echo "$1" > "$run/status.tmp"; mv "$run/status.tmp" "$run/status"; say exit "$1"; exit "$1"
}}
"""
    return head + JOB_FUNCTIONS.lstrip("\n") + "\n".join(lines) + "\nfinish 0\n"


def timer_script(*, run: str, seconds: float, lines: Sequence[str]) -> str:
    """The confirm timer, started by the job before it activates: unless homelab removed
    `confirm-armed` in time (a fresh connection got through), it puts the machine back
    (`lines`: Step.line()s) and says so in the run's log."""
    return (
        f"""#!/bin/sh
run={q(run)}
exec >>"$run/log" 2>&1 </dev/null
finish() {{ echo "{MARK}note switching back failed (exit $1)"; exit "$1"; }}
sleep {q(f"{seconds:g}")}
if mv "$run/confirm-armed" "$run/confirm-fired" 2>/dev/null; then
  echo "{MARK}note the confirm timer fired: rolling back"
"""
        + "".join(f"  {line}\n" for line in lines)
        + "fi\n"
    )


def q(value: str | int) -> str:
    return shlex.quote(str(value))
