"""Saving the counting state on a timer of its own, off the inference and event paths.

Why its own worker: an fsync on a slow SD card, or a full disk, must not hold up a tracking
round or fail it (a failing save used to raise in every round, which the watchdog read as a
stall and systemd turned into a restart loop). The event worker hands over a snapshot (a small
dict) whenever one is due; this worker writes the newest one. A failed save is counted and
reported as a degradation (the store logs the first failure of a spell and the recovery); the
next snapshot tries again, so the state catches up by itself when the disk recovers.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Dict, Optional

from edge_agent.analytics.state import StateStore
from edge_agent.runtime.worker import Worker

logger = logging.getLogger(__name__)

SAVE_EVERY_S = 5.0


class StateSaver(Worker):
    """Writes the newest offered snapshot; `offer()` never blocks the caller."""

    def __init__(self, store: StateStore, interval_s: float = SAVE_EVERY_S) -> None:
        super().__init__("state-saver")
        self._store = store
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._pending: Optional[Dict[str, Any]] = None
        self._wake = threading.Event()
        self.saves = 0
        self.failures = 0
        self.last_error = ""

    def offer(self, snapshot: Dict[str, Any]) -> None:
        """Replace the snapshot waiting to be written."""
        with self._lock:
            self._pending = snapshot
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            self.save_pending()
            self.beat()

    def on_stop_requested(self) -> None:
        self._wake.set()

    def drain(self, timeout_s: float) -> None:
        """Write the last snapshot at stop."""
        if not self.alive():
            self.save_pending()

    def save_pending(self) -> bool:
        """Write the pending snapshot now; False when there was none or it failed."""
        with self._lock:
            snapshot, self._pending = self._pending, None
        if snapshot is None:
            return False
        # The store never raises for a file-system problem; it logs the first failure of a
        # spell and the recovery itself (analytics/state.py).
        result = self._store.save(snapshot.get("cameras", {}),
                                  float(snapshot.get("saved_ts", 0.0)))
        if not result.ok:
            self.failures += 1
            self.last_error = str(result.error.problem) if result.error is not None else "failed"
            return False
        self.last_error = ""
        self.saves += 1
        return True
