"""One tracked person's skeleton per pose inference: smoothed, lifted to 3D, in frame pixels.

`SkeletonSmoother` is the per-track state of the reference app's post-processing: One-Euro
filters on the 2D keypoints, on zRel and on the root depth (see pose.one_euro for the
parameters and pose.lifting for the maths). It is created when a track first gets a pose and
dropped with the track, so filters never carry one person's motion over to another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from edge_agent.pose.lifting import (
    frame_focal_px,
    inverse_intrinsics,
    metric_scale,
    points_from_root,
    rays,
    root_depths,
)
from edge_agent.pose.one_euro import OneEuroFilter, OneEuroParams

# The reference app's filter settings (deepstream-bodypose-3d parse_25dpose_from_tensor_meta).
REFERENCE_KEYPOINTS = OneEuroParams(min_cutoff_hz=0.1, beta=0.05, d_cutoff_hz=1.0)
REFERENCE_DEPTH = OneEuroParams(min_cutoff_hz=0.5, beta=0.05, d_cutoff_hz=1.0)
REFERENCE_ROOT_DEPTH = OneEuroParams(min_cutoff_hz=0.1, beta=0.05, d_cutoff_hz=1.0)
REFERENCE_RATE_HZ = 30.0


@dataclass(frozen=True)
class Skeleton:
    """One person at one instant; arrays follow the NVIDIA 34-joint order.

    keypoints_px [34,2] smoothed frame pixels; confidence [34] as the model gave it;
    z_rel [34] smoothed depth relative to the pelvis (model units); points_norm [34,3]
    scale-normalised camera-space 3D; points_mm [34,3] the same in millimetres.
    """

    ts_s: float
    keypoints_px: np.ndarray
    confidence: np.ndarray
    z_rel: np.ndarray
    points_norm: np.ndarray
    points_mm: np.ndarray


@dataclass(frozen=True)
class SmoothingParams:
    """Filter settings for one track's smoother; `enabled` False passes samples through."""

    keypoints: OneEuroParams = REFERENCE_KEYPOINTS
    depth: OneEuroParams = REFERENCE_DEPTH
    root_depth: OneEuroParams = REFERENCE_ROOT_DEPTH
    nominal_rate_hz: float = REFERENCE_RATE_HZ
    enabled: bool = True


class SkeletonSmoother:
    """Smooths and lifts successive poses of one track."""

    def __init__(self, params: SmoothingParams) -> None:
        self.params = params
        rate = params.nominal_rate_hz
        self._xy = OneEuroFilter(params.keypoints, rate)
        self._z = OneEuroFilter(params.depth, rate)
        self._root = OneEuroFilter(params.root_depth, rate)
        self._last_ts_s: float = float("nan")

    def update(
        self,
        ts_s: float,
        keypoints_px: np.ndarray,
        z_rel: np.ndarray,
        confidence: np.ndarray,
        frame_size_px: Tuple[int, int],
        focal_at_reference_px: float,
    ) -> Skeleton:
        """The smoothed, lifted skeleton of one decoded pose taken at `ts_s` (seconds).

        `frame_size_px` is (width, height) of the camera frame the keypoints are in.
        """
        interval_s = ts_s - self._last_ts_s if np.isfinite(self._last_ts_s) else 0.0
        self._last_ts_s = ts_s
        xy = np.asarray(keypoints_px, dtype=np.float64)
        z = np.asarray(z_rel, dtype=np.float64)
        if self.params.enabled:
            xy = self._xy(xy, interval_s)
            z = self._z(z, interval_s)
        width, height = frame_size_px
        k_inv = inverse_intrinsics(width, height, frame_focal_px(width, focal_at_reference_px))
        joint_rays = rays(xy[None], k_inv)
        root = root_depths(joint_rays, z[None])
        if self.params.enabled:
            root = self._root(root, interval_s)
        points = points_from_root(joint_rays, z[None], root)
        conf = np.asarray(confidence, dtype=np.float32)
        scale = metric_scale(points, conf[None])
        return Skeleton(
            ts_s=float(ts_s),
            keypoints_px=xy.astype(np.float32),
            confidence=conf.copy(),
            z_rel=z.astype(np.float32),
            points_norm=points[0].astype(np.float32),
            points_mm=(points[0] * scale[0]).astype(np.float32),
        )
