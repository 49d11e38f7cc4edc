"""One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) over arrays, one instance per track.

Why this filter: it is what NVIDIA's deepstream-bodypose-3d applies to keypoints before lifting
(x, y: min cutoff 0.1 Hz, beta 0.05, derivative cutoff 1 Hz; zRel: min cutoff 0.5 Hz; the
root depth 0.1 Hz), and it trades jitter at rest against lag in motion with two numbers.
It is a dozen lines of arithmetic, vectorised over all joints here; no maintained package does
that over numpy arrays, so it is written out rather than imported.

The reference assumes a fixed 30 Hz sample rate. Pose may run slower or unevenly under the
scheduler, so each update takes the sample interval; the rate is 1/interval, and the nominal
rate is used for the first sample or when the interval is not positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

_ONE_OVER_TWO_PI = 1.0 / (2.0 * math.pi)


@dataclass(frozen=True)
class OneEuroParams:
    """Cutoffs in Hz; beta in 1/(unit of the signal), as in the paper."""

    min_cutoff_hz: float
    beta: float
    d_cutoff_hz: float = 1.0


def smoothing_factor(rate_hz: float, cutoff_hz: np.ndarray) -> np.ndarray:
    """Exponential smoothing weight of a new sample: cutoff / (rate / 2pi + cutoff)."""
    result: np.ndarray = cutoff_hz / (rate_hz * _ONE_OVER_TWO_PI + cutoff_hz)
    return result


class OneEuroFilter:
    """Filters successive same-shaped float arrays element-wise."""

    def __init__(self, params: OneEuroParams, nominal_rate_hz: float = 30.0) -> None:
        if nominal_rate_hz <= 0.0:
            raise ValueError(f"nominal_rate_hz must be positive, got {nominal_rate_hz}")
        self.params = params
        self.nominal_rate_hz = nominal_rate_hz
        self._value: Optional[np.ndarray] = None
        self._slope: Optional[np.ndarray] = None

    def reset(self) -> None:
        """Forget the past: the next sample passes through unchanged."""
        self._value = None
        self._slope = None

    def __call__(self, sample: np.ndarray, interval_s: float = 0.0) -> np.ndarray:
        """The filtered value of `sample`, taken `interval_s` after the previous one."""
        x = np.asarray(sample, dtype=np.float64)
        if self._value is None or self._slope is None or self._value.shape != x.shape:
            self._value = x.copy()
            self._slope = np.zeros_like(x)
            return x.copy()
        rate_hz = 1.0 / interval_s if interval_s > 0.0 else self.nominal_rate_hz
        slope = (x - self._value) * rate_hz
        d_alpha = smoothing_factor(rate_hz, np.asarray(self.params.d_cutoff_hz))
        self._slope = d_alpha * slope + (1.0 - d_alpha) * self._slope
        cutoff = self.params.min_cutoff_hz + self.params.beta * np.abs(self._slope)
        alpha = smoothing_factor(rate_hz, cutoff)
        self._value = alpha * x + (1.0 - alpha) * self._value
        return self._value.copy()
