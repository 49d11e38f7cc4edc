"""Labelled synthetic skeleton sequences from a kinematic body, for evaluation without data.

A 34-joint body whose bone lengths are NVIDIA's mean limb lengths (so the 2.5D -> 3D lifting
is exact on it) is posed from a handful of joint angles (hip and knee flexion, torso lean, arm
swing) and placed in camera space (x right, y down, z away from the camera; mm). Each class is
a motion of those angles with random speed, phase, timing, body size, distance, heading and
joint noise:

* standing: upright, slight sway;          * walking: alternating legs and arms, moving
* sitting: hips and knees at ~90 degrees;     along the heading, pelvis bobbing;
* sitting_down / getting_up: a smooth transition between the two with a forward lean;
* jumping: crouch and flight cycles, arms up in flight.

The sequences are not people; they exist so the whole pose path (projection -> lifting ->
normalisation -> classifier -> metrics) runs end to end, and so that a classifier that has
actually learnt something shows it (see pose.linear_probe).
"""

from __future__ import annotations

import math
from typing import Dict, Tuple

import numpy as np

from edge_agent.pose.bodypose3d import MEAN_LIMB_LENGTHS_MM as _L
from edge_agent.pose.joints import NUM_JOINTS

CLASSES: Tuple[str, ...] = ("sitting_down", "getting_up", "sitting", "standing", "walking",
                            "jumping")
RATE_HZ = 30.0
_UP_TORSO, _TORSO_NECK, _PELVIS_NECK = float(_L[0]), float(_L[1]), float(_L[2])
# k-th lifting limb <-> k-th non-zero table entry (indices 0-8, 16-22, 30): right side first.
_SHIN = {-1: float(_L[3]), 1: float(_L[17])}
_THIGH = {-1: float(_L[4]), 1: float(_L[18])}
_HIP = {-1: float(_L[5]), 1: float(_L[19])}
_HIP_SHOULDER = {-1: float(_L[6]), 1: float(_L[20])}
_UPPER_ARM = {-1: float(_L[7]), 1: float(_L[21])}
_FOREARM = {-1: float(_L[8]), 1: float(_L[22])}
_SHOULDER_NECK = {-1: float(_L[16]), 1: float(_L[30])}
_ANKLE_HEIGHT = 80.0


def _shoulder_offset(side: int) -> Tuple[float, float]:
    """(sideways, up) of a shoulder in the torso plane meeting both limb-length constraints."""
    hip_x = side * _HIP[side]
    neck_up, r_neck, r_hip = _PELVIS_NECK, _SHOULDER_NECK[side], _HIP_SHOULDER[side]
    # up = (2 * a * hip_x - k) / (2 * neck_up), then a^2 + (up - neck_up)^2 = r_neck^2.
    k = r_neck**2 - r_hip**2 - neck_up**2 + hip_x**2
    p, q = hip_x / neck_up, -k / (2 * neck_up) - neck_up
    roots = np.roots([1 + p * p, 2 * p * q, q * q - r_neck**2])
    # Of the two circle intersections, the shoulder is the one below the neck on its side.
    candidates = [(float(r), (2 * float(r) * hip_x - k) / (2 * neck_up)) for r in roots.real]
    return max(candidates, key=lambda c: side * c[0] - abs(c[1] - neck_up))


_SHOULDER = {side: _shoulder_offset(side) for side in (-1, 1)}
_DOWN = np.array([0.0, 1.0, 0.0])


def _direction(angle_rad: np.ndarray) -> np.ndarray:
    """Unit vectors [T,3] rotated from straight down towards the person's front (-z)."""
    return np.stack([np.zeros_like(angle_rad), np.cos(angle_rad), -np.sin(angle_rad)], axis=-1)


def pose_body(angles: Dict[str, np.ndarray]) -> np.ndarray:
    """Joints [T,34,3] in the body frame (pelvis at 0, person facing -z, left = +x).

    `angles` (radians, arrays [T]): lean, hip_l, hip_r, knee_l, knee_r, arm_l, arm_r,
    elbow_l, elbow_r.
    """
    lean = angles["lean"]
    frames = lean.shape[0]
    joints = np.zeros((frames, NUM_JOINTS, 3))
    # Torso axis: straight up, tilted towards the front (-z) by the lean.
    up = np.stack([np.zeros_like(lean), -np.cos(lean), -np.sin(lean)], axis=-1)
    joints[:, 3] = _UP_TORSO * up
    joints[:, 6] = _PELVIS_NECK * up
    x_axis = np.array([1.0, 0.0, 0.0])
    forward = np.array([0.0, 0.0, -1.0])
    for side, tag in ((1, "l"), (-1, "r")):
        hip = side * _HIP[side] * x_axis
        joints[:, 1 if side == 1 else 2] = hip
        thigh = _direction(angles[f"hip_{tag}"])
        shin = _direction(angles[f"hip_{tag}"] - angles[f"knee_{tag}"])
        knee = hip + _THIGH[side] * thigh
        ankle = knee + _SHIN[side] * shin
        joints[:, 4 if side == 1 else 5] = knee
        joints[:, 7 if side == 1 else 8] = ankle
        joints[:, 13 if side == 1 else 14] = ankle + np.array([0.0, 50.0, 60.0])
        joints[:, 9 if side == 1 else 10] = ankle + np.array([-side * 20.0, 70.0, -170.0])
        joints[:, 11 if side == 1 else 12] = ankle + np.array([side * 40.0, 70.0, -140.0])
        across, along = _SHOULDER[side]
        shoulder = across * x_axis + along * up
        upper = _direction(angles[f"arm_{tag}"])
        fore = _direction(angles[f"arm_{tag}"] + angles[f"elbow_{tag}"])
        elbow = shoulder + _UPPER_ARM[side] * upper
        wrist = elbow + _FOREARM[side] * fore
        base = 20 if side == 1 else 21
        joints[:, base] = shoulder
        joints[:, base + 2] = elbow
        joints[:, base + 4] = wrist
        joints[:, base + 6] = wrist + 80.0 * fore + side * 25.0 * x_axis  # pinky knuckle
        joints[:, base + 8] = wrist + 170.0 * fore  # middle tip
        joints[:, base + 10] = wrist + 85.0 * fore - side * 15.0 * x_axis  # index knuckle
        joints[:, base + 12] = wrist + 60.0 * fore + 40.0 * forward  # thumb tip
    nose = joints[:, 6] + 180.0 * up + 90.0 * forward
    joints[:, 15] = nose
    for side, eye, ear in ((1, 16, 18), (-1, 17, 19)):
        joints[:, eye] = nose + side * 35.0 * x_axis + 35.0 * up + 20.0 * -forward
        joints[:, ear] = nose + side * 75.0 * x_axis + 20.0 * up + 90.0 * -forward
    return joints


def _smoothstep(values: np.ndarray) -> np.ndarray:
    v = np.clip(values, 0.0, 1.0)
    result: np.ndarray = v * v * (3.0 - 2.0 * v)
    return result


def class_motion(
    label: str, frames: int, rng: np.random.RandomState
) -> Tuple[Dict[str, np.ndarray], np.ndarray, float]:
    """Joint angles over time, the pelvis's extra displacement [T,3] (mm) and the heading."""
    t = np.arange(frames) / RATE_HZ
    zero = np.zeros(frames)
    deg = math.pi / 180.0
    a = {k: zero.copy() for k in ("lean", "hip_l", "hip_r", "knee_l", "knee_r")}
    a.update(arm_l=zero + 8 * deg, arm_r=zero + 8 * deg, elbow_l=zero + 15 * deg,
             elbow_r=zero + 15 * deg)
    shift = np.zeros((frames, 3))
    heading = rng.uniform(-40, 40) * deg
    if label == "standing":
        shift[:, 0] = rng.uniform(5, 20) * np.sin(2 * math.pi * rng.uniform(0.2, 0.5) * t)
        a["lean"] = zero + rng.uniform(-3, 5) * deg
    elif label == "walking":
        phase = 2 * math.pi * rng.uniform(0.8, 1.1) * t + rng.uniform(0, 2 * math.pi)
        swing = rng.uniform(18, 28) * deg
        a["hip_l"], a["hip_r"] = swing * np.sin(phase), -swing * np.sin(phase)
        a["knee_l"] = rng.uniform(25, 40) * deg * np.maximum(0.0, np.sin(phase + math.pi / 2))
        a["knee_r"] = rng.uniform(25, 40) * deg * np.maximum(0.0, -np.sin(phase + math.pi / 2))
        a["arm_l"], a["arm_r"] = -0.8 * a["hip_l"], -0.8 * a["hip_r"]
        a["lean"] = zero + rng.uniform(2, 8) * deg
        heading = rng.choice([-1.0, 1.0]) * rng.uniform(45, 135) * deg
        speed = rng.uniform(900, 1500)
        shift[:, 0] = -math.sin(heading) * speed * t
        shift[:, 2] = -math.cos(heading) * speed * t
    elif label in ("sitting", "sitting_down", "getting_up"):
        if label == "sitting":
            s = zero + 1.0
        else:
            start, length = rng.uniform(0.2, 1.0), rng.uniform(1.2, 2.0)
            s = _smoothstep((t - start) / length)
            s = s if label == "sitting_down" else 1.0 - s
        bump = np.sin(math.pi * s) if label != "sitting" else zero
        a["hip_l"] = a["hip_r"] = s * rng.uniform(80, 95) * deg
        a["knee_l"] = a["knee_r"] = s * rng.uniform(80, 95) * deg
        a["lean"] = s * rng.uniform(5, 15) * deg + bump * rng.uniform(20, 35) * deg
        a["arm_l"] = a["arm_r"] = 8 * deg + s * 25 * deg
        a["elbow_l"] = a["elbow_r"] = 15 * deg + s * 45 * deg
    elif label == "jumping":
        phase = 2 * math.pi * rng.uniform(0.9, 1.4) * t + rng.uniform(0, 2 * math.pi)
        crouch, flight = np.maximum(0.0, -np.sin(phase)), np.maximum(0.0, np.sin(phase))
        a["hip_l"] = a["hip_r"] = crouch * rng.uniform(35, 50) * deg
        a["knee_l"] = a["knee_r"] = crouch * rng.uniform(70, 95) * deg
        a["lean"] = crouch * 15 * deg
        a["arm_l"] = a["arm_r"] = 10 * deg + flight * rng.uniform(90, 150) * deg
        shift[:, 1] = -flight * rng.uniform(150, 300)
    else:
        raise ValueError(f"unknown synthetic class {label!r}; use one of {', '.join(CLASSES)}")
    return a, shift, heading


def synthesize(
    label: str, frames: int, rng: np.random.RandomState, noise_mm: float = 8.0
) -> Tuple[np.ndarray, np.ndarray]:
    """One sequence of `label` at 30 Hz: joints [T,34,3] in camera mm, confidence [T,34]."""
    angles, shift, heading = class_motion(label, frames, rng)
    body = pose_body(angles) * rng.uniform(0.92, 1.08)
    extent = {  # vertical reach of each leg below the pelvis, feet on the floor
        side: body[:, ankle, 1] + _ANKLE_HEIGHT for side, ankle in ((1, 7), (-1, 8))
    }
    rotation = np.array([[math.cos(heading), 0.0, math.sin(heading)], [0.0, 1.0, 0.0],
                         [-math.sin(heading), 0.0, math.cos(heading)]])
    depth = rng.uniform(3000.0, 6000.0)
    floor_y = rng.uniform(1200.0, 2200.0)
    pelvis = np.zeros((frames, 3))
    pelvis[:, 0] = rng.uniform(-0.25, 0.25) * depth
    pelvis[:, 1] = floor_y - np.maximum(extent[1], extent[-1])
    pelvis[:, 2] = depth
    pelvis += shift
    joints = body @ rotation.T + pelvis[:, None, :]
    joints += rng.normal(0.0, noise_mm, size=joints.shape)
    confidence = rng.uniform(0.6, 1.0, size=(frames, NUM_JOINTS))
    confidence[rng.uniform(size=confidence.shape) < 0.03] = 0.0
    return joints.astype(np.float32), confidence.astype(np.float32)
