"""Per-track skeleton buffers and the pose track book: bounded, resampled, pruned."""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import pytest

from edge_agent.pose.bodypose3d import DecodedPoses
from edge_agent.pose.poseclass import PosePrediction
from edge_agent.pose.sequence import SkeletonSequence
from edge_agent.pose.synthetic import synthesize
from edge_agent.pose.synthetic_dataset import project_25d
from edge_agent.pose.track_book import PoseBookConfig, PoseTrackBook
from edge_agent.settings.pose import PoseSettings


def _xyz(value: float) -> np.ndarray:
    return np.full((34, 3), value, np.float32)


def test_ring_buffer_keeps_the_newest_samples_in_order() -> None:
    seq = SkeletonSequence(capacity=4)
    for i in range(6):
        assert seq.append(float(i), _xyz(i), np.ones(34))
    ts, xyz, _ = seq.samples()
    assert ts.tolist() == [2.0, 3.0, 4.0, 5.0]
    assert xyz[:, 0, 0].tolist() == [2.0, 3.0, 4.0, 5.0]
    assert not seq.append(5.0, _xyz(9), np.ones(34))  # not newer: dropped and counted
    assert seq.dropped_out_of_order == 1 and len(seq) == 4
    assert seq.nbytes == 4 * 8 + 4 * 34 * 3 * 4 + 4 * 34 * 4
    with pytest.raises(ValueError, match="capacity"):
        SkeletonSequence(capacity=301)


def test_resampling_a_10_hz_track_to_30_hz_interpolates_and_keeps_undetected_joints_off() -> None:
    seq = SkeletonSequence()
    conf = np.ones(34, np.float32)
    for i in range(11):  # 1 s at 10 Hz, x = 10 * t
        c = conf.copy()
        c[5] = 0.0 if i == 9 else 1.0
        seq.append(i / 10, _xyz(float(i)), c)
    window = seq.resampled(30.0, 300)
    assert window is not None
    xyz, out_conf = window
    assert xyz.shape == (31, 34, 3)
    assert xyz[:, 0, 0] == pytest.approx(np.linspace(0.0, 10.0, 31), abs=1e-4)
    # Frames between samples 8-9 and 9-10 take the lower confidence; frame on sample 8 not.
    assert out_conf[24, 5] == 1.0 and out_conf[25, 5] == 0.0 and out_conf[29, 5] == 0.0
    assert out_conf[30, 5] == 1.0
    capped = seq.resampled(30.0, 10)
    assert capped is not None and capped[0].shape[0] == 10
    assert capped[0][-1, 0, 0] == pytest.approx(10.0)
    assert SkeletonSequence().resampled(30.0, 300) is None


def _decoded(pixels: np.ndarray, z_rel: np.ndarray, conf: np.ndarray) -> DecodedPoses:
    valid = np.ones(pixels.shape[0], bool)
    return DecodedPoses(pixels, z_rel, conf, valid, skipped_nan=0, skipped_no_confidence=0)


def _feed(book: PoseTrackBook, keys: Sequence[Tuple[str, int]], frames: int, rate_hz: float,
          start_s: float = 0.0) -> None:
    rng = np.random.RandomState(1)
    people = [synthesize("standing", frames, rng) for _ in keys]
    for f in range(frames):
        pixels, z_rel, conf = [], [], []
        for joints, c in people:
            p, z = project_25d(joints[f : f + 1])
            pixels.append(p[0])
            z_rel.append(z[0])
            conf.append(c[f])
        decoded = _decoded(np.stack(pixels), np.stack(z_rel), np.stack(conf))
        book.observe(decoded, keys, [start_s + f / rate_hz] * len(keys), [(1280, 720)] * len(keys))


def test_short_tracks_are_not_due_and_long_ones_are_resampled_windows() -> None:
    book = PoseTrackBook(PoseBookConfig(min_frames=30, window_frames=100))
    _feed(book, [("cam", 1)], frames=5, rate_hz=10.0)  # 0.4 s -> 13 frames at 30 Hz
    assert book.due_windows(now_s=1.0) == []
    assert book.stats().too_short == 1
    _feed(book, [("cam", 1)], frames=20, rate_hz=10.0, start_s=0.5)
    due = book.due_windows(now_s=3.0)
    assert [key for key, _ in due] == [("cam", 1)]
    xyz, conf = due[0][1]
    # Samples span 0 .. 2.4 s: 72 intervals at 30 Hz, 73 frames.
    assert xyz.shape == (73, 34, 3) and conf.shape == (73, 34)
    assert np.abs(xyz[:, 0, 2]).mean() > 1000.0  # metric mm for the tao_training default


def test_predictions_pass_hysteresis_and_report_changes() -> None:
    book = PoseTrackBook(PoseBookConfig(min_frames=5, confirm_count=2, classify_interval_s=0.0))
    _feed(book, [("cam", 1), ("cam", 2)], frames=10, rate_hz=30.0)
    keys = [("cam", 1), ("cam", 2)]

    def results(labels: List[str]) -> List[PosePrediction]:
        return [PosePrediction(label, 0, 0.9, np.zeros(6, np.float32)) for label in labels]

    assert book.apply_predictions(keys, results(["sitting", "walking"]), 1.0) == []
    changes = book.apply_predictions(keys, results(["sitting", "standing"]), 2.0)
    assert [(c.track_id, c.pose, c.previous, c.kind) for c in changes] == [
        (1, "sitting", None, "state")
    ]
    assert book.stable_pose(("cam", 1)) == "sitting" and book.stable_pose(("cam", 2)) is None
    assert book.apply_predictions(keys, results(["sitting", "standing"]), 3.0)[0].track_id == 2


def test_prune_eviction_gap_reset_and_bad_rows_are_counted() -> None:
    book = PoseTrackBook(PoseBookConfig(max_tracks=2, max_gap_s=1.0))
    _feed(book, [("a", 1), ("a", 2)], frames=3, rate_hz=30.0)
    _feed(book, [("b", 1)], frames=1, rate_hz=30.0, start_s=0.5)  # evicts the least recent
    stats = book.stats()
    assert stats.tracks == 2 and stats.evicted == 1
    assert stats.memory_bytes == 2 * SkeletonSequence().nbytes
    assert stats.memory_limit_bytes == 2 * SkeletonSequence().nbytes
    _feed(book, [("b", 1)], frames=1, rate_hz=30.0, start_s=5.0)  # 4.5 s gap
    assert book.stats().sequence_resets == 1
    assert book.prune("a", live_track_ids=[]) == 1
    assert book.skeleton(("a", 1)) is None and book.skeleton(("b", 1)) is not None
    bad = np.zeros((2, 34, 2), np.float32)
    bad[0, 3, 0] = np.nan
    decoded = DecodedPoses(bad, np.zeros((2, 34), np.float32), np.zeros((2, 34), np.float32),
                           np.array([False, False]), 1, 1)
    assert book.observe(decoded, [("b", 1), ("b", 2)], [9.0, 9.0], [(1280, 720)] * 2) == {}
    stats = book.stats()
    assert (stats.skipped_nan, stats.skipped_no_confidence, stats.tracks) == (1, 1, 1)


def test_config_from_settings_resolves_window_and_filters() -> None:
    settings = PoseSettings(normalisation="deepstream_app", min_frames=20)
    config = PoseBookConfig.from_settings(settings)
    assert config.window_frames == 300 and config.min_frames == 20
    assert config.smoothing.depth.min_cutoff_hz == 0.5
    book = PoseTrackBook(config)
    _feed(book, [("cam", 1)], frames=25, rate_hz=30.0)
    xyz, _ = book.due_windows(now_s=5.0)[0][1]
    assert np.abs(xyz[:, 0, 2]).mean() < 50.0  # scale-normalised units for deepstream_app
