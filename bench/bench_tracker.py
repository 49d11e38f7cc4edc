"""Tracker update time for 10 / 50 / 200 people, and ReID crop preprocessing per batch.

Why: the tracker runs on the inference thread once per processed frame of every camera, so
its cost adds directly to latency; the target is <= 1 ms median and <= 2 ms p95 per frame for
50 people (with 256-d ReID embeddings). People walk on a 1920x1080 frame with small jitter,
5 % missed detections and 15 % of boxes at a low score (so the second, ByteTrack-style round
runs every frame); the first frames (track creation) are excluded. As a yardstick measured in
the same process, interleaved round by round, the bench also times the core of plain SORT on
the same boxes (one IoU matrix and one linear_sum_assignment); the ratio is what transfers
between machines. BLAS threads are set to 1 as in the agent (--blas-threads to change) and
reported, because numpy's batched 4x4 inverses and matrix products may use them. Crop
preprocessing (crop, resize to 128x256, RGB, normalise) runs once per frame for all people
of all cameras in the round.

Run: .venv/bin/python bench/bench_tracker.py [--frames N] [--rounds R]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from edge_agent.models import reid
from edge_agent.models.detect_cluster import iou_matrix
from edge_agent.tracking.gallery import Gallery
from edge_agent.tracking.tracker import Tracker, TrackerParams

WIDTH, HEIGHT, FPS, DIM = 1920, 1080, 10.0, 256
_BLAS_PREFIXES = ("openblas_", "scipy_openblas_")
_BLAS_SUFFIXES = ("", "64_")


def _blas_call(what: str, *args: int) -> Optional[Tuple[int, str]]:
    """Call openblas_<what> in the BLAS numpy loaded (Linux); (result, library) or None."""
    np.ones((2, 2)) @ np.ones((2, 2))  # make sure BLAS is loaded
    try:
        with Path("/proc/self/maps").open(encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower()}
    except OSError:
        paths = set()
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _BLAS_PREFIXES:
            for suffix in _BLAS_SUFFIXES:
                func = getattr(lib, f"{prefix}{what}{suffix}", None)
                if func is not None:
                    return int(func(*args) or 0), Path(path).name
    return None


def set_blas_threads(count: int) -> None:
    """As the agent does (native_threads.py) unless told otherwise: it runs with 1."""
    _blas_call("set_num_threads", count)


def blas_threads() -> str:
    """Threads of the BLAS numpy loaded, asked from the library itself."""
    found = _blas_call("get_num_threads")
    if found is not None:
        return f"{found[0]} ({found[1]})"
    return "unknown (OPENBLAS_NUM_THREADS={}, OMP_NUM_THREADS={})".format(
        os.environ.get("OPENBLAS_NUM_THREADS", "unset"), os.environ.get("OMP_NUM_THREADS", "unset"))


def scene(people: int, frames: int, seed: int) -> List[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per frame: boxes, scores, embeddings of the people detected in it."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform([100, 200], [WIDTH - 100, HEIGHT - 50], size=(people, 2))
    vel = rng.normal(0, 40, size=(people, 2))
    emb = rng.normal(size=(people, DIM)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    out = []
    for _ in range(frames):
        pos += vel / FPS
        pos[:, 0] = np.clip(pos[:, 0], 50, WIDTH - 50)
        pos[:, 1] = np.clip(pos[:, 1], 150, HEIGHT - 10)
        seen = rng.random(people) > 0.05
        count = int(seen.sum())
        centre = pos[seen] + rng.normal(0, 2, size=(count, 2))
        boxes = np.concatenate([centre - [30, 140], centre + [30, 0]], axis=1)
        noisy = emb[seen] + rng.normal(0, 0.05, size=(count, DIM)).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        scores = np.where(rng.random(count) < 0.15, 0.3, 0.9)
        out.append((boxes, scores, noisy))
    return out


def tracker_ms(
    frames: List[Tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> Tuple[List[float], List[float]]:
    """Per-frame update times in ms after a 10-frame warm-up: wall clock and thread CPU.

    The CPU time of this thread leaves out time spent descheduled, so on a shared machine
    it is the steadier of the two (still inflated by cache and frequency effects).
    """
    tracker = Tracker("bench", TrackerParams(max_tracks=1000), Gallery())
    wall, cpu = [], []
    for k, (boxes, scores, emb) in enumerate(frames):
        start, start_cpu = time.perf_counter(), time.thread_time()
        tracker.update(k / FPS, boxes, scores, emb, (WIDTH, HEIGHT))
        if k >= 10:
            wall.append((time.perf_counter() - start) * 1000.0)
            cpu.append((time.thread_time() - start_cpu) * 1000.0)
    return wall, cpu


def sort_core_ms(frames: List[Tuple[np.ndarray, np.ndarray, np.ndarray]]) -> List[float]:
    """The yardstick: IoU of last frame's boxes with this frame's, one Hungarian solve."""
    times = []
    previous = frames[0][0]
    for k, (boxes, _, _) in enumerate(frames):
        start = time.perf_counter()
        cost = 1.0 - iou_matrix(previous, boxes)
        linear_sum_assignment(cost)
        if k >= 10:
            times.append((time.perf_counter() - start) * 1000.0)
        previous = boxes
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
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (the agent runs with 1, native_threads.py)")
    args = parser.parse_args()
    set_blas_threads(args.blas_threads)
    print(f"BLAS threads: {blas_threads()}; CPU cores: {os.cpu_count()}")
    print(f"tracker update per frame (256-d ReID, 5% missed, 15% low-score boxes), "
          f"{args.rounds} interleaved rounds of {args.frames} frames")
    for people in (10, 50, 200):
        ours: List[float] = []
        ours_cpu: List[float] = []
        base: List[float] = []
        medians, ratios = [], []
        for r in range(args.rounds):
            frames = scene(people, args.frames + 10, seed=r)
            t, c = tracker_ms(frames)
            b = sort_core_ms(frames)
            ours += t
            ours_cpu += c
            base += b
            medians.append(float(np.median(t)))
            ratios.append(float(np.median(t) / np.median(b)))
        t_all, c_all = np.array(ours), np.array(ours_cpu)
        print(f"  {people:4d} people: median {np.median(t_all):6.3f} ms (rounds "
              f"{min(medians):.3f}-{max(medians):.3f})  p95 {np.percentile(t_all, 95):6.3f} ms  "
              f"max {t_all.max():6.3f} ms  |  thread CPU median {np.median(c_all):6.3f} ms, "
              f"p95 {np.percentile(c_all, 95):6.3f} ms  |  SORT core median "
              f"{np.median(base):6.3f} ms, ratio {np.median(ratios):5.1f}x "
              f"({min(ratios):.1f}-{max(ratios):.1f})")
    print("ReID crop preprocessing (crop + 128x256 resize + RGB + normalise), per batch")
    for count in (1, 8, 16, 50):
        ms = crops_ms(count, 50)
        print(f"  {count:4d} crops : median {ms:7.3f} ms   ({ms / count:6.3f} ms per crop)")


if __name__ == "__main__":
    main()
