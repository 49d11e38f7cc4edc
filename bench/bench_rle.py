"""How long encoding one mask event's mask takes: runs (encode_rle) and COCO string.

Why: the encoder runs on the event thread once per mask event; the budget is <= 2 ms at
960x544. Masks are person-like blobs (ellipses) plus a little speckle, the shape a
segmentation network produces, not random noise (which has far more runs than real masks).

Run: .venv/bin/python bench/bench_rle.py [--repeat N]
"""

from __future__ import annotations

import argparse
import time
from typing import Tuple

import numpy as np

from edge_agent.events.rle import encode_rle, rle_to_string


def person_like_mask(height: int, width: int, people: int, seed: int) -> np.ndarray:
    """Ellipses roughly the aspect of standing people, plus sparse speckle noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width]
    mask = np.zeros((height, width), dtype=bool)
    for _ in range(people):
        cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.05, 0.95) * width
        ry, rx = rng.uniform(0.1, 0.3) * height, rng.uniform(0.02, 0.06) * width
        mask |= ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1.0
    mask ^= rng.random((height, width)) < 0.001
    return mask.astype(np.uint8)


def measure(size: Tuple[int, int], repeat: int) -> Tuple[float, float, int, int]:
    """Mean ms for runs only, mean ms for runs + string, number of runs, string length."""
    mask = person_like_mask(size[0], size[1], people=6, seed=1)
    encode_rle(mask)  # warm-up
    start = time.perf_counter()
    for _ in range(repeat):
        encode_rle(mask)
    counts_ms = (time.perf_counter() - start) * 1000.0 / repeat
    start = time.perf_counter()
    for _ in range(repeat):
        text = rle_to_string(encode_rle(mask).counts)
    both_ms = (time.perf_counter() - start) * 1000.0 / repeat
    runs = len(encode_rle(mask).counts)
    return counts_ms, both_ms, runs, len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="encodes per size")
    args = parser.parse_args()
    for height, width in ((544, 960), (136, 240)):
        counts_ms, both_ms, runs, chars = measure((height, width), args.repeat)
        print(
            f"{width}x{height}: counts {counts_ms:.3f} ms, counts+string {both_ms:.3f} ms "
            f"({runs} runs, {chars} chars)"
        )


if __name__ == "__main__":
    main()
