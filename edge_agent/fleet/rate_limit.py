"""Per-sender token buckets, so one flooding sender cannot starve the others or the device.

Hand-written because it is twenty lines and must be bounded: the table of senders is an LRU
of at most ``max_senders`` entries, so random sender names cannot grow memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Dict, Tuple


class SenderRateLimiter:
    """``rate_per_s`` commands per second per sender, bursts up to ``burst``."""

    def __init__(
        self,
        rate_per_s: float = 2.0,
        burst: int = 20,
        max_senders: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate_per_s = rate_per_s
        self._burst = float(burst)
        self._max_senders = max_senders
        self._clock = clock
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()
        self._lock = threading.Lock()
        self._limited: Dict[str, int] = {}

    def allow(self, sender: str) -> bool:
        """Take one token for ``sender``; False (and counted) when its bucket is empty."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(sender, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate_per_s)
            allowed = tokens >= 1.0
            self._buckets[sender] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self._max_senders:
                self._buckets.popitem(last=False)
            if not allowed:
                key = sender if sender in self._limited or len(self._limited) < 64 else "other"
                self._limited[key] = self._limited.get(key, 0) + 1
            return allowed

    def limited(self) -> Dict[str, int]:
        """Refused commands per sender since start (at most 64 names, then 'other')."""
        with self._lock:
            return dict(self._limited)
