"""Connections opened while the lab is still being checked, built and committed.

On a lab of a few hosts the SSH handshakes are most of an apply's time, and they need
nothing but each host's address: so `homelab apply` starts them as soon as the lab is
loaded, and the apply's work before the fan-out (build, diff, commit) runs meanwhile. A
host's run takes its connection when it starts, if it is still for the same endpoint and
settings (a key verified since changes the endpoint: then it connects anew); a connection
nobody took is closed. A failure to connect (an unknown key, a refused login) is raised
where the host's run takes it, exactly as its own connect would have raised it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from homelab.deploy import ssh
from homelab.deploy.models import MAX_JOBS
from homelab.deploy.ssh import Connection, Endpoint, SshSettings, connect


class Early:
    def __init__(self, endpoints: Mapping[str, Endpoint], settings: SshSettings, jobs: int = 0):
        self._settings = settings
        self._lock = threading.Lock()
        self._made: dict[str, tuple[Endpoint, Future[Connection]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        if not endpoints:
            return
        workers = min(jobs if jobs > 0 else MAX_JOBS, len(endpoints))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="connect")
        # paramiko is imported by the first thread while the caller goes on building (the
        # others wait for it on the import lock, as they would for their own)
        self._pool.submit(ssh.load)
        for folder, endpoint in endpoints.items():
            self._made[folder] = (endpoint, self._pool.submit(connect, endpoint, settings))

    def take(
        self, folder: str, endpoint: Endpoint, settings: SshSettings
    ) -> Future[Connection] | None:
        """The host's early connection, when it was made for this endpoint and settings."""
        with self._lock:
            made = self._made.pop(folder, None)
        if made is None:
            return None
        if made[0] != endpoint or settings != self._settings:
            drop(made[1])
            return None
        return made[1]

    def close(self) -> None:
        """Close every connection no host took (safe to call more than once)."""
        with self._lock:
            left = [future for _, future in self._made.values()]
            self._made.clear()
        for future in left:
            drop(future)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


NONE = Early({}, SshSettings())


def drop(future: Future[Connection]) -> None:
    """Close the connection once it is made (now, if it is)."""

    def close(done: Future[Connection]) -> None:
        if not done.cancelled() and done.exception() is None:
            done.result().close()

    future.add_done_callback(close)
