"""The NVIDIA 34-joint skeleton: names, graph edges, drawing bones, lifting limbs, layouts.

Facts from NVIDIA's reference code (docs: model-contracts.md, BodyPose3DNet section):
joint names from the comments in deepstream-bodypose-3d; the ST-GCN "nvidia" graph edges from
TAO's st_gcn.py `get_edge`; the drawing bones from the reference app's OSD functions; the 17
(parent, child) limb pairs that the 2.5D -> 3D lifting uses, in the order of the limb-length
constants' non-zero entries.

The other graph layouts PoseClassificationNet's card lists (COCO 17, OpenPose 18) are
selections of NVIDIA joints, so a classifier trained on them can be fed from BodyPose3DNet.
"""

from __future__ import annotations

from typing import Dict, Tuple

from typing_extensions import Literal

from edge_agent.events.pose_payloads import NUM_JOINTS as PAYLOAD_JOINTS

JOINT_NAMES: Tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "torso", "left_knee", "right_knee", "neck",
    "left_ankle", "right_ankle", "left_big_toe", "right_big_toe", "left_small_toe",
    "right_small_toe", "left_heel", "right_heel", "nose", "left_eye", "right_eye", "left_ear",
    "right_ear", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_pinky_knuckle", "right_pinky_knuckle", "left_middle_tip",
    "right_middle_tip", "left_index_knuckle", "right_index_knuckle", "left_thumb_tip",
    "right_thumb_tip",
)
NUM_JOINTS = len(JOINT_NAMES)
if NUM_JOINTS != PAYLOAD_JOINTS:  # pragma: no cover - a contract mismatch is a bug
    raise ImportError(f"pose.joints has {NUM_JOINTS} joints, events.pose_payloads {PAYLOAD_JOINTS}")
JOINT_INDEX: Dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}
ROOT_JOINT = 0  # pelvis: the origin of zRel and of the training-side normalisation

Edge = Tuple[int, int]

# ST-GCN "nvidia" graph (centre joint 0).
GRAPH_EDGES: Tuple[Edge, ...] = (
    (0, 1), (0, 2), (0, 3), (1, 4), (2, 5), (3, 6), (4, 7), (5, 8), (7, 9), (8, 10), (9, 11),
    (10, 12), (7, 13), (8, 14), (6, 15), (15, 16), (15, 17), (16, 18), (17, 19), (1, 20),
    (2, 21), (6, 20), (6, 21), (20, 22), (21, 23), (22, 24), (23, 25), (24, 26), (25, 27),
    (24, 28), (25, 29), (24, 30), (25, 31), (24, 32), (25, 33),
)

# Bones the reference app draws: 25 upper-body then 10 lower-body.
DRAW_BONES: Tuple[Edge, ...] = (
    (21, 6), (20, 6), (21, 23), (20, 22), (24, 22), (23, 25), (27, 25), (31, 25), (33, 25),
    (29, 25), (24, 30), (24, 26), (24, 32), (24, 28), (2, 21), (1, 20), (3, 6), (6, 15),
    (15, 16), (15, 17), (19, 17), (18, 16), (0, 1), (0, 2), (0, 3),
    (2, 5), (5, 8), (1, 4), (4, 7), (7, 13), (8, 14), (8, 10), (7, 9), (11, 9), (12, 10),
)

# Limb pairs of the lifting; the k-th pair has the k-th non-zero limb-length constant.
LIFT_LIMBS: Tuple[Edge, ...] = (
    (0, 3), (3, 6), (6, 0), (8, 5), (5, 2), (2, 0), (2, 21), (21, 23), (23, 25), (21, 6),
    (7, 4), (4, 1), (1, 0), (1, 20), (20, 22), (22, 24), (20, 6),
)

GraphLayout = Literal["nvidia", "coco", "openpose"]

# COCO keypoint order: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles
# (left before right in each pair).
COCO17_FROM_NVIDIA: Tuple[int, ...] = (15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 1, 2, 4, 5, 7, 8)

# OpenPose / ST-GCN "openpose" order: nose, neck, right arm, left arm, right leg, left leg,
# right eye, left eye, right ear, left ear.
OPENPOSE18_FROM_NVIDIA: Tuple[int, ...] = (
    15, 6, 21, 23, 25, 20, 22, 24, 2, 5, 8, 1, 4, 7, 17, 16, 19, 18,
)

LAYOUT_JOINTS: Dict[str, Tuple[int, ...]] = {
    "nvidia": tuple(range(NUM_JOINTS)),
    "coco": COCO17_FROM_NVIDIA,
    "openpose": OPENPOSE18_FROM_NVIDIA,
}


def layout_joint_count(layout: str) -> int:
    """Number of joints (V) a classifier trained on `layout` expects."""
    return len(LAYOUT_JOINTS[layout])
