"""Payloads of poses: pose events per track, opt-in keypoint messages, per-zone pose counts.

* PoseEvent: a track's stable pose changed (states sitting/standing/walking, actions
  sitting_down/getting_up/jumping); the same `id` as the track's TrackEvents.
* PoseKeypointsMessage: one track's 34 keypoints (frame px and confidence, optionally the
  metric 3D joints), rate-limited by the producer. Numbers are rounded (0.1 px, 0.01
  confidence, whole mm) so the worst case stays far below the 8 KiB payload cap
  (`KEYPOINTS_WORST_CASE_BYTES`, checked by a test).
* PoseZoneCountPayload: retained, per camera and zone: people by pose class, "unknown"
  included so the classes add up to `total`.

Topics: events.topics (pose, keypoints, zone_pose); documented in events.asyncapi.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

import numpy as np
from pydantic import Field
from typing_extensions import Literal

from edge_agent.events.payloads import EventEnvelope, _Payload

# BodyPose3DNet's skeleton (pose.joints.JOINT_NAMES); a payload fact, so events stays free of
# model code (pose.joints checks the two agree).
NUM_JOINTS = 34

KEYPOINTS_WORST_CASE_BYTES = 4096  # tests build the largest message and assert it fits this


class PoseEvent(EventEnvelope):
    """A tracked person's pose class changed."""

    type: Literal["pose"] = Field("pose", description="Always 'pose'.")
    id: str = Field(..., min_length=1, description="Stable track id (as in track events).")
    track_id: int = Field(..., ge=1, description="Track number within the camera and run.")
    pose: str = Field(..., min_length=1, description="The new pose class.")
    kind: Literal["state", "action"] = Field(
        ..., description="'state' (sitting, standing, walking) or 'action' (sitting_down, "
        "getting_up, jumping)."
    )
    previous: Optional[str] = Field(
        None, description="The pose class before, null when the track had none yet."
    )
    probability: float = Field(..., ge=0.0, le=1.0, description="Softmax probability of `pose`.")
    box: List[float] = Field(
        ..., min_length=4, max_length=4, description="[x1, y1, x2, y2] in frame pixels."
    )
    zones: List[str] = Field(default_factory=list, description="Zones the person is in.")


class PoseKeypointsMessage(EventEnvelope):
    """One tracked person's skeleton (opt-in, rate-limited per track)."""

    type: Literal["keypoints"] = Field("keypoints", description="Always 'keypoints'.")
    id: str = Field(..., min_length=1, description="Stable track id (as in track events).")
    track_id: int = Field(..., ge=1, description="Track number within the camera and run.")
    layout: Literal["nvidia34"] = Field(
        "nvidia34", description="Joint order: NVIDIA's 34 BodyPose3DNet joints."
    )
    frame_width: int = Field(..., ge=1, description="Width of the frame in pixels.")
    frame_height: int = Field(..., ge=1, description="Height of the frame in pixels.")
    keypoints: List[List[float]] = Field(
        ...,
        min_length=NUM_JOINTS,
        max_length=NUM_JOINTS,
        description="Per joint [x px, y px, confidence]; x/y to 0.1 px, confidence to 0.01.",
    )
    points_mm: Optional[List[List[int]]] = Field(
        None, description="Per joint [x, y, z] camera-space millimetres, or null."
    )
    pose: Optional[str] = Field(None, description="The track's stable pose class, if known.")


class PoseZoneCountPayload(_Payload):
    """Retained people count of one zone by pose class ("3 sitting in zone lounge")."""

    camera_id: str = Field(..., min_length=1, description="Camera of the zone.")
    zone: str = Field(..., min_length=1, description="Zone name.")
    counts: Dict[str, int] = Field(
        ..., description="People per pose class, 'unknown' for those without a pose yet."
    )
    total: int = Field(..., ge=0, description="People in the zone (sum of `counts`).")
    ts: float = Field(..., ge=0.0, description="When counted, UTC epoch seconds.")
    restored: bool = Field(False, description="True while the value is one saved before a restart.")
    standin: bool = Field(..., description="True when computed with a stand-in model.")


def keypoints_field(keypoints_px: np.ndarray, confidence: np.ndarray) -> List[List[float]]:
    """[[x, y, conf], ...] rounded for the wire (0.1 px, 0.01)."""
    xy = np.round(np.asarray(keypoints_px, dtype=np.float64), 1)
    conf = np.round(np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0), 2)
    return [[float(x), float(y), float(c)] for (x, y), c in zip(xy, conf)]


def points_mm_field(points_mm: np.ndarray) -> List[List[int]]:
    """[[x, y, z], ...] whole millimetres."""
    return [[int(v) for v in row] for row in np.rint(np.asarray(points_mm)).astype(np.int64)]


def zone_count_payloads(
    camera_id: str, counts: Mapping[str, Mapping[str, int]], ts: float, standin: bool
) -> List[PoseZoneCountPayload]:
    """One payload per zone of pose.pose_events.zone_pose_counts' result."""
    return [
        PoseZoneCountPayload(
            camera_id=camera_id, zone=zone, counts=dict(by_class),
            total=int(sum(by_class.values())), ts=ts, standin=standin,
        )
        for zone, by_class in counts.items()
    ]


def pose_payload_schemas() -> Dict[str, Dict[str, Any]]:
    """JSON schemas of the pose payloads, for the AsyncAPI document."""
    models = (PoseEvent, PoseKeypointsMessage, PoseZoneCountPayload)
    return {model.__name__: model.model_json_schema() for model in models}
