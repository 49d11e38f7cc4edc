"""Per-track skeleton history: a fixed ring buffer, resampled to the classifier's frame rate.

PoseClassificationNet reads 300 frames at 30 Hz (10 s). Pose runs at whatever rate the
scheduler grants, so the buffer keeps raw samples with their timestamps and resamples on
demand: the newest sample is the last frame, earlier frames lie 1/rate apart, each linearly
interpolated between the two samples around it. A joint's confidence in a resampled frame
is the lower of the two (an undetected joint stays undetected), and exactly the sample's own
where a frame falls on a sample.

Memory is fixed at creation: capacity x (34 x 3 + 34) float32 + capacity float64, about
165 KiB for 300 frames, so N tracks never cost more than N x that (see `nbytes`).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from edge_agent.pose.joints import NUM_JOINTS

MAX_SEQUENCE_FRAMES = 300
_ON_SAMPLE = 1e-6


class SkeletonSequence:
    """Ring buffer of (timestamp, 3D joints, confidence) samples of one track."""

    def __init__(self, capacity: int = MAX_SEQUENCE_FRAMES, joints: int = NUM_JOINTS) -> None:
        if not 1 <= capacity <= MAX_SEQUENCE_FRAMES:
            raise ValueError(f"capacity must be 1..{MAX_SEQUENCE_FRAMES}, got {capacity}")
        self.capacity = capacity
        self._ts = np.zeros(capacity, dtype=np.float64)
        self._xyz = np.zeros((capacity, joints, 3), dtype=np.float32)
        self._conf = np.zeros((capacity, joints), dtype=np.float32)
        self._next = 0
        self._count = 0
        self.dropped_out_of_order = 0

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffer's arrays (constant for its lifetime)."""
        return int(self._ts.nbytes + self._xyz.nbytes + self._conf.nbytes)

    @property
    def last_ts_s(self) -> float:
        """Timestamp of the newest sample; NaN when empty."""
        if self._count == 0:
            return float("nan")
        return float(self._ts[(self._next - 1) % self.capacity])

    def reset(self) -> None:
        """Forget every sample (after a long gap the old motion no longer belongs to now)."""
        self._next = 0
        self._count = 0

    def append(self, ts_s: float, xyz: np.ndarray, confidence: np.ndarray) -> bool:
        """Add a sample; one not newer than the last is dropped (and counted): False."""
        if self._count and ts_s <= self.last_ts_s:
            self.dropped_out_of_order += 1
            return False
        self._ts[self._next] = ts_s
        self._xyz[self._next] = xyz
        self._conf[self._next] = confidence
        self._next = (self._next + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)
        return True

    def samples(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All samples, oldest first: ts [K], xyz [K,J,3], confidence [K,J] (copies)."""
        order = (np.arange(self._count) + self._next - self._count) % self.capacity
        return self._ts[order], self._xyz[order], self._conf[order]

    def resampled(
        self, rate_hz: float, max_frames: int
    ) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """Up to `max_frames` frames at `rate_hz` ending at the newest sample, oldest first.

        Returns (xyz [T,J,3], confidence [T,J]) or None when empty. T is the number of whole
        frame intervals the buffer spans plus one, capped at `max_frames`.
        """
        if self._count == 0:
            return None
        ts, xyz, conf = self.samples()
        span_s = ts[-1] - ts[0]
        frames = min(int(np.floor(span_s * rate_hz + 1e-9)) + 1, max_frames)
        targets = ts[-1] - (frames - 1 - np.arange(frames)) / rate_hz
        upper = np.clip(np.searchsorted(ts, targets, side="left"), 1, max(len(ts) - 1, 1))
        if len(ts) == 1:
            return xyz[:1].copy(), conf[:1].copy()
        lower = upper - 1
        gap = ts[upper] - ts[lower]
        weight = np.clip((targets - ts[lower]) / np.where(gap > 0, gap, 1.0), 0.0, 1.0)
        out_xyz = xyz[lower]
        out_xyz += (xyz[upper] - out_xyz) * weight.astype(np.float32)[:, None, None]
        # The lower confidence between two samples; a frame on a sample keeps its own.
        out_conf = np.minimum(conf[lower], conf[upper])
        on_lower, on_upper = weight <= _ON_SAMPLE, weight >= 1.0 - _ON_SAMPLE
        out_conf[on_lower] = conf[lower[on_lower]]
        out_conf[on_upper] = conf[upper[on_upper]]
        return out_xyz, out_conf
