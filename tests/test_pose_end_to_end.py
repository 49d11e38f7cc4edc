"""Frames and track boxes to pose events and a rendered picture, with both stand-in ONNX
models running in ONNX Runtime (no fakes)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator

import numpy as np
import pytest

from edge_agent.errors import ModelContractError
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.manifest import load_manifest
from edge_agent.models.standin import write_standin
from edge_agent.pose.poseclass import check_label_count
from edge_agent.pose.render import RenderPerson, draw_people
from edge_agent.pose.steps import PoseFrame, classify_due, estimate_poses
from edge_agent.pose.track_book import PoseBookConfig, PoseTrackBook


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, OnnxRuntimeBackend]]:
    out = tmp_path_factory.mktemp("models")
    loaded = {
        name: OnnxRuntimeBackend(write_standin(name, out), [])
        for name in ("bodypose3dnet", "poseclassificationnet")
    }
    yield loaded
    for backend in loaded.values():
        backend.close()


def test_two_cameras_of_people_become_skeletons_pose_events_and_a_picture(
    backends: Dict[str, OnnxRuntimeBackend], tmp_path: Path
) -> None:
    labels = load_manifest("poseclassificationnet").labels
    check_label_count(int(backends["poseclassificationnet"].outputs[0].shape[1]), labels,
                      "poseclassificationnet")
    book = PoseTrackBook(PoseBookConfig(min_frames=10, window_frames=100,
                                        classify_interval_s=0.5))
    rng = np.random.RandomState(0)
    cam_a = rng.randint(0, 256, (720, 1280, 3)).astype(np.uint8)
    cam_b = rng.randint(0, 256, (480, 640, 3)).astype(np.uint8)
    changes = []
    for step in range(30):  # 3 s at 10 Hz
        ts = step / 10.0
        frames = [
            PoseFrame("a", ts, cam_a, np.array([[100, 100, 200, 400], [700, 150, 820, 500]]),
                      [1, 2]),
            PoseFrame("b", ts, cam_b, np.array([[300, 100, 360, 300]]), [5]),
        ]
        skeletons = estimate_poses(backends["bodypose3dnet"], frames, book, max_batch=2)
        assert set(skeletons) == {("a", 1), ("a", 2), ("b", 5)}
        changes += classify_due(backends["poseclassificationnet"], book, labels, ts,
                                threshold=0.0)
    # Stand-in poses never change, so each track settles on one class exactly once.
    assert sorted((c.camera_id, c.track_id) for c in changes) == [("a", 1), ("a", 2), ("b", 5)]
    assert all(c.pose in labels and c.previous is None for c in changes)
    skeleton = book.skeleton(("a", 1))
    assert skeleton is not None
    # The stand-in's pelvis sits at its crop centre: the centre of the reference crop rect.
    assert skeleton.keypoints_px[0, 0] == pytest.approx(-37 + 375 / 2, abs=2.0)
    assert np.isfinite(skeleton.points_mm).all()
    stats = book.stats()
    assert stats.tracks == 3 and stats.classified > 0 and stats.memory_bytes > 0
    book.prune("a", live_track_ids=[2])
    assert book.stats().tracks == 2

    picture = draw_people(cam_a, [RenderPerson(box_xyxy=[100, 100, 200, 400], track_id=1,
                                               label=book.stable_pose(("a", 1)) or "",
                                               keypoints_px=skeleton.keypoints_px,
                                               confidence=skeleton.confidence)])
    assert picture.shape == cam_a.shape and (picture != cam_a).any()


def test_frames_without_usable_boxes_give_no_skeletons_and_nothing_is_due(
    backends: Dict[str, OnnxRuntimeBackend]
) -> None:
    book = PoseTrackBook(PoseBookConfig())
    frame = np.zeros((480, 640, 3), np.uint8)
    frames = [PoseFrame("a", 0.0, frame, np.zeros((0, 4)), []),
              PoseFrame("b", 0.0, frame, np.array([[5.0, 5.0, 5.0, 50.0]]), [3])]
    assert estimate_poses(backends["bodypose3dnet"], frames, book) == {}
    assert classify_due(backends["poseclassificationnet"], book, ["x"] * 6, 1.0) == []
    assert book.stats().tracks == 0


def test_a_classifier_head_that_does_not_match_its_labels_is_refused_at_start_up(
    backends: Dict[str, OnnxRuntimeBackend]
) -> None:
    size = int(backends["poseclassificationnet"].outputs[0].shape[1])
    with pytest.raises(ModelContractError, match="outputs 6 classes but its label list has 7"):
        check_label_count(size, ["a", "b", "c", "d", "e", "f", "g"], "poseclassificationnet")
