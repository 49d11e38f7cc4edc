"""Rolling latency statistics for pipeline stages.

Only the last `window` samples are kept (bounded memory over months of uptime); the mean
feeds the status line and p95 the telemetry, so both are computed from the same window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Deque, Dict, Iterator, List


@dataclass(frozen=True)
class LatencySummary:
    """Mean and 95th percentile of a stage's recent durations, in milliseconds."""

    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float


class RollingLatency:
    """Thread-safe window of recent durations for one stage."""

    def __init__(self, window: int = 256) -> None:
        self._samples: Deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()

    def add(self, duration_ms: float) -> None:
        """Record one duration."""
        with self._lock:
            self._samples.append(duration_ms)

    def summary(self) -> LatencySummary:
        """Statistics over the current window (zeros when empty)."""
        with self._lock:
            samples = sorted(self._samples)
        if not samples:
            return LatencySummary(0, 0.0, 0.0, 0.0)
        count = len(samples)
        return LatencySummary(
            count=count,
            mean_ms=sum(samples) / count,
            p50_ms=samples[(count - 1) // 2],
            p95_ms=samples[min(count - 1, int(round(0.95 * (count - 1))))],
        )


class StageTimings:
    """A RollingLatency per named stage (preprocess, inference, decode, encode, publish)."""

    def __init__(self, stages: List[str], window: int = 256) -> None:
        self._stages: Dict[str, RollingLatency] = {name: RollingLatency(window) for name in stages}

    def add(self, stage: str, duration_ms: float) -> None:
        """Record a duration for `stage` (which must be one of the declared stages)."""
        self._stages[stage].add(duration_ms)

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Time the body of a `with` block into `stage`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, (time.perf_counter() - start) * 1000.0)

    def summaries(self) -> Dict[str, LatencySummary]:
        """Summary of every stage, keyed by stage name."""
        return {name: rolling.summary() for name, rolling in self._stages.items()}
