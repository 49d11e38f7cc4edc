"""The people-tracking thread: newest frames of due cameras -> TrackingStage, at its own rate.

Why a thread of its own and not a step of the segmentation thread: PeopleNet + ReID and the
segmentation model are separate blocking calls with separate rates (models.tracking.rate_hz
vs models.semseg.rate_hz), and a slow one must not hold the other back. Both read the same
latest-frame slots through their own readers (capture/latest_slot.py), so each gets the newest
frame it has not seen, frames are never queued, and a frame neither took is counted dropped.
All cameras that are due in one round go into one batched call (TrackingStage.process).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Dict, Mapping, Optional

from edge_agent.pipeline.due_frames import DueFrames, FrameSlot
from edge_agent.runtime.rate_gate import RateGate
from edge_agent.pipeline.tracking_stage import TrackingStage

logger = logging.getLogger(__name__)


class TrackingWorker:
    """Runs a TrackingStage over the cameras' slot readers on a thread named 'tracking'."""

    def __init__(
        self, stage: TrackingStage, slots: Mapping[str, FrameSlot], gate: RateGate
    ) -> None:
        self._stage = stage
        self._due = DueFrames(slots, gate)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._last_processed_s: Dict[str, float] = {}
        self.rounds = 0
        self.failures = 0
        self.last_error = ""

    @property
    def events_published(self) -> int:
        """Track events and count messages handed to the publisher so far."""
        return self._stage.events_published

    @property
    def standin(self) -> bool:
        """True when a stand-in detector or embedder runs (after start())."""
        return self._stage.standin

    def backends(self) -> Dict[str, str]:
        """Model name -> backend serving it now (for telemetry and the status line)."""
        return self._stage.backends()

    def start(self) -> None:
        """Load the models, publish the restored counts, then start the thread."""
        self._stage.start()
        self._thread = threading.Thread(target=self._run, name="tracking", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Finish the round in progress, end every track ('end' events), save the counts."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(max(0.0, timeout_s))
            if self._thread.is_alive():
                logger.warning(
                    "tracking thread still busy after %.1f s; tracks not ended", timeout_s
                )
                return
        self._stage.stop()

    def last_processed_s(self) -> Dict[str, float]:
        """Monotonic time each camera's newest frame went through tracking."""
        with self._lock:
            return dict(self._last_processed_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            frames = self._due.next_batch(self._stop)
            if not frames:
                continue
            try:
                self._stage.process(frames)
            except Exception as err:  # noqa: BLE001 - one bad round must not stop tracking
                self.failures += 1
                self.last_error = str(err)
                logger.error(
                    "tracking failed for cameras %s: %s",
                    [f.camera_id for f in frames],
                    err,
                    exc_info=logger.isEnabledFor(logging.DEBUG),
                )
                continue
            self.rounds += 1
            done_s = time.monotonic()
            with self._lock:
                for frame in frames:
                    self._last_processed_s[frame.camera_id] = done_s
