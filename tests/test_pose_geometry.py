"""BodyPose3DNet crops, feeds and decode: the reference app's geometry to the pixel."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_agent.errors import ModelContractError
from edge_agent.pose.bodypose3d import (
    MEAN_LIMB_LENGTHS_MM,
    SCALE_NORMALIZED_MEAN_LIMB_LENGTHS,
    build_pose_batch,
    check_pose25d,
    decode_pose25d,
)
from edge_agent.pose.crop_geometry import (
    crop_pixels,
    crop_rects,
    reference_pad_px,
    round_half_away,
)


def test_rect_follows_the_reference_steps_worked_by_hand() -> None:
    # Box 100x300 at (100,100); padded by 128: centre (278, 378); half 150*1.25 = 187.5 ->
    # 375 square at (91, 191) [90.5 and 190.5 round up]; 3:4 -> 375x500 at (91, 129);
    # back in frame pixels: (-37, 1).
    rects, valid = crop_rects(np.array([[100, 100, 200, 400]]), 1280, 720, 128)
    assert valid.tolist() == [True]
    assert rects[0].tolist() == [-37.0, 1.0, 375.0, 500.0]
    assert rects[0, 2] / rects[0, 3] == pytest.approx(192 / 256)


def test_wide_box_is_squared_on_its_longer_side() -> None:
    rects, _ = crop_rects(np.array([[400, 300, 600, 340]]), 1280, 720, 128)
    # half-sizes (100, 20) -> 125 -> 250 square, then 250 x 333 (333.33 rounds down).
    assert rects[0, 2:].tolist() == [250.0, 333.0]
    centre_x = rects[0, 0] + rects[0, 2] / 2
    assert centre_x == pytest.approx(500.0, abs=1.0)


def test_clipping_moves_a_box_at_the_top_left_and_shortens_one_at_the_bottom_right() -> None:
    rects, valid = crop_rects(
        np.array([[-128, -128, -40, -40], [1250, 600, 1350, 800]]), 1280, 720, 128
    )
    assert valid.tolist() == [True, True]
    # Padded box 0..88: 110 square at -11 -> 110 x 147 at (-11, -30); left/top clip to the
    # padded frame's 0 (= -pad in frame pixels) and the size is kept.
    assert rects[0].tolist() == [-128.0, -128.0, 110.0, 147.0]
    # Right/bottom end at padded size - 1 = 1280 + 256 - 1 -> frame x 1407, y 847.
    assert rects[1, 0] + rects[1, 2] == 1280 + 128 - 1
    assert rects[1, 1] + rects[1, 3] == 720 + 128 - 1


def test_unusable_boxes_are_marked_not_raised() -> None:
    boxes = np.array([[0, 0, 0, 0], [np.nan, 0, 5, 5], [10, 10, 5, 20], [10, 10, 50, 90]])
    rects, valid = crop_rects(boxes, 640, 480, 64)
    assert valid.tolist() == [False, False, False, True]
    assert not rects[:3].any()


def test_rounding_is_c_roundf_and_pad_scales_with_width() -> None:
    assert round_half_away(np.array([0.5, 1.5, 2.5, -2.5], np.float32)).tolist() == [
        1.0, 2.0, 3.0, -3.0
    ]
    assert reference_pad_px(1280) == 128
    assert reference_pad_px(1920) == 192
    assert reference_pad_px(1000) == 100


def test_crop_pixels_equal_a_resize_inside_and_zeros_in_the_padding() -> None:
    rng = np.random.RandomState(0)
    frame = rng.randint(0, 256, (360, 640, 3)).astype(np.uint8)
    out = np.empty((256, 192, 3), np.uint8)
    crop_pixels(frame, np.array([100, 50, 96, 128], np.float32), out)
    expected = cv2.resize(frame[50:178, 100:196], (192, 256), interpolation=cv2.INTER_LINEAR)
    assert (out == expected).all()
    # Half outside: the outside half is the padding's zeros, the inside half the frame.
    crop_pixels(frame, np.array([-96, 0, 192, 256], np.float32), out)
    padded = cv2.copyMakeBorder(frame[0:256, 0:96], 0, 0, 96, 0, cv2.BORDER_CONSTANT, value=0)
    assert (out == cv2.resize(padded, (192, 256), interpolation=cv2.INTER_LINEAR)).all()
    assert not out[:, :90].any()
    crop_pixels(frame, np.array([-300, -300, 192, 256], np.float32), out)
    assert not out.any()  # entirely in the padded border


def test_batch_spans_cameras_and_replicates_the_constants() -> None:
    frame_a = np.full((720, 1280, 3), 200, np.uint8)
    frame_b = np.full((480, 640, 3), 50, np.uint8)
    batch = build_pose_batch(
        [
            (frame_a, np.array([[100, 100, 200, 400], [0, 0, 0, 0], [500, 200, 600, 500]])),
            (frame_b, np.array([[10, 10, 50, 90]])),
        ]
    )
    assert batch.owners == [(0, 0), (0, 2), (1, 0)]
    assert batch.invalid_boxes == 1
    assert batch.input0.shape == (3, 3, 256, 192) and batch.input0.dtype == np.float32
    # x/255, BGR kept; the centre of each crop is inside its frame.
    assert batch.input0[0, :, 128, 96] == pytest.approx([200 / 255] * 3)
    assert batch.input0[2, :, 128, 96] == pytest.approx([50 / 255] * 3)
    feeds = batch.feeds()
    assert set(feeds) == {"input0", "k_inv", "t_form_inv", "scale_normalized_mean_limb_lengths",
                          "mean_limb_lengths"}
    assert feeds["k_inv"].shape == (3, 3, 3)
    assert feeds["k_inv"][2, 0, 2] == pytest.approx(-0.119881555525)
    assert feeds["k_inv"][1, 1, 2] == pytest.approx(-0.159842074033)
    assert (feeds["t_form_inv"] == np.eye(3)).all()
    assert feeds["mean_limb_lengths"][1].tolist() == MEAN_LIMB_LENGTHS_MM.tolist()
    assert np.count_nonzero(SCALE_NORMALIZED_MEAN_LIMB_LENGTHS) == 17
    part = batch.feeds(1, 3)
    assert part["input0"].shape[0] == part["mean_limb_lengths"].shape[0] == 2


def test_empty_request_gives_an_empty_batch() -> None:
    batch = build_pose_batch([(np.zeros((10, 10, 3), np.uint8), np.zeros((0, 4)))])
    assert batch.size == 0 and batch.input0.shape == (0, 3, 256, 192)
    assert batch.feeds()["k_inv"].shape == (0, 3, 3)


def test_decode_maps_crop_pixels_to_the_frame_and_counts_bad_rows() -> None:
    pose = np.zeros((3, 34, 4), np.float32)
    pose[:, :, 3] = 0.9
    pose[:, 0, :2] = (96, 128)  # crop centre
    pose[1, 5, 0] = np.nan
    pose[2, :, 3] = 0.0
    rects = np.array([[-37, 1, 375, 500], [0, 0, 192, 256], [10, 10, 96, 128]], np.float32)
    decoded = decode_pose25d(pose, rects)
    assert decoded.valid.tolist() == [True, False, False]
    assert decoded.skipped_nan == 1 and decoded.skipped_no_confidence == 1
    assert decoded.keypoints_px[0, 0].tolist() == pytest.approx([-37 + 187.5, 1 + 250.0])
    assert np.isfinite(decoded.keypoints_px).all()


def test_wrong_output_shape_is_a_contract_error_naming_both_shapes() -> None:
    with pytest.raises(ModelContractError, match=r"\(2, 17, 4\).*\[2,34,4\]"):
        check_pose25d(np.zeros((2, 17, 4)), 2)
