"""Classifier input, output, hysteresis, pose events, payloads and settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from edge_agent.errors import ConfigError, ModelContractError
from edge_agent.events.pose_payloads import (
    KEYPOINTS_WORST_CASE_BYTES,
    PoseEvent,
    PoseKeypointsMessage,
    keypoints_field,
    points_mm_field,
    pose_payload_schemas,
    zone_count_payloads,
)
from edge_agent.pose.hysteresis import ClassHysteresis
from edge_agent.pose.joints import (
    COCO17_FROM_NVIDIA,
    JOINT_NAMES,
    OPENPOSE18_FROM_NVIDIA,
    layout_joint_count,
)
from edge_agent.pose.normalise import normalise_frames, sequence_tensor
from edge_agent.pose.pose_events import (
    ChangedCounts,
    KeypointRateLimiter,
    pose_change,
    zone_pose_counts,
)
from edge_agent.pose.poseclass import check_label_count, predict, softmax
from edge_agent.settings.pose import PoseSettings, check_pose_needs_tracking

LABELS = ["sitting_down", "getting_up", "sitting", "standing", "walking", "jumping"]
ENVELOPE = dict(event_id="0" * 32, device_id="dev", camera_id="cam", capture_ts=1.0,
                emitted_ts=1.0, seq=1, standin=True)


def _window(frames: int) -> tuple:
    xyz = np.arange(frames * 34 * 3, dtype=np.float32).reshape(frames, 34, 3) + 1000.0
    conf = np.ones((frames, 34), np.float32)
    return xyz, conf


def test_training_normalisation_is_pelvis_relative_over_focal_with_unseen_joints_zero() -> None:
    xyz, conf = _window(2)
    conf[1, 7] = 0.0
    out = normalise_frames(xyz, conf, "tao_training", 1200.0)
    assert out[0, 0].tolist() == [0.0, 0.0, 0.0]
    assert out[0, 5] == pytest.approx((xyz[0, 5] - xyz[0, 0]) / 1200.0)
    assert out[1, 7].tolist() == [0.0, 0.0, 0.0]
    assert (normalise_frames(xyz, conf, "deepstream_app") == xyz).all()


def test_sequence_tensor_alignment_differs_between_the_two_references() -> None:
    window = _window(10)
    training = sequence_tensor([window], "tao_training")
    app = sequence_tensor([window], "deepstream_app")
    assert training.shape == app.shape == (1, 3, 300, 34, 1)
    assert training[0, :, :10].any() and not training[0, :, 10:].any()  # from t = 0
    assert app[0, :, 290:].any() and not app[0, :, :290].any()  # newest at t = 299
    # C, T, V order: channel 0 holds x of every joint at each frame.
    assert app[0, 0, 299, 3, 0] == window[0][9, 3, 0]
    reused = sequence_tensor([window], "deepstream_app", out=app)
    assert reused is app
    long = sequence_tensor([_window(400)], "deepstream_app")
    assert long[0, 0, 299, 0, 0] == _window(400)[0][399, 0, 0]


def test_layouts_select_the_named_joints() -> None:
    coco = [JOINT_NAMES[i] for i in COCO17_FROM_NVIDIA]
    assert coco[:3] == ["nose", "left_eye", "right_eye"] and coco[-1] == "right_ankle"
    openpose = [JOINT_NAMES[i] for i in OPENPOSE18_FROM_NVIDIA]
    assert openpose[:3] == ["nose", "neck", "right_shoulder"] and openpose[-1] == "left_ear"
    assert (layout_joint_count("coco"), layout_joint_count("openpose")) == (17, 18)
    window = _window(3)
    tensor = sequence_tensor([window], "deepstream_app", layout="coco")
    assert tensor.shape == (1, 3, 300, 17, 1)
    assert tensor[0, 1, 299, 0, 0] == window[0][2, 15, 1]  # COCO joint 0 = NVIDIA nose


def test_softmax_threshold_and_a_head_that_does_not_match_the_labels() -> None:
    probs = softmax(np.array([[1000.0, 0.0], [0.0, 0.0]]))
    assert probs[0] == pytest.approx([1.0, 0.0]) and probs[1] == pytest.approx([0.5, 0.5])
    logits = np.log(np.array([[0.6, 0.1, 0.1, 0.1, 0.05, 0.05], [0.5, 0.1, 0.1, 0.1, 0.1, 0.1]]))
    results = predict(logits, 2, LABELS)
    assert results[0].label == "sitting_down" and results[0].probability == pytest.approx(0.6)
    assert results[1].label is None  # 0.5 is not above the card's 0.51
    with pytest.raises(ModelContractError, match="outputs 5 classes .* label list has 6"):
        check_label_count(5, LABELS, "poseclassificationnet")
    with pytest.raises(ModelContractError, match="outputs 5 classes"):
        predict(np.zeros((2, 5)), 2, LABELS)
    with pytest.raises(ModelContractError, match=r"shape \(3, 6\) for 2 sequences"):
        predict(np.zeros((3, 6)), 2, LABELS)


def test_hysteresis_needs_agreement_to_change_and_patience_to_clear() -> None:
    h = ClassHysteresis(confirm=2, release=3)
    assert [h.update(x) for x in ["walking", "walking", "standing", "walking", "standing",
                                  "standing"]] == [None, "walking", "walking", "walking",
                                                   "walking", "standing"]
    assert [h.update(None) for _ in range(3)] == ["standing", "standing", None]
    with pytest.raises(ValueError, match="confirm"):
        ClassHysteresis(confirm=0)


def test_pose_changes_zone_counts_and_rate_limits() -> None:
    change = pose_change("cam", 3, "standing", "sitting_down", 0.8, 10.0)
    assert change is not None and change.kind == "action" and change.previous == "standing"
    assert pose_change("cam", 3, "sitting", "sitting", 0.9, 1.0) is None
    assert pose_change("cam", 3, "sitting", None, 0.9, 1.0) is None
    counts = zone_pose_counts(
        [(["lounge"], "sitting"), (["lounge", "door"], "sitting"), (["lounge"], None),
         (["elsewhere"], "walking")],
        ["lounge", "door"], LABELS,
    )
    assert counts["lounge"]["sitting"] == 2 and counts["lounge"]["unknown"] == 1
    assert counts["door"] == {**{label: 0 for label in LABELS}, "sitting": 1, "unknown": 0}
    changed = ChangedCounts()
    assert len(changed.changed("cam", counts)) == 2
    assert changed.changed("cam", counts) == []
    limiter = KeypointRateLimiter(1.0)
    assert [limiter.allow(1, t) for t in (0.0, 0.5, 1.0)] == [True, False, True]
    limiter.forget([])
    assert limiter.allow(1, 1.1)


def test_payloads_validate_and_the_largest_keypoint_message_fits_the_cap() -> None:
    event = PoseEvent(**ENVELOPE, id="cam-7", track_id=7, pose="sitting", kind="state",
                      previous="sitting_down", probability=0.93, box=[1, 2, 3, 4],
                      zones=["lounge"])
    assert json.loads(event.model_dump_json())["type"] == "pose"
    worst_xy = np.full((34, 2), -12345.678)
    worst_3d = np.full((34, 3), -123456.7)
    message = PoseKeypointsMessage(
        **ENVELOPE, id="camera-with-a-long-name-" * 2 + "123456", track_id=999999,
        frame_width=3840, frame_height=2160, pose="sitting_down",
        keypoints=keypoints_field(worst_xy, np.full(34, 0.333)),
        points_mm=points_mm_field(worst_3d),
    )
    size = len(message.model_dump_json().encode("utf-8"))
    assert size <= KEYPOINTS_WORST_CASE_BYTES < 8192
    with pytest.raises(ValidationError):
        PoseKeypointsMessage(**ENVELOPE, id="x", track_id=1, frame_width=1, frame_height=1,
                             keypoints=[[0.0, 0.0, 1.0]] * 17)
    zone = zone_count_payloads("cam", {"lounge": {"sitting": 3, "unknown": 1}}, 5.0, False)
    assert zone[0].total == 4 and zone[0].counts["sitting"] == 3
    assert set(pose_payload_schemas()) == {"PoseEvent", "PoseKeypointsMessage",
                                           "PoseZoneCountPayload"}


def test_settings_defaults_and_checks() -> None:
    settings = PoseSettings()
    assert settings.threshold == 0.51 and settings.effective_window_frames() == 100
    assert PoseSettings(normalisation="deepstream_app").effective_window_frames() == 300
    with pytest.raises(ValidationError, match="min_frames"):
        PoseSettings(window_frames=20, min_frames=30)
    with pytest.raises(ValidationError):
        PoseSettings(buffer_frames=301)
    with pytest.raises(ConfigError, match="models.pose.enabled.*models.tracking.enabled"):
        check_pose_needs_tracking(PoseSettings(enabled=True), tracking_enabled=False)
    check_pose_needs_tracking(PoseSettings(enabled=True), tracking_enabled=True)
