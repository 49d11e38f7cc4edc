"""BodyPose3DNet: person crops from many cameras in, 34 keypoints per person out.

Contract (docs: model-contracts.md section 4; engines/models/bodypose3dnet.toml):
`input0` float32 [N,3,256,192], BGR, x/255, stretched from the crop of pose.crop_geometry;
four constant inputs per batch item (`k_inv` of the 192x256 crop with f = 800.79 px and the
principal point at its centre, `t_form_inv` = identity, two 36-value limb-length tables); of
the outputs only `pose25d` [N,34,4] = (x, y in crop pixels, zRel relative to the pelvis
(see pose.lifting for its unit), confidence) has documented semantics, so that is decoded.

The DeepStream sample writes the constants into the first batch slot only; whether an engine
needs them in every slot is unconfirmed, so they are replicated (always correct, 1.2 KB per
person).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from edge_agent.errors import ModelContractError
from edge_agent.pose.crop_geometry import (
    MODEL_HEIGHT_PX,
    MODEL_WIDTH_PX,
    crop_pixels,
    crop_rects,
    reference_pad_px,
)
from edge_agent.pose.joints import NUM_JOINTS

INPUT_NAME = "input0"
POSE25D_NAME = "pose25d"
CROP_FOCAL_PX = 800.79
_K_INV = np.array(
    [
        [1.0 / CROP_FOCAL_PX, 0.0, -96.0 / CROP_FOCAL_PX],
        [0.0, 1.0 / CROP_FOCAL_PX, -128.0 / CROP_FOCAL_PX],
        [0.0, 0.0, 1.0],
    ],
    dtype=np.float32,
)
_T_FORM_INV = np.eye(3, dtype=np.float32)
SCALE_NORMALIZED_MEAN_LIMB_LENGTHS = np.array(
    [0.5, 0.5, 1.0, 0.8175, 0.9889, 0.2610, 0.7942, 0.5724, 0.5078] + [0.0] * 7
    + [0.3433, 0.8171, 0.9912, 0.2610, 0.8259, 0.5724, 0.5078] + [0.0] * 7
    + [0.3422] + [0.0] * 5,
    dtype=np.float32,
)
MEAN_LIMB_LENGTHS_MM = np.array(
    [246.3427, 246.3427, 492.6854, 402.4380, 487.0321, 128.6856, 391.6295, 281.9928, 249.9478]
    + [0.0] * 7
    + [169.1832, 402.2611, 488.1824, 128.6848, 407.5836, 281.9897, 249.9489] + [0.0] * 7
    + [168.6137] + [0.0] * 5,
    dtype=np.float32,
)
# Per batch item, in feed order after input0.
CONSTANT_INPUTS: Dict[str, np.ndarray] = {
    "k_inv": _K_INV,
    "t_form_inv": _T_FORM_INV,
    "scale_normalized_mean_limb_lengths": SCALE_NORMALIZED_MEAN_LIMB_LENGTHS,
    "mean_limb_lengths": MEAN_LIMB_LENGTHS_MM,
}


def constant_feeds(batch: int) -> Dict[str, np.ndarray]:
    """The four constant inputs, replicated for `batch` items."""
    return {
        name: np.ascontiguousarray(np.broadcast_to(value, (batch,) + value.shape))
        for name, value in CONSTANT_INPUTS.items()
    }


@dataclass
class PoseBatch:
    """One BodyPose3DNet batch built from the people of several frames (cameras).

    `owners[i]` = (frame index in the request, box index in that frame) of crop i, so results
    go back to the right camera and track; `rects_px` are the crops in their frame's pixels.
    """

    input0: np.ndarray
    rects_px: np.ndarray
    owners: List[Tuple[int, int]]
    invalid_boxes: int = 0

    @property
    def size(self) -> int:
        return len(self.owners)

    def feeds(self, start: int = 0, stop: int = -1) -> Dict[str, np.ndarray]:
        """Feeds of crops [start:stop) (all by default), for engines with a max batch."""
        stop = self.size if stop < 0 else min(stop, self.size)
        feeds = {INPUT_NAME: self.input0[start:stop]}
        feeds.update(constant_feeds(max(stop - start, 0)))
        return feeds


def build_pose_batch(
    frames: Sequence[Tuple[np.ndarray, np.ndarray]], pad_px: int = -1
) -> PoseBatch:
    """Crops of every box of every (frame BGR uint8 [H,W,3], boxes [K,4] xyxy px) pair.

    `pad_px` < 0 uses the reference pad for each frame's width. Boxes that cannot give a crop
    (not finite, no area, outside the padded frame) are skipped and counted in
    `invalid_boxes`.
    """
    rects: List[np.ndarray] = []
    owners: List[Tuple[int, int]] = []
    invalid = 0
    for frame_index, (frame, boxes) in enumerate(frames):
        height, width = frame.shape[:2]
        pad = reference_pad_px(width) if pad_px < 0 else pad_px
        frame_rects, valid = crop_rects(boxes, width, height, pad)
        invalid += int((~valid).sum())
        for box_index in np.flatnonzero(valid):
            rects.append(frame_rects[box_index])
            owners.append((frame_index, int(box_index)))
    pixels = np.empty((len(owners), MODEL_HEIGHT_PX, MODEL_WIDTH_PX, 3), dtype=np.uint8)
    for i, (frame_index, _) in enumerate(owners):
        crop_pixels(frames[frame_index][0], rects[i], pixels[i])
    # HWC uint8 -> CHW float32 x/255; BGR stays BGR (model-color-format=1). Transposing the
    # bytes first and scaling contiguous memory after is ~2x faster than one strided pass.
    planar = np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))
    input0 = np.empty(planar.shape, dtype=np.float32)
    np.multiply(planar, np.float32(1.0 / 255.0), out=input0)
    rects_px = np.stack(rects) if rects else np.zeros((0, 4), np.float32)
    return PoseBatch(input0=input0, rects_px=rects_px, owners=owners, invalid_boxes=invalid)


@dataclass(frozen=True)
class DecodedPoses:
    """`pose25d` of a batch in frame coordinates; rows with `valid` False must be ignored.

    keypoints_px [N,34,2] frame pixels, z_rel [N,34] (model units), confidence [N,34];
    `skipped_nan` / `skipped_no_confidence` count the rows rejected for each reason.
    """

    keypoints_px: np.ndarray
    z_rel: np.ndarray
    confidence: np.ndarray
    valid: np.ndarray
    skipped_nan: int
    skipped_no_confidence: int


def check_pose25d(raw: np.ndarray, count: int) -> np.ndarray:
    """`pose25d` of `count` crops as float32 [count,34,4], or a ModelContractError."""
    array = np.asarray(raw)
    if array.shape != (count, NUM_JOINTS, 4):
        raise ModelContractError(
            f"BodyPose3DNet returned pose25d of shape {array.shape} for {count} crops; "
            f"expected [{count},{NUM_JOINTS},4]",
            "use the BodyPose3DNet deployable ONNX (or its stand-in) that the manifest names",
        )
    return array.astype(np.float32, copy=False)


def decode_pose25d(raw: np.ndarray, rects_px: np.ndarray) -> DecodedPoses:
    """Map crop-pixel keypoints to frame pixels: x * w / 192 + left, y * h / 256 + top.

    A row with any NaN/inf, or whose confidences are all <= 0, is invalid: it would poison the
    smoothing filters and the sequence buffer, and the reference app has no such guard.
    """
    pose = check_pose25d(raw, int(np.asarray(rects_px).shape[0]))
    rects = np.asarray(rects_px, dtype=np.float32).reshape(-1, 4)
    finite = np.isfinite(pose).all(axis=(1, 2))
    confident = (np.where(finite[:, None], pose[:, :, 3], 0.0) > 0.0).any(axis=1)
    valid = finite & confident
    safe = np.where(finite[:, None, None], pose, np.float32(0.0))
    scale = np.stack([rects[:, 2] / MODEL_WIDTH_PX, rects[:, 3] / MODEL_HEIGHT_PX], axis=1)
    keypoints = safe[:, :, :2] * scale[:, None, :] + rects[:, None, :2]
    return DecodedPoses(
        keypoints_px=keypoints.astype(np.float32),
        z_rel=safe[:, :, 2].copy(),
        confidence=safe[:, :, 3].copy(),
        valid=valid,
        skipped_nan=int((~finite).sum()),
        skipped_no_confidence=int((finite & ~confident).sum()),
    )
