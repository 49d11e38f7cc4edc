"""A point-in-time view of the running agent, and its one-line rendering.

The same snapshot feeds the live terminal line, the periodic log line and (later) the
systemd STATUS= string and telemetry, so all of them always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from edge_agent.inference.serving import ONNXRUNTIME


@dataclass(frozen=True)
class CameraLine:
    """Per-camera figures for the status line."""

    camera_id: str
    state: str
    fps: float
    frames_dropped: int
    reconnects: int


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything the status line shows."""

    uptime_s: float
    cameras: List[CameraLine]
    inference_ms: float
    stage_ms: Dict[str, float]
    events_published: int
    events_acknowledged: int
    events_pending: int
    broker: str
    engine_ms: Dict[str, Tuple[float, float]] = field(default_factory=dict)
    """(p50, p95) per people-tracking engine ('peoplenet', 'reid', 'tracker'); empty when off."""
    backends: Dict[str, str] = field(default_factory=dict)
    """Model name -> backend serving it now (inference.serving), e.g. 'tensorrt-building'."""
    messages_published: int = 0
    """Every message handed to the publisher (events, state, status, telemetry): what
    `events_acknowledged` counts acknowledgements of."""
    failed_workers: List[str] = field(default_factory=list)
    plan: str = ""
    """The scheduler's plan in short ('plan peoplenet 5.0Hz semseg 4.0Hz'); '' with fixed rates."""
    """Threads the supervisor gave up on (the watchdog has stopped; systemd will restart)."""

    def frames_dropped(self) -> int:
        """Dropped frames over all cameras."""
        return sum(camera.frames_dropped for camera in self.cameras)


def format_status_line(snapshot: StatusSnapshot) -> str:
    """One line such as
    `lobby 9.8fps | semseg 41.2ms | events 120 | mqtt acked 131/133 | dropped 3 | broker up`
    (events: masks and track events built; mqtt: acknowledged of all messages sent), with
    `peoplenet 30.1/41.0 reid 3.2/5.0 tracker 0.4/0.9ms p50/p95` after semseg when tracking,
    and `backend peoplenet=tensorrt-building reidentificationnet=tensorrt` when any model is
    not on plain ONNX Runtime (so a CPU fallback while an engine builds is visible).

    One line, because journals and terminals both show it best that way.
    """
    parts = []
    for camera in snapshot.cameras:
        if camera.state == "streaming":
            parts.append(f"{camera.camera_id} {camera.fps:.1f}fps")
        else:
            parts.append(f"{camera.camera_id} {camera.state}")
    parts.append(f"semseg {snapshot.inference_ms:.1f}ms")
    if snapshot.engine_ms:
        engines = " ".join(
            f"{name} {p50:.1f}/{p95:.1f}" for name, (p50, p95) in snapshot.engine_ms.items()
        )
        parts.append(f"{engines}ms p50/p95")
    if any(label != ONNXRUNTIME for label in snapshot.backends.values()):
        parts.append("backend " + " ".join(
            f"{model}={label}" for model, label in snapshot.backends.items()))
    parts.append(f"events {snapshot.events_published}")
    parts.append(f"mqtt acked {snapshot.events_acknowledged}/{snapshot.messages_published}")
    parts.append(f"dropped {snapshot.frames_dropped()}")
    parts.append(f"broker {snapshot.broker}")
    if snapshot.plan:
        parts.append(snapshot.plan)
    if snapshot.failed_workers:
        parts.append("FAILED " + ",".join(snapshot.failed_workers))
    return " | ".join(parts)
