"""Per-camera rate limiting for inference: decides whether a camera is due now.

Schedules against the ideal tick (not "now + period") so a late run does not push every
later run back; after a long stall it re-anchors instead of bursting to catch up.
"""

from __future__ import annotations

from typing import Dict


class RateGate:
    """Tracks when each camera is next due; rate_hz 0 means always due."""

    def __init__(self, rate_hz: float) -> None:
        if rate_hz < 0:
            raise ValueError(f"rate_hz must be >= 0, got {rate_hz}")
        self.rate_hz = rate_hz
        self._period_s = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self._next_due: Dict[str, float] = {}

    def due(self, camera_id: str, now_s: float) -> bool:
        """True when `camera_id` should run at monotonic time `now_s`."""
        return now_s >= self._next_due.get(camera_id, float("-inf"))

    def wait_s(self, camera_id: str, now_s: float) -> float:
        """Seconds until `camera_id` is due (0 when due)."""
        return max(0.0, self._next_due.get(camera_id, float("-inf")) - now_s)

    def mark_run(self, camera_id: str, now_s: float) -> None:
        """Record that `camera_id` ran at `now_s` and schedule its next tick."""
        if self._period_s == 0.0:
            return
        previous = self._next_due.get(camera_id)
        if previous is None or now_s - previous > self._period_s:
            self._next_due[camera_id] = now_s + self._period_s
        else:
            self._next_due[camera_id] = previous + self._period_s
