"""Documents describing the device rather than one frame: retained occupancy and telemetry.

Why separate from payloads.py: these are *state* (the latest value matters, retained or
periodic), while payloads.py holds per-frame events; consumers treat the two differently
(a dashboard keeps the last occupancy, an archive keeps every event).
"""

from __future__ import annotations

from typing import Dict, List, Optional

from pydantic import Field

from edge_agent.events.health_payloads import DeviceHealthTelemetry, ReloadTelemetry
from edge_agent.events.payloads import SCHEMA_VERSION, _Payload
from edge_agent.events.plan_payloads import PlanPayload


class OccupancyPayload(_Payload):
    """Retained per camera and zone: how much of the zone people cover, as of ``capture_ts``.

    Retained so that a dashboard or Home Assistant that (re)starts reads the current value at
    once instead of 'unknown'; republished on change and at least every refresh interval.
    """

    schema_version: str = Field(
        SCHEMA_VERSION, description="Payload schema version, 'major.minor'."
    )
    device_id: str = Field(..., min_length=1, description="Id of the device.")
    camera_id: str = Field(..., min_length=1, description="Id of the camera.")
    zone: str = Field(..., min_length=1, description="Zone name from the camera configuration.")
    coverage: float = Field(
        ..., ge=0.0, le=1.0, description="Fraction of the zone's pixels that are person, 0..1."
    )
    occupied: bool = Field(
        ..., description="True when coverage is above the occupied threshold (0.01)."
    )
    capture_ts: float = Field(
        ..., ge=0.0, description="Capture time of the frame measured, UTC epoch seconds."
    )
    standin: bool = Field(..., description="True when a stand-in model produced the value.")
    replayed: bool = Field(
        False, description="True when sent from the outbox backlog after an outage."
    )


class CameraTelemetry(_Payload):
    """One camera's figures."""

    state: str = Field(..., description="starting, streaming, reconnecting, ended or stopped.")
    fps: float = Field(..., ge=0.0, description="Frames per second over the last seconds.")
    frames_dropped: int = Field(..., ge=0, description="Frames overwritten before inference.")
    reconnects: int = Field(..., ge=0, description="Reopen attempts after failures.")


class LatencyTelemetry(_Payload):
    """Rolling latency of one pipeline stage or engine."""

    p50_ms: float = Field(..., ge=0.0, description="Median over the window, milliseconds.")
    p95_ms: float = Field(..., ge=0.0, description="95th percentile, milliseconds.")
    count: int = Field(..., ge=0, description="Samples in the window.")


class OutboxTelemetry(_Payload):
    """The durable outbox."""

    depth: int = Field(..., ge=0, description="Messages waiting for an acknowledgement.")
    bytes: int = Field(..., ge=0, description="Payload bytes waiting.")
    oldest_age_s: Optional[float] = Field(
        ..., ge=0.0, description="Age of the oldest waiting message, seconds; null if empty."
    )
    dropped: int = Field(
        ..., ge=0, description="Deleted unsent by the overflow policy since start."
    )
    refused: int = Field(..., ge=0, description="Refused (full, oversize) since start.")
    expired: int = Field(..., ge=0, description="Deleted unsent after max_age_s since start.")
    rejected: int = Field(
        ..., ge=0, description="Refused by the broker (reason code >= 0x80) since start."
    )


class ProcessTelemetry(_Payload):
    """The agent process."""

    rss_bytes: int = Field(..., ge=0, description="Resident memory, bytes (VmRSS).")
    cpu_percent: float = Field(
        ...,
        ge=0.0,
        description="CPU time over wall time since the last report, percent of one core.",
    )
    uptime_s: float = Field(..., ge=0.0, description="Seconds since the agent started.")


class WorkerTelemetry(_Payload):
    """One supervised thread: alive, how often it died and was restarted, its last error."""

    alive: bool = Field(..., description="True while its thread runs.")
    deaths: int = Field(0, ge=0, description="Times its thread ended by an exception.")
    restarts: int = Field(0, ge=0, description="Times the supervisor restarted it.")
    given_up: bool = Field(
        False, description="True once the supervisor gave up on it (the watchdog stops)."
    )
    last_error: str = Field("", description="The exception that last killed it, if any.")


class TelemetryPayload(_Payload):
    """Periodic health of one device (QoS 1, not retained, not kept in the outbox)."""

    schema_version: str = Field(
        SCHEMA_VERSION, description="Payload schema version, 'major.minor'."
    )
    device_id: str = Field(..., min_length=1, description="Id of the device.")
    ts: float = Field(..., ge=0.0, description="When it was measured, UTC epoch seconds.")
    version: str = Field(..., description="edge-agent version.")
    session: int = Field(..., ge=0, description="MQTT session counter, as in the status.")
    cameras: Dict[str, CameraTelemetry] = Field(default_factory=dict, description="Per camera id.")
    latency: Dict[str, LatencyTelemetry] = Field(
        default_factory=dict, description="Per pipeline stage / engine name."
    )
    outbox: OutboxTelemetry = Field(..., description="Depth, age and losses of the outbox.")
    process: ProcessTelemetry = Field(..., description="Memory, CPU and uptime of the agent.")
    device: Optional[DeviceHealthTelemetry] = Field(
        None, description="Power mode, temperatures, rails, GPU and throttling; null if unread."
    )
    last_reload: Optional[ReloadTelemetry] = Field(
        None, description="Outcome of the latest SIGHUP reload; null before the first."
    )
    backends: Dict[str, str] = Field(
        default_factory=dict,
        description="Backend serving each model now, by model name: 'onnxruntime' (configured), "
        "'tensorrt-building' (ONNX Runtime on the CPU while the TensorRT engine builds), "
        "'onnxruntime-cpu' (TensorRT configured but no usable engine; the log says why) or "
        "'tensorrt'.",
    )
    dla_layers: Dict[str, int] = Field(
        default_factory=dict,
        description="Per model served by a DLA engine: layers TensorRT placed on the DLA core "
        "(0 = everything fell back to the GPU; `edge-agent engines list` shows the same).",
    )
    workers: Dict[str, WorkerTelemetry] = Field(
        default_factory=dict,
        description="Every supervised thread by name (capture-<camera>, prepare-/run-<resource>, "
        "events, state-saver, and the MQTT transport's threads).",
    )
    plan: Optional[PlanPayload] = Field(
        None, description="The power-aware scheduler's plan, planned vs achieved rates per task, "
        "utilisation, drops and deadline misses; null with fixed rates (models.scheduler).")
    notes: List[str] = Field(default_factory=list, description="Active warnings, if any.")
