"""The old home of the apply machinery, kept for the front ends' imports until they name
what they need through homelab.lab: planning is homelab.deploy.plan, the types are
homelab.deploy.models, the fan-out homelab.deploy.fanout, records and pinned keys
homelab.deploy.records, the one apply workflow homelab.deploy.workflow.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from homelab.deploy import fanout
from homelab.deploy.fanout import apply, look
from homelab.deploy.models import (
    FINAL,
    MAX_JOBS,
    MODES,
    STATES,
    ApplyOptions,
    Confirmed,
    Event,
    Generation,
    HostResult,
    Stop,
)
from homelab.deploy.plan import (
    HostPlan,
    endpoint_of,
    plan_connection,
    plan_hosts,
    secret_sources,
    secrets_of,
)
from homelab.deploy.records import pin_host_key, record

__all__ = [
    "FINAL",
    "MAX_JOBS",
    "MODES",
    "STATES",
    "ApplyOptions",
    "Confirmed",
    "Event",
    "Generation",
    "HostPlan",
    "HostResult",
    "Stop",
    "apply",
    "endpoint_of",
    "look",
    "pin_host_key",
    "plan_connection",
    "plan_hosts",
    "record",
    "rollback",
    "secret_sources",
    "secrets_of",
]


def rollback(
    plan: HostPlan,
    options: ApplyOptions,
    on_event: Callable[[Event], None] | None = None,
    cancel: threading.Event | None = None,
) -> HostResult:
    """`homelab rollback HOST`: the machine back to its previous generation."""
    return fanout.rollback([plan], options, on_event, cancel)[0]
