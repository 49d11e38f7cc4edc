"""PeopleSemSegNet preprocessing and decoding, checked against the contract's formulas."""

from __future__ import annotations

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
