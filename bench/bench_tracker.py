"""Tracker update time for 10 / 50 / 200 people, and ReID crop preprocessing per batch.

Why: the tracker runs on the inference thread once per processed frame of every camera, so
its cost adds directly to latency; the target is <= 1 ms per frame for 50 people (with 256-d
ReID embeddings). People walk on a 1920x1080 frame with small jitter and occasional missed
detections, the case the tracker is built for; the first frames (track creation) are
excluded. Crop preprocessing (crop, resize to 128x256, RGB, normalise) runs once per frame for
all people of all cameras in the round.

Run: .venv/bin/python bench/bench_tracker.py [--frames N]
"""

from __future__ import annotations

import argparse
import time
from typing import List

import numpy as np

from edge_agent.models import reid
from edge_agent.tracking.gallery import Gallery
from edge_agent.tracking.tracker import Tracker, TrackerParams

WIDTH, HEIGHT, FPS, DIM = 1920, 1080, 10.0, 256


def tracker_ms(people: int, frames: int, seed: int = 0) -> List[float]:
    """Per-frame update times in ms after a 10-frame warm-up."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform([100, 200], [WIDTH - 100, HEIGHT - 50], size=(people, 2))
    vel = rng.normal(0, 40, size=(people, 2))
    emb = rng.normal(size=(people, DIM)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    tracker = Tracker("bench", TrackerParams(max_tracks=1000), Gallery())
    times = []
    for k in range(frames + 10):
        pos += vel / FPS
        pos[:, 0] = np.clip(pos[:, 0], 50, WIDTH - 50)
        pos[:, 1] = np.clip(pos[:, 1], 150, HEIGHT - 10)
        seen = rng.random(people) > 0.05
        centre = pos[seen] + rng.normal(0, 2, size=(int(seen.sum()), 2))
        boxes = np.concatenate([centre - [30, 140], centre + [30, 0]], axis=1)
        noisy = emb[seen] + rng.normal(0, 0.05, size=(int(seen.sum()), DIM)).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        scores = np.full(len(boxes), 0.9)
        start = time.perf_counter()
        tracker.update(k / FPS, boxes, scores, noisy)
        if k >= 10:
            times.append((time.perf_counter() - start) * 1000.0)
    return times


def crops_ms(count: int, repeat: int) -> float:
    """Median ms to crop and preprocess `count` person boxes of one 1920x1080 frame."""
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    x = rng.uniform(0, WIDTH - 120, count)
    y = rng.uniform(0, HEIGHT - 300, count)
    boxes = np.stack([x, y, x + 100, y + 260], axis=1)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        reid.preprocess_crops(reid.crop_boxes(frame, boxes))
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    print("tracker update per frame (256-d ReID, 5% missed detections)")
    for people in (10, 50, 200):
        t = np.array(tracker_ms(people, args.frames))
        print(f"  {people:4d} people: median {np.median(t):7.3f} ms   p95 "
              f"{np.percentile(t, 95):7.3f} ms   max {t.max():7.3f} ms")
    print("ReID crop preprocessing (crop + 128x256 resize + RGB + normalise), per batch")
    for count in (1, 8, 16, 50):
        ms = crops_ms(count, 50)
        print(f"  {count:4d} crops : median {ms:7.3f} ms   ({ms / count:6.3f} ms per crop)")


if __name__ == "__main__":
    main()
