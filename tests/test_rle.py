"""RLE codec against pycocotools, the reference implementation consumers will use."""

from __future__ import annotations

from typing import List

import numpy as np
import pytest
from pycocotools import mask as coco

from edge_agent.events.rle import Rle, decode_rle, encode_rle, rle_from_string, rle_to_string

# pycocotools' compiled decode trips a numpy 2 DeprecationWarning (its __array__ lacks the
# 'copy' keyword); that is pycocotools' problem, not ours, so only that warning is allowed.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def _coco_string(mask: np.ndarray) -> str:
    counts: bytes = coco.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"]
    return counts.decode("ascii")


def _coco_decode(counts: List[int], height: int, width: int) -> np.ndarray:
    rle = coco.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    return np.asarray(coco.decode(rle))


def _check_against_coco(mask: np.ndarray) -> None:
    height, width = mask.shape
    rle = encode_rle(mask)
    assert rle.size == (height, width)
    assert sum(rle.counts) == height * width
    assert np.array_equal(_coco_decode(rle.counts, height, width), mask.astype(np.uint8))
    text = rle_to_string(rle.counts)
    assert text == _coco_string(mask)
    assert rle_from_string(text) == rle.counts
    assert np.array_equal(decode_rle(rle), mask.astype(np.uint8))


def test_empty_mask_is_one_background_run() -> None:
    mask = np.zeros((136, 240), dtype=np.uint8)
    assert encode_rle(mask).counts == [136 * 240]
    _check_against_coco(mask)


def test_full_mask_starts_with_zero_length_background_run() -> None:
    mask = np.ones((136, 240), dtype=np.uint8)
    assert encode_rle(mask).counts == [0, 136 * 240]
    _check_against_coco(mask)


def test_single_pixel_is_counted_in_column_major_order() -> None:
    mask = np.zeros((4, 5), dtype=np.uint8)
    mask[2, 1] = 1  # column 1 starts at flat index 4, row 2 -> index 6
    assert encode_rle(mask).counts == [6, 1, 13]
    _check_against_coco(mask)


def test_first_pixel_set() -> None:
    mask = np.zeros((3, 3), dtype=np.uint8)
    mask[0, 0] = 1
    assert encode_rle(mask).counts == [0, 1, 8]
    _check_against_coco(mask)


def test_last_pixel_set() -> None:
    mask = np.zeros((3, 3), dtype=np.uint8)
    mask[2, 2] = 1
    assert encode_rle(mask).counts == [8, 1]
    _check_against_coco(mask)


def test_bool_and_nonzero_values_count_as_set() -> None:
    values = np.array([[0, 7], [255, 0]], dtype=np.uint8)
    assert encode_rle(values).counts == encode_rle(values.astype(bool)).counts == [1, 2, 1]


@pytest.mark.parametrize("seed", range(40))
def test_random_masks_match_pycocotools(seed: int) -> None:
    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(1, 64, size=2))
    mask = (rng.random((height, width)) < rng.random()).astype(np.uint8)
    _check_against_coco(mask)


@pytest.mark.parametrize("seed", range(5))
def test_blob_masks_at_event_resolution_match_pycocotools(seed: int) -> None:
    """Large runs exercise multi-character values and negative deltas."""
    rng = np.random.default_rng(1000 + seed)
    mask = np.zeros((544, 960), dtype=np.uint8)
    for _ in range(8):
        top, left = int(rng.integers(0, 500)), int(rng.integers(0, 900))
        mask[top : top + int(rng.integers(5, 300)), left : left + int(rng.integers(3, 200))] = 1
    _check_against_coco(mask)


def test_fortran_ordered_input_gives_the_same_runs() -> None:
    rng = np.random.default_rng(7)
    mask = (rng.random((30, 17)) < 0.3).astype(np.uint8)
    assert encode_rle(np.asfortranarray(mask)) == encode_rle(mask)


def test_zero_sized_mask() -> None:
    rle = encode_rle(np.zeros((0, 5), dtype=np.uint8))
    assert rle == Rle(size=(0, 5), counts=[])
    assert rle_to_string(rle.counts) == ""
    assert rle_from_string("") == []


def test_rejects_non_2d_masks() -> None:
    with pytest.raises(ValueError, match="2-D"):
        encode_rle(np.zeros((2, 2, 3), dtype=np.uint8))


def test_decode_rejects_runs_that_do_not_cover_the_grid() -> None:
    with pytest.raises(ValueError, match="cover"):
        decode_rle(Rle(size=(2, 2), counts=[1, 2]))


@pytest.mark.parametrize("text", ["!", "0`", "p"])
def test_rle_from_string_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="COCO RLE"):
        rle_from_string(text)
