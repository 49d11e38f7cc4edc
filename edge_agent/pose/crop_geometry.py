"""Where BodyPose3DNet looks: the person crop exactly as NVIDIA's reference apps build it.

The DeepStream apps (deepstream-bodypose-3d `pgie_src_pad_buffer_probe`, and the same code in
deepstream_tao_apps' pose classification app) first pad the 1280x720 frame by 128 px on every
side, then turn each PeopleNet box into the crop BodyPose3DNet sees:

1. enlarge the half-sizes by 1.25 about the box centre;
2. make it square (the larger half-size for both), round width/height/left/top;
3. grow the height so the box has the model's 192:256 (3:4) aspect, round again;
4. clip: a negative left/top is set to 0 (the box *moves*, its size stays), a box past the
   right/bottom edge of the padded frame is shortened to end at `padded size - 1`.

Rounding is C `roundf` (half away from zero), not numpy's half-to-even, so the rectangles are
the reference's to the pixel. Every step runs vectorised over all boxes of a frame. Rectangles
are returned in *unpadded* frame pixels (they may start up to `pad` px left of / above the
frame); the pixels there are zeros, as in the padded frame the apps infer on.

The pad scales with the frame width (128 px at 1280 wide, integer arithmetic as in the app), so
a 1920x1080 camera behaves like the 1280x720 reference after DeepStream's resize.
"""

from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

MODEL_WIDTH_PX = 192
MODEL_HEIGHT_PX = 256
ENLARGE = 1.25
REFERENCE_WIDTH_PX = 1280
REFERENCE_PAD_PX = 128


def reference_pad_px(frame_width_px: int) -> int:
    """The reference app's pad for a frame this wide: 128 * width / 1280, integer division."""
    return REFERENCE_PAD_PX * int(frame_width_px) // REFERENCE_WIDTH_PX


def round_half_away(values: np.ndarray) -> np.ndarray:
    """C roundf: halves round away from zero (numpy's round sends 2.5 to 2)."""
    result: np.ndarray = np.sign(values) * np.floor(np.abs(values) + np.float32(0.5))
    return result.astype(np.float32)


def crop_rects(
    boxes_xyxy: np.ndarray, frame_width_px: int, frame_height_px: int, pad_px: int
) -> Tuple[np.ndarray, np.ndarray]:
    """Crop rectangles [K,4] (left, top, width, height; frame px) and a [K] validity mask.

    `boxes_xyxy` are detector boxes in frame pixels. A box that is not finite, has no area or
    whose clipped crop is empty is marked invalid (its rectangle is all zeros) instead of
    raising, so one bad track box does not drop the other people of the frame.
    """
    boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4)
    valid = np.isfinite(boxes).all(axis=1)
    valid &= (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    safe = np.where(valid[:, None], boxes, np.float32(0.0)) + np.float32(pad_px)
    half_w = (safe[:, 2] - safe[:, 0]) * np.float32(0.5)
    half_h = (safe[:, 3] - safe[:, 1]) * np.float32(0.5)
    centre_x = safe[:, 0] + half_w
    centre_y = safe[:, 1] + half_h
    half = np.maximum(half_w, half_h) * np.float32(ENLARGE)

    width = round_half_away(np.float32(2.0) * half)
    height = width.copy()
    left = round_half_away(centre_x - width / np.float32(2.0))
    top = round_half_away(centre_y - height / np.float32(2.0))

    # Step 3, written as the app's scale comparison so a non-square box (never the case after
    # step 2, but cheap to honour) takes the same branch as in C.
    half_w = width * np.float32(0.5)
    half_h = height * np.float32(0.5)
    centre_x = left + half_w
    centre_y = top + half_h
    x_scale = np.float32(MODEL_WIDTH_PX) / np.maximum(half_w, np.float32(1e-6))
    y_scale = np.float32(MODEL_HEIGHT_PX) / np.maximum(half_h, np.float32(1e-6))
    taller = x_scale < y_scale
    half_h = np.where(taller, np.float32(MODEL_HEIGHT_PX) / x_scale, half_h)
    half_w = np.where(taller, half_w, np.float32(MODEL_WIDTH_PX) / y_scale)
    width = round_half_away(np.float32(2.0) * half_w)
    height = round_half_away(np.float32(2.0) * half_h)
    left = round_half_away(centre_x - width / np.float32(2.0))
    top = round_half_away(centre_y - height / np.float32(2.0))

    padded_w = np.float32(frame_width_px + 2 * pad_px)
    padded_h = np.float32(frame_height_px + 2 * pad_px)
    left = np.maximum(left, np.float32(0.0))
    top = np.maximum(top, np.float32(0.0))
    width = np.where(left + width > padded_w - 1, padded_w - 1 - left, width)
    height = np.where(top + height > padded_h - 1, padded_h - 1 - top, height)
    valid &= (width >= 1) & (height >= 1)

    rects = np.stack([left - pad_px, top - pad_px, width, height], axis=1).astype(np.float32)
    rects[~valid] = 0.0
    return rects, valid


def crop_pixels(frame_bgr: np.ndarray, rect: np.ndarray, out: np.ndarray) -> None:
    """Stretch the frame pixels under `rect` (left, top, w, h; whole pixels) into `out`.

    `out` is [256,192,3] uint8. The crop is a view of the frame, bordered with zeros only
    where it reaches into the padding (a copy of the crop, never of the whole frame), then
    resized bilinearly: the same pixels the reference app's padded frame would give. A
    resize is ~3x cheaper than an affine warp of the same output in OpenCV.
    """
    height, width = frame_bgr.shape[:2]
    left, top, w, h = (int(v) for v in rect)
    x0, y0 = min(max(left, 0), width), min(max(top, 0), height)
    x1, y1 = max(min(left + w, width), x0), max(min(top + h, height), y0)
    crop = frame_bgr[y0:y1, x0:x1]
    if (x0, y0, x1, y1) != (left, top, left + w, top + h):
        if crop.size == 0:
            out.fill(0)
            return
        crop = cv2.copyMakeBorder(
            crop, y0 - top, top + h - y1, x0 - left, left + w - x1, cv2.BORDER_CONSTANT,
            value=(0, 0, 0),
        )
    cv2.resize(crop, (MODEL_WIDTH_PX, MODEL_HEIGHT_PX), dst=out,
               interpolation=cv2.INTER_LINEAR)
