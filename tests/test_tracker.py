"""Tracker on synthetic ground truth with known answers: identities, occlusions, re-entry."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from edge_agent.tracking import kalman
from edge_agent.tracking.association import INFEASIBLE, assign
from edge_agent.tracking.gallery import Gallery
from edge_agent.tracking.track import TrackState
from edge_agent.tracking.tracker import Tracker, TrackerParams, TrackerStep, params_from_settings

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


def feed(tracker: Tracker, k: int, boxes: List[List[float]], scores: List[float],
         fps: float = FPS, frame: Optional[Tuple[int, int]] = None) -> TrackerStep:
    return tracker.update(k / fps, np.array(boxes, dtype=np.float64).reshape(-1, 4),
                          np.array(scores, dtype=np.float64), None, frame)


def test_confident_detection_confirms_at_once_weak_one_after_two_frames() -> None:
    tracker = Tracker("cam", TrackerParams())
    step = feed(tracker, 0, [person_box(100, 300), person_box(400, 300)], [0.95, 0.6])
    assert [t.track_id for t in step.tracks] == [1] and [t.track_id for t in step.born] == [1]
    step = feed(tracker, 1, [person_box(104, 300), person_box(404, 300)], [0.95, 0.6])
    assert sorted(t.track_id for t in step.tracks) == [1, 2]
    assert [t.track_id for t in step.born] == [2]


def test_tentative_track_survives_a_single_miss_but_not_two() -> None:
    tracker = Tracker("cam", TrackerParams())
    feed(tracker, 0, [person_box(100, 300)], [0.6])
    feed(tracker, 1, [], [])
    assert [t.state for t in tracker.live_tracks] == [TrackState.TENTATIVE]
    step = feed(tracker, 2, [person_box(108, 300)], [0.6])
    assert [t.track_id for t in step.born] == [1]  # the same track, confirmed
    other = Tracker("cam", TrackerParams())
    feed(other, 0, [person_box(100, 300)], [0.6])
    feed(other, 1, [], [])
    feed(other, 2, [], [])
    assert other.live_tracks == []


def test_low_confidence_detections_extend_tracks_but_never_start_them() -> None:
    tracker = Tracker("cam", TrackerParams())
    feed(tracker, 0, [person_box(100, 300)], [0.9])
    for k in range(1, 10):  # half occluded: the detector's score drops to 0.3
        step = feed(tracker, k, [person_box(100 + 5 * k, 300)], [0.3])
        assert [(t.track_id, t.predicted) for t in step.tracks] == [(1, False)]
    step = feed(tracker, 10, [person_box(500, 300)], [0.3])  # weak box far from any track
    assert [t.track_id for t in tracker.live_tracks] == [1]
    # A weak box must overlap the prediction by the strict gate (0.5) to be taken.
    weak = Tracker("cam", TrackerParams())
    feed(weak, 0, [person_box(100, 300)], [0.9])
    step = feed(weak, 1, [person_box(135, 300)], [0.3])  # IoU 0.26 with the track
    assert [t.predicted for t in step.tracks] == [True]


def test_lost_track_keeps_its_size_and_is_published_only_within_the_gap() -> None:
    tracker = Tracker("cam", TrackerParams())
    for k in range(10):  # walking right and growing 4 px per frame (towards the camera)
        feed(tracker, k, [person_box(100 + 10 * k, 300, 120 + 4 * k)], [0.9])
    track = tracker.live_tracks[0]
    last_h = track.last_box[3] - track.last_box[1]
    published = []
    for k in range(10, 30):
        step = feed(tracker, k, [], [])
        published.append([t.predicted for t in step.tracks])
        box = kalman.z_to_box(track.x[None, :4])[0]
        assert np.isfinite(box).all()
        assert abs((box[3] - box[1]) - last_h) < 0.1 * last_h  # frozen, no balloon
    assert published[:3] == [[True]] * 3 and all(p == [] for p in published[3:])
    assert track.state == TrackState.LOST
    step = feed(tracker, 30, [person_box(100 + 10 * 30, 300, 156)], [0.9])
    assert [(t.track_id, t.predicted) for t in step.tracks] == [(1, False)]  # re-found


def test_recently_matched_track_wins_a_contested_detection() -> None:
    tracker = Tracker("cam", TrackerParams())
    # A stands still at x=300 and is lost behind a pillar; B walks up to the same spot.
    for k in range(5):
        feed(tracker, k, [person_box(300, 300), person_box(200 + 10 * k, 300)], [0.9, 0.9])
    for k in range(5, 10):
        feed(tracker, k, [person_box(200 + 10 * k, 300)], [0.9])
    step = feed(tracker, 10, [person_box(300, 300)], [0.9])
    # B (seen a frame ago) keeps the box at 300; A (lost for 0.5 s) stays lost.
    assert [t.track_id for t in step.tracks if not t.predicted] == [2]


def test_assignment_leaves_pairs_unmatched_when_that_is_cheaper() -> None:
    # Track 0 fits detection 0 well; track 1 (long lost) fits detection 0 poorly and
    # nothing else. Matching as many pairs as possible (0-1, 1-0: 1.25) would hand track 0
    # a box it barely overlaps; with a cost limit of 1 the right answer is 0-0 alone (0.1 +
    # two unmatched halves = 1.1).
    cost = np.array([[0.1, 0.95], [0.3, INFEASIBLE]])
    rows, cols = assign(cost, 1.0)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0)]
    # Pairs alone in their row and column skip the solver but obey the limit.
    rows, cols = assign(np.array([[0.2, INFEASIBLE], [INFEASIBLE, 1.2]]), 1.0)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0)]


def test_speed_reversal_shows_within_a_few_frames() -> None:
    tracker = Tracker("cam", TrackerParams())
    rng = np.random.default_rng(0)
    x, frames_to_flip = 200.0, None
    for k in range(80):  # one body height (120 px) per second, turns round at frame 40
        x += 12.0 if k < 40 else -12.0
        feed(tracker, k, [person_box(x + rng.normal(0, 2), 300)], [0.9])
        vx = tracker.live_tracks[0].velocity_px_s[0]
        if k >= 40 and frames_to_flip is None and vx < 0:
            frames_to_flip = k - 39
    assert frames_to_flip is not None and frames_to_flip <= 3


def test_person_walking_out_of_the_frame_is_not_predicted_beyond_it() -> None:
    tracker = Tracker("cam", TrackerParams())
    for k in range(10):
        feed(tracker, k, [person_box(575 + 6 * k, 300)], [0.9], frame=(640, 480))
    step = feed(tracker, 10, [], [], frame=(640, 480))  # prediction 42 % outside
    assert step.tracks == []
    inside = Tracker("cam", TrackerParams())
    for k in range(10):
        feed(inside, k, [person_box(300 + 6 * k, 300)], [0.9], frame=(640, 480))
    assert [t.predicted for t in feed(inside, 10, [], [], frame=(640, 480)).tracks] == [True]


def test_bad_detections_are_dropped_and_counted_never_published() -> None:
    tracker = Tracker("cam", TrackerParams())
    boxes = [[np.nan, 0, 10, 10], [0, 0, 40, 80], [50, 50, 40, 90], [0, 0, 0, 0],
             [0, 0, 40, 80], [0, 0, 40, 80], [0, 0, 40, 80], [1, 1, np.inf, 80]]
    scores = [0.9, 0.9, 0.9, 0.9, 1.5, -0.2, np.nan, 0.9]
    step = feed(tracker, 0, boxes, scores)
    assert step.dropped_detections == 7 and tracker.dropped_detections == 7
    assert len(step.tracks) == 1
    for k in range(1, 4):
        step = feed(tracker, k, [], [])
        assert all(np.isfinite(t.last_box).all() for t in step.tracks)


def test_settings_defaults_are_the_tracker_defaults() -> None:
    from edge_agent.settings.tracking import TrackingSettings

    from_settings = params_from_settings(TrackingSettings(reid_model=""))
    defaults = TrackerParams()
    for name in ("min_hits", "confirm_s", "confirm_score", "high_score", "low_score",
                 "max_lost_s", "predict_gap_s", "iou_gate", "appearance_gate",
                 "appearance_weight"):
        assert getattr(from_settings, name) == getattr(defaults, name), name
