"""MOTChallenge metrics with py-motmetrics, optionally replaying detections through the tracker.

Replay runs raw detections through the agent's own Tracker at the sequence's frame rate and
scores exactly what the agent would publish for each frame (`TrackerStep.tracks`: confirmed
tracks with their detection box, and for a short gap lost tracks with their predicted box),
so a change to the tracker or to what is published shows up in these numbers. Appearance is
used when embeddings are given (one row per detection line). Matching uses IoU >= 0.5 as in
the MOTChallenge devkit; hypotheses on ignored ground truth (distractors, "consider" 0) are
removed first, as the devkit does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from edge_agent.eval.mot_files import DetectionFile, GroundTruth, Row, Rows
from edge_agent.models.detect_cluster import iou_matrix
from edge_agent.tracking.tracker import Tracker, TrackerParams

_METRICS = {
    "mota": "mota", "idf1": "idf1", "id_switches": "num_switches",
    "false_positives": "num_false_positives", "misses": "num_misses",
    "mostly_tracked": "mostly_tracked", "partially_tracked": "partially_tracked",
    "mostly_lost": "mostly_lost", "fragmentations": "num_fragmentations",
    "precision": "precision", "recall": "recall", "motp": "motp", "idp": "idp", "idr": "idr",
    "objects": "num_unique_objects",
}
_INTEGERS = {"id_switches", "false_positives", "misses", "mostly_tracked",
             "partially_tracked", "mostly_lost", "fragmentations", "objects"}


@dataclass(frozen=True)
class TrackingScores:
    """motmetrics' MOTChallenge set for one sequence, and how it was produced."""

    mota: float
    idf1: float
    id_switches: int
    false_positives: int
    misses: int
    mostly_tracked: int
    partially_tracked: int
    mostly_lost: int
    fragmentations: int
    precision: float
    recall: float
    motp: float
    idp: float
    idr: float
    objects: int
    num_frames: int
    appearance: bool = False
    replayed: bool = False
    dropped_detections: int = 0

    def as_dict(self) -> Dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Replay:
    """What the tracker published per frame, and how many detections it refused."""

    rows: Rows
    dropped_detections: int
    appearance: bool


def _corners(rows: Any) -> np.ndarray:
    xywh = np.array([r[1:5] for r in rows], dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def replay(
    detections: DetectionFile,
    fps: float,
    params: TrackerParams,
    embeddings: Optional[np.ndarray] = None,
    frame_size_wh: Optional[Tuple[int, int]] = None,
) -> Replay:
    """The published tracks for every frame of `detections` (frames 1..last)."""
    tracker = Tracker("eval", params)
    out: Rows = {}
    rows_by_frame = detections.rows
    last = max(rows_by_frame) if rows_by_frame else 0
    for frame in range(1, last + 1):
        rows = rows_by_frame.get(frame, [])
        emb = None
        if embeddings is not None:
            emb = embeddings[detections.ordinals.get(frame, [])]
        scores = np.array([r[5] for r in rows], dtype=np.float64)
        step = tracker.update(frame / fps, _corners(rows), scores, emb, frame_size_wh)
        out[frame] = [_published_row(t.track_id, t.last_box, t.score) for t in step.tracks]
    return Replay(out, tracker.dropped_detections, embeddings is not None)


def _published_row(track_id: int, box: np.ndarray, score: float) -> Row:
    x1, y1, x2, y2 = (float(v) for v in box)
    return (track_id, x1, y1, x2 - x1, y2 - y1, score)


def _distances(gt: Any, hyp: Any, iou_threshold: float) -> np.ndarray:
    """1 - IoU, NaN (do not pair) below the threshold; motmetrics' own helper needs numpy<2."""
    iou = iou_matrix(_corners(gt), _corners(hyp))
    return np.where(iou >= iou_threshold, 1.0 - iou, np.nan)


def _drop_ignored(hyp: Any, ignored: Any, iou_threshold: float) -> Any:
    """Hypotheses left after removing those matched (IoU >= threshold) to ignored boxes."""
    if not ignored or not hyp:
        return hyp
    iou = iou_matrix(_corners(ignored), _corners(hyp))
    rows, cols = linear_sum_assignment(-iou)
    gone = {int(c) for r, c in zip(rows, cols) if iou[r, c] >= iou_threshold}
    return [h for i, h in enumerate(hyp) if i not in gone]


def evaluate(gt: GroundTruth, hyp: Rows, iou_threshold: float = 0.5,
             replayed: Optional[Replay] = None) -> TrackingScores:
    """Compare hypotheses with ground truth frame by frame."""
    import motmetrics

    acc = motmetrics.MOTAccumulator(auto_id=False)
    frames = sorted(set(gt.rows) | set(hyp) | set(gt.ignored))
    for frame in frames:
        g = gt.rows.get(frame, [])
        h = _drop_ignored(hyp.get(frame, []), gt.ignored.get(frame, []), iou_threshold)
        acc.update([r[0] for r in g], [r[0] for r in h], _distances(g, h, iou_threshold),
                   frameid=frame)
    host = motmetrics.metrics.create()
    summary = host.compute(acc, metrics=list(_METRICS.values()), name="seq",
                           return_dataframe=False)
    values: Dict[str, Any] = {}
    for key, name in _METRICS.items():
        raw = float(summary[name])
        values[key] = int(raw) if key in _INTEGERS else raw
    return TrackingScores(
        **values, num_frames=len(frames),
        appearance=bool(replayed and replayed.appearance), replayed=replayed is not None,
        dropped_detections=replayed.dropped_detections if replayed else 0,
    )
