"""Frame choice for calibration: stratified over scenes and time, disjoint held-out frames."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np
import pytest

from edge_agent.calibration.sampling import (
    NotEnoughImagesError,
    allocate,
    deal,
    evenly_spaced,
    plan_indices,
    sample_images,
    sample_video,
    scene_bounds,
    signature,
)
from edge_agent.capture.sample_footage import write_synthetic_clip

Calls = List[Tuple[str, int, int]]


def _scenes(lengths: List[int]) -> List[np.ndarray]:
    """Signatures of frames: each scene a flat grey level far from its neighbours'."""
    out = []
    for scene, length in enumerate(lengths):
        level = 40.0 + 150.0 * (scene % 2)
        out += [np.full((18, 32), level + 0.5 * i % 3, np.float32) for i in range(length)]
    return out


def test_scene_cuts_are_found_where_the_picture_jumps() -> None:
    assert scene_bounds(_scenes([30, 10, 60])) == [(0, 30), (30, 40), (40, 100)]
    assert scene_bounds([]) == []


def test_budget_is_shared_by_scene_length_and_every_scene_is_seen() -> None:
    assert allocate([30, 10, 60], 10) == [3, 1, 6]
    assert allocate([97, 1, 2], 3) == [1, 1, 1]  # a short scene still gets a frame
    assert sum(allocate([5, 5], 100)) == 10  # never more than the frames there are
    assert allocate([4, 4], 0) == [0, 0]


def test_frames_are_spread_over_each_scene() -> None:
    chosen, scenes = plan_indices(_scenes([30, 10, 60]), 10)
    assert scenes == 3
    assert len(set(chosen)) == 10 and chosen == sorted(chosen)
    assert sum(1 for c in chosen if c < 30) == 3
    assert sum(1 for c in chosen if 30 <= c < 40) == 1
    assert evenly_spaced(0, 100, 4) == [12, 37, 62, 87]


def test_held_out_frames_are_disjoint_and_span_the_whole_range() -> None:
    items = list(range(0, 200, 10))
    calibration, held = deal(items, 5)
    assert not set(calibration) & set(held)
    assert sorted(calibration + held) == items
    assert len(held) == 5 and held[0] < 50 and held[-1] > 150


def test_video_sampling_reports_progress_and_keeps_sets_apart(tmp_path: Path) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 160, 120, 10.0, 3.0)
    calls: Calls = []
    frames = sample_video(clip, 8, 4, lambda s, d, t: calls.append((s, d, t)))
    assert len(frames.calibration) == 8 and len(frames.held_out) == 4
    assert frames.frames_seen == 30 and frames.scenes == 1
    assert ("scan video", 30, 30) in calls and ("decode chosen frames", 12, 12) in calls
    assert frames.calibration[0].shape == (120, 160, 3)


def test_too_short_a_video_is_refused_with_counts(tmp_path: Path) -> None:
    clip = write_synthetic_clip(tmp_path / "short.avi", 64, 48, 10.0, 0.5)
    with pytest.raises(NotEnoughImagesError, match=r"found 5 usable frame\(s\), .*needs 12"):
        sample_video(clip, 8, 4, lambda s, d, t: None)


def test_unreadable_images_are_counted_and_too_few_refused(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((40, 60, 3), 60 * i, np.uint8))
    (tmp_path / "004.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored: not an image name", encoding="utf-8")
    with pytest.raises(NotEnoughImagesError,
                       match=r"found 3 readable image\(s\) of 4 image file\(s\) \(1 unreadable\)"
                             r", calibration needs 5"):
        sample_images(tmp_path, 4, 1, lambda s, d, t: None)
    frames = sample_images(tmp_path, 2, 1, lambda s, d, t: None)
    assert frames.unreadable == 1 and len(frames.calibration) == 2 and len(frames.held_out) == 1


def test_signature_is_small_and_grey() -> None:
    assert signature(np.zeros((576, 768, 3), np.uint8)).shape == (18, 32)
