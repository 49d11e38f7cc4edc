"""Payloads of people tracking: track lifecycle events, zone counts, line counters.

Track events follow the new / update / end lifecycle that dashboards already know from other
systems, with one stable `id` per track across all three, the zones before and after the
frame, and a ReID identity. The appearance embedding travels only on 'new' and 'end' (256
float16 values, base64: about 680 bytes), which is enough for fleet-level matching without
bloating every update; updates are rate-limited by the producer.

Counts are retained documents with a `restored` flag: after a restart the agent republishes
the counts it saved, marked restored, rather than a zero it does not believe.
"""

from __future__ import annotations

import base64
from typing import Dict, List, Optional

import numpy as np
from pydantic import ConfigDict, Field
from typing_extensions import Literal

from edge_agent.events.payloads import EventEnvelope, _Payload


def encode_embedding(embedding: np.ndarray) -> str:
    """float16 little-endian bytes of the vector, base64 (standard alphabet, padded)."""
    data = np.asarray(embedding, dtype="<f2").tobytes()
    return base64.b64encode(data).decode("ascii")


def decode_embedding(text: str) -> np.ndarray:
    """Inverse of encode_embedding (float32 result)."""
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)


class TrackZones(_Payload):
    """Zones of the track's foot point before and after this frame."""

    before: List[str] = Field(..., description="Zones the person was in before this frame.")
    after: List[str] = Field(..., description="Zones the person is in now.")
    entered: List[str] = Field(..., description="Zones entered in this frame (after - before).")
    left: List[str] = Field(..., description="Zones left in this frame (before - after).")


class TrackEvent(EventEnvelope):
    """One change in the life of a tracked person."""

    type: Literal["new", "update", "end"] = Field(
        ..., description="'new' when confirmed, 'update' while tracked, 'end' when gone."
    )
    id: str = Field(..., min_length=1, description="Stable track id, equal in new/update/end.")
    track_id: int = Field(..., ge=1, description="Track number within the camera and run.")
    label: Literal["person"] = Field("person", description="Object class; always 'person'.")
    reid_id: str = Field(
        ...,
        description=(
            "ReID identity: the same for a person who left and came back (same camera, or "
            "any camera of the device with cross-camera matching)."
        ),
    )
    state: Literal["confirmed", "lost", "ended"] = Field(
        ..., description="'lost' while briefly unseen (box predicted), 'ended' on 'end'."
    )
    frame_seq: int = Field(..., ge=0, description="Number of the source frame in its camera.")
    frame_width: int = Field(..., ge=1, description="Width of the frame in pixels.")
    frame_height: int = Field(..., ge=1, description="Height of the frame in pixels.")
    box: List[float] = Field(
        ..., min_length=4, max_length=4, description="[x1, y1, x2, y2] in frame pixels."
    )
    predicted: bool = Field(
        False,
        description="True while the person is briefly missed by the detector (up to "
        "models.tracking's prediction gap): box is the tracker's prediction, not a detection.",
    )
    score: float = Field(..., description="Detector confidence of the last matched box.")
    top_score: float = Field(..., description="Highest detector confidence of this track.")
    active: bool = Field(..., description="Moving faster than models.tracking.active_min_speed.")
    zones: TrackZones = Field(..., description="Zone membership of the foot point.")
    dwell_s: Dict[str, float] = Field(
        default_factory=dict, description="Seconds spent in each zone visited, per zone."
    )
    start_ts: float = Field(..., ge=0.0, description="When the track began, UTC epoch s.")
    end_ts: Optional[float] = Field(
        None, description="When the track ended, UTC epoch s; only on 'end'."
    )
    embedding: Optional[str] = Field(
        None,
        description=(
            "L2-normalised ReID embedding as base64 of little-endian float16; on 'new' and "
            "'end' only, null without ReID."
        ),
    )
    embedding_dim: int = Field(0, ge=0, description="Length of `embedding` in values.")


class ZoneCountPayload(_Payload):
    """Retained people count of one zone."""

    camera_id: str = Field(..., min_length=1, description="Camera of the zone.")
    zone: str = Field(..., min_length=1, description="Zone name.")
    count: int = Field(..., ge=0, description="People whose foot point is in the zone.")
    active: int = Field(..., ge=0, description="Of those, people moving (not standing).")
    ts: float = Field(..., ge=0.0, description="When counted, UTC epoch seconds.")
    restored: bool = Field(
        ..., description="True while the value is the one saved before a restart."
    )
    standin: bool = Field(..., description="True when computed with a stand-in model.")


class LineCountPayload(_Payload):
    """Retained crossing counters of one line since the last reset.

    Serialise with ``model_dump_json(by_alias=True)`` so the keys are "in" and "out".
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    camera_id: str = Field(..., min_length=1, description="Camera of the line.")
    line: str = Field(..., min_length=1, description="Line name.")
    count_in: int = Field(..., ge=0, alias="in", description="Crossings left -> right.")
    count_out: int = Field(..., ge=0, alias="out", description="Crossings right -> left.")
    since: float = Field(..., ge=0.0, description="Start of the counting interval, UTC epoch s.")
    ts: float = Field(..., ge=0.0, description="When last changed, UTC epoch seconds.")
    standin: bool = Field(..., description="True when computed with a stand-in model.")
