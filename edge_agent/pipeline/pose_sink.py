"""Pose results to messages: pose events, opt-in keypoints, retained per-zone pose counts.

Runs on the event worker like the other sinks and only builds messages:

* a `PoseEvent` (durable, `<camera>/pose`) when a track's stable class changes (the task's
  hysteresis decides; the box and zones are the track's in the frame the change came with,
  or the last frame pose saw it in);
* a `PoseKeypointsMessage` (`<camera>/keypoints`) per track at most every
  `keypoint_messages.min_interval_s`, only when enabled; latest-only like masks (a stream of
  positions: a stale one is worth nothing after a reconnect);
* a retained `PoseZoneCountPayload` (`<camera>/zone/<zone>/pose`) per zone whenever its
  counts by class change; people whose pose is not known yet count as "unknown", so the
  classes add up to the zone's people.

Not thread-safe: only the event worker calls it.
"""

from __future__ import annotations

import time
from typing import Dict, List, Sequence, Set, Tuple

import numpy as np

from edge_agent.events.payloads import to_json_bytes
from edge_agent.events.pose_payloads import (
    PoseEvent,
    PoseKeypointsMessage,
    keypoints_field,
    points_mm_field,
    zone_count_payloads,
)
from edge_agent.events.publisher import Channel, OutgoingMessage
from edge_agent.events.sequence import SequenceCounter, new_event_id
from edge_agent.events.topics import Topics
from edge_agent.pipeline.pose_task import PoseFrameResult, PosePerson
from edge_agent.pipeline.track_feed import TrackedPerson
from edge_agent.pose.pose_events import ChangedCounts, KeypointRateLimiter, zone_pose_counts
from edge_agent.runtime.task import TaskResult
from edge_agent.settings import CameraSettings
from edge_agent.settings.pose import KeypointMessageSettings

_Key = Tuple[str, int]


class PoseSink:
    """Message builder for the pose task's results, for every camera of the device."""

    def __init__(self, topics: Topics, device_id: str, sequence: SequenceCounter, qos: int,
                 standin: bool, labels: Sequence[str], keypoints: KeypointMessageSettings,
                 cameras: Sequence[CameraSettings]) -> None:
        self._topics = topics
        self._device_id = device_id
        self._sequence = sequence
        self._qos = qos
        self._standin = standin
        self._labels = list(labels)
        self._keypoints = keypoints
        self._limiter = KeypointRateLimiter(keypoints.min_interval_s)
        self._counts = ChangedCounts()
        self._zones: Dict[str, List[str]] = {}
        self._seen: Dict[_Key, TrackedPerson] = {}
        self._live: Dict[str, Set[int]] = {}
        self.pose_events = 0
        self.keypoint_messages = 0
        self.set_cameras(cameras)

    @property
    def classes(self) -> List[str]:
        """The classifier's labels (Home Assistant makes one sensor per zone and class)."""
        return list(self._labels)

    def set_cameras(self, cameras: Sequence[CameraSettings]) -> None:
        """Zones per camera (reload); a new zone's counts are published at its next frame."""
        self._zones = {camera.id: [zone.name for zone in camera.zones] for camera in cameras}
        for key in [k for k in self._seen if k[0] not in self._zones]:
            del self._seen[key]

    def handle(self, results: Sequence[TaskResult]) -> List[OutgoingMessage]:
        """Messages for one batch of pose results."""
        out: List[OutgoingMessage] = []
        for result in results:
            value = result.value
            if not isinstance(value, PoseFrameResult) or value.camera_id not in self._zones:
                continue  # camera removed by a reload while its frame was in flight
            capture_ts = result.frame.capture_ts
            cid = value.camera_id
            self._remember(cid, value.people)
            for change in value.changes:
                person = self._seen.get((cid, change.track_id))
                if person is None:
                    continue  # the track ended before its class was decided
                out.append(self._pose_event(cid, person, change.pose, change.previous,
                                            change.kind, change.probability, capture_ts))
            if self._keypoints.enabled:
                out.extend(self._keypoint_messages(value, capture_ts))
            counts = zone_pose_counts([(p.person.zones, p.pose) for p in value.people],
                                      self._zones[cid], self._labels)
            for payload in zone_count_payloads(cid, dict(self._counts.changed(cid, counts)),
                                               max(capture_ts, 0.0), self._standin):
                out.append(self._message(self._topics.zone_pose(cid, payload.zone),
                                         to_json_bytes(payload), True, "state"))
        return out

    def _remember(self, cid: str, people: Sequence[PosePerson]) -> None:
        self._live[cid] = {p.person.track_id for p in people}
        for key in [k for k in self._seen if k[0] == cid and k[1] not in self._live[cid]]:
            del self._seen[key]
        for p in people:
            self._seen[(cid, p.person.track_id)] = p.person
        self._limiter.forget((c, t) for c, ids in self._live.items() for t in ids)

    def _pose_event(self, cid: str, person: TrackedPerson, pose: str, previous: object,
                    kind: str, probability: float, capture_ts: float) -> OutgoingMessage:
        event = PoseEvent(
            event_id=new_event_id(), device_id=self._device_id, camera_id=cid,
            capture_ts=max(capture_ts, 0.0), emitted_ts=time.time(), seq=self._sequence.next(),
            standin=self._standin, id=person.uid, track_id=person.track_id, pose=pose,
            kind=kind,
            previous=previous if isinstance(previous, str) else None,
            probability=min(max(probability, 0.0), 1.0),
            box=[round(v, 1) for v in person.box_xyxy], zones=list(person.zones))
        self.pose_events += 1
        return self._message(self._topics.pose(cid), to_json_bytes(event), False, "event")

    def _keypoint_messages(self, value: PoseFrameResult,
                           capture_ts: float) -> List[OutgoingMessage]:
        out = []
        for p in value.people:
            skeleton = p.skeleton
            key = (value.camera_id, p.person.track_id)
            if skeleton is None or not self._limiter.allow(key, capture_ts):
                continue
            message = PoseKeypointsMessage(
                event_id=new_event_id(), device_id=self._device_id, camera_id=value.camera_id,
                capture_ts=max(capture_ts, 0.0), emitted_ts=time.time(),
                seq=self._sequence.next(), standin=self._standin, id=p.person.uid,
                track_id=p.person.track_id, frame_width=value.frame_width,
                frame_height=value.frame_height,
                keypoints=keypoints_field(skeleton.keypoints_px, skeleton.confidence),
                points_mm=(points_mm_field(skeleton.points_mm)
                           if self._keypoints.include_3d
                           and bool(np.isfinite(skeleton.points_mm).all()) else None),
                pose=p.pose)
            self.keypoint_messages += 1
            out.append(self._message(self._topics.keypoints(value.camera_id),
                                     to_json_bytes(message), False, "mask"))
        return out

    def _message(self, topic: str, payload: bytes, retain: bool,
                 channel: Channel) -> OutgoingMessage:
        return OutgoingMessage(topic, payload, self._qos, retain, channel)  # type: ignore[arg-type]
