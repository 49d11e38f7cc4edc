"""edge-agent's tracker against SORT-level trackers on TUD-Campus, scored the same way.

Why: "good tracking" means little without a yardstick. This replays the same detection files
through edge-agent's Tracker (what the agent publishes: detection boxes, and predicted boxes
for a short gap), Roboflow's `trackers` (SORT and ByteTrack, default settings at 25 fps)
and `norfair` (IoU distance, its box example's settings), and scores each with the same
motmetrics code (`edge_agent.eval.tracking_eval.evaluate`). Inputs: TUD-Campus ground truth
with 10 % of boxes dropped and every coordinate jittered by N(0, 5 % of the box size), ids
removed (5 seeds, mean and min), and CEM's own output boxes (`test.txt`) with ids removed.
Each baseline publishes what its API returns for the frame.

The baselines are not dependencies of the agent: pip install trackers norfair (measurement
only). Run: .venv/bin/python bench/eval_baselines.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np

from edge_agent.eval.mot_files import DetectionFile, GroundTruth, Rows, read_ground_truth
from edge_agent.eval.tracking_eval import TrackingScores, evaluate, replay
from edge_agent.tracking.tracker import TrackerParams

FPS = 25.0
FRAME = (640, 480)
Runner = Callable[[DetectionFile], Rows]


def tud_folder() -> Path:
    import motmetrics

    return Path(motmetrics.__file__).parent / "data" / "TUD-Campus"


def jittered(gt: GroundTruth, seed: int) -> DetectionFile:
    """GT boxes, 10 % dropped, 5 % jitter, ids removed (same recipe as the tests)."""
    rng = np.random.default_rng(seed)
    rows: Rows = {}
    for frame in sorted(gt.rows):
        out = []
        for _, left, top, w, h, _ in gt.rows[frame]:
            if rng.random() < 0.1:
                continue
            j = rng.normal(0.0, 0.05, 4)
            x1, y1 = left + j[0] * w, top + j[1] * h
            x2, y2 = left + w + j[2] * w, top + h + j[3] * h
            out.append((-1, x1, y1, x2 - x1, y2 - y1, 1.0))
        rows[frame] = out
    return DetectionFile(rows)


def cem_boxes(folder: Path) -> DetectionFile:
    rows: Rows = {}
    for line in (folder / "test.txt").read_text().splitlines():
        v = [float(x) for x in line.split(",")[:6]]
        rows.setdefault(int(v[0]), []).append((-1, v[2], v[3], v[4], v[5], 1.0))
    return DetectionFile(rows)


def corners(rows: List[Tuple[int, float, float, float, float, float]]) -> np.ndarray:
    xywh = np.array([r[1:5] for r in rows], dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def edge_agent(det: DetectionFile) -> Rows:
    return replay(det, FPS, TrackerParams(), None, FRAME).rows


def edge_agent_blind(det: DetectionFile) -> Rows:
    """Without the frame size: people walking out are predicted past the edge."""
    return replay(det, FPS, TrackerParams(), None, None).rows


def roboflow(kind: str) -> Runner:
    def run(det: DetectionFile) -> Rows:
        import supervision as sv
        import trackers

        tracker = (trackers.SORTTracker(frame_rate=FPS) if kind == "sort"
                   else trackers.ByteTrackTracker(frame_rate=FPS))
        out: Rows = {}
        for frame in range(1, max(det.rows) + 1):
            rows = det.rows.get(frame, [])
            boxes = corners(rows)
            result = tracker.update(sv.Detections(
                xyxy=boxes.astype(np.float32), confidence=np.array([r[5] for r in rows],
                                                                   dtype=np.float32),
                class_id=np.zeros(len(rows), dtype=int)))
            ids = result.tracker_id if result.tracker_id is not None else []
            out[frame] = [(int(i), float(b[0]), float(b[1]), float(b[2] - b[0]),
                           float(b[3] - b[1]), 1.0)
                          for i, b in zip(ids, result.xyxy) if int(i) >= 0]
        return out
    return run


def norfair_iou(det: DetectionFile) -> Rows:
    import norfair

    tracker = norfair.Tracker(distance_function="iou", distance_threshold=0.7)
    out: Rows = {}
    for frame in range(1, max(det.rows) + 1):
        rows = det.rows.get(frame, [])
        detections = [norfair.Detection(points=b.reshape(2, 2), scores=np.ones(2))
                      for b in corners(rows)]
        objects = tracker.update(detections)
        out[frame] = [(int(o.id), float(o.estimate[0, 0]), float(o.estimate[0, 1]),
                       float(o.estimate[1, 0] - o.estimate[0, 0]),
                       float(o.estimate[1, 1] - o.estimate[0, 1]), 1.0)
                      for o in objects if o.id is not None]
    return out


def main() -> None:
    folder = tud_folder()
    gt = read_ground_truth(folder / "gt.txt")
    runners: Dict[str, Runner] = {"edge-agent": edge_agent,
                                  "edge-agent, no size": edge_agent_blind}
    try:
        import norfair  # noqa: F401
        import trackers  # noqa: F401

        runners.update({"trackers SORT": roboflow("sort"),
                        "trackers ByteTrack": roboflow("bytetrack"), "norfair (IoU)": norfair_iou})
    except ImportError:
        print("baselines need: pip install trackers norfair (edge-agent alone below)",
              file=sys.stderr)
    cem: TrackingScores = evaluate(gt, read_cem_reference(folder))
    print(f"CEM's own output: MOTA {cem.mota:.3f} IDF1 {cem.idf1:.3f}")
    print(f"{'tracker':20s} {'GT-jitter MOTA':>15s} {'IDF1':>6s} {'IDSW':>5s} | "
          f"{'CEM MOTA':>8s} {'IDF1':>6s} {'IDSW':>5s} {'FP':>4s} {'FN':>4s}")
    for name, run in runners.items():
        scores = [evaluate(gt, run(jittered(gt, seed))) for seed in range(5)]
        on_cem = evaluate(gt, run(cem_boxes(folder)))
        mota = np.array([s.mota for s in scores])
        idf1 = np.array([s.idf1 for s in scores])
        idsw = np.mean([s.id_switches for s in scores])
        print(f"{name:20s} {mota.mean():7.3f} (>={mota.min():.3f}) {idf1.mean():6.3f} "
              f"{idsw:5.1f} | {on_cem.mota:8.3f} {on_cem.idf1:6.3f} {on_cem.id_switches:5d} "
              f"{on_cem.false_positives:4d} {on_cem.misses:4d}")


def read_cem_reference(folder: Path) -> Rows:
    """CEM's output with its own ids (the reference the issue quotes)."""
    from edge_agent.eval.mot_files import read_detections

    return read_detections(folder / "test.txt").rows


if __name__ == "__main__":
    main()
