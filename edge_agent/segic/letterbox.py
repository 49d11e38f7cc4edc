"""SegIC's pre- and post-processing, exactly as its contract states (model-contracts.md section 6).

Preprocess (TAO `resize_item`): scale = 896 / max(H, W); bilinear resize by that *scale factor*
(PyTorch `F.interpolate(scale_factor=s)`, align_corners False) to h' = floor(H*s), w' =
floor(W*s); pad right and bottom to 896x896 (image with 128, mask with 0); `ori_sizes` = (h', w').
Postprocess (TAO `inference_batch`): crop the logits to [:h', :w'], bilinear-resize to the
original H x W (size mode), threshold > 0.

Why not plain cv2.resize(dsize=(w', h')): the two resizes use different source-pixel maps.
PyTorch's scale-factor mode samples at (dst + 0.5) / s - 0.5, cv2 with a target size at
(dst + 0.5) * in/out - 0.5; on the short side in/out = H / floor(H*s) differs from 1/s, which
shifts every row by up to a fraction of a pixel. Given fx/fy instead of a size, OpenCV maps with
exactly 1/s but sizes its output round(H*s); the map of a pixel does not depend on the output
size, so cropping that to floor(H*s) gives the contract's pixels. Float input keeps OpenCV on
its float-coefficient path (uint8 would use 11-bit fixed-point weights).
`tests/test_segic_preprocess.py` checks both directions against a per-pixel restatement of the
PyTorch formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

NET_SIDE_PX = 896
IMAGE_PAD_VALUE = 128.0
MASK_PAD_VALUE = 0.0
LOGIT_THRESHOLD = 0.0


@dataclass(frozen=True)
class Letterbox:
    """Where an H x W image lands on the 896 grid: top-left h' x w', the rest padding."""

    height: int
    width: int
    resized_height: int
    resized_width: int
    scale: float

    @property
    def ori_sizes(self) -> np.ndarray:
        """The model's `ori_sizes` row: INT32 [1, 2] = (h', w')."""
        return np.array([[self.resized_height, self.resized_width]], dtype=np.int32)


def letterbox_for(height: int, width: int, side_px: int = NET_SIDE_PX) -> Letterbox:
    """The contract's geometry for an image of `height` x `width` pixels."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    scale = side_px / max(height, width)
    # floor(H * s) as PyTorch computes the output size for a scale factor (in double).
    return Letterbox(height, width, int(math.floor(height * scale)),
                     int(math.floor(width * scale)), scale)


def resize_by_scale(planes_hwc: np.ndarray, scale: float, out_hw: Tuple[int, int]
                    ) -> np.ndarray:
    """float32 [H, W, C] resized by `scale` with PyTorch's scale-factor map, cut to `out_hw`."""
    values = np.ascontiguousarray(planes_hwc, dtype=np.float32)
    resized = cv2.resize(values, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    if resized.ndim == 2:
        resized = resized[:, :, None]
    if resized.shape[0] < out_hw[0] or resized.shape[1] < out_hw[1]:
        raise ValueError(f"resize gave {resized.shape[:2]}, smaller than {out_hw}")
    out: np.ndarray = resized[: out_hw[0], : out_hw[1]]
    return out


def resize_to_size(plane: np.ndarray, out_hw: Tuple[int, int]) -> np.ndarray:
    """float32 [h, w] bilinear to `out_hw` in PyTorch's size mode (map = in/out)."""
    values = np.ascontiguousarray(plane, dtype=np.float32)
    out: np.ndarray = cv2.resize(values, (out_hw[1], out_hw[0]), interpolation=cv2.INTER_LINEAR)
    return out


def preprocess_image(image_rgb: np.ndarray) -> Tuple[np.ndarray, Letterbox]:
    """RGB uint8/float [H, W, 3] -> float32 [1, 3, 896, 896] (0..255, pad 128) and its geometry."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) RGB, got shape {image_rgb.shape}")
    box = letterbox_for(int(image_rgb.shape[0]), int(image_rgb.shape[1]))
    resized = resize_by_scale(image_rgb, box.scale, (box.resized_height, box.resized_width))
    out = np.full((1, 3, NET_SIDE_PX, NET_SIDE_PX), IMAGE_PAD_VALUE, dtype=np.float32)
    out[0, :, :box.resized_height, :box.resized_width] = resized.transpose(2, 0, 1)
    return out, box


def preprocess_mask(mask: np.ndarray) -> np.ndarray:
    """Grey 0..255 mask [H, W] -> float32 [1, 1, 896, 896], bilinear, zero padded."""
    if mask.ndim != 2:
        raise ValueError(f"mask must be (H, W) grey, got shape {mask.shape}")
    box = letterbox_for(int(mask.shape[0]), int(mask.shape[1]))
    resized = resize_by_scale(mask, box.scale, (box.resized_height, box.resized_width))
    out = np.full((1, 1, NET_SIDE_PX, NET_SIDE_PX), MASK_PAD_VALUE, dtype=np.float32)
    out[0, 0, :box.resized_height, :box.resized_width] = resized[:, :, 0]
    return out


def logits_to_frame(logits: np.ndarray, box: Letterbox) -> np.ndarray:
    """Mask logits [P, 1, 896, 896] (or [P, 896, 896]) -> float32 logits [P, H, W] on the frame.

    Crop to the resized area, then bilinear in size mode (source per output = h'/H, w'/W).
    """
    grid = logits.reshape(logits.shape[0], logits.shape[-2], logits.shape[-1])
    if grid.shape[1] < box.resized_height or grid.shape[2] < box.resized_width:
        raise ValueError(f"mask logits {grid.shape[1]}x{grid.shape[2]} are smaller than the "
                         f"resized image {box.resized_height}x{box.resized_width}")
    cropped = grid[:, :box.resized_height, :box.resized_width]
    return np.stack([resize_to_size(plane, (box.height, box.width)) for plane in cropped])


def threshold(frame_logits: np.ndarray) -> np.ndarray:
    """Boolean masks: logit strictly above 0 (the contract's threshold)."""
    out: np.ndarray = frame_logits > LOGIT_THRESHOLD
    return out
