"""What a command may do to the agent: the `CommandTarget` protocol and its value types.

The dispatcher knows only this protocol; `agent_target.AgentCommandTarget` implements it over
the daemon's public API and `simulator.SimulatedDevice` in memory, so both run the same
command handling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from pydantic import Field
from typing_extensions import Protocol

from edge_agent.events.payloads import _Payload

Progress = Callable[[float, str], None]
"""progress(percent 0-100, step description)."""


class DeviceCard(_Payload):
    """Retained inventory facts of one device (``<prefix>/<device>/fleet``)."""

    device_id: str = Field(..., min_length=1, description="Device id.")
    site: str = Field("default", description="Site (bridge / location group).")
    module: str = Field("", description="Jetson module, e.g. 'orin_nx' ('' when unknown).")
    jetpack: str = Field("", description="JetPack / L4T release ('' off Jetson).")
    power_mode: str = Field("", description="nvpmodel mode name in force ('' when unknown).")
    plan: str = Field("", description="Scheduler plan / device profile in force.")
    version: str = Field(..., description="edge-agent version.")
    config_revision: str = Field("", description="Revision of the running configuration.")
    fps: Optional[float] = Field(None, ge=0.0, description="Frames/s summed over cameras.")
    max_temp_c: Optional[float] = Field(None, description="Hottest thermal zone, Celsius.")
    outbox_depth: Optional[int] = Field(None, ge=0, description="Messages awaiting the broker.")
    snapshots_enabled: bool = Field(False, description="True when snapshot is allowed.")
    commands: List[str] = Field(default_factory=list, description="Commands understood.")
    ts: float = Field(..., ge=0.0, description="When published, UTC epoch seconds.")


@dataclass(frozen=True)
class HealthReport:
    """Healthy = cameras and tasks progressing and the broker connected."""

    healthy: bool
    reason: str = ""
    """Why not, naming the failing part (e.g. 'cameras[front]: not progressing')."""


class CommandTarget(Protocol):
    """The agent as commands see it."""

    @property
    def device_id(self) -> str: ...

    def card(self) -> DeviceCard:
        """Current inventory facts."""
        ...

    def current_config(self) -> Dict[str, Any]:
        """The running configuration as plain JSON data."""
        ...

    def apply_config(self, config: Dict[str, Any]) -> List[str]:
        """Validate and apply as a reload; returns the sections changed live. Raises
        EdgeAgentError (nothing applied) naming the bad field."""
        ...

    def health(self) -> HealthReport:
        """Is the agent doing its job right now?"""
        ...

    def reload_from_disk(self) -> List[str]:
        """Re-read the configuration file; returns the sections changed live."""
        ...

    def restart(self, delay_s: float) -> None:
        """Arrange a process restart after ``delay_s`` (returns at once)."""
        ...

    def set_power_mode(self, mode: str) -> str:
        """Request a power mode through the privileged helper; returns the mode name."""
        ...

    def rebuild_engines(self, models: List[str], progress: Progress) -> Dict[str, str]:
        """Rebuild engines; returns model -> outcome."""
        ...

    def fetch_model(self, name: str, url: str, sha256: str, progress: Progress,
                    calibration_url: str = "") -> str:
        """Download, verify, install (and the calibration cache, if given); the path."""
        ...

    def set_log_level(self, level: str) -> None:
        """Change the root log level."""
        ...

    def snapshot(self, camera_id: str) -> Optional[bytes]:
        """A JPEG of the camera's latest frame (None: no frame yet)."""
        ...

    def rebirth(self) -> None:
        """Re-publish status, card, discovery and retained state."""
        ...
