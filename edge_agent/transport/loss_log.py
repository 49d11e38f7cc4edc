"""LossLog: every lost message is logged, but at most one line per kind and interval.

Why: a full disk refuses every commit batch (hundreds a minute) and a full outbox drops the
oldest messages at the event rate; a line each time hides everything else in the journal,
while no line at all (drops only counted in telemetry) hides the loss. The first loss of a
kind is logged at once; later ones are summed and logged when the interval has passed (from
``report`` or ``tick``), with the latest reason.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, List, Tuple

DEFAULT_INTERVAL_S = 30.0


class _Pending:
    def __init__(self) -> None:
        self.count = 0
        self.reason = ""
        self.logged_at = float("-inf")


class LossLog:
    """Rate-limited warnings about lost messages, one stream per kind."""

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: Dict[str, _Pending] = {}

    def report(self, kind: str, count: int, reason: str) -> None:
        """``count`` messages were lost for ``reason``; logs now or sums for later."""
        if count <= 0:
            return
        with self._lock:
            pending = self._kinds.setdefault(kind, _Pending())
            pending.count += count
            pending.reason = reason
        self.tick()

    def tick(self) -> None:
        """Log every summary whose interval has passed (call now and then)."""
        now = self._clock()
        due: List[Tuple[str, int, str, float]] = []
        with self._lock:
            for kind, pending in self._kinds.items():
                if pending.count and now - pending.logged_at >= self._interval_s:
                    since = now - pending.logged_at
                    due.append((kind, pending.count, pending.reason, since))
                    pending.count = 0
                    pending.logged_at = now
        for kind, count, reason, since in due:
            window = "" if since == float("inf") else f" in the last {since:.0f} s"
            self._logger.warning("%s: %d message(s)%s: %s", kind, count, window, reason)

    def flush(self) -> None:
        """Log whatever is still summed, regardless of the interval (at close)."""
        with self._lock:
            for pending in self._kinds.values():
                if pending.count:
                    pending.logged_at = float("-inf")
        self.tick()
