"""What the dashboard knows about one device, camera, zone, line and track (plain data).

Every number keeps the time it was last heard so the page can say "stale" rather than show an
old value as current; caps on cameras, zones, lines and tracks bound memory (and the
exporter's label cardinality) whatever a device or a bad actor publishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from edge_agent.dashboard.history import BucketedHistory


@dataclass(frozen=True)
class Limits:
    """Caps per dashboard process; past them new names are ignored and counted."""

    max_devices: int = 5000
    max_cameras_per_device: int = 16
    max_zones_per_camera: int = 32
    max_lines_per_camera: int = 16
    max_tracks_per_camera: int = 64
    track_timeout_s: float = 15.0


@dataclass
class ZoneState:
    """One zone: head count (tracking) and pixel coverage (segmentation), with histories."""

    people: Optional[int] = None
    active: Optional[int] = None
    restored: bool = False
    count_ts: Optional[float] = None
    coverage: Optional[float] = None
    occupied: Optional[bool] = None
    coverage_ts: Optional[float] = None
    standin: bool = False
    poses: Dict[str, int] = field(default_factory=dict)  # people per pose class (with poses)
    people_history: BucketedHistory = field(default_factory=BucketedHistory)
    coverage_history: BucketedHistory = field(default_factory=BucketedHistory)


@dataclass
class LineState:
    """Crossing counters of one line since its last reset."""

    count_in: int = 0
    count_out: int = 0
    since: float = 0.0
    ts: float = 0.0


@dataclass
class TrackState:
    """The latest box of one live track."""

    track_id: int
    box: List[float]
    state: str
    active: bool
    frame_width: int
    frame_height: int
    seen_s: float


@dataclass
class CameraState:
    """One camera of a device."""

    state: Optional[str] = None
    fps: Optional[float] = None
    frames_dropped: Optional[int] = None
    zones: Dict[str, ZoneState] = field(default_factory=dict)
    lines: Dict[str, LineState] = field(default_factory=dict)
    tracks: Dict[str, TrackState] = field(default_factory=dict)
    frame_width: Optional[int] = None
    frame_height: Optional[int] = None


@dataclass
class DeviceState:
    """One device as seen over MQTT."""

    device_id: str
    site: str
    status: str = "unknown"  # online | offline | stopped | unknown (nothing retained yet)
    session: Optional[int] = None
    version: Optional[str] = None
    last_seen_s: Optional[float] = None
    telemetry_ts: Optional[float] = None
    power_mode: Optional[str] = None
    power_budget_w: Optional[float] = None
    power_w: Optional[float] = None
    max_temp_c: Optional[float] = None
    temps_c: Dict[str, Optional[float]] = field(default_factory=dict)
    gpu_load_pct: Optional[float] = None
    throttled: Optional[bool] = None
    outbox_depth: Optional[int] = None
    outbox_dropped: Optional[int] = None
    utilisation: Dict[str, float] = field(default_factory=dict)
    plan_reason: Optional[str] = None
    plan_shed: List[str] = field(default_factory=list)
    schema_errors: int = 0
    last_error: str = ""
    cameras: Dict[str, CameraState] = field(default_factory=dict)
    changed: int = 0  # FleetState's version counter when this device last changed

    def is_stale(self, now_s: float, stale_after_s: float) -> bool:
        """Values are not live: the device is not online, or silent for too long."""
        if self.status != "online":
            return True
        return self.last_seen_s is None or now_s - self.last_seen_s > stale_after_s
