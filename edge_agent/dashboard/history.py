"""Last-hour history of one number, bucketed so memory stays fixed whatever the message rate.

Why buckets: a zone may report many times a second; the chart needs one point per bucket
(10 s by default, 360 points an hour), so each series costs at most a few kilobytes even with
thousands of zones behind one dashboard.
"""

from __future__ import annotations

from collections import deque
from typing import Deque, List, Optional, Tuple

DEFAULT_WINDOW_S = 3600.0
DEFAULT_BUCKET_S = 10.0


class BucketedHistory:
    """Latest value per time bucket over a sliding window (bounded deque)."""

    def __init__(self, window_s: float = DEFAULT_WINDOW_S,
                 bucket_s: float = DEFAULT_BUCKET_S) -> None:
        if bucket_s <= 0 or window_s < bucket_s:
            raise ValueError(f"history bucket_s={bucket_s} must be > 0 and <= window_s={window_s}")
        self._bucket_s = bucket_s
        self._window_s = window_s
        self._points: Deque[Tuple[float, float]] = deque(maxlen=int(window_s // bucket_s) + 1)

    def add(self, ts_s: float, value: float) -> None:
        """Record ``value`` at ``ts_s``; a later value in the same bucket replaces it."""
        bucket = ts_s - ts_s % self._bucket_s
        if self._points and self._points[-1][0] == bucket:
            self._points[-1] = (bucket, value)
        elif not self._points or bucket > self._points[-1][0]:
            self._points.append((bucket, value))
        # an older bucket than the newest (out-of-order replay) is not charted: the chart is
        # "as the dashboard saw it", and the retained value already reflects the newest state

    def points(self, now_s: float) -> List[Tuple[float, float]]:
        """Points inside the window ending at ``now_s``, oldest first."""
        start = now_s - self._window_s
        return [p for p in self._points if p[0] >= start]

    def latest(self) -> Optional[float]:
        """The newest value, or None before the first."""
        return self._points[-1][1] if self._points else None
