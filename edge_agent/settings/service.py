"""Service settings: how the agent talks to systemd (readiness and the stall watchdog)."""

from __future__ import annotations

from pydantic import Field

from edge_agent.settings.base import StrictModel


class ServiceSettings(StrictModel):
    """Readiness and watchdog behaviour under systemd (ignored when not run by systemd)."""

    ready_timeout_s: float = Field(
        20.0,
        gt=0.0,
        description=(
            "Longest wait after start for every camera to open (or fail and start retrying) "
            "before READY=1 is sent anyway, in seconds; keep it below the unit's "
            "TimeoutStartSec."
        ),
    )
    stall_after_s: float = Field(
        30.0,
        gt=0.0,
        description=(
            "A camera that is open but has had no frame processed for this long counts as "
            "stalled, and the systemd watchdog is no longer pinged (so systemd restarts the "
            "agent after WatchdogSec). Raised automatically to at least a camera's "
            "read_timeout_s + 2 and three inference periods, in seconds."
        ),
    )
