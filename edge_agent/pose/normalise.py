"""PoseClassificationNet input: skeleton windows -> float32 (N, 3, 300, V, 1).

NVIDIA feeds the classifier two different ways (docs: model-contracts.md section 5):

* "tao_training" (TAO `dataset_convert`, the Triton sample): metric 3D joints (mm, as
  deepstream-bodypose-3d publishes pose3d) made relative to the pelvis and divided by a focal
  length (1200 in the shipped specs); a joint with confidence 0 becomes (0, 0, 0); windows of
  up to 100 frames written from t = 0, zeros after.
* "deepstream_app" (deepstream_tao_apps pose classification): the scale-normalised lifted
  joints as they are (camera space, not root-centred, not divided by anything), the newest
  frame at t = 299 and zeros before the first frame seen.

The default is "tao_training": it is how the released model's training data was made (the
card: skeletons from deepstream-bodypose-3d, converted by TAO), while the DeepStream app's
feed differs from it in scale, origin and time alignment. Which one the released weights
prefer is unconfirmed (no NGC download here), so both are kept and the config picks.

Other graph layouts (COCO 17, OpenPose 18) select joints after normalising on the full 34, so
"relative to the pelvis" keeps its meaning for layouts without a pelvis joint.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from typing_extensions import Literal

from edge_agent.pose.joints import LAYOUT_JOINTS, ROOT_JOINT

Normalisation = Literal["tao_training", "deepstream_app"]
SEQUENCE_FRAMES = 300
TRAINING_FOCAL_LENGTH = 1200.0
# Frames per window when the settings say 0: TAO's converter cuts 100-frame windows; the
# DeepStream app always keeps the last 300.
DEFAULT_WINDOW_FRAMES: Dict[str, int] = {"tao_training": 100, "deepstream_app": 300}
# Which lifted points each method starts from: metric (mm) or scale-normalised.
SOURCE_POINTS: Dict[str, str] = {"tao_training": "points_mm", "deepstream_app": "points_norm"}

Window = Tuple[np.ndarray, np.ndarray]  # xyz [T,34,3], confidence [T,34], oldest first


def normalise_frames(
    xyz: np.ndarray, confidence: np.ndarray, method: Normalisation,
    focal_length: float = TRAINING_FOCAL_LENGTH,
) -> np.ndarray:
    """[T,34,3] joints of one window after `method`'s per-frame normalisation (float32)."""
    points = np.asarray(xyz, dtype=np.float32)
    if method == "deepstream_app":
        return points.copy()
    relative: np.ndarray = points - points[:, ROOT_JOINT : ROOT_JOINT + 1, :]
    relative *= np.float32(1.0 / focal_length)
    relative *= (np.asarray(confidence) != 0.0)[..., None]  # unseen joints -> 0
    return relative


def sequence_tensor(
    windows: Sequence[Window],
    method: Normalisation,
    layout: str = "nvidia",
    focal_length: float = TRAINING_FOCAL_LENGTH,
    frames: int = SEQUENCE_FRAMES,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """(N, 3, frames, V, 1) for N windows; `out` (right shape) is reused when given.

    A window longer than `frames` keeps its newest `frames` frames.
    """
    joints = LAYOUT_JOINTS[layout]
    every_joint = layout == "nvidia"  # no fancy-index copy for the native layout
    shape = (len(windows), 3, frames, len(joints), 1)
    if out is None or out.shape != shape:
        out = np.zeros(shape, dtype=np.float32)
    else:
        out.fill(0.0)
    for i, (xyz, conf) in enumerate(windows):
        xyz, conf = xyz[-frames:], conf[-frames:]
        count = xyz.shape[0]
        normalised = normalise_frames(xyz, conf, method, focal_length)
        frames_ctv = (normalised if every_joint else normalised[:, joints, :]).transpose(2, 0, 1)
        if method == "deepstream_app":
            out[i, :, frames - count :, :, 0] = frames_ctv
        else:
            out[i, :, :count, :, 0] = frames_ctv
    return out
