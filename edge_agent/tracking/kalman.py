"""Constant-velocity Kalman filter over boxes, vectorised across all tracks of a camera.

State per track: (cx, cy, w, h, vcx, vcy, vw, vh) in frame pixels and pixels per second;
measurement: (cx, cy, w, h). Noise scales with the box height (as in DeepSORT), so a person
near the camera and one far away are equally uncertain relative to their size. All tracks are
predicted and updated in one batched numpy call: a per-track Python loop over 8x8 matrices
costs ~20 us each and would miss the 1 ms budget for 50 people.

People do not grow or shrink at a steady rate, so the size velocity decays (time constant
`SIZE_VELOCITY_TAU_S`) instead of being extrapolated, and a track that is not matched
(`frozen`) keeps its size exactly: extrapolating vw, vh through an occlusion ballooned a
70x160 person to 182x413 px or collapsed it to 1x1 px, after which IoU could never re-find it.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

STATE_DIM = 8
MEAS_DIM = 4
# Position process noise per sqrt(s), as a share of the box height.
_POS_STD_PER_H = 1.0 / 20.0
# Velocity process noise per sqrt(s), as a share of the box height. Measured with a person
# walking one body height per second who turns round (2 px box noise; the case in
# tests/test_tracker.py::test_speed_reversal_shows_within_a_few_frames), frames until vx
# changes sign at 10 / 25 fps: 1/10 (the old value) 23 / 14, 1/4 4 / 8, 1/2 3 / 5, 1 2 / 4.
# The price is jitter of a standing person's speed (p95, heights/s): 0.02 at 1/10, 0.08 at
# 1/2, 0.12 at 1. TUD-Campus MOTA/IDF1 do not move between 1/10 and 1 (+-0.003).
_VEL_STD_PER_H = 1.0 / 2.0
_MEAS_STD_PER_H = 1.0 / 20.0
# Size velocity decays with this time constant (s), so a wrong size velocity from one noisy
# box fades within a second (e^-2 = 14 % left after 1 s). TUD-Campus replays (MOTA / IDF1,
# CEM's boxes): 0.1 s 0.538 / 0.513, 0.25 s 0.532 / 0.503, 0.5 s and anything longer (no
# decay included) 0.557 / 0.596; ground-truth boxes score 0.975 / 0.988 for every value,
# since freezing the size while lost matters most. 0.5 s is the shortest that costs nothing.
SIZE_VELOCITY_TAU_S = 0.5
_MIN_SIZE = 1.0
# Process noise variances per second as multiples of the squared box height (one product per
# frame instead of stacking eight columns: the tracker's fixed cost is mostly numpy calls).
_Q_PER_H2 = np.array([_POS_STD_PER_H**2] * 4 + [_VEL_STD_PER_H**2] * 2
                     + [(0.1 * _VEL_STD_PER_H) ** 2] * 2)


def box_to_z(boxes: np.ndarray) -> np.ndarray:
    """(x1, y1, x2, y2) [N,4] -> (cx, cy, w, h) [N,4]."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return np.stack([boxes[:, 0] + w / 2, boxes[:, 1] + h / 2, w, h], axis=1)


def z_to_box(z: np.ndarray) -> np.ndarray:
    """(cx, cy, w, h, ...) [N,>=4] -> (x1, y1, x2, y2) [N,4]."""
    z = np.asarray(z, dtype=np.float64).reshape(len(z), -1)
    half_w = np.maximum(z[:, 2], 0.0) / 2
    half_h = np.maximum(z[:, 3], 0.0) / 2
    return np.stack([z[:, 0] - half_w, z[:, 1] - half_h, z[:, 0] + half_w, z[:, 1] + half_h],
                    axis=1)


def initiate(z: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """State and covariance of new tracks from measurements z [N,4]."""
    count = len(z)
    x = np.zeros((count, STATE_DIM))
    x[:, :MEAS_DIM] = z
    h = np.maximum(z[:, 3], _MIN_SIZE)
    # Unknown velocity: a walker covers up to ~2 body heights per second; sizes change slowly.
    std = np.stack([2 * _MEAS_STD_PER_H * h] * 4 + [2 * h] * 2 + [0.2 * h] * 2, axis=1)
    p = np.zeros((count, STATE_DIM, STATE_DIM))
    idx = np.arange(STATE_DIM)
    p[:, idx, idx] = std**2
    return x, p


def predict(
    x: np.ndarray, p: np.ndarray, dt_s: float, frozen: Optional[np.ndarray] = None
) -> Tuple[np.ndarray, np.ndarray]:
    """Advance every track by dt_s seconds (dt_s >= 0); `frozen` rows keep their size."""
    if len(x) == 0:
        return x, p
    dt = max(float(dt_s), 0.0)
    decay = float(np.exp(-dt / SIZE_VELOCITY_TAU_S))
    f = np.eye(STATE_DIM)
    f[np.arange(2), np.arange(2) + MEAS_DIM] = dt
    # Size integrates the decaying velocity: w += vw * tau * (1 - e^-dt/tau); vw *= e^-dt/tau.
    f[[2, 3], [6, 7]] = SIZE_VELOCITY_TAU_S * (1.0 - decay)
    f[[6, 7], [6, 7]] = decay
    h = np.maximum(x[:, 3], _MIN_SIZE)
    q_diag = (h * h)[:, None] * _Q_PER_H2
    x_new = x @ f.T
    p_new = f @ p @ f.T
    idx = np.arange(STATE_DIM)
    p_new[:, idx, idx] += q_diag * max(dt, 1e-3)
    if frozen is not None and frozen.any():
        x_new[frozen, 2:4] = x[frozen, 2:4]
        x_new[frozen, 6:8] = 0.0
    x_new[:, 2:4] = np.maximum(x_new[:, 2:4], _MIN_SIZE)
    return x_new, p_new


def update(
    x: np.ndarray, p: np.ndarray, z: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """Correct tracks [M,8] with their matched measurements z [M,4]."""
    if len(x) == 0:
        return x, p
    h = np.maximum(z[:, 3], _MIN_SIZE)
    r = np.zeros((len(z), MEAS_DIM, MEAS_DIM))
    idx = np.arange(MEAS_DIM)
    r[:, idx, idx] = ((_MEAS_STD_PER_H * h) ** 2)[:, None]
    s = p[:, :MEAS_DIM, :MEAS_DIM] + r
    gain = p[:, :, :MEAS_DIM] @ np.linalg.inv(s)  # [M,8,4]
    innovation = z - x[:, :MEAS_DIM]
    x_new = x + np.einsum("mij,mj->mi", gain, innovation)
    p_new = p - gain @ p[:, :MEAS_DIM, :]
    x_new[:, 2:4] = np.maximum(x_new[:, 2:4], _MIN_SIZE)
    return x_new, p_new
