"""SegIC pre/post-processing against the contract, restated independently here.

The reference below is a per-pixel loop of PyTorch's bilinear (align_corners=False) formula:
source = (dst + 0.5) * in_per_out - 0.5, clamped at 0; scale-factor mode uses 1/s, size mode
in/out. Sizes are chosen where floor(H*s) makes 1/s and H/h' differ, which is exactly where
cv2.resize would be wrong.
"""

from __future__ import annotations

import math
from typing import Tuple

import numpy as np
import pytest

from edge_agent.segic.letterbox import (
    IMAGE_PAD_VALUE,
    letterbox_for,
    logits_to_frame,
    preprocess_image,
    preprocess_mask,
    threshold,
)


def reference_pixel(plane: np.ndarray, y: int, x: int, ry: float, rx: float) -> float:
    in_h, in_w = plane.shape
    sy = max((y + 0.5) * ry - 0.5, 0.0)
    y0 = min(int(math.floor(sy)), in_h - 1)
    y1 = min(y0 + 1, in_h - 1)
    ly = sy - y0
    sx = max((x + 0.5) * rx - 0.5, 0.0)
    x0 = min(int(math.floor(sx)), in_w - 1)
    x1 = min(x0 + 1, in_w - 1)
    lx = sx - x0
    top = plane[y0, x0] * (1 - lx) + plane[y0, x1] * lx
    bottom = plane[y1, x0] * (1 - lx) + plane[y1, x1] * lx
    return float(top * (1 - ly) + bottom * ly)


def reference_resize(plane: np.ndarray, out_h: int, out_w: int, ry: float, rx: float,
                     samples: int = 3000) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference at every border pixel plus `samples` random ones: (rows, cols, values)."""
    rng = np.random.RandomState(out_h * 7919 + out_w)
    rows = np.concatenate([rng.randint(0, out_h, samples), np.zeros(out_w, int),
                           np.full(out_w, out_h - 1), np.arange(out_h), np.arange(out_h)])
    cols = np.concatenate([rng.randint(0, out_w, samples), np.arange(out_w), np.arange(out_w),
                           np.zeros(out_h, int), np.full(out_h, out_w - 1)])
    values = np.array([reference_pixel(plane, int(y), int(x), ry, rx)
                       for y, x in zip(rows, cols)])
    return rows, cols, values


def assert_matches(ours: np.ndarray, ref: Tuple[np.ndarray, np.ndarray, np.ndarray],
                   atol: float) -> None:
    rows, cols, values = ref
    np.testing.assert_allclose(ours[rows, cols], values, atol=atol)


@pytest.mark.parametrize("height,width", [(1080, 1920), (480, 640), (37, 53), (900, 450),
                                          (896, 896)])
def test_geometry_is_floor_of_scaled_size(height: int, width: int) -> None:
    box = letterbox_for(height, width)
    scale = 896 / max(height, width)
    assert (box.resized_height, box.resized_width) == (math.floor(height * scale),
                                                       math.floor(width * scale))
    assert max(box.resized_height, box.resized_width) == 896
    assert box.ori_sizes.dtype == np.int32 and box.ori_sizes.tolist() == [
        [box.resized_height, box.resized_width]]


def test_1080p_lands_on_504_rows() -> None:
    box = letterbox_for(1080, 1920)
    assert (box.resized_height, box.resized_width) == (504, 896)


def test_image_resize_pad_and_channel_order_match_the_reference() -> None:
    rng = np.random.RandomState(3)
    image = rng.randint(0, 256, size=(37, 53, 3)).astype(np.uint8)  # RGB
    blob, box = preprocess_image(image)
    assert blob.shape == (1, 3, 896, 896) and blob.dtype == np.float32
    h, w = box.resized_height, box.resized_width
    assert (h, w) == (625, 896)
    for channel in range(3):
        expected = reference_resize(image[:, :, channel].astype(np.float64), h, w,
                                    1 / box.scale, 1 / box.scale)
        assert_matches(blob[0, channel, :h, :w], expected, atol=2e-3)
    assert np.all(blob[0, :, h:, :] == IMAGE_PAD_VALUE)
    assert np.all(blob[0, :, :, w:] == IMAGE_PAD_VALUE)
    # Values stay 0..255 (no normalisation on the host).
    assert blob[0, :, :h, :w].min() >= 0 and blob[0, :, :h, :w].max() <= 255


def test_scale_factor_mode_differs_from_size_mode_on_the_short_side() -> None:
    # 1/s = 53/896 but h'/H ratio is 37/625: the contract's map is the former.
    rng = np.random.RandomState(4)
    plane = rng.uniform(0, 255, size=(37, 53))
    box = letterbox_for(37, 53)
    by_scale = reference_resize(plane, 625, 896, 1 / box.scale, 1 / box.scale)[2]
    by_size = reference_resize(plane, 625, 896, 37 / 625, 53 / 896)[2]
    pixels = np.floor(plane).astype(np.uint8)
    blob, _ = preprocess_image(np.repeat(pixels[:, :, None], 3, axis=2))
    ref = reference_resize(pixels.astype(np.float64), 625, 896, 1 / box.scale, 1 / box.scale)
    assert_matches(blob[0, 0, :625, :896], ref, atol=2e-3)
    assert np.abs(by_scale - by_size).max() > 0.5


def test_mask_is_bilinear_and_zero_padded() -> None:
    mask = np.zeros((40, 20), np.uint8)
    mask[10:30, 5:15] = 255
    blob = preprocess_mask(mask)
    box = letterbox_for(40, 20)
    h, w = box.resized_height, box.resized_width
    assert (h, w) == (896, 448)
    assert_matches(blob[0, 0, :h, :w], reference_resize(
        mask.astype(np.float64), h, w, 1 / box.scale, 1 / box.scale), atol=2e-3)
    assert np.all(blob[0, 0, :, w:] == 0.0)


def test_postprocess_crops_resizes_in_size_mode_and_thresholds_above_zero() -> None:
    rng = np.random.RandomState(5)
    box = letterbox_for(37, 53)
    logits = rng.uniform(-1, 1, size=(2, 1, 896, 896)).astype(np.float32)
    logits[:, :, 625:, :] = 50.0  # padding must be cropped away, whatever it holds
    frame = logits_to_frame(logits, box)
    assert frame.shape == (2, 37, 53)
    for p in range(2):
        expected = reference_resize(logits[p, 0, :625, :896].astype(np.float64), 37, 53,
                                    625 / 37, 896 / 53)
        assert_matches(frame[p], expected, atol=1e-4)
    masks = threshold(frame)
    assert masks.dtype == bool
    assert np.array_equal(masks, frame > 0)
    assert not threshold(np.zeros((1, 2, 2), np.float32)).any()  # 0 is not foreground


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="RGB"):
        preprocess_image(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="grey"):
        preprocess_mask(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="positive"):
        letterbox_for(0, 10)


@pytest.mark.parametrize("height,width", [(1080, 1920), (1792, 1000), (300, 2000)])
def test_common_and_integer_ratio_frames_match_the_reference(height: int, width: int) -> None:
    # 1792 -> 896 is an exact halving, where a resize library could take a shortcut path.
    rng = np.random.RandomState(height)
    image = rng.randint(0, 256, size=(height, width, 3)).astype(np.uint8)
    blob, box = preprocess_image(image)
    h, w = box.resized_height, box.resized_width
    ref = reference_resize(image[:, :, 1].astype(np.float64), h, w, 1 / box.scale,
                           1 / box.scale, samples=1500)
    assert_matches(blob[0, 1, :h, :w], ref, atol=2e-3)


def test_postprocess_of_a_1080p_frame_matches_the_reference() -> None:
    rng = np.random.RandomState(9)
    box = letterbox_for(1080, 1920)
    logits = rng.uniform(-3, 3, size=(1, 1, 896, 896)).astype(np.float32)
    frame = logits_to_frame(logits, box)
    assert frame.shape == (1, 1080, 1920)
    ref = reference_resize(logits[0, 0, :504, :896].astype(np.float64), 1080, 1920,
                           504 / 1080, 896 / 1920, samples=1500)
    assert_matches(frame[0], ref, atol=1e-4)
