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
from typing import Deque, Dict, Iterator, Mapping, Optional, Sequence, Tuple


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
    """A RollingLatency per named stage (preprocess, inference, decode, encode, publish, ...).

    Stages appear when first recorded (tasks come and go with reloads); `declare` fixes the
    order in which they are listed. `task_stages` maps a task's prepare/run/decode steps to
    stage names: equal names are summed into one sample per batch (PeopleNet's whole batch is
    one 'peoplenet' sample), so the figures mean what they meant before tasks existed.
    """

    def __init__(self, stages: Sequence[str] = (), window: int = 256,
                 task_stages: Optional[Mapping[str, Tuple[str, str, str]]] = None) -> None:
        self._window = window
        self._lock = threading.Lock()
        self._stages: Dict[str, RollingLatency] = {name: RollingLatency(window) for name in stages}
        self._task_stages: Dict[str, Tuple[str, str, str]] = dict(task_stages or {})

    def declare(self, stages: Sequence[str]) -> None:
        """Make sure these stages exist (listed even before their first sample)."""
        for name in stages:
            self._rolling(name)

    def name_task(self, task: str, stages: Tuple[str, str, str]) -> None:
        """Stage names for `task`'s prepare, run and decode steps."""
        with self._lock:
            self._task_stages[task] = stages
        self.declare(list(dict.fromkeys(stages)))

    def _rolling(self, stage: str) -> RollingLatency:
        with self._lock:
            rolling = self._stages.get(stage)
            if rolling is None:
                rolling = self._stages[stage] = RollingLatency(self._window)
            return rolling

    def add(self, stage: str, duration_ms: float) -> None:
        """Record a duration for `stage`."""
        self._rolling(stage).add(duration_ms)

    def add_batch(self, task: str, prepare_ms: float, run_ms: float, decode_ms: float,
                  count: int) -> None:
        """One batch of `task`: each step under its stage name (equal names summed)."""
        with self._lock:
            names = self._task_stages.get(task, (task, task, task))
        sums: Dict[str, float] = {}
        for name, value in zip(names, (prepare_ms, run_ms, decode_ms)):
            sums[name] = sums.get(name, 0.0) + value
        for name, value in sums.items():
            self.add(name, value)
        _ = count

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
        with self._lock:
            stages = list(self._stages.items())
        return {name: rolling.summary() for name, rolling in stages}
