"""Camera settings: sources, capture behaviour and zones."""

from __future__ import annotations

from typing import List, Tuple

from pydantic import Field, field_validator, model_validator
from typing_extensions import Literal

from edge_agent.settings.base import ID_PATTERN, StrictModel
from edge_agent.settings.tracking import LineSettings, check_not_reserved, polygon_problem


class ZoneSettings(StrictModel):
    """A region of the image whose person coverage is reported."""

    name: str = Field(
        ..., pattern=ID_PATTERN, description="Zone name, unique per camera; used in topics."
    )
    polygon: List[Tuple[float, float]] = Field(
        ...,
        min_length=3,
        description=(
            "Polygon vertices as [x, y] pairs in normalized image coordinates (0..1, origin "
            "top-left), at least 3."
        ),
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_not_reserved(value, "zone name")

    @field_validator("polygon")
    @classmethod
    def _check_range(cls, value: List[Tuple[float, float]]) -> List[Tuple[float, float]]:
        for index, (x, y) in enumerate(value):
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(
                    f"vertex {index} = [{x}, {y}] is outside 0..1; use normalized coordinates "
                    "(pixel x / image width, pixel y / image height)"
                )
        problem = polygon_problem(value)
        if problem:
            raise ValueError(f"polygon {problem}")
        return value


class CameraSettings(StrictModel):
    """One video source and what to do with it."""

    id: str = Field(..., pattern=ID_PATTERN, description="Camera id, unique; used in topics.")
    url: str = Field(
        ...,
        description=(
            "Where frames come from: a file path or file:// URL, /dev/videoN or "
            "v4l2:///dev/videoN, "
            "rtsp://, http(s)://, or csi://N (jetson backend only)."
        ),
    )
    backend: Literal["opencv", "jetson"] = Field(
        "opencv",
        description=(
            "Capture library: 'opencv' (files, V4L2, RTSP/HTTP; works everywhere) or 'jetson' "
            "(jetson-utils videoSource, hardware decode and CSI cameras on a Jetson)."
        ),
    )
    enabled: bool = Field(True, description="Set false to keep the camera configured but idle.")
    on_eof: Literal["loop", "stop"] = Field(
        "loop",
        description="At the end of a file: 'loop' restarts it, 'stop' ends this camera.",
    )
    width: int = Field(
        0, ge=0, description="Requested capture width in pixels; 0 = source default."
    )
    height: int = Field(
        0, ge=0, description="Requested capture height in pixels; 0 = source default."
    )
    max_fps: float = Field(
        0.0,
        ge=0.0,
        description=(
            "Upper bound on frames read per second (files are otherwise read as fast as "
            "possible); 0 = no limit."
        ),
    )
    reconnect_initial_s: float = Field(
        1.0, gt=0.0, description="First wait after a lost or failed stream, in seconds."
    )
    reconnect_max_s: float = Field(
        30.0, gt=0.0, description="Longest wait between reconnect attempts, in seconds."
    )
    read_timeout_s: float = Field(
        10.0,
        gt=0.0,
        description="A stream that delivers no frame for this long is reopened, in seconds.",
    )
    zones: List[ZoneSettings] = Field(
        default_factory=list, description="Zones whose person coverage is published."
    )
    lines: List[LineSettings] = Field(
        default_factory=list, description="Counting lines (in/out) for tracked people."
    )

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        return check_not_reserved(value, "camera id")

    @model_validator(mode="after")
    def _check_camera(self) -> CameraSettings:
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError(
                "reconnect_max_s must be >= reconnect_initial_s "
                f"(got {self.reconnect_max_s} < {self.reconnect_initial_s})"
            )
        names = [zone.name for zone in self.zones]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"zone names must be unique per camera; repeated: {duplicates}")
        lines = [line.name for line in self.lines]
        repeated = sorted({n for n in lines if lines.count(n) > 1})
        if repeated:
            raise ValueError(f"lines: names must be unique per camera; repeated: {repeated}")
        return self
