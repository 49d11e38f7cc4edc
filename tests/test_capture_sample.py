"""Sample footage: existing file, copy from opencv-doc, synthetic fallback. No network."""

from __future__ import annotations

from pathlib import Path
from typing import List

import cv2
import numpy as np

from edge_agent.capture.sample_footage import ensure_sample, write_synthetic_clip


def _frames(path: Path) -> List[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


def test_synthetic_clip_is_deterministic_and_has_the_asked_shape(tmp_path: Path) -> None:
    first = write_synthetic_clip(tmp_path / "a.avi", 96, 72, 5.0, 2.0)
    second = write_synthetic_clip(tmp_path / "b.avi", 96, 72, 5.0, 2.0)
    frames = _frames(first)
    assert len(frames) == 10 and frames[0].shape == (72, 96, 3)
    assert first.read_bytes() == second.read_bytes()
    assert not (tmp_path / "a.part.avi").exists()
    # Something moves: the walkers change the picture between frames.
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).max() > 50


def test_existing_sample_is_used_as_is(tmp_path: Path) -> None:
    target = write_synthetic_clip(tmp_path / "vtest.avi", 32, 24, 5.0, 0.4)
    lines: List[str] = []
    clip = ensure_sample(tmp_path, log=lines.append, allow_apt=False)
    assert clip.path == target and not clip.synthetic
    assert lines == []


def test_installed_opencv_doc_copy_is_copied(tmp_path: Path) -> None:
    system = write_synthetic_clip(tmp_path / "doc" / "vtest.avi", 32, 24, 5.0, 0.4)
    dest = tmp_path / "samples"
    lines: List[str] = []
    clip = ensure_sample(dest, log=lines.append, allow_apt=False, system_sample=system)
    assert clip.path == dest / "vtest.avi" and not clip.synthetic
    assert clip.path.read_bytes() == system.read_bytes()
    assert "copied" in clip.source and len(lines) == 1


def test_synthetic_fallback_says_so_and_why(tmp_path: Path) -> None:
    lines: List[str] = []
    clip = ensure_sample(
        tmp_path / "samples",
        log=lines.append,
        allow_apt=False,
        system_sample=tmp_path / "absent" / "vtest.avi",
    )
    assert clip.synthetic and clip.path.name == "synthetic_walkers.avi"
    assert len(lines) == 1 and "SYNTHETIC" in lines[0] and "apt download disabled" in lines[0]
    frames = _frames(clip.path)
    assert len(frames) == 80 and frames[0].shape == (576, 768, 3)
    # A second call reuses the clip instead of rewriting it.
    again = ensure_sample(
        tmp_path / "samples", log=lines.append, allow_apt=False, system_sample=tmp_path / "x"
    )
    assert again.path == clip.path and again.synthetic
