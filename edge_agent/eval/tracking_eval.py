"""MOTA, IDF1 and ID switches with py-motmetrics, optionally replaying detections.

Replay runs raw detections through the agent's own Tracker (motion only: MOT files carry no
appearance) at the sequence's frame rate, so a change to the tracker shows up as a change in
these numbers. Matching uses IoU >= 0.5 as in the MOTChallenge devkit (`max_iou=0.5` is a
distance threshold on 1 - IoU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict

import numpy as np

from edge_agent.eval.mot_files import Rows
from edge_agent.models.detect_cluster import iou_matrix
from edge_agent.tracking.tracker import Tracker, TrackerParams


@dataclass(frozen=True)
class TrackingScores:
    """The headline numbers of one sequence."""

    mota: float
    idf1: float
    id_switches: int
    num_frames: int

    def as_dict(self) -> Dict[str, Any]:
        """JSON-ready form."""
        return {"mota": self.mota, "idf1": self.idf1, "id_switches": self.id_switches,
                "num_frames": self.num_frames}


def replay(detections: Rows, fps: float, params: TrackerParams) -> Rows:
    """Tracker output (confirmed and lost-but-matched tracks) for every frame of `detections`."""
    tracker = Tracker("eval", params)
    out: Rows = {}
    last = max(detections) if detections else 0
    for frame in range(1, last + 1):
        rows = detections.get(frame, [])
        boxes = np.array([[r[1], r[2], r[1] + r[3], r[2] + r[4]] for r in rows]).reshape(-1, 4)
        scores = np.array([r[5] for r in rows], dtype=np.float64)
        step = tracker.update(frame / fps, boxes, scores)
        out[frame] = [
            (t.track_id, float(t.last_box[0]), float(t.last_box[1]),
             float(t.last_box[2] - t.last_box[0]), float(t.last_box[3] - t.last_box[1]),
             t.score)
            for t in step.tracks
            if t.last_ts == frame / fps
        ]
    return out


def _distances(gt: Any, hyp: Any, iou_threshold: float) -> np.ndarray:
    """1 - IoU, NaN (do not pair) below the threshold; motmetrics' own helper needs numpy<2."""
    def corners(rows: Any) -> np.ndarray:
        xywh = np.array([r[1:5] for r in rows], dtype=np.float64).reshape(-1, 4)
        return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)

    iou = iou_matrix(corners(gt), corners(hyp))
    return np.where(iou >= iou_threshold, 1.0 - iou, np.nan)


def evaluate(gt: Rows, hyp: Rows, iou_threshold: float = 0.5) -> TrackingScores:
    """Compare hypotheses with ground truth frame by frame."""
    import motmetrics

    acc = motmetrics.MOTAccumulator(auto_id=False)
    frames = sorted(set(gt) | set(hyp))
    for frame in frames:
        g = gt.get(frame, [])
        h = hyp.get(frame, [])
        dist = _distances(g, h, iou_threshold)
        acc.update([r[0] for r in g], [r[0] for r in h], dist, frameid=frame)
    host = motmetrics.metrics.create()
    summary = host.compute(acc, metrics=["mota", "idf1", "num_switches"], name="seq",
                           return_dataframe=False)
    return TrackingScores(
        float(summary["mota"]), float(summary["idf1"]), int(summary["num_switches"]),
        len(frames),
    )
