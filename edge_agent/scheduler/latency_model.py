"""Latency per (engine, resource, batch): seeded from the tables, corrected by measurement.

Why a ratio and not raw measurements: a measured latency is only valid at the clock it was taken
at. Keeping the ratio measured / seed-at-that-clock per engine lets a measurement made at
1300 MHz still predict the latency at 780 MHz after throttling, and lets batch sizes that never
ran borrow the correction of those that did. Without a seed (no table, or a power mode the table
does not know) the model falls back to raw measurements only, and says so (`seeded`).

Absurd samples (not finite, zero or negative, more than 100x the previous accepted sample of the
same engine) are ignored and counted: one stalled call or a clock glitch must not re-plan a
device.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, Optional, Tuple

from edge_agent.scheduler.latency_table import LatencyTable, seed_latency_ms

ABSURD_FACTOR = 100.0


@dataclass
class _Window:
    """EWMA and a bounded window of recent values (for the p95)."""

    alpha: float
    size: int
    ewma: Optional[float] = None
    values: Deque[float] = field(default_factory=deque)
    count: int = 0

    def add(self, value: float) -> None:
        self.ewma = value if self.ewma is None else self.ewma + self.alpha * (value - self.ewma)
        self.values.append(value)
        while len(self.values) > self.size:
            self.values.popleft()
        self.count += 1

    def quantile(self, q: float) -> Optional[float]:
        if not self.values:
            return None
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


EngineKey = Tuple[str, str]  # (model, resource)


class LatencyModel:
    """Not thread-safe by itself: PlannedPolicy serialises access."""

    def __init__(self, table: Optional[LatencyTable], mode_name: str, alpha: float = 0.2,
                 window: int = 200, min_samples: int = 3) -> None:
        self._table = table
        self._alpha = alpha
        self._window = window
        self._min_samples = min_samples
        self._gpu_mhz: Optional[float] = None
        self._ratios: Dict[EngineKey, _Window] = {}
        self._raw: Dict[Tuple[str, str, int], _Window] = {}
        self._last_ms: Dict[EngineKey, float] = {}
        self.absurd: Dict[str, int] = {"not_finite": 0, "not_positive": 0, "jump_100x": 0}
        self.mode_name = mode_name

    # -- device state -------------------------------------------------------------------
    @property
    def seeded(self) -> bool:
        """True when the table knows the current mode (else: measured latencies only)."""
        return self._table is not None and self._table.mode(self.mode_name) is not None

    def set_mode(self, mode_name: str) -> None:
        """A new power mode: raw measurements describe the old one and are dropped; the
        seed-relative corrections are kept (they describe the engine, not the clock)."""
        if mode_name != self.mode_name:
            self.mode_name = mode_name
            self._raw.clear()

    def set_gpu_clock_mhz(self, mhz: Optional[float]) -> None:
        """The GPU clock read now (throttling lowers it below the mode's cap)."""
        self._gpu_mhz = mhz if mhz is not None and mhz > 0 else None

    # -- feedback -----------------------------------------------------------------------
    def observe(self, model: str, resource: str, batch: int, latency_ms: float) -> bool:
        """One measured call; False (and counted) when the sample is absurd."""
        if not math.isfinite(latency_ms):
            self.absurd["not_finite"] += 1
            return False
        if latency_ms <= 0:
            self.absurd["not_positive"] += 1
            return False
        key = (model, resource)
        last = self._last_ms.get(key)
        if last is not None and latency_ms > ABSURD_FACTOR * last:
            self.absurd["jump_100x"] += 1
            return False
        self._last_ms[key] = latency_ms
        raw = self._raw.setdefault((model, resource, batch), _Window(self._alpha, self._window))
        raw.add(latency_ms)
        seed = self.seed_ms(model, resource, batch)
        if seed is not None:
            self._ratios.setdefault(key, _Window(self._alpha, self._window)).add(latency_ms / seed)
        return True

    # -- prediction ---------------------------------------------------------------------
    def seed_ms(self, model: str, resource: str, batch: int) -> Optional[float]:
        """The table's figure at the current mode and clock; None when unknown."""
        if self._table is None:
            return None
        seeded = seed_latency_ms(self._table, model, resource, batch, self.mode_name,
                                 self._gpu_mhz)
        return None if seeded is None else seeded.latency_ms

    def ratio(self, model: str, resource: str) -> float:
        """Measured / seed (EWMA) for the engine; 1.0 before enough samples."""
        window = self._ratios.get((model, resource))
        if window is None or window.count < self._min_samples or window.ewma is None:
            return 1.0
        return window.ewma

    def measured(self, model: str, resource: str) -> int:
        """How many samples of the engine were accepted (all batches)."""
        window = self._ratios.get((model, resource))
        raw = sum(w.count for (m, r, _), w in self._raw.items() if (m, r) == (model, resource))
        return max(raw, window.count if window is not None else 0)

    def predict_ms(self, model: str, resource: str, batch: int) -> Optional[float]:
        """Expected latency of one call of `batch` items; None when nothing is known."""
        seed = self.seed_ms(model, resource, batch)
        if seed is not None and self.seeded:
            return seed * self.ratio(model, resource)
        return self._from_raw(model, resource, batch, None)

    def p95_ms(self, model: str, resource: str, batch: int) -> Optional[float]:
        """95th percentile of one call; the measured spread applied to the prediction."""
        mean = self.predict_ms(model, resource, batch)
        if mean is None:
            return None
        window = self._ratios.get((model, resource)) if self.seeded else None
        if window is None or window.count < self._min_samples or not window.ewma:
            raw = self._raw.get((model, resource, batch))
            if raw is None or raw.count < self._min_samples or not raw.ewma:
                return mean * 1.2  # no spread measured yet: assume 20 %
            window = raw
        high = window.quantile(0.95)
        assert high is not None and window.ewma is not None
        return mean * max(1.0, high / window.ewma)

    def _from_raw(self, model: str, resource: str, batch: int,
                  quantile: Optional[float]) -> Optional[float]:
        """Measured only: the same batch, else the nearest measured batch scaled linearly."""
        candidates = [(abs(b - batch), b, w) for (m, r, b), w in self._raw.items()
                      if (m, r) == (model, resource) and w.count >= self._min_samples]
        if not candidates:
            return None
        _, measured_batch, window = min(candidates)
        value = window.ewma if quantile is None else window.quantile(quantile)
        assert value is not None
        return value * max(1.0, batch / measured_batch)
