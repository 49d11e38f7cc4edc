"""The event thread: builds payloads from inference results and publishes them.

Runs beside the inference thread so RLE encoding and MQTT hand-off overlap the next
inference instead of adding to it. Stops only after the results queue is drained, so a
clean shutdown publishes every result that was computed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Optional

from typing_extensions import Literal

from edge_agent.events.occupancy import ZoneOccupancy
from edge_agent.events.payloads import to_json_bytes
from edge_agent.events.topics import Topics
from edge_agent.pipeline.inference_worker import InferredBatch
from edge_agent.pipeline.mask_events import MaskEventBuilder
from edge_agent.pipeline.timing import StageTimings
from edge_agent.transport.publisher import OutgoingMessage, Publisher

logger = logging.getLogger(__name__)

_POLL_S = 0.1


class EventWorker:
    """Consumes InferredBatch items, publishes one mask event per frame."""

    def __init__(
        self,
        results: "queue.Queue[InferredBatch]",
        builder: MaskEventBuilder,
        topics: Topics,
        publisher: Publisher,
        timings: StageTimings,
        qos: Literal[0, 1],
        model_name: str,
        standin: bool,
        occupancy: Optional[ZoneOccupancy] = None,
    ) -> None:
        self._results = results
        self._builder = builder
        self._topics = topics
        self._publisher = publisher
        self._timings = timings
        self._qos = qos
        self._model_name = model_name
        self._standin = standin
        self._occupancy = occupancy
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.events_published = 0
        self.failures = 0

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._run, name="events", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Drain what inference produced, then end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _handle(self, batch: InferredBatch) -> None:
        result = batch.result
        timings = self._timings
        timings.add("preprocess", result.preprocess_ms)
        timings.add("inference", result.inference_ms)
        timings.add("decode", result.decode_ms)
        per_frame_ms = result.inference_ms / max(1, len(batch.frames))
        for frame, output in zip(batch.frames, result.outputs):
            start = time.perf_counter()
            event = self._builder.build(
                frame,
                output,
                model_name=self._model_name,
                standin=self._standin,
                inference_ms=per_frame_ms,
            )
            payload = to_json_bytes(event)
            encoded = time.perf_counter()
            self._publisher.publish(
                OutgoingMessage(
                    topic=self._topics.mask(frame.camera_id),
                    payload=payload,
                    qos=self._qos,
                    retain=False,
                    channel="mask",
                )
            )
            if self._occupancy is not None:
                for message in self._occupancy.messages_for(event):
                    self._publisher.publish(message)
            published = time.perf_counter()
            timings.add("encode", (encoded - start) * 1000.0)
            timings.add("publish", (published - encoded) * 1000.0)
            self.events_published += 1

    def _run(self) -> None:
        while True:
            try:
                batch = self._results.get(timeout=_POLL_S)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            try:
                self._handle(batch)
            except Exception:  # noqa: BLE001 - a bad result must not stop publishing
                self.failures += 1
                logger.exception("could not build or publish a mask event")
