"""Human-part results to messages: one `parts` event per frame with people in it.

Pure apart from the wall clock for `emitted_ts`. Each part of each person is a COCO RLE on the
frame grid (the crop mapped back), readable by pycocotools without knowing the box.
"""

from __future__ import annotations

import time
from typing import Callable, List, Sequence

from typing_extensions import Literal

from edge_agent.events.payloads import SCHEMA_VERSION, to_json_bytes
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.segic_payloads import CocoRle, PartMask, PartsEvent, PersonParts
from edge_agent.events.sequence import SequenceCounter, new_event_id
from edge_agent.events.topics import Topics
from edge_agent.frames import Frame
from edge_agent.parts.decode import FramePartsResult
from edge_agent.runtime.task import TaskResult

PARTS_EVENT_KIND = "parts"


class PartsSink:
    """Turns `human_parts` task results into part events (frames without people send none)."""

    def __init__(self, device_id: str, topics: Topics, sequence: SequenceCounter,
                 model_name: str, labels: Sequence[str], standin: bool,
                 qos: Literal[0, 1] = 0, clock: Callable[[], float] = time.time) -> None:
        self._device_id = device_id
        self._topics = topics
        self._sequence = sequence
        self._model = model_name
        self._labels = tuple(labels)
        self._standin = standin
        self._qos = qos
        self._clock = clock

    def handle(self, results: Sequence[TaskResult]) -> List[OutgoingMessage]:
        """Messages for one batch of part results."""
        out = []
        for result in results:
            value: FramePartsResult = result.value
            if not value.people:
                continue
            event = self.event_for(result.frame, value)
            out.append(OutgoingMessage(self._topics.event(result.frame.camera_id,
                                                          PARTS_EVENT_KIND),
                                       to_json_bytes(event), self._qos, False, "mask"))
        return out

    def event_for(self, frame: Frame, value: FramePartsResult) -> PartsEvent:
        """The parts event of one frame."""
        width, height = value.frame_wh
        people = []
        for person in value.people:
            parts = [PartMask(class_id=class_id, label=self._label(class_id), pixels=pixels,
                              mask=CocoRle.from_mask(person.frame_mask(class_id,
                                                                       value.frame_wh)))
                     for class_id, pixels in sorted(person.part_pixels().items())]
            people.append(PersonParts(index=person.index, box=list(person.box), parts=parts))
        return PartsEvent(
            schema_version=SCHEMA_VERSION, event_id=new_event_id(), device_id=self._device_id,
            camera_id=frame.camera_id, capture_ts=frame.capture_ts, emitted_ts=self._clock(),
            seq=self._sequence.next(), standin=self._standin, model=self._model,
            frame_seq=frame.seq, frame_width=width, frame_height=height, people=people,
            inference_ms=value.run_ms)

    def _label(self, class_id: int) -> str:
        return self._labels[class_id] if class_id < len(self._labels) else f"class_{class_id}"
