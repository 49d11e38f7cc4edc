"""PeopleSemSegNet preprocessing and decoding, checked against the contract's formulas."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_agent.errors import ModelContractError
from edge_agent.models import semseg


def test_preprocess_matches_contract_formula() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, size=(544, 960, 3), dtype=np.uint8)  # already network size
    blob = semseg.preprocess([frame])
    assert blob.shape == (1, 3, 544, 960)
    assert blob.dtype == np.float32
    expected = frame.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0  # BGR kept
    np.testing.assert_allclose(blob[0], expected, atol=1e-5)


def test_preprocess_stretches_and_keeps_bgr_order() -> None:
    frame = np.zeros((100, 50, 3), dtype=np.uint8)
    frame[..., 0] = 255  # blue channel in BGR
    blob = semseg.preprocess([frame, frame])
    assert blob.shape == (2, 3, 544, 960)
    np.testing.assert_allclose(blob[:, 0], 1.0, atol=1e-6)  # channel 0 stays blue
    np.testing.assert_allclose(blob[:, 1:], -1.0, atol=1e-6)


def test_preprocess_rejects_empty_batch() -> None:
    with pytest.raises(ValueError):
        semseg.preprocess([])


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_decode_accepts_int64_and_int32(dtype: type) -> None:
    raw = np.zeros((2, 544, 960, 1), dtype=dtype)
    raw[1, 10:20, 30:40, 0] = 1
    maps = semseg.decode_class_maps(raw)
    assert maps.shape == (2, 544, 960)
    assert maps.dtype == np.uint8
    assert int(maps[1].sum()) == 100
    assert int(maps[0].sum()) == 0


@pytest.mark.parametrize(
    "raw",
    [np.zeros((1, 544, 960, 1), dtype=np.float32), np.zeros((1, 544, 960), dtype=np.int64)],
)
def test_decode_rejects_wrong_contract(raw: np.ndarray) -> None:
    with pytest.raises(ModelContractError):
        semseg.decode_class_maps(raw)


def test_mask_scaled_back_to_frame_with_nearest_neighbour() -> None:
    class_map = np.zeros((544, 960), dtype=np.uint8)
    class_map[:, 480:] = 1  # right half person
    output = semseg.SegOutput(class_map, (1280, 720))
    mask = output.frame_mask()
    assert mask.shape == (720, 1280)
    assert set(np.unique(mask.astype(np.uint8)).tolist()) == {0, 1}
    assert mask[:, 640:].all() and not mask[:, :640].any()
    assert output.person_fraction() == pytest.approx(0.5)


def test_split_batch_checks_count() -> None:
    maps = np.zeros((2, 544, 960), dtype=np.uint8)
    with pytest.raises(ModelContractError):
        semseg.split_batch(maps, [(10, 10)])
    outputs = semseg.split_batch(maps, [(10, 20), (30, 40)])
    assert [o.frame_size for o in outputs] == [(10, 20), (30, 40)]


def test_class_map_scaling_samples_pixel_centres() -> None:
    from edge_agent.models.semseg import _nearest_centre, resize_class_map

    # Columns 1 and 2 of every 4-pixel block are person: the centre of each block (x = 4k+2
    # in source pixels) is person, its top-left corner (4k) is not.
    class_map = np.zeros((544, 960), np.uint8)
    class_map[:, 1::4] = 1
    class_map[:, 2::4] = 1
    small = resize_class_map(class_map, 240, 136)
    assert small.shape == (136, 240) and small.all()
    assert not cv2.resize(class_map, (240, 136), interpolation=cv2.INTER_NEAREST).any()
    # The numpy path (OpenCV < 4.5) and OpenCV's INTER_NEAREST_EXACT agree bit for bit at
    # the usual sizes; at odd ratios OpenCV's fixed-point arithmetic rounds a source
    # position that lies exactly between two pixels the other way in one column.
    rng = np.random.default_rng(3)
    noisy = (rng.random((544, 960)) < 0.3).astype(np.uint8)
    for width, height in ((240, 136), (1920, 1080), (640, 480), (480, 272)):
        np.testing.assert_array_equal(resize_class_map(noisy, width, height),
                                      _nearest_centre(noisy, width, height))
    odd = resize_class_map(noisy, 961, 545) != _nearest_centre(noisy, 961, 545)
    assert odd.mean() < 0.001


def test_mask_event_size_agrees_with_the_bilinear_overlay() -> None:
    """People-sized ellipses; bench/bench_semseg_resize.py measures the full comparison."""
    from edge_agent.models.semseg import resize_class_map

    def iou(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.count_nonzero(a & b)) / max(np.count_nonzero(a | b), 1)

    rng = np.random.default_rng(0)
    scores, top_left = [], []
    for _ in range(20):
        m = np.zeros((544, 960), np.uint8)
        for _ in range(8):
            h = rng.uniform(30, 200)
            centre = (int(rng.uniform(0, 960)), int(rng.uniform(0, 544)))
            cv2.ellipse(m, centre, (max(int(h / 6), 1), int(h / 2)), 0, 0, 360, 1, -1)
        reference = cv2.resize(m.astype(np.float32), (240, 136),
                               interpolation=cv2.INTER_LINEAR) >= 0.5
        scores.append(iou(resize_class_map(m, 240, 136) == 1, reference))
        top_left.append(iou(cv2.resize(m, (240, 136), interpolation=cv2.INTER_NEAREST) == 1,
                            reference))
    # Measured: 0.973 pixel-centre, 0.922 top-left on these ellipses.
    assert np.mean(scores) >= 0.96 and np.mean(scores) > np.mean(top_left) + 0.03
