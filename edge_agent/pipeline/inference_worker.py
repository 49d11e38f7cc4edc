"""Inference: a preprocess thread feeding the thread that owns the model.

The inference thread does nothing but run the model (design rule: one thread per blocking
resource), so the accelerator never waits for CPU preprocessing: the `preprocess` thread takes
the newest frame of each due camera, builds the next batch's input while the current one runs,
and hands it over through a one-slot queue. Frames are taken from latest-frame slots, so when
inference is slower than capture the slots drop and count old frames instead of queueing them.
Results go to the event thread through a small bounded queue; when that is full the inference
thread waits, which again makes capture drop frames rather than memory grow.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping

from edge_agent.frames import Frame
from edge_agent.pipeline.due_frames import DueFrames, FrameSlot
from edge_agent.runtime.rate_gate import RateGate
from edge_agent.pipeline.semseg_engine import PreparedBatch, SegBatchResult, SemSegEngine

logger = logging.getLogger(__name__)

_HANDOFF_TIMEOUT_S = 0.1


@dataclass(frozen=True)
class InferredBatch:
    """Frames of one batch with their results, as handed to the event thread."""

    frames: List[Frame]
    result: SegBatchResult


def _put_until(target: "queue.Queue[Any]", item: object, stop: threading.Event) -> bool:
    """Blocking put that gives up only once `stop` is set; True when the item was queued."""
    while True:
        try:
            target.put(item, timeout=_HANDOFF_TIMEOUT_S)
            return True
        except queue.Full:
            if stop.is_set():
                return False


class InferenceWorker:
    """Runs SemSegEngine over the cameras' slots at the configured rate."""

    def __init__(
        self,
        engine: SemSegEngine,
        slots: Mapping[str, FrameSlot],
        gate: RateGate,
        results: "queue.Queue[InferredBatch]",
    ) -> None:
        self._engine = engine
        self._due = DueFrames(slots, gate, engine.max_batch)
        self._results = results
        self._prepared: "queue.Queue[PreparedBatch]" = queue.Queue(maxsize=1)
        self._stop_collecting = threading.Event()
        self._stop_running = threading.Event()
        self._threads: List[threading.Thread] = []
        self.batches = 0
        self.frames = 0
        self.failures = 0
        self.last_error = ""
        self.last_batch_monotonic_s = 0.0
        # Per camera, when its newest frame left inference; read by the service watchdog.
        self._processed_lock = threading.Lock()
        self._last_processed_s: Dict[str, float] = {}

    def start(self) -> None:
        """Start the inference thread, then the preprocess thread that feeds it."""
        for name, target in (("inference", self._run), ("preprocess", self._collect_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float) -> None:
        """Stop taking frames, finish what was prepared, hand it on, and end both threads."""
        deadline = time.monotonic() + timeout_s
        self._stop_collecting.set()
        for thread in reversed(self._threads):  # preprocess first, then inference
            if thread.name == "inference":
                self._stop_running.set()
            thread.join(max(0.0, deadline - time.monotonic()))

    def last_processed_s(self) -> Dict[str, float]:
        """Monotonic time each camera's newest frame was inferred (cameras never run: absent)."""
        with self._processed_lock:
            return dict(self._last_processed_s)

    # preprocess thread

    def _collect_loop(self) -> None:
        while not self._stop_collecting.is_set():
            frames = self._due.next_batch(self._stop_collecting)
            if not frames:
                continue
            try:
                prepared = self._engine.prepare(frames)
            except Exception as err:  # noqa: BLE001 - one bad frame must not stop the thread
                self._record_failure(err, frames)
                continue
            _put_until(self._prepared, prepared, self._stop_collecting)

    # inference thread

    def _run(self) -> None:
        while True:
            try:
                prepared = self._prepared.get(timeout=_HANDOFF_TIMEOUT_S)
            except queue.Empty:
                if self._stop_running.is_set():
                    return
                continue
            try:
                result = self._engine.run(prepared)
            except Exception as err:  # noqa: BLE001 - one bad batch must not stop the thread
                self._record_failure(err, prepared.frames)
                continue
            self.batches += 1
            self.frames += len(prepared.frames)
            self.last_batch_monotonic_s = time.monotonic()
            with self._processed_lock:
                for frame in prepared.frames:
                    self._last_processed_s[frame.camera_id] = self.last_batch_monotonic_s
            batch = InferredBatch(prepared.frames, result)
            if not _put_until(self._results, batch, self._stop_running):
                logger.warning("event thread is not draining; %d results lost", len(batch.frames))

    def _record_failure(self, err: Exception, frames: List[Frame]) -> None:
        self.failures += 1
        self.last_error = str(err)
        logger.error(
            "inference failed for cameras %s: %s",
            [f.camera_id for f in frames],
            err,
            exc_info=logger.isEnabledFor(logging.DEBUG),
        )
