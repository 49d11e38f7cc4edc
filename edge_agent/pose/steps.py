"""The two pose inference steps as plain functions over an InferenceBackend.

Reference wiring for the task runtime (which may split each into prepare / run / decode):

* `estimate_poses`: track boxes of one or more frames -> one BodyPose3DNet batch (split at
  the engine's max batch) -> decoded keypoints -> the track book's smoothed, lifted skeletons;
* `classify_due`: the book's due tracks -> one PoseClassificationNet input -> predictions ->
  hysteresis -> the pose changes to publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from edge_agent.inference.backend import InferenceBackend
from edge_agent.pose.bodypose3d import POSE25D_NAME, build_pose_batch, decode_pose25d
from edge_agent.pose.normalise import Normalisation, sequence_tensor
from edge_agent.pose.pose_events import PoseChange
from edge_agent.pose.poseclass import INPUT_NAME, OUTPUT_NAME, predict
from edge_agent.pose.skeleton import Skeleton
from edge_agent.pose.track_book import PoseTrackBook, TrackKey


@dataclass(frozen=True)
class PoseFrame:
    """One camera frame and its tracked people: boxes [K,4] xyxy px and their track ids."""

    camera_id: str
    ts_s: float
    frame_bgr: np.ndarray
    boxes_xyxy: np.ndarray
    track_ids: Sequence[int]


def estimate_poses(
    backend: InferenceBackend, frames: Sequence[PoseFrame], book: PoseTrackBook,
    max_batch: int = 8, pad_px: int = -1,
) -> Dict[TrackKey, Skeleton]:
    """Skeletons of every tracked person of `frames` (those with a usable crop and pose)."""
    batch = build_pose_batch([(f.frame_bgr, f.boxes_xyxy) for f in frames], pad_px)
    if batch.size == 0:
        return {}
    parts = [
        backend.run(batch.feeds(start, start + max_batch))[POSE25D_NAME]
        for start in range(0, batch.size, max_batch)
    ]
    decoded = decode_pose25d(np.concatenate(parts), batch.rects_px)
    keys: List[TrackKey] = []
    stamps: List[float] = []
    sizes: List[Tuple[int, int]] = []
    for frame_index, box_index in batch.owners:
        frame = frames[frame_index]
        keys.append((frame.camera_id, int(frame.track_ids[box_index])))
        stamps.append(frame.ts_s)
        sizes.append((int(frame.frame_bgr.shape[1]), int(frame.frame_bgr.shape[0])))
    return book.observe(decoded, keys, stamps, sizes)


def classify_due(
    backend: InferenceBackend, book: PoseTrackBook, labels: Sequence[str], now_s: float,
    method: Normalisation = "tao_training", layout: str = "nvidia",
    training_focal_length: float = 1200.0, threshold: float = 0.51, max_batch: int = 4,
) -> List[PoseChange]:
    """Classify the tracks that are due; returns their stable-class changes."""
    due = book.due_windows(now_s)
    if not due:
        return []
    keys = [key for key, _ in due]
    tensor = sequence_tensor([window for _, window in due], method, layout,
                             training_focal_length)
    logits = np.concatenate([
        backend.run({INPUT_NAME: tensor[start : start + max_batch]})[OUTPUT_NAME]
        for start in range(0, len(keys), max_batch)
    ])
    return book.apply_predictions(keys, predict(logits, len(keys), labels, threshold), now_s)
