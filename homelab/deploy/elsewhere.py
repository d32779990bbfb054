"""Building hosts' systems on another machine of the lab (deploy.buildOn), with Nix's own
tools: `nix build`, `nix store sign`, `nix copy`.

One `Builder` serves the targets of one builder in an apply. It waits for the builder's
own deploy when the builder is in the apply too (so its keys and emulation are in place),
then for every target to say whether it needs a build (a target that is up to date, or
refused, says it needs none). It builds all of them in ONE `nix build` on the builder (what
they share is built once; a failure is then narrowed down by building each alone), and
copies each system to its target: signed with the lab's key, over SSH with the lab's build
key, against the target's pinned host key written into a known-hosts file of the run. The
target then only activates what arrived (homelab.deploy.steps.activate_arrived).

A builder that cannot be reached, or whose deploy failed, fails its targets with one clear
line; the apply's other hosts go on.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

from homelab.builds import BuildOn
from homelab.deploy import scripts
from homelab.deploy.command import Remote, Sudo
from homelab.deploy.hostlock import Failed
from homelab.deploy.models import HostResult
from homelab.deploy.plan import BuildOnPlan
from homelab.deploy.ssh import ConnectError, SshSettings, connect
from homelab.deploy.target import (
    Cancelled,
    ConnectionLost,
    Lines,
    Target,
    WriteFailed,
    parse_facts,
)

OnLine = Callable[[str], None]
BUILD_LINES = 40  # of a failed build, kept for the result


class BuildFailed(Failed):
    """The host's system was not built or did not reach it; nothing was activated."""


@dataclass(frozen=True)
class Wanted:
    """A target's request: its system, from the files of its upload."""

    folder: str
    attr: str  # the flake's nixosConfigurations attribute
    files: Mapping[str, bytes] = field(repr=False)  # lab-relative paths of its flake
    on_line: OnLine = field(repr=False)


def installable(folder: str, attr: str) -> str:
    return f"{folder}#nixosConfigurations.{attr}.config.system.build.toplevel"


class Builder:
    """One builder's work for the targets of an apply (see the module's docstring)."""

    def __init__(
        self,
        plan: BuildOnPlan,
        targets: Mapping[str, BuildOn],
        ssh: SshSettings,
        cancel: threading.Event,
        own: Future[HostResult] | None = None,
    ) -> None:
        self.plan = plan
        self.name = plan.name
        self._ssh = ssh
        self._cancel = cancel
        self._own = own  # the builder's own deploy in this apply
        self._cond = threading.Condition()
        self._specs = dict(targets)  # by target folder: how to reach it, which keys
        self._pending = set(targets)  # targets that have not said yet
        self._wanted: dict[str, Wanted] = {}
        self._built: dict[str, str | BuildFailed] = {}  # folder -> system path on the builder
        self._started = False
        self._target: Target | None = None
        self._root = ""
        self._sudo = Sudo.NONE
        self._folder = ""  # the build folder on the builder (machine path)
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()

    # ---- what the targets call ----------------------------------------------------------

    def wait_ready(self, on_line: OnLine) -> None:
        """Wait for the builder's own deploy (when it is in this apply); BuildFailed
        when it failed: its targets are not built on a builder in an unknown state."""
        if self._own is None:
            return
        if not self._own.done():
            on_line(f"waiting for its builder {self.name} to be deployed first")
        while True:
            try:
                result = self._own.result(timeout=0.2)
                break
            except TimeoutError:
                if self._cancel.is_set():
                    raise Cancelled() from None
        if not result.ok:
            raise BuildFailed(
                f"not built: its builder {self.name} failed to deploy ({result.summary})"
            )

    def need(self, wanted: Wanted) -> str:
        """The target's system, built on the builder (its path there); BuildFailed."""
        with self._cond:
            self._wanted[wanted.folder] = wanted
            self._pending.discard(wanted.folder)
            self._start_if_all_said()
            while wanted.folder not in self._built:
                if self._cancel.is_set():
                    raise Cancelled()
                self._cond.wait(0.2)
            got = self._built[wanted.folder]
        if isinstance(got, BuildFailed):
            raise got
        return got

    def skip(self, folder: str) -> None:
        """The target needs no build (up to date, refused, failed before): said once; a
        second call is nothing."""
        with self._cond:
            if folder in self._pending:
                self._pending.discard(folder)
                self._start_if_all_said()

    def send(self, folder: str, system: str, on_line: OnLine) -> str:
        """Sign the system's closure and copy it to the target; its path as the target
        names it (machine paths: the builder's root taken off). BuildFailed."""
        target = self._require_target()
        spec = self._specs[folder]
        to = spec.copy
        known = f"{self._folder}/known_hosts-{folder}"
        host = to.address if to.port == 22 else f"[{to.address}]:{to.port}"
        try:
            command = Remote(
                scripts.SEND_CLOSURE,
                (
                    system,
                    self._root + spec.signing_key,
                    self._root + spec.ssh_key,
                    self._root + known,
                    f"{to.user}@{to.address}",
                    str(to.port),
                    f"{host} {to.host_key}",
                ),
                self._sudo,
            )
            tail: list[str] = []
            code = _stream(target, command, self._prefixed(on_line), tail, self._cancel)
        except (ConnectionLost, WriteFailed, OSError) as err:
            raise BuildFailed(f"lost {self.name} while copying the system here ({err})") from None
        if code != 0:
            raise BuildFailed(
                f"{self.name} could not copy the system here (exit {code})",
                *tail[-BUILD_LINES:],
            )
        return system.removeprefix(self._root)

    def close(self) -> None:
        """Remove the build folder and close the connection (once every target is done)."""
        if self._target is None:
            return
        if self._folder:
            command = Remote(scripts.CLEAN_BUILD, (self._root + self._folder,))
            with contextlib.suppress(ConnectionLost, ConnectError, OSError):
                self._target.run(command.line(), timeout=60)
        self._target.close()
        self._target = None

    # ---- the build -------------------------------------------------------------------------

    def _start_if_all_said(self) -> None:
        """Called holding the lock: once every target has said, build (in a thread of its
        own, so that no target's thread is held by another's build)."""
        if self._pending or self._started:
            return
        self._started = True
        if not self._wanted:
            return
        threading.Thread(target=self._build_all, name=f"build-on-{self.name}", daemon=True).start()

    def _build_all(self) -> None:
        wanted = dict(self._wanted)
        try:
            built = self._build(wanted)
        except BuildFailed as failed:
            built = {f: failed for f in wanted}
        except Cancelled:
            built = {f: BuildFailed("cancelled before it was built") for f in wanted}
        except Exception as err:  # a target must never wait forever
            built = {f: BuildFailed(f"unexpected error on {self.name}: {err}") for f in wanted}
        with self._cond:
            self._built.update(built)
            self._cond.notify_all()

    def _build(self, wanted: Mapping[str, Wanted]) -> dict[str, str | BuildFailed]:
        target = self._connect()
        self._upload(target, wanted)
        config = self._root + self._folder + "/config"
        everyone = self._to_all(wanted)
        everyone(f"building {', '.join(sorted(wanted))} on {self.name} in one nix build")
        paths, tail = self._nix_build(target, config, [w.attr for w in wanted.values()], everyone)
        if paths is not None:
            return dict(zip(wanted, paths, strict=True))
        if len(wanted) == 1:
            only = next(iter(wanted))
            return {only: BuildFailed(f"the build failed on {self.name}", *tail)}
        everyone("the build failed: building each host alone, to find which")
        out: dict[str, str | BuildFailed] = {}
        for folder, w in wanted.items():
            alone, tail = self._nix_build(target, config, [w.attr], self._prefixed(w.on_line))
            out[folder] = (
                alone[0]
                if alone is not None
                else BuildFailed(f"the build failed on {self.name}", *tail)
            )
        return out

    def _connect(self) -> Target:
        target = Target(self.name, lambda: connect(self.plan.endpoint, self._ssh))
        try:
            ran = target.run(Remote(scripts.BUILDER_FACTS, (self.run_id,)).line(), timeout=60)
        except ConnectError as err:
            target.close()
            raise BuildFailed(f"its builder {self.name} cannot be reached: {err.short}") from None
        except (ConnectionLost, OSError) as err:
            target.close()
            raise BuildFailed(f"its builder {self.name} cannot be reached: {err}") from None
        facts = parse_facts(ran.out)
        self._root = facts.get("root", "")
        if "folder" not in facts:
            target.close()
            raise BuildFailed(
                f"cannot make {scripts.STATE}/builds on its builder {self.name}",
                ran.err.strip(),
            )
        self._folder = facts["folder"]
        if facts.get("uid") != "0":
            if not self.plan.sudo:
                target.close()
                raise BuildFailed(
                    f"its builder {self.name} is reached as a user that is not root, without "
                    "sudo: the lab's keys there are root's",
                    f"set deploy.sudo: true for {self.name} (sudo without a password)",
                )
            self._sudo = Sudo.NO_PASSWORD
        self._target = target
        return target

    def _require_target(self) -> Target:
        if self._target is None:
            raise BuildFailed(f"not connected to its builder {self.name}")
        return self._target

    def _upload(self, target: Target, wanted: Mapping[str, Wanted]) -> None:
        """Every target's flake files into the run's build folder (they share flake.nix)."""
        files: dict[str, bytes] = {}
        for w in wanted.values():
            files.update(w.files)
        known: set[str] = set()
        top = self._root + self._folder + "/config"
        try:
            for rel, data in sorted(files.items()):
                path = f"{top}/{rel}"
                target.make_dirs(path.rpartition("/")[0], known)
                target.write_file(path, data)
        except (ConnectionLost, WriteFailed, OSError) as err:
            raise BuildFailed(
                f"could not upload the configuration to {self.name} ({err})"
            ) from None

    def _nix_build(
        self, target: Target, config: str, attrs: list[str], on_line: OnLine
    ) -> tuple[list[str] | None, list[str]]:
        """One `nix build` of these attributes: their paths (None when it failed), and the
        last lines it said."""
        command = Remote(scripts.BUILD, (config, *(installable(config, a) for a in attrs)))
        out = bytearray()
        tail: list[str] = []
        try:
            code = _stream(target, command, on_line, tail, self._cancel, stdout=out.extend)
        except ConnectionLost as err:
            raise BuildFailed(f"lost {self.name} during the build ({err})") from None
        paths = [p for p in out.decode("utf-8", "replace").split() if p]
        if code != 0 or len(paths) != len(attrs):
            return None, tail[-BUILD_LINES:]
        return paths, tail

    def _prefixed(self, on_line: OnLine) -> OnLine:
        return lambda text: on_line(f"[{self.name}] {text}")

    def _to_all(self, wanted: Mapping[str, Wanted]) -> OnLine:
        sinks = [self._prefixed(w.on_line) for w in wanted.values()]

        def say(text: str) -> None:
            for sink in sinks:
                sink(text)

        return say


def _stream(
    target: Target,
    command: Remote,
    on_line: OnLine,
    tail: list[str],
    cancel: threading.Event,
    stdout: Callable[[bytes], None] | None = None,
) -> int:
    """Run a command on the builder; its error output (Nix's log) as lines, as they come."""

    def said(line: str) -> None:
        text = line.rstrip()
        if text:
            tail.append(text)
            on_line(text)

    err = Lines(said)
    sink = stdout if stdout is not None else err
    code = target.stream(command.line(), sink, err, stdin=command.input(), cancel=cancel)
    err.end()
    return code
