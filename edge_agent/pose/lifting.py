"""2.5D -> 3D: NVIDIA's lifting of BodyPose3DNet keypoints, restated and vectorised.

BodyPose3DNet gives, per joint, image x/y and a depth relative to the pelvis (zRel). The
reference app (deepstream-bodypose-3d `liftKeypoints25DTo3D` / `recoverScale`, after Sec. 3.3
of arXiv:1804.09534) turns that into camera-space 3D:

1. rays: r_j = K^-1 (x_j, y_j, 1) with K of the *frame* (focal f, principal point at the
   frame centre; f = 800.79041 px for 1280x720);
2. root depth: for each of the 17 limbs (a, b) with scale-normalised length C, the depth Z
   of the pelvis such that |r_b (zRel_b + Z) - r_a (zRel_a + Z)| = C solves a quadratic; the
   larger root is taken, and the median over limbs is the estimate (zRel of the pelvis is 0);
3. scale-normalised points: P_j = r_j (zRel_j + Z)   (what the DeepStream pose-classification
   app feeds PoseClassificationNet);
4. metric scale: s minimising sum_k w_k (s |P_a - P_b| - L_k)^2 with L the mean limb lengths
   in mm and w_k the product of the two joint confidences, normalised; points * s are in mm
   (what deepstream-bodypose-3d publishes as pose3d, and what TAO's training data holds).

The root depth of step 2 is One-Euro filtered between steps 2 and 3 in the reference; here
that is the caller's choice (pose.skeleton does it per track; the app used one filter for all
people, which mixes tracks).

Units: the app feeds zRel straight into step 2 next to the *scale-normalised* limb lengths,
so the quadratic is only consistent if zRel is in that unit too (1 unit = 492.69 mm, the
pelvis-neck length), although NVIDIA's README calls it mm. The code, not the README, is
followed; `SCALE_UNIT_MM` converts.
"""

from __future__ import annotations

import numpy as np

from edge_agent.pose.bodypose3d import MEAN_LIMB_LENGTHS_MM, SCALE_NORMALIZED_MEAN_LIMB_LENGTHS
from edge_agent.pose.crop_geometry import REFERENCE_WIDTH_PX
from edge_agent.pose.joints import LIFT_LIMBS, NUM_JOINTS, ROOT_JOINT

REFERENCE_FOCAL_PX = 800.79041
_LIMB_A = np.array([a for a, _ in LIFT_LIMBS])
_LIMB_B = np.array([b for _, b in LIFT_LIMBS])
# Non-zero entries of the 36-value tables, in order; only the first 34 are ever read.
SCALED_LIMB_LENGTHS = SCALE_NORMALIZED_MEAN_LIMB_LENGTHS[:NUM_JOINTS][
    SCALE_NORMALIZED_MEAN_LIMB_LENGTHS[:NUM_JOINTS] > 0
].astype(np.float64)
LIMB_LENGTHS_MM = MEAN_LIMB_LENGTHS_MM[:NUM_JOINTS][MEAN_LIMB_LENGTHS_MM[:NUM_JOINTS] > 0].astype(
    np.float64
)
# mean_limb_lengths / scale_normalized_mean_limb_lengths (pelvis-neck: 492.6854 / 1.0).
SCALE_UNIT_MM = 492.6854
_DBL_EPSILON = float(np.finfo(np.float64).eps)


def frame_focal_px(frame_width_px: int, focal_at_reference_px: float) -> float:
    """Focal length in this frame's pixels for one given at the reference 1280 px width.

    DeepStream resizes every camera to 1280x720 before inference, so the reference focal
    applies in that space; scaling it keeps the same rays for any camera resolution.
    """
    return focal_at_reference_px * frame_width_px / REFERENCE_WIDTH_PX


def inverse_intrinsics(frame_width_px: int, frame_height_px: int, focal_px: float) -> np.ndarray:
    """K^-1 for K = [[f, 0, W/2], [0, f, H/2], [0, 0, 1]] (float64 [3,3])."""
    k = np.array(
        [[focal_px, 0.0, frame_width_px / 2.0], [0.0, focal_px, frame_height_px / 2.0],
         [0.0, 0.0, 1.0]]
    )
    inverse: np.ndarray = np.linalg.inv(k)
    return inverse


def rays(keypoints_px: np.ndarray, k_inv: np.ndarray) -> np.ndarray:
    """[..., 34, 2] pixels -> [..., 34, 3] rays (x', y', 1)."""
    points = np.asarray(keypoints_px, dtype=np.float64)
    ones = np.ones(points.shape[:-1] + (1,))
    result: np.ndarray = np.concatenate([points, ones], axis=-1) @ k_inv.T
    return result


def root_depths(joint_rays: np.ndarray, z_rel: np.ndarray) -> np.ndarray:
    """Median root depth per person: rays [N,34,3], zRel [N,34] -> [N] (step 2)."""
    z = np.array(z_rel, dtype=np.float64)
    z[:, ROOT_JOINT] = 0.0
    x0, y0 = joint_rays[:, _LIMB_A, 0], joint_rays[:, _LIMB_A, 1]
    x1, y1 = joint_rays[:, _LIMB_B, 0], joint_rays[:, _LIMB_B, 1]
    z0, z1 = z[:, _LIMB_A], z[:, _LIMB_B]
    a = (x1 - x0) ** 2 + (y1 - y0) ** 2
    b = 2.0 * (z1 * (x1 * x1 + y1 * y1 - x1 * x0 - y1 * y0)
               + z0 * (x0 * x0 + y0 * y0 - x1 * x0 - y1 * y0))
    c = ((x1 * z1 - x0 * z0) ** 2 + (y1 * z1 - y0 * z0) ** 2 + (z1 - z0) ** 2
         - SCALED_LIMB_LENGTHS ** 2)
    d = np.maximum(b * b - 4.0 * a * c, _DBL_EPSILON)
    a = np.maximum(a, _DBL_EPSILON)
    roots = (-b + np.sqrt(d)) / (2.0 * a + 1e-8)
    median: np.ndarray = np.median(roots, axis=1)
    return median


def points_from_root(joint_rays: np.ndarray, z_rel: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Scale-normalised camera-space points [N,34,3] = r_j (zRel_j + Z) (step 3)."""
    z = np.array(z_rel, dtype=np.float64)
    z[:, ROOT_JOINT] = 0.0
    result: np.ndarray = joint_rays * (z + np.asarray(root, dtype=np.float64)[:, None])[..., None]
    return result


def metric_scale(points: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Per-person scale [N] to millimetres (step 4); unweighted when no limb has confidence."""
    lengths = np.linalg.norm(points[:, _LIMB_A] - points[:, _LIMB_B], axis=-1)  # [N,17]
    conf = np.asarray(confidence, dtype=np.float64)
    weights = conf[:, _LIMB_A] * conf[:, _LIMB_B]
    total = weights.sum(axis=1, keepdims=True)
    weights = np.where(total > 0.0, weights / np.where(total > 0.0, total, 1.0),
                       1.0 / lengths.shape[1])
    numerator = (weights * lengths * LIMB_LENGTHS_MM).sum(axis=1)
    denominator = (weights * lengths * lengths).sum(axis=1)
    scale: np.ndarray = np.where(denominator > 0.0, numerator / np.where(
        denominator > 0.0, denominator, 1.0), 0.0)
    return scale
