"""Saving the counting state on a timer of its own, off the inference and event paths.

Why its own worker: an fsync on a slow SD card, or a full disk, must not hold up a tracking
round or fail it (a failing save used to raise in every round, which the watchdog read as a
stall and systemd turned into a restart loop). The event worker hands over a snapshot (a small
dict) whenever one is due; this worker writes the newest one. A failed save is logged (once
per failure streak), counted and reported as a degradation in health; the next snapshot
tries again, so the state catches up by itself when the disk recovers.
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
        try:
            self._store.save(snapshot.get("cameras", {}), float(snapshot.get("saved_ts", 0.0)))
        except Exception as err:  # noqa: BLE001 - a failed save degrades, never stops, the agent
            self.failures += 1
            first = not self.last_error
            self.last_error = str(err)
            if first:
                logger.error("cannot save the counting state to %s: %s; counts keep running "
                             "and the save is retried every %.0f s", self._store.path, err,
                             self.interval_s)
            return False
        if self.last_error:
            logger.info("counting state saved again to %s", self._store.path)
            self.last_error = ""
        self.saves += 1
        return True
