"""The JSON documents edge-agent publishes, as pydantic models.

Why models and not dicts: consumers get a JSON schema generated from the same classes (every
field has a description naming its unit), unknown fields are rejected so a typo in the
producer fails in tests rather than in a dashboard, and SCHEMA_VERSION lets consumers refuse
documents they do not understand.

Identity: (device_id, seq) is unique per device and increasing, and event_id is a random UUID;
QoS 1 is at-least-once, so consumers drop duplicates by event_id.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import Literal

from edge_agent.events.rle import Rle, rle_to_string

SCHEMA_VERSION = "1.0"
"""Bumped in the major part when a field changes meaning or is removed."""

_EVENT_ID_PATTERN = r"^[0-9a-f]{32}$"


class _Payload(BaseModel):
    """Base for every published document: immutable, and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventEnvelope(_Payload):
    """Fields every event carries, so consumers can order, deduplicate and trust it."""

    schema_version: str = Field(
        SCHEMA_VERSION, description="Payload schema version, 'major.minor'."
    )
    event_id: str = Field(
        ...,
        pattern=_EVENT_ID_PATTERN,
        description="Random UUID4 as 32 lower-case hex digits; duplicates share it.",
    )
    device_id: str = Field(..., min_length=1, description="Id of the device that produced it.")
    camera_id: str = Field(..., min_length=1, description="Id of the camera the frame came from.")
    capture_ts: float = Field(
        ..., ge=0.0, description="When the frame was captured, UTC epoch seconds."
    )
    emitted_ts: float = Field(
        ..., ge=0.0, description="When the event was created, UTC epoch seconds."
    )
    seq: int = Field(
        ...,
        ge=0,
        description=(
            "Per-device sequence number, increasing by one per event while the agent runs; "
            "a gap means lost events, a repeat means a duplicate."
        ),
    )
    standin: bool = Field(
        ...,
        description=(
            "True when any model that produced this event is a stand-in (not the real "
            "network): the numbers are then not meaningful."
        ),
    )
    replayed: bool = Field(
        False,
        description=(
            "True when this copy was sent from the outbox backlog after a reconnect or "
            "restart (it may duplicate one already delivered; deduplicate by event_id)."
        ),
    )


class ZoneCoverage(_Payload):
    """How much of one configured zone is covered by people."""

    name: str = Field(..., min_length=1, description="Zone name from the camera configuration.")
    coverage: float = Field(
        ..., ge=0.0, le=1.0, description="Fraction of the zone's pixels that are person, 0..1."
    )


class MaskRle(_Payload):
    """A person mask as COCO run-length encoding (readable by pycocotools.mask.decode)."""

    size: List[int] = Field(
        ...,
        min_length=2,
        max_length=2,
        description="[height, width] of the mask grid in pixels, as COCO writes it.",
    )
    counts: List[int] = Field(
        ...,
        description=(
            "Run lengths in column-major order, alternating background and person, starting "
            "with background (0 when the first pixel is person)."
        ),
    )
    counts_str: str = Field(
        ..., description="The same runs in COCO's compressed string form (pycocotools 'counts')."
    )
    width: int = Field(..., ge=1, description="Width of the mask grid in pixels.")
    height: int = Field(..., ge=1, description="Height of the mask grid in pixels.")

    @model_validator(mode="after")
    def _check_consistent(self) -> MaskRle:
        if self.size != [self.height, self.width]:
            raise ValueError(
                f"size {self.size} must equal [height, width] = [{self.height}, {self.width}]"
            )
        if any(run < 0 for run in self.counts):
            raise ValueError("run lengths must not be negative")
        if sum(self.counts) != self.width * self.height:
            raise ValueError(
                f"runs cover {sum(self.counts)} pixels, the grid has {self.width * self.height}"
            )
        return self

    @classmethod
    def from_rle(cls, rle: Rle) -> MaskRle:
        """Wrap an encoded mask, adding the compressed string form."""
        height, width = rle.size
        return cls(
            size=[height, width],
            counts=list(rle.counts),
            counts_str=rle_to_string(rle.counts),
            width=width,
            height=height,
        )


class MaskEvent(EventEnvelope):
    """One segmentation result: where people are in the frame and how much of each zone."""

    type: Literal["mask"] = Field("mask", description="Event kind; always 'mask'.")
    model: str = Field(..., min_length=1, description="Name of the model manifest used.")
    frame_seq: int = Field(
        ...,
        ge=0,
        description=(
            "Number of the source frame in its camera since the agent started (1 first); lets "
            "a consumer line the mask up with recorded video."
        ),
    )
    frame_width: int = Field(..., ge=1, description="Width of the captured frame in pixels.")
    frame_height: int = Field(..., ge=1, description="Height of the captured frame in pixels.")
    person_fraction: float = Field(
        ..., ge=0.0, le=1.0, description="Fraction of the frame covered by people, 0..1."
    )
    zones: List[ZoneCoverage] = Field(
        default_factory=list, description="Person coverage per configured zone."
    )
    mask: MaskRle = Field(..., description="The person mask, downscaled to the mask grid.")
    inference_ms: float = Field(
        ..., ge=0.0, description="Time the model took for this frame, in milliseconds."
    )


class StatusPayload(_Payload):
    """Retained device availability, Sparkplug-style: a session number tells stale deaths apart.

    The broker sends the 'offline' document (the MQTT will) at an unknown later time, so its
    ``ts`` is None; a consumer compares ``session`` with the last 'online' to know whether the
    death belongs to the current session.
    """

    state: Literal["online", "offline", "stopped"] = Field(
        ...,
        description=(
            "'online' while connected, 'offline' when the connection died (will message), "
            "'stopped' after a clean shutdown."
        ),
    )
    device_id: str = Field(..., min_length=1, description="Id of the device.")
    ts: Optional[float] = Field(
        ...,
        ge=0.0,
        description="When the state was published, UTC epoch seconds; null in the will.",
    )
    version: str = Field(..., description="edge-agent version running on the device.")
    session: int = Field(
        ...,
        ge=0,
        description=(
            "Connection counter, incremented on every successful connect (like Sparkplug "
            "bdSeq); resets when the agent restarts."
        ),
    )


def to_json_bytes(model: BaseModel) -> bytes:
    """Serialise as compact UTF-8 JSON (no spaces), the wire form of every payload."""
    return model.model_dump_json().encode("utf-8")


def payload_schemas() -> Dict[str, Dict[str, Any]]:
    """JSON schemas of the published documents, keyed by model name, for docs and consumers."""
    from edge_agent.events.state_payloads import OccupancyPayload, TelemetryPayload
    from edge_agent.events.track_payloads import LineCountPayload, TrackEvent, ZoneCountPayload

    models = (
        MaskEvent,
        StatusPayload,
        OccupancyPayload,
        TelemetryPayload,
        TrackEvent,
        ZoneCountPayload,
        LineCountPayload,
    )
    return {model.__name__: model.model_json_schema() for model in models}
