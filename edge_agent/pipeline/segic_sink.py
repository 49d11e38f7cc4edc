"""SegIC results to messages: one mask event per prompt per frame, and retained zone presence.

Pure apart from the wall clock for `emitted_ts`: builds, never publishes. Zone presence is a
retained state per (camera, zone, prompt) under `<root>/<camera>/zone/<zone>/segic/<prompt>`;
it is republished when `present` flips and at least every refresh interval (measured on the
frames' monotonic capture times, so the sink needs no clock of its own).
"""

from __future__ import annotations

import time
from typing import Callable, Dict, List, Sequence, Tuple

from typing_extensions import Literal

from edge_agent.analytics.zone_coverage import Zone, ZoneCoverageMeter
from edge_agent.events.payloads import SCHEMA_VERSION, to_json_bytes
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.segic_payloads import CocoRle, SegicMaskEvent, SegicZoneState
from edge_agent.events.sequence import SequenceCounter, new_event_id
from edge_agent.events.topics import Topics, check_level
from edge_agent.pipeline.segic_task import SegicFrameResult
from edge_agent.runtime.task import TaskResult
from edge_agent.segic.decode import PromptMask
from edge_agent.settings import CameraSettings

SEGIC_EVENT_KIND = "segic"


def zone_state_topic(topics: Topics, camera_id: str, zone: str, prompt_id: str) -> str:
    """``<root>/<camera>/zone/<zone>/segic/<prompt>``: retained SegicZoneState."""
    return f"{topics.zone(camera_id, zone)}/segic/{check_level(prompt_id, 'prompt id')}"


class SegicSink:
    """Turns `segic` task results into messages; keeps the last zone state it published."""

    def __init__(self, device_id: str, topics: Topics, cameras: Sequence[CameraSettings],
                 sequence: SequenceCounter, model_name: str, standin: bool,
                 min_coverage: float, refresh_s: float, qos: Literal[0, 1] = 0,
                 clock: Callable[[], float] = time.time) -> None:
        self._device_id = device_id
        self._topics = topics
        self._sequence = sequence
        self._model = model_name
        self._standin = standin
        self._min_coverage = min_coverage
        self._refresh_s = refresh_s
        self._qos = qos
        self._clock = clock
        self._zones: Dict[str, ZoneCoverageMeter] = {}
        self._last: Dict[Tuple[str, str, str], Tuple[bool, float]] = {}
        self.set_cameras(cameras)

    def set_cameras(self, cameras: Sequence[CameraSettings]) -> None:
        """Zones per camera (after a reload)."""
        self._zones = {camera.id: ZoneCoverageMeter(
            [Zone(z.name, tuple((x, y) for x, y in z.polygon)) for z in camera.zones])
            for camera in cameras}

    def forget_prompt(self, prompt_id: str) -> List[OutgoingMessage]:
        """Clear the retained zone states of a removed prompt (empty retained payloads), so a
        dashboard does not show an object 'present' for a prompt that no longer runs."""
        keys = sorted(k for k in self._last if k[2] == prompt_id)
        for key in keys:
            del self._last[key]
        return [OutgoingMessage(zone_state_topic(self._topics, camera, zone, prompt),
                                b"", 1, True, "state") for camera, zone, prompt in keys]

    def handle(self, results: Sequence[TaskResult]) -> List[OutgoingMessage]:
        """Messages for one batch of SegIC results."""
        out: List[OutgoingMessage] = []
        for result in results:
            value: SegicFrameResult = result.value
            for mask in value.masks:
                event = self.event_for(value, mask)
                out.append(OutgoingMessage(
                    self._topics.event(value.frame.camera_id, SEGIC_EVENT_KIND),
                    to_json_bytes(event), self._qos, False, "mask"))
                out.extend(self.zone_messages(value, mask))
        return out

    def event_for(self, value: SegicFrameResult, mask: PromptMask) -> SegicMaskEvent:
        """The mask event of one prompt in one frame."""
        frame = value.frame
        width, height = frame.size_wh
        return SegicMaskEvent(
            schema_version=SCHEMA_VERSION, event_id=new_event_id(), device_id=self._device_id,
            camera_id=frame.camera_id, capture_ts=frame.capture_ts, emitted_ts=self._clock(),
            seq=self._sequence.next(), standin=self._standin, model=self._model,
            prompt_id=mask.prompt_id, frame_seq=frame.seq, frame_width=width,
            frame_height=height, score=min(max(mask.score, 0.0), 1.0),
            area_fraction=mask.area_fraction, example=mask.example,
            mask=CocoRle.from_mask(mask.mask), inference_ms=mask.run_ms)

    def zone_messages(self, value: SegicFrameResult, mask: PromptMask) -> List[OutgoingMessage]:
        """Retained presence states that changed (or are due for a refresh)."""
        frame = value.frame
        meter = self._zones.get(frame.camera_id)
        if meter is None or not meter.zones:
            return []
        out = []
        for zone in meter.measure(mask.mask):
            present = zone.coverage >= self._min_coverage
            key = (frame.camera_id, zone.name, mask.prompt_id)
            last = self._last.get(key)
            if last is not None and last[0] == present and (
                    frame.monotonic_ts - last[1] < self._refresh_s):
                continue
            self._last[key] = (present, frame.monotonic_ts)
            state = SegicZoneState(device_id=self._device_id, camera_id=frame.camera_id,
                                   zone=zone.name, prompt_id=mask.prompt_id, present=present,
                                   coverage=min(max(zone.coverage, 0.0), 1.0),
                                   capture_ts=frame.capture_ts, standin=self._standin)
            out.append(OutgoingMessage(
                zone_state_topic(self._topics, frame.camera_id, zone.name, mask.prompt_id),
                to_json_bytes(state), 1, True, "state"))
        return out
