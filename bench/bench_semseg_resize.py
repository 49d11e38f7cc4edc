"""Class-map scaling: IoU of each nearest-neighbour choice against the bilinear overlay.

Why: mask events carry the person mask at 240x136 and the frame mask is drawn at frame size;
TAO users judge them against the overlay TAO draws, a bilinear resize of the mask. This
renders synthetic scenes of 3-12 people (head, body, arms, legs; 40-300 px tall) on the
960x544 network map and reports mean and minimum IoU against bilinear (>= 0.5) for
top-left nearest (cv2.INTER_NEAREST), pixel-centre nearest (models.semseg.resize_class_map)
and a per-class area vote, plus the time of each at 240x136.

Run: .venv/bin/python bench/bench_semseg_resize.py [--scenes N]
"""

from __future__ import annotations

import argparse
import time
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np

from edge_agent.models.semseg import NET_HEIGHT, NET_WIDTH, resize_class_map

Resize = Callable[[np.ndarray, Tuple[int, int]], np.ndarray]


def scene(rng: np.random.Generator) -> np.ndarray:
    """A 960x544 class map (0 background, 1 person) with stick-figure people."""
    m = np.zeros((NET_HEIGHT, NET_WIDTH), np.uint8)
    for _ in range(int(rng.integers(3, 12))):
        ph = rng.uniform(40, 300)
        cx = rng.uniform(0, NET_WIDTH)
        top = rng.uniform(-0.2 * ph, NET_HEIGHT - 0.5 * ph)
        s = ph / 8
        cv2.circle(m, (int(cx), int(top + s)), max(int(s * 0.9), 1), 1, -1)
        axes = (max(int(s * 1.1), 1), max(int(s * 1.6), 1))
        cv2.ellipse(m, (int(cx), int(top + 3.2 * s)), axes, 0, 0, 360, 1, -1)
        for dx in (-0.45, 0.45):
            cv2.line(m, (int(cx + dx * s), int(top + 4.5 * s)),
                     (int(cx + dx * 1.4 * s), int(top + ph)), 1, max(int(s * 0.5), 1))
        for dx in (-1.3, 1.3):
            cv2.line(m, (int(cx + dx * 0.8 * s), int(top + 2.2 * s)),
                     (int(cx + dx * 1.3 * s), int(top + 4.6 * s)), 1, max(int(s * 0.35), 1))
    return m


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks (1 when both are empty)."""
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b)) / union if union else 1.0


def area_vote(m: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Each output pixel takes the class covering most of its area."""
    planes = [cv2.resize((m == c).astype(np.float32), size, interpolation=cv2.INTER_AREA)
              for c in (0, 1)]
    return np.argmax(np.stack(planes), axis=0).astype(np.uint8)


METHODS: Dict[str, Resize] = {
    "top-left nearest": lambda m, s: cv2.resize(m, s, interpolation=cv2.INTER_NEAREST),
    "pixel-centre nearest": lambda m, s: resize_class_map(m, s[0], s[1]),
    "area vote": area_vote,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    maps = [scene(rng) for _ in range(args.scenes)]
    for size in ((240, 136), (1920, 1080)):
        print(f"960x544 -> {size[0]}x{size[1]}, IoU against bilinear >= 0.5 "
              f"({args.scenes} scenes)")
        for name, method in METHODS.items():
            scores: List[float] = []
            times: List[float] = []
            for m in maps:
                reference = cv2.resize(m.astype(np.float32), size,
                                       interpolation=cv2.INTER_LINEAR) >= 0.5
                start = time.perf_counter()
                out = method(m, size)
                times.append((time.perf_counter() - start) * 1000.0)
                scores.append(iou(out == 1, reference))
            print(f"  {name:22s} mean {np.mean(scores):.4f}  min {np.min(scores):.4f}  "
                  f"median {np.median(times):.3f} ms")


if __name__ == "__main__":
    main()
