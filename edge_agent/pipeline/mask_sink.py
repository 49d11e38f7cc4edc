"""Segmentation results to messages: the mask event per frame and changed zone occupancy.

Pure apart from the clock: builds, never publishes (the event worker does). Occupancy keeps
its last published value per zone across reloads, so an unchanged zone is not republished
when another camera is added or removed.
"""

from __future__ import annotations

import time
from typing import List, Sequence

from typing_extensions import Literal

from edge_agent.analytics.mask_occupancy import MaskOccupancy
from edge_agent.events.payloads import to_json_bytes
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.topics import Topics
from edge_agent.pipeline.mask_events import MaskEventBuilder
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.task import TaskResult


class MaskSink:
    """Turns `semseg` task results into mask events (+ retained occupancy)."""

    def __init__(self, builder: MaskEventBuilder, topics: Topics, qos: Literal[0, 1],
                 model_name: str, standin: bool, occupancy: MaskOccupancy,
                 timings: StageTimings) -> None:
        self.builder = builder
        self._topics = topics
        self._qos = qos
        self._model_name = model_name
        self._standin = standin
        self.occupancy = occupancy
        self._timings = timings

    def handle(self, results: Sequence[TaskResult]) -> List[OutgoingMessage]:
        """Messages for one batch of segmentation results (encode time recorded per frame)."""
        out: List[OutgoingMessage] = []
        for result in results:
            start = time.perf_counter()
            event = self.builder.build(result.frame, result.value, model_name=self._model_name,
                                       standin=self._standin,
                                       inference_ms=result.run_ms)
            out.append(OutgoingMessage(self._topics.mask(result.frame.camera_id),
                                       to_json_bytes(event), self._qos, False, "mask"))
            out.extend(self.occupancy.messages_for(event))
            self._timings.add("encode", (time.perf_counter() - start) * 1000.0)
        return out
