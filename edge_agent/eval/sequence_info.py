"""Replay settings of a MOTChallenge sequence: frame rate, frame size, appearance vectors.

MOTChallenge sequences keep `seqinfo.ini` (frameRate, imWidth, imHeight) next to the `gt/`
folder; when it is there the replay uses it, so a sequence is replayed at its own rate
without flags. Command-line values win over the file. TUD-Campus as shipped with motmetrics
has no seqinfo.ini: it is 25 fps, 640x480.
"""

from __future__ import annotations

import configparser
import dataclasses
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from edge_agent.errors import ConfigError
from edge_agent.tracking.tracker import TrackerParams

DEFAULT_FPS = 25.0


def find_seqinfo(gt_path: Path) -> Optional[Path]:
    """seqinfo.ini of the sequence holding gt_path (…/seq/gt/gt.txt or …/seq/gt.txt)."""
    for folder in (gt_path.parent, gt_path.parent.parent):
        candidate = folder / "seqinfo.ini"
        if candidate.is_file():
            return candidate
    return None


def parse_frame_size(text: str, where: str) -> Tuple[int, int]:
    """'640x480' -> (640, 480); refuses anything else naming `where`."""
    parts = text.lower().split("x")
    try:
        width, height = int(parts[0]), int(parts[1])
        if len(parts) != 2 or width <= 0 or height <= 0:
            raise ValueError
    except (ValueError, IndexError):
        raise ConfigError(f"{where}: frame size {text!r} is not WIDTHxHEIGHT",
                          "write it as e.g. 640x480") from None
    return width, height


def replay_settings(
    gt_path: Path, fps: Optional[float], frame_size: Optional[str],
    min_hits: Optional[int], max_lost_s: Optional[float],
) -> Tuple[float, Optional[Tuple[int, int]], TrackerParams]:
    """Frame rate, frame size and tracker parameters for a replay (defaults otherwise)."""
    size = parse_frame_size(frame_size, "--frame-size") if frame_size else None
    info = find_seqinfo(Path(gt_path))
    if info is not None:
        parser = configparser.ConfigParser()
        try:
            parser.read(info, encoding="utf-8")
            section = parser["Sequence"]
            if fps is None and "frameRate" in section:
                fps = float(section["frameRate"])
            if size is None and "imWidth" in section and "imHeight" in section:
                size = (int(section["imWidth"]), int(section["imHeight"]))
        except (configparser.Error, KeyError, ValueError) as exc:
            raise ConfigError(f"{info}: cannot read the sequence info: {exc}",
                              "fix the [Sequence] section or pass --fps and --frame-size"
                              ) from None
    fps = DEFAULT_FPS if fps is None else fps
    if not fps > 0:
        raise ConfigError(f"--fps must be positive, got {fps}", "pass the sequence's rate")
    params = TrackerParams()
    if min_hits is not None:
        params = dataclasses.replace(params, min_hits=min_hits)
    if max_lost_s is not None:
        params = dataclasses.replace(params, max_lost_s=max_lost_s)
    return fps, size, params


def load_embeddings(path: Path, lines: int) -> np.ndarray:
    """Unit appearance vectors [lines, D] from a .npy file, one per detection line."""
    try:
        raw = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read embeddings {path}: {exc}",
                          "save them with numpy.save as a float [lines, D] array") from None
    if raw.ndim != 2 or raw.shape[0] != lines:
        raise ConfigError(
            f"embeddings {path} have shape {raw.shape}, expected [{lines}, D] (one row per "
            "line of --hyp)", "write one embedding per detection line, in file order")
    emb = raw.astype(np.float32)
    norm = np.linalg.norm(emb, axis=1, keepdims=True)
    unit: np.ndarray = np.where(norm > 0, emb / np.maximum(norm, 1e-12), emb)
    return unit
