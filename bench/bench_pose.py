"""Pose task costs on the CPU side: crop building, decode + smoothing + lifting, sequence input.

Why: pose runs per tracked person, so its host-side work grows with the crowd; the target is
<= 2 ms for crop building plus sequence-tensor assembly with 10 people per frame. Figures:

* crops: BodyPose3DNet batch for N people of a 1920x1080 frame (crop geometry, bilinear warp
  to 192x256, BGR x/255 NCHW, constant inputs); baseline in the same process and rounds: the
  ReID crop preprocessing of the same boxes (crop + resize to 128x256 + normalise);
* observe: decode of N pose25d rows + per-track One-Euro smoothing + 2.5D -> 3D lifting +
  ring-buffer append (the "decode" part of the pose task, per crop);
* sequence: resampling N tracks' 10 s buffers (10 Hz poses) to 30 Hz windows and building the
  (N, 3, 300, 34, 1) classifier input.

Each round runs baseline and candidates back to back (interleaved); a round's figure is the
median of its repeats; the report gives the median over rounds and the min..max spread.

Run: .venv/bin/python bench/bench_pose.py [--rounds 7] [--repeat 20]
"""

from __future__ import annotations

import argparse
import time
from typing import Callable, Dict, List

import numpy as np

from edge_agent.models import reid
from edge_agent.pose.bodypose3d import build_pose_batch, decode_pose25d
from edge_agent.pose.normalise import sequence_tensor
from edge_agent.pose.sequence import SkeletonSequence
from edge_agent.pose.synthetic import synthesize
from edge_agent.pose.track_book import PoseBookConfig, PoseTrackBook

WIDTH, HEIGHT = 1920, 1080


def _boxes(count: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.uniform(0, WIDTH - 120, count)
    y = rng.uniform(0, HEIGHT - 300, count)
    return np.stack([x, y, x + 100, y + 260], axis=1)


def _median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def _pose25d(count: int, rng: np.random.Generator) -> np.ndarray:
    pose = np.zeros((count, 34, 4), np.float32)
    pose[:, :, 0] = rng.uniform(40, 150, (count, 34))
    pose[:, :, 1] = rng.uniform(20, 240, (count, 34))
    pose[:, :, 2] = rng.normal(0, 0.2, (count, 34))
    pose[:, :, 3] = rng.uniform(0.5, 1.0, (count, 34))
    return pose


def _filled_sequences(people: int) -> List[SkeletonSequence]:
    """`people` buffers holding 10 s of 10 Hz skeletons (100 samples) each."""
    rng = np.random.RandomState(0)
    sequences = []
    for _ in range(people):
        joints, conf = synthesize("walking", 100, rng)
        sequence = SkeletonSequence()
        for f in range(100):
            sequence.append(f / 10.0, joints[f], conf[f])
        sequences.append(sequence)
    return sequences


def run(people: int, rounds: int, repeat: int) -> Dict[str, List[float]]:
    rng = np.random.default_rng(people)
    frame = rng.integers(0, 255, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    boxes = _boxes(people, rng)
    batch = build_pose_batch([(frame, boxes)])
    pose = _pose25d(batch.size, rng)
    keys = [("cam", i) for i in range(batch.size)]
    sizes = [(WIDTH, HEIGHT)] * batch.size
    observe_book = PoseTrackBook(PoseBookConfig(max_tracks=people))
    clock = [0.0]

    def observe() -> None:
        clock[0] += 0.1
        decoded = decode_pose25d(pose, batch.rects_px)
        observe_book.observe(decoded, keys, [clock[0]] * batch.size, sizes)

    buffers = _filled_sequences(people)
    out = np.zeros((people, 3, 300, 34, 1), np.float32)

    def sequences() -> None:
        windows = [buffer.resampled(30.0, 100) for buffer in buffers]
        sequence_tensor([w for w in windows if w is not None], "tao_training", out=out)

    results: Dict[str, List[float]] = {k: [] for k in ("baseline", "crops", "observe",
                                                       "sequence")}
    for _ in range(rounds):
        results["baseline"].append(
            _median_ms(lambda: reid.preprocess_crops(reid.crop_boxes(frame, boxes)), repeat))
        results["crops"].append(_median_ms(lambda: build_pose_batch([(frame, boxes)]), repeat))
        results["observe"].append(_median_ms(observe, repeat))
        results["sequence"].append(_median_ms(sequences, repeat))
    return results


def _fmt(values: List[float]) -> str:
    v = np.asarray(values)
    return f"{np.median(v):7.3f} ms ({v.min():.3f}..{v.max():.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for people in (10, 50):
        r = run(people, args.rounds, args.repeat)
        ratio = np.asarray(r["crops"]) / np.asarray(r["baseline"])
        target = np.asarray(r["crops"]) + np.asarray(r["sequence"])
        print(f"{people} people, 1920x1080, {args.rounds} rounds x {args.repeat} repeats")
        print(f"  ReID crops (baseline)   {_fmt(r['baseline'])}")
        print(f"  pose crops + feeds      {_fmt(r['crops'])}   "
              f"= {np.median(ratio):.2f}x baseline ({ratio.min():.2f}..{ratio.max():.2f}); "
              f"{np.median(r['crops']) / people:.3f} ms per crop")
        print(f"  decode+smooth+lift      {_fmt(r['observe'])}   "
              f"{np.median(r['observe']) / people:.3f} ms per crop")
        print(f"  sequence tensor         {_fmt(r['sequence'])}   "
              f"{np.median(r['sequence']) / people:.3f} ms per track")
        print(f"  crops + sequence        {np.median(target):7.3f} ms "
              f"(target <= 2 ms for 10 people)")


if __name__ == "__main__":
    main()
