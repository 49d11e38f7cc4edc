"""The event worker: task results in, messages built by the sinks, published.

Runs beside the executors so event building (RLE, tracking, analytics, JSON) and the MQTT
hand-off overlap the next inference instead of adding to it. Each task's results go to the
sink registered for that task (segmentation → MaskSink, detection/ReID → TrackingSink); the
sinks only build, this worker publishes. It stops only after the results queue is drained, so
a clean shutdown publishes every result that was computed. A sink that raises on one batch is
logged and counted; the next batch is handled as usual.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Dict, List, Sequence

from edge_agent.events.publisher import OutgoingMessage, Publisher
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.task import TaskResult
from edge_agent.runtime.worker import Worker

logger = logging.getLogger(__name__)

_POLL_S = 0.1

SinkHandler = Callable[[Sequence[TaskResult]], List[OutgoingMessage]]


class EventWorker(Worker):
    """Consumes result batches, hands them to their sink, publishes what comes back."""

    def __init__(self, results: "queue.Queue[List[TaskResult]]", publisher: Publisher,
                 timings: StageTimings) -> None:
        super().__init__("events")
        self._results = results
        self._publisher = publisher
        self._timings = timings
        self._lock = threading.Lock()
        self._handling = threading.RLock()  # held while a sink runs; see exclusive()
        self._sinks: Dict[str, SinkHandler] = {}
        self._stage: Dict[str, str] = {}
        self.events_published = 0
        self.failures = 0

    def set_sink(self, task: str, handler: SinkHandler, stage: str = "") -> None:
        """Route `task`'s results to `handler`; `stage` names its timing (optional)."""
        with self._lock:
            self._sinks[task] = handler
            if stage:
                self._stage[task] = stage

    def remove_sink(self, task: str) -> None:
        """Stop handling `task` (results still queued for it are dropped)."""
        with self._lock:
            self._sinks.pop(task, None)
            self._stage.pop(task, None)

    def exclusive(self, action: Callable[[], object]) -> None:
        """Run `action` while no sink runs (a reload changing a sink's cameras)."""
        with self._handling:
            action()

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish messages built outside a batch (restored counts, ends, discovery)."""
        for message in messages:
            self._publisher.publish(message)
        self.events_published += _events_in(messages)

    def handle(self, batch: List[TaskResult]) -> None:
        """Build and publish one batch (the worker's step; also used to drain)."""
        if not batch:
            return
        task = batch[0].task
        with self._lock:
            handler, stage = self._sinks.get(task), self._stage.get(task)
        if handler is None:
            return
        start = time.perf_counter()
        with self._handling:
            messages = handler(batch)
        built = time.perf_counter()
        for message in messages:
            self._publisher.publish(message)
        if stage:
            self._timings.add(stage, (built - start) * 1000.0)
        self._timings.add("publish", (time.perf_counter() - built) * 1000.0)
        self.events_published += _events_in(messages)

    def run(self, stop: threading.Event) -> None:
        while True:
            try:
                batch = self._results.get(timeout=_POLL_S)
            except queue.Empty:
                self.beat()
                if stop.is_set():
                    return
                continue
            self._safe_handle(batch)
            self.beat()

    def _safe_handle(self, batch: List[TaskResult]) -> None:
        try:
            self.handle(batch)
        except Exception:  # noqa: BLE001 - a bad result must not stop publishing
            self.failures += 1
            logger.exception("could not build or publish events for a %s batch",
                             batch[0].task if batch else "?")

    def drain(self, timeout_s: float) -> None:
        """Publish what is still queued (after the thread ended), within timeout_s."""
        if self.alive():
            return  # still inside a sink: draining here would race it
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                batch = self._results.get_nowait()
            except queue.Empty:
                return
            self._safe_handle(batch)


def _events_in(messages: Sequence[OutgoingMessage]) -> int:
    """Events (masks, track events) among messages; retained state documents are not events."""
    return sum(1 for message in messages if message.channel in ("mask", "event"))
