"""People tracking settings (models.tracking) and counting lines; polygon sanity checks.

Everything here is checked at `config check` time, with the field named: a self-intersecting
zone would count people on the wrong side, two lines with one name would publish to the same
retained topic, and an embedding size that differs from the ReID model's output would fail
only at the first match, hours later.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from pydantic import Field, ValidationInfo, field_validator
from typing_extensions import Literal

from edge_agent.events.topics import RESERVED_LEVELS
from edge_agent.settings.base import ID_PATTERN, StrictModel

Point = Tuple[float, float]


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, c: Point) -> bool:
    return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(
        a[1], b[1]
    )


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """True when segments p1-p2 and q1-q2 share any point (touching counts)."""
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(q1, q2, p1))
        or (d2 == 0 and _on_segment(q1, q2, p2))
        or (d3 == 0 and _on_segment(p1, p2, q1))
        or (d4 == 0 and _on_segment(p1, p2, q2))
    )


def polygon_problem(polygon: Sequence[Point]) -> Optional[str]:
    """Why a polygon cannot be a zone (self-intersecting, no area), or None if it can."""
    count = len(polygon)
    area2 = sum(
        polygon[i][0] * polygon[(i + 1) % count][1] - polygon[(i + 1) % count][0] * polygon[i][1]
        for i in range(count)
    )
    for i in range(count):
        for j in range(i + 1, count):
            if j == i + 1 or (i == 0 and j == count - 1):
                continue  # adjacent edges share a vertex by construction
            if segments_intersect(
                polygon[i], polygon[(i + 1) % count], polygon[j], polygon[(j + 1) % count]
            ):
                return (
                    f"is self-intersecting: edge {i}-{(i + 1) % count} crosses edge "
                    f"{j}-{(j + 1) % count}; list the vertices in order around the zone"
                )
    if abs(area2) < 1e-12:
        return "has no area (all vertices on one line or repeated)"
    return None


def check_not_reserved(value: str, what: str) -> str:
    """Refuse an id equal (in any case) to a topic level the agent uses itself."""
    if value.lower() in RESERVED_LEVELS:
        raise ValueError(
            f"{what} {value!r} is a topic level the agent publishes itself; choose another "
            f"name (reserved: {', '.join(sorted(RESERVED_LEVELS))})"
        )
    return value


def _check_point(point: Point, what: str) -> Point:
    x, y = point
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise ValueError(
            f"{what} = [{x}, {y}] is outside 0..1; use normalized coordinates "
            "(pixel x / image width, pixel y / image height)"
        )
    return point


class LineSettings(StrictModel):
    """A counting line: people whose foot point crosses it are counted in or out."""

    name: str = Field(
        ..., pattern=ID_PATTERN, description="Line name, unique per camera; used in topics."
    )
    start: Tuple[float, float] = Field(
        ..., description="First end [x, y] of the line, normalized image coordinates (0..1)."
    )
    end: Tuple[float, float] = Field(
        ...,
        description=(
            "Second end [x, y]. Crossing from the left of start->end to its right (as seen "
            "on screen) counts 'in', the other way 'out'; swap start and end to flip."
        ),
    )
    reset_interval_s: float = Field(
        0.0,
        ge=0.0,
        description=(
            "Counters restart from zero at every multiple of this many seconds since the "
            "epoch (86400 = UTC midnight); 0 = never reset."
        ),
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_not_reserved(value, "line name")

    @field_validator("start", "end")
    @classmethod
    def _check_range(cls, value: Tuple[float, float], info: ValidationInfo) -> Point:
        point = _check_point(value, str(info.field_name))
        if info.field_name == "end" and info.data.get("start") == tuple(point):
            raise ValueError("end equals start; a line needs two different points")
        return point


class TrackingSettings(StrictModel):
    """PeopleNet detection, ReID embeddings, the tracker, and zone/line counting."""

    enabled: bool = Field(
        False, description="Run PeopleNet + ReID + tracker and publish tracks and counts."
    )
    peoplenet_model: str = Field("peoplenet", description="Model name of the detector.")
    reid_model: str = Field(
        "reidentificationnet", description="Model name of the ReID embedder; '' = no ReID."
    )
    embedding_size: int = Field(
        256, ge=1, description="Length of the ReID embedding; must equal the model's output."
    )
    rate_hz: float = Field(
        5.0, gt=0.0, description="Detections per second per camera (each is one inference)."
    )
    cluster_mode: Literal["nms", "dbscan"] = Field(
        "nms",
        description=(
            "'nms' (DeepStream's PeopleNet config) or 'dbscan' (TAO's clustering) to merge "
            "per-cell candidates."
        ),
    )
    thresholds: List[float] = Field(
        default_factory=lambda: [0.4, 0.2, 0.2],
        min_length=3,
        max_length=3,
        description=(
            "Per-class thresholds [person, bag, face]: pre-cluster coverage for 'nms', "
            "cluster confidence (sum of coverages, e.g. [0.9, 0.9, 0.7]) for 'dbscan'."
        ),
    )
    nms_iou: float = Field(0.5, gt=0.0, le=1.0, description="IoU above which NMS drops a box.")
    top_k: int = Field(20, ge=1, description="Most person boxes kept per frame.")
    dbscan_eps: float = Field(0.3, gt=0.0, le=1.0, description="DBSCAN radius in 1 - IoU.")
    dbscan_min_samples: float = Field(
        0.05, ge=0.0, description="DBSCAN min_samples (TAO: max(int(x), 1))."
    )
    coverage_threshold: float = Field(
        0.005, ge=0.0, le=1.0, description="Coverage a cell needs to join DBSCAN."
    )
    min_box_height_px: float = Field(
        4.0, ge=0.0, description="DBSCAN drops clusters at most this tall, network pixels."
    )
    min_hits: int = Field(
        2, ge=1,
        description=(
            "Matches before a track of ordinary confidence is confirmed (and its matches must "
            "span confirm_s); 1 confirms every track at once."
        ),
    )
    confirm_s: float = Field(
        0.05, ge=0.0,
        description="Least time from a track's first to latest match to confirm it, seconds.",
    )
    confirm_score: float = Field(
        0.8, ge=0.0, le=1.0,
        description="A detection at least this confident starts a confirmed track at once.",
    )
    high_score: float = Field(
        0.5, ge=0.0, le=1.0,
        description=(
            "Detections at or above this score are matched first and may start tracks; weaker "
            "ones (down to low_score) only extend existing tracks (ByteTrack)."
        ),
    )
    low_score: float = Field(
        0.1, ge=0.0, le=1.0, description="Detections below this score are ignored."
    )
    max_lost_s: float = Field(
        2.0, gt=0.0, description="How long an unseen (occluded) track is kept, seconds."
    )
    predict_gap_s: float = Field(
        0.3, ge=0.0,
        description=(
            "A track missing detections is published with its predicted box (predicted: true) "
            "and counted for this long; after that it is neither published nor counted until "
            "found again, seconds."
        ),
    )
    iou_gate: float = Field(0.2, ge=0.0, le=1.0, description="Least IoU for a motion match.")
    appearance_gate: float = Field(
        0.3, ge=0.0, le=2.0, description="Largest cosine distance for an appearance match."
    )
    appearance_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Share of appearance in the match cost (rest: IoU)."
    )
    max_tracks: int = Field(200, ge=1, description="Most live tracks per camera.")
    gallery_size: int = Field(500, ge=0, description="Most ended identities remembered.")
    gallery_ttl_s: float = Field(
        600.0, ge=0.0, description="How long an ended identity can be re-identified, seconds."
    )
    reid_threshold: float = Field(
        0.7, ge=-1.0, le=1.0, description="Least cosine similarity to re-identify someone."
    )
    cross_camera: bool = Field(
        False, description="Re-identify people across the cameras of this device."
    )
    update_interval_s: float = Field(
        1.0, ge=0.0, description="Least time between 'update' events of one track, seconds."
    )
    active_min_speed: float = Field(
        0.05,
        ge=0.0,
        description="Foot speed (frame heights per second) above which a person is 'active'.",
    )
    state_dir: Path = Field(
        Path("/var/lib/edge-agent/state"),
        description="Folder for the counting state restored after a restart.",
    )
    restore_max_age_s: float = Field(
        300.0, ge=0.0, description="Saved zone counts older than this are not restored, s."
    )
    warmup_s: float = Field(
        2.0,
        ge=0.0,
        description=(
            "After start, restored counts are published until the tracker has run this long; "
            "without a restored state nothing is published before then."
        ),
    )

    @field_validator("low_score")
    @classmethod
    def _check_scores(cls, value: float, info: ValidationInfo) -> float:
        high = info.data.get("high_score")
        if high is not None and value > high:
            raise ValueError(f"low_score = {value} is above high_score = {high}; lower it")
        return value

    @field_validator("embedding_size")
    @classmethod
    def _check_embedding(cls, value: int, info: ValidationInfo) -> int:
        """Compare with the ReID manifest's output, so the mismatch fails at config check."""
        from edge_agent.errors import EdgeAgentError
        from edge_agent.models.manifest import load_manifest

        name = info.data.get("reid_model")
        if not name:
            return value
        try:
            outputs = load_manifest(str(name)).output_specs()
        except EdgeAgentError as err:
            raise ValueError(f"cannot check against reid_model {name!r}: {err.problem}") from None
        dims = [spec.shape[-1] for spec in outputs]
        if dims and isinstance(dims[0], int) and dims[0] != value:
            raise ValueError(
                f"model {name!r} outputs {dims[0]}-d embeddings but embedding_size = {value}; "
                f"set embedding_size = {dims[0]}"
            )
        return value
