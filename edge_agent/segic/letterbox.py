"""SegIC's pre- and post-processing, exactly as its contract states (model-contracts.md section 6).

Preprocess (TAO `resize_item`): scale = 896 / max(H, W); bilinear resize by that *scale factor*
(PyTorch `F.interpolate(scale_factor=s)`, align_corners False) to h' = floor(H*s), w' =
floor(W*s); pad right and bottom to 896x896 (image with 128, mask with 0); `ori_sizes` = (h', w').
Postprocess (TAO `inference_batch`): crop the logits to [:h', :w'], bilinear-resize to the
original H x W (size mode), threshold > 0.

Why a hand-written resize instead of cv2.resize: the two resizes use different source-pixel
maps. PyTorch's scale-factor mode samples at (dst + 0.5) / s - 0.5, cv2 at (dst + 0.5) * in/out
- 0.5; on the short side in/out = H / floor(H*s) differs from 1/s, so cv2 would shift every
row by up to a fraction of a pixel. `bilinear_resize` implements the PyTorch map in float32 with
two separable gathers; it costs a few milliseconds per 1080p frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

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


def _axis_map(in_size: int, out_size: int, src_per_dst: float
              ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's align_corners=False source indices and weights along one axis.

    src = (dst + 0.5) * src_per_dst - 0.5, clamped below at 0; the second neighbour is
    clamped to the last pixel, so the border repeats.
    """
    dst = np.arange(out_size, dtype=np.float64)
    src = np.maximum((dst + 0.5) * src_per_dst - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    weight = (src - low).astype(np.float32)
    return low, high, weight


def bilinear_resize(planes: np.ndarray, out_hw: Tuple[int, int],
                    src_per_dst: Tuple[float, float]) -> np.ndarray:
    """Resize the last two axes of float32 `planes` [..., H, W] to `out_hw` bilinearly.

    `src_per_dst` is (rows, columns) source pixels per output pixel: 1/s for PyTorch's
    scale-factor mode, in/out for its size mode.
    """
    values = np.asarray(planes, dtype=np.float32)
    in_h, in_w = values.shape[-2], values.shape[-1]
    y0, y1, wy = _axis_map(in_h, out_hw[0], src_per_dst[0])
    x0, x1, wx = _axis_map(in_w, out_hw[1], src_per_dst[1])
    top = np.take(values, y0, axis=-2)
    rows = top + (np.take(values, y1, axis=-2) - top) * wy[:, None]
    left = np.take(rows, x0, axis=-1)
    out: np.ndarray = left + (np.take(rows, x1, axis=-1) - left) * wx
    return out


def preprocess_image(image_rgb: np.ndarray) -> Tuple[np.ndarray, Letterbox]:
    """RGB uint8/float [H, W, 3] -> float32 [1, 3, 896, 896] (0..255, pad 128) and its geometry."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) RGB, got shape {image_rgb.shape}")
    box = letterbox_for(int(image_rgb.shape[0]), int(image_rgb.shape[1]))
    planes = np.ascontiguousarray(image_rgb.transpose(2, 0, 1), dtype=np.float32)
    resized = bilinear_resize(planes, (box.resized_height, box.resized_width),
                              (1.0 / box.scale, 1.0 / box.scale))
    out = np.full((1, 3, NET_SIDE_PX, NET_SIDE_PX), IMAGE_PAD_VALUE, dtype=np.float32)
    out[0, :, :box.resized_height, :box.resized_width] = resized
    return out, box


def preprocess_mask(mask: np.ndarray) -> np.ndarray:
    """Grey 0..255 mask [H, W] -> float32 [1, 1, 896, 896], bilinear, zero padded."""
    if mask.ndim != 2:
        raise ValueError(f"mask must be (H, W) grey, got shape {mask.shape}")
    box = letterbox_for(int(mask.shape[0]), int(mask.shape[1]))
    resized = bilinear_resize(mask.astype(np.float32)[None],
                              (box.resized_height, box.resized_width),
                              (1.0 / box.scale, 1.0 / box.scale))
    out = np.full((1, 1, NET_SIDE_PX, NET_SIDE_PX), MASK_PAD_VALUE, dtype=np.float32)
    out[0, 0, :box.resized_height, :box.resized_width] = resized[0]
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
    return bilinear_resize(cropped, (box.height, box.width),
                           (box.resized_height / box.height, box.resized_width / box.width))


def threshold(frame_logits: np.ndarray) -> np.ndarray:
    """Boolean masks: logit strictly above 0 (the contract's threshold)."""
    out: np.ndarray = frame_logits > LOGIT_THRESHOLD
    return out
