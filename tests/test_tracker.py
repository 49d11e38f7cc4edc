"""Tracker on synthetic ground truth with known answers: identities, occlusions, re-entry."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from edge_agent.tracking.gallery import Gallery
from edge_agent.tracking.track import TrackState
from edge_agent.tracking.tracker import Tracker, TrackerParams

FPS = 10.0


def person_box(cx: float, cy: float, h: float = 120.0) -> List[float]:
    return [cx - h / 4, cy - h / 2, cx + h / 4, cy + h / 2]


def unit(seed: int, dim: int = 32) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def run(
    tracker: Tracker,
    frames: List[List[Tuple[int, List[float]]]],
    embed: Optional[Dict[int, np.ndarray]] = None,
    t0: float = 0.0,
) -> List[Dict[int, int]]:
    """Feed frames of (gt_id, box); return per frame gt_id -> track_id of matched tracks."""
    out = []
    for k, people in enumerate(frames):
        boxes = np.array([b for _, b in people], dtype=np.float64).reshape(-1, 4)
        scores = np.full(len(people), 0.9)
        emb = None
        if embed is not None:
            emb = np.stack([embed[g] for g, _ in people]) if people else np.zeros((0, 32))
        step = tracker.update(t0 + k / FPS, boxes, scores, emb)
        mapping = {}
        for gid, box in people:
            for t in step.tracks:
                if t.state == TrackState.CONFIRMED and np.allclose(t.last_box, box):
                    mapping[gid] = t.track_id
        out.append(mapping)
    return out


def test_two_walkers_keep_their_ids() -> None:
    tracker = Tracker("cam", TrackerParams())
    frames = [[(1, person_box(100 + 8 * k, 300)), (2, person_box(600 - 8 * k, 320))]
              for k in range(30)]
    result = run(tracker, frames)
    assert result[2] == {1: 1, 2: 2}  # confirmed on the third hit
    assert all(r == {1: 1, 2: 2} for r in result[2:])


def test_short_occlusion_keeps_identity() -> None:
    tracker = Tracker("cam", TrackerParams(max_lost_s=2.0))
    frames = []
    for k in range(40):
        people = [(1, person_box(100 + 6 * k, 300))]
        if 10 <= k < 20:  # hidden for one second, keeps walking
            people = []
        frames.append(people)
    result = run(tracker, frames)
    assert result[9] == {1: 1}
    assert result[20] == {1: 1} and result[39] == {1: 1}


def test_crossing_people_with_appearance_do_not_swap() -> None:
    tracker = Tracker("cam", TrackerParams())
    embed = {1: unit(1), 2: unit(2)}
    frames = [[(1, person_box(100 + 20 * k, 300)), (2, person_box(700 - 20 * k, 300))]
              for k in range(30)]
    result = run(tracker, frames, embed)
    assert result[3] == {1: 1, 2: 2}
    assert result[29] == {1: 1, 2: 2}


def test_person_who_leaves_and_returns_gets_same_reid() -> None:
    gallery = Gallery(match_threshold=0.7)
    tracker = Tracker("cam", TrackerParams(max_lost_s=1.0), gallery)
    embed = {1: unit(1), 2: unit(2)}
    first = [[(1, person_box(100 + 5 * k, 300))] for k in range(10)]
    gap: List[List[Tuple[int, List[float]]]] = [[] for _ in range(30)]
    back = [[(1, person_box(500, 300)), (2, person_box(200, 300))] for _ in range(10)]
    run(tracker, first + gap + back, embed)
    tracks = {t.track_id: t for t in tracker.live_tracks}
    reid = {t.reid_id for t in tracks.values()}
    assert "p-1" in reid  # person 1 came back: identity restored, new track number
    assert "p-2" in reid and len(tracks) == 2
    assert gallery.reidentified == 1
    assert 1 not in tracks  # the first track ended


def test_cross_camera_identity_only_when_enabled() -> None:
    for cross, expected in ((True, "p-1"), (False, "p-2")):
        gallery = Gallery(cross_camera=cross)
        a = Tracker("a", TrackerParams(max_lost_s=0.5), gallery)
        b = Tracker("b", TrackerParams(max_lost_s=0.5), gallery)
        run(a, [[(1, person_box(100, 300))] for _ in range(5)] + [[] for _ in range(10)],
            {1: unit(1)})
        run(b, [[(1, person_box(300, 300))] for _ in range(5)], {1: unit(1)}, t0=2.0)
        assert [t.reid_id for t in b.live_tracks] == [expected]


def test_nan_and_degenerate_boxes_are_dropped_and_counted() -> None:
    tracker = Tracker("cam", TrackerParams(min_hits=1))
    boxes = np.array([[np.nan, 0, 10, 10], [5, 5, 5, 50], [0, 0, 40, 80], [10, 10, 0, 0],
                      [np.inf, 1, 2, 3]])
    step = tracker.update(0.0, boxes, np.array([0.9, 0.9, 0.9, 0.9, 0.9]))
    assert step.dropped_detections == 4 and tracker.dropped_detections == 4
    assert len(step.tracks) == 1
    step = tracker.update(0.1, np.zeros((0, 4)), np.zeros(0))
    assert len(step.tracks) == 1 and step.tracks[0].state == TrackState.LOST


def test_memory_stays_bounded_over_a_long_run() -> None:
    gallery = Gallery(max_entries=20, ttl_s=5.0)
    tracker = Tracker("cam", TrackerParams(max_lost_s=0.3), gallery)
    rng = np.random.default_rng(0)
    for k in range(2000):
        # a new random person every 20 frames, each visible for 15 frames
        person = k // 20
        people = []
        if k % 20 < 15:
            x = 50 + 10 * (k % 20) + 37 * (person % 20)
            people.append(person_box(x, 300))
        emb = np.stack([unit(int(rng.integers(1 << 30)))]) if people else np.zeros((0, 32))
        tracker.update(k / FPS, np.array(people).reshape(-1, 4), np.full(len(people), 0.9),
                       emb)
        # A fresh random embedding every frame vetoes every match, so each frame starts a
        # track (confirmed at once: score 0.9) that lives max_lost_s = 3 frames after it.
        assert len(tracker.live_tracks) <= 5
    assert len(gallery) <= 20
