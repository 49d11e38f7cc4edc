"""The inference thread: takes the newest frame of each due camera, runs a batch, hands on.

One thread owns the accelerator (design rule: one thread per blocking resource). Frames are
taken from latest-frame slots, so when inference is slower than capture the slots drop and
count old frames instead of queueing them. Results go to the event thread through a small
bounded queue; when that queue is full this thread waits, which again makes capture drop
frames rather than memory grow.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import List, Mapping, Optional

from typing_extensions import Protocol

from edge_agent.frames import Frame
from edge_agent.pipeline.rate_gate import RateGate
from edge_agent.pipeline.semseg_engine import SegBatchResult, SemSegEngine

logger = logging.getLogger(__name__)

_IDLE_WAIT_S = 0.05
_HANDOFF_TIMEOUT_S = 0.1


class FrameSlot(Protocol):
    """What the inference thread needs from a camera's latest-frame slot."""

    def take(self, timeout_s: float) -> Optional[Frame]:
        """Newest frame not yet taken, or None after timeout_s."""
        ...


@dataclass(frozen=True)
class InferredBatch:
    """Frames of one batch with their results, as handed to the event thread."""

    frames: List[Frame]
    result: SegBatchResult


class InferenceWorker:
    """Runs SemSegEngine over the cameras' slots at the configured rate."""

    def __init__(
        self,
        engine: SemSegEngine,
        slots: Mapping[str, FrameSlot],
        gate: RateGate,
        results: queue.Queue[InferredBatch],
    ) -> None:
        self._engine = engine
        self._slots = dict(slots)
        self._gate = gate
        self._results = results
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.batches = 0
        self.frames = 0
        self.failures = 0
        self.last_error = ""
        self.last_batch_monotonic_s = 0.0

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._run, name="inference", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Finish the batch in progress, hand it on, and end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _collect(self) -> List[Frame]:
        now_s = time.monotonic()
        limit = self._engine.max_batch or len(self._slots)
        frames: List[Frame] = []
        for camera_id, slot in self._slots.items():
            if len(frames) >= limit:
                break
            if self._gate.due(camera_id, now_s):
                frame = slot.take(0.0)
                if frame is not None:
                    frames.append(frame)
        return frames

    def _idle_wait(self) -> None:
        """Block briefly on the slot that is due soonest, so an idle loop does not spin."""
        now_s = time.monotonic()
        camera_id = min(self._slots, key=lambda cid: self._gate.wait_s(cid, now_s))
        wait_s = self._gate.wait_s(camera_id, now_s)
        if wait_s > 0:
            self._stop.wait(min(wait_s, _IDLE_WAIT_S))
            return
        frame = self._slots[camera_id].take(_IDLE_WAIT_S)
        if frame is not None:
            self._process([frame])

    def _process(self, frames: List[Frame]) -> None:
        now_s = time.monotonic()
        for frame in frames:
            self._gate.mark_run(frame.camera_id, now_s)
        try:
            result = self._engine.infer(frames)
        except Exception as err:  # noqa: BLE001 - one bad batch must not stop the thread
            self.failures += 1
            self.last_error = str(err)
            logger.exception("inference failed for cameras %s", [f.camera_id for f in frames])
            return
        self.batches += 1
        self.frames += len(frames)
        self.last_batch_monotonic_s = time.monotonic()
        batch = InferredBatch(frames, result)
        while True:
            try:
                self._results.put(batch, timeout=_HANDOFF_TIMEOUT_S)
                return
            except queue.Full:
                if self._stop.is_set():
                    logger.warning("event thread is not draining; %d results lost", len(frames))
                    return

    def _run(self) -> None:
        while not self._stop.is_set():
            frames = self._collect()
            if frames:
                self._process(frames)
            else:
                self._idle_wait()
