"""Pose settings (models.pose): BodyPose3DNet skeletons and PoseClassificationNet actions.

The defaults are NVIDIA's reference values (deepstream-bodypose-3d filters and focal length,
the DeepStream classifier threshold 0.51, TAO's 30 Hz / 100-frame training windows), so a
plain `enabled = true` behaves like the reference apps; everything else is a choice the
deployment may need to change, checked here with the field named.
"""

from __future__ import annotations

from pydantic import Field, model_validator
from typing_extensions import Literal

from edge_agent.errors import ConfigError
from edge_agent.settings.base import StrictModel


class OneEuroSettings(StrictModel):
    """One-Euro filter: less jitter with a lower min cutoff, less lag with a higher beta."""

    min_cutoff_hz: float = Field(..., gt=0.0, description="Cutoff at rest, Hz.")
    beta: float = Field(..., ge=0.0, description="Cutoff increase per unit of speed.")
    d_cutoff_hz: float = Field(1.0, gt=0.0, description="Cutoff of the speed estimate, Hz.")


class PoseSmoothingSettings(StrictModel):
    """Temporal smoothing of each track's keypoints (the reference app's One-Euro filters)."""

    enabled: bool = Field(True, description="Smooth keypoints, zRel and root depth per track.")
    keypoints: OneEuroSettings = Field(
        default_factory=lambda: OneEuroSettings(min_cutoff_hz=0.1, beta=0.05),
        description="Filter of the 2D keypoints (frame pixels).",
    )
    depth: OneEuroSettings = Field(
        default_factory=lambda: OneEuroSettings(min_cutoff_hz=0.5, beta=0.05),
        description="Filter of each joint's depth relative to the pelvis.",
    )
    root_depth: OneEuroSettings = Field(
        default_factory=lambda: OneEuroSettings(min_cutoff_hz=0.1, beta=0.05),
        description="Filter of the lifted pelvis depth.",
    )
    nominal_rate_hz: float = Field(
        30.0, gt=0.0, description="Sample rate assumed when timestamps give no interval."
    )


class KeypointMessageSettings(StrictModel):
    """Opt-in per-track keypoint messages (large; rate-limited per track)."""

    enabled: bool = Field(False, description="Publish each track's keypoints.")
    min_interval_s: float = Field(
        1.0, gt=0.0, description="At most one keypoint message per track this often."
    )
    include_3d: bool = Field(False, description="Add the metric 3D joints (mm).")


class PoseSettings(StrictModel):
    """BodyPose3DNet on tracked people, PoseClassificationNet on their skeleton sequences."""

    enabled: bool = Field(False, description="Estimate poses of tracked people (needs tracking).")
    model: str = Field("bodypose3dnet", description="Model name of the pose estimator.")
    classifier_model: str = Field(
        "poseclassificationnet", description="Model name of the action classifier; '' = none."
    )
    rate_hz: float = Field(
        10.0, gt=0.0, description="Pose inferences per second per tracked person."
    )
    focal_length_px: float = Field(
        800.79041,
        gt=0.0,
        description=(
            "Camera focal length in pixels at 1280 px frame width (scaled with the frame); "
            "the reference app's default."
        ),
    )
    pad_px: int = Field(
        -1, ge=-1, description="Frame padding of the crop geometry; -1 = 128 px per 1280 px."
    )
    smoothing: PoseSmoothingSettings = Field(
        default_factory=PoseSmoothingSettings, description="Per-track keypoint smoothing."
    )
    normalisation: Literal["tao_training", "deepstream_app"] = Field(
        "tao_training",
        description=(
            "Classifier input: 'tao_training' (pelvis-relative mm / focal, as TAO's dataset "
            "converter made the training data) or 'deepstream_app' (scale-normalised lifted "
            "joints, newest frame last, as the DeepStream sample feeds it)."
        ),
    )
    training_focal_length: float = Field(
        1200.0, gt=0.0, description="Divisor of 'tao_training' (TAO spec focal_length)."
    )
    graph_layout: Literal["nvidia", "coco", "openpose"] = Field(
        "nvidia",
        description="Joint layout the classifier was trained on: 34, COCO 17 or OpenPose 18.",
    )
    classifier_rate_hz: float = Field(
        30.0, gt=0.0, description="Frame rate the classifier was trained at (resampled to)."
    )
    window_frames: int = Field(
        0,
        ge=0,
        le=300,
        description="Frames per classified window; 0 = 100 (tao_training) or 300 (deepstream_app).",
    )
    min_frames: int = Field(
        30, ge=1, le=300, description="Shorter tracks (in resampled frames) are not classified."
    )
    buffer_frames: int = Field(
        300, ge=1, le=300, description="Skeletons kept per track (ring buffer)."
    )
    max_gap_s: float = Field(
        2.0, gt=0.0, description="A longer pause in a track's poses restarts its sequence."
    )
    max_tracks: int = Field(
        64, ge=1, description="Tracks with pose state at once; the least recent is evicted."
    )
    classify_interval_s: float = Field(
        1.0, gt=0.0, description="Classify each track at most this often."
    )
    threshold: float = Field(
        0.51, gt=0.0, lt=1.0, description="Softmax probability a class must exceed."
    )
    confirm_count: int = Field(
        2, ge=1, description="Consecutive agreeing classifications before a class changes."
    )
    release_count: int = Field(
        3, ge=1, description="Consecutive unsure classifications before a class is cleared."
    )
    keypoint_messages: KeypointMessageSettings = Field(
        default_factory=KeypointMessageSettings, description="Opt-in keypoint messages."
    )

    @model_validator(mode="after")
    def _window_holds_minimum(self) -> "PoseSettings":
        if self.window_frames and self.min_frames > self.window_frames:
            raise ValueError(
                f"min_frames ({self.min_frames}) exceeds window_frames ({self.window_frames}); "
                "lower min_frames or raise window_frames"
            )
        return self

    def effective_window_frames(self) -> int:
        """Frames per classified window after resolving 0 to the normalisation's default."""
        if self.window_frames:
            return self.window_frames
        return 100 if self.normalisation == "tao_training" else 300


def check_pose_needs_tracking(pose: PoseSettings, tracking_enabled: bool) -> None:
    """Pose runs on tracked people: refuse pose without tracking, naming both settings."""
    if pose.enabled and not tracking_enabled:
        raise ConfigError(
            "models.pose.enabled is true but models.tracking.enabled is false: poses are "
            "estimated per tracked person",
            "set models.tracking.enabled = true, or models.pose.enabled = false",
        )
