"""2.5D -> 3D lifting, One-Euro smoothing and the per-track smoother."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent.pose.joints import LIFT_LIMBS
from edge_agent.pose.lifting import (
    LIMB_LENGTHS_MM,
    SCALE_UNIT_MM,
    SCALED_LIMB_LENGTHS,
    frame_focal_px,
    inverse_intrinsics,
    metric_scale,
    points_from_root,
    rays,
    root_depths,
)
from edge_agent.pose.one_euro import OneEuroFilter, OneEuroParams, smoothing_factor
from edge_agent.pose.skeleton import SkeletonSmoother, SmoothingParams
from edge_agent.pose.synthetic import class_motion, pose_body
from edge_agent.pose.synthetic_dataset import lift_sequence, project_25d


def _person_mm(label: str = "walking", frames: int = 5) -> np.ndarray:
    """A noise-free body with exactly the reference limb lengths, 4 m from the camera."""
    angles, _, _ = class_motion(label, frames, np.random.RandomState(3))
    body = pose_body(angles)
    return body + np.array([300.0, 100.0, 4000.0])


def test_the_synthetic_body_has_the_reference_limb_lengths() -> None:
    joints = _person_mm()[0]
    lengths = [np.linalg.norm(joints[a] - joints[b]) for a, b in LIFT_LIMBS]
    assert lengths == pytest.approx(LIMB_LENGTHS_MM.tolist(), rel=1e-6)
    assert pytest.approx(SCALE_UNIT_MM, rel=3e-3) == (LIMB_LENGTHS_MM / SCALED_LIMB_LENGTHS)


def test_lifting_recovers_the_3d_pose_from_pixels_and_relative_depth() -> None:
    joints = _person_mm()
    pixels, z_rel = project_25d(joints)
    conf = np.ones(joints.shape[:2], np.float32)
    points_norm, points_mm = lift_sequence(pixels, z_rel, conf)
    # scale-normalised units are ~492.7 mm; metric recovery brings back millimetres.
    assert np.abs(points_norm * SCALE_UNIT_MM - joints).max() < 15.0
    assert np.abs(points_mm - joints).max() < 15.0


def test_root_depth_is_the_median_of_per_limb_solutions() -> None:
    joints = _person_mm(frames=1)
    pixels, z_rel = project_25d(joints)
    k_inv = inverse_intrinsics(1280, 720, frame_focal_px(1280, 800.79041))
    joint_rays = rays(pixels, k_inv)
    root = root_depths(joint_rays, z_rel)
    assert root[0] == pytest.approx(4000.0 / SCALE_UNIT_MM, rel=3e-3)
    points = points_from_root(joint_rays, z_rel, root)
    assert points[0, 0, 2] == pytest.approx(root[0])


def test_metric_scale_weights_limbs_by_confidence() -> None:
    joints = _person_mm(frames=1) / SCALE_UNIT_MM
    conf = np.ones((1, 34))
    assert metric_scale(joints, conf)[0] == pytest.approx(SCALE_UNIT_MM, rel=3e-3)
    stretched = joints.copy()
    stretched[0, 25] += (stretched[0, 25] - stretched[0, 23]) * 3.0  # a wild right wrist
    damped = conf.copy()
    damped[0, 25] = 0.0
    assert metric_scale(stretched, damped)[0] == pytest.approx(SCALE_UNIT_MM, rel=3e-3)
    assert metric_scale(stretched, conf)[0] != pytest.approx(SCALE_UNIT_MM, rel=3e-3)
    # No confident limb at all: every limb counts equally instead of dividing by zero.
    assert np.isfinite(metric_scale(joints, np.zeros((1, 34)))).all()


def test_focal_scales_with_the_frame_width() -> None:
    assert frame_focal_px(1920, 800.0) == pytest.approx(1200.0)
    k_inv = inverse_intrinsics(1280, 720, 800.0)
    assert (rays(np.array([[[640.0, 360.0]]]), k_inv)[0, 0]).tolist() == [0.0, 0.0, 1.0]


def test_one_euro_matches_the_reference_smoothing_factor() -> None:
    # Reference: alpha = cutoff / (rate / (2 pi) + cutoff).
    assert float(smoothing_factor(30.0, np.asarray(0.1))) == pytest.approx(
        0.1 / (30.0 / (2 * math.pi) + 0.1)
    )
    flt = OneEuroFilter(OneEuroParams(min_cutoff_hz=1.0, beta=0.0))
    assert flt(np.array([10.0]), 0.0).tolist() == [10.0]  # first sample passes
    alpha = float(smoothing_factor(30.0, np.asarray(1.0)))
    assert flt(np.array([20.0]), 1 / 30)[0] == pytest.approx(10.0 + alpha * 10.0)


def test_one_euro_follows_fast_motion_more_with_a_higher_beta() -> None:
    slow = OneEuroFilter(OneEuroParams(min_cutoff_hz=0.1, beta=0.0))
    fast = OneEuroFilter(OneEuroParams(min_cutoff_hz=0.1, beta=0.5))
    for step in range(10):
        value = np.array([step * 30.0])
        lag_slow = value[0] - slow(value, 1 / 30)[0]
        lag_fast = value[0] - fast(value, 1 / 30)[0]
    assert 0.0 < lag_fast < lag_slow
    slow.reset()
    assert slow(np.array([5.0]), 1 / 30).tolist() == [5.0]
    with pytest.raises(ValueError, match="nominal_rate_hz"):
        OneEuroFilter(OneEuroParams(1.0, 0.0), nominal_rate_hz=0.0)


def test_smoother_reduces_jitter_and_lifts_each_sample() -> None:
    joints = _person_mm("standing", 60)
    pixels, z_rel = project_25d(joints)
    rng = np.random.RandomState(0)
    noisy = pixels + rng.normal(0.0, 3.0, pixels.shape).astype(np.float32)
    conf = np.full(34, 0.9, np.float32)
    smooth = SkeletonSmoother(SmoothingParams())
    raw = SkeletonSmoother(SmoothingParams(enabled=False))
    out_s = [smooth.update(i / 30, noisy[i], z_rel[i], conf, (1280, 720), 800.79041)
             for i in range(60)]
    out_r = [raw.update(i / 30, noisy[i], z_rel[i], conf, (1280, 720), 800.79041)
             for i in range(60)]
    jitter_s = np.std(np.diff([s.keypoints_px for s in out_s[30:]], axis=0))
    jitter_r = np.std(np.diff([s.keypoints_px for s in out_r[30:]], axis=0))
    assert jitter_s < 0.3 * jitter_r
    last = out_s[-1]
    assert last.points_mm.shape == (34, 3) and np.isfinite(last.points_mm).all()
    assert last.points_mm[0, 2] == pytest.approx(4000.0, rel=0.05)
