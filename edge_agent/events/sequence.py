"""Event identity: a per-device sequence number and a random event id.

Why both: ``seq`` lets a consumer see gaps (lost events) and order events from one device
without trusting clocks; ``event_id`` stays unique across agent restarts (when ``seq`` starts
again) and is what consumers deduplicate on, since QoS 1 delivers at least once.
"""

from __future__ import annotations

import threading
import uuid


class SequenceCounter:
    """Hands out 0, 1, 2, ... to any number of threads, never the same number twice.

    One instance per device is shared by every camera thread, so the lock is required: a
    read-increment-write without it can hand two cameras the same number.
    """

    def __init__(self, start: int = 0) -> None:
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        self._lock = threading.Lock()
        self._next = start

    def next(self) -> int:
        """Return the next number and advance."""
        with self._lock:
            value = self._next
            self._next += 1
            return value

    @property
    def issued(self) -> int:
        """How far the counter has advanced: the number the next call will return."""
        with self._lock:
            return self._next


def new_event_id() -> str:
    """A random UUID4 as 32 lower-case hex digits (no dashes), as carried in event_id."""
    return uuid.uuid4().hex
