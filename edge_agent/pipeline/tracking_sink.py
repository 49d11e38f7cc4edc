"""People tracking as an event sink: PeopleNet/ReID results in, track events and counts out.

The tracker and the zone/line analytics are pure steps fed by the detection tasks' results
(runtime routes ReID's results here, or PeopleNet's when ReID is off); this class only keeps
one tracker and one counting state per camera and turns each step into messages. It never
publishes: `handle()` returns the messages and the event worker publishes them. Counts are
sent (retained) only when they change; `start_messages()` republishes the restored counts so
dashboards keep the right numbers across a restart; `end_messages()` ends every track at stop.

Clocks: the tracker runs on the frame's monotonic capture time (the wall clock steps when NTP
syncs on a board without an RTC battery, which would fling every Kalman prediction); payload
times and the counting state stay on the wall clock because they leave the device.
With `feed_tracks`, each step also lists the frame's confirmed tracks (`take_track_lists`),
which the daemon feeds to crop tasks such as pose (pipeline/track_feed.py); the messages are
the same either way.
Not thread-safe: only the event worker calls it (state snapshots are taken there too).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from edge_agent.analytics.counting import CameraCounting
from edge_agent.analytics.lines import LineSpec
from edge_agent.analytics.occupancy import ZoneCount, track_points
from edge_agent.analytics.zone_coverage import Zone
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.frames import Frame
from edge_agent.pipeline.people_engine import PeopleResult
from edge_agent.pipeline.track_events import TrackEventBuilder
from edge_agent.pipeline.track_feed import FrameTracks, TrackedPerson
from edge_agent.settings import CameraSettings
from edge_agent.settings.tracking import TrackingSettings
from edge_agent.tracking.gallery import Gallery
from edge_agent.tracking.params import params_from_settings
from edge_agent.tracking.track import Track, TrackState
from edge_agent.tracking.tracker import Tracker

logger = logging.getLogger(__name__)

_PEOPLE_EWMA = 0.1  # ~10 frames of memory: follows a crowd arriving within seconds


class TrackingSink:
    """Trackers, counting and event builders for the cameras of one device."""

    def __init__(self, cfg: TrackingSettings, topics: Topics, device_id: str,
                 sequence: SequenceCounter, qos: int, standin: bool,
                 saved: Optional[Dict[str, object]] = None,
                 clock: Callable[[], float] = time.time, feed_tracks: bool = False) -> None:
        self._cfg = cfg
        self._topics = topics
        self._device_id = device_id
        self._sequence = sequence
        self._qos = qos
        self.standin = standin
        self._clock = clock
        self._saved = saved or {}
        self._gallery = Gallery(cfg.gallery_size, cfg.gallery_ttl_s, cfg.reid_threshold,
                                cfg.cross_camera)
        self._params = params_from_settings(cfg)
        self._session = format(int(clock() * 1000) % (36**6), "x")
        self._trackers: Dict[str, Tracker] = {}
        self._counting: Dict[str, CameraCounting] = {}
        self._events: Dict[str, TrackEventBuilder] = {}
        self._cameras: Dict[str, CameraSettings] = {}
        self._published: Dict[str, object] = {}
        self._latest_ts = 0.0
        self._pending: List[OutgoingMessage] = []
        self.people_per_frame = 0.0  # EWMA of detections per frame (the scheduler's ReID cost)
        # Per-frame confirmed tracks for crop tasks (pipeline/track_feed.py), when enabled.
        self._feed_tracks = feed_tracks
        self._track_lists: List[Tuple[Frame, FrameTracks]] = []

    @property
    def cameras(self) -> List[str]:
        """Cameras tracked now."""
        return list(self._trackers)

    def set_cameras(self, cameras: Sequence[CameraSettings]) -> None:
        """Add, remove or re-zone cameras; untouched cameras keep tracks and counts.

        A removed camera's tracks end ('end' events queued for the next `handle`/`drain`); a
        camera whose zones or lines changed keeps its tracker but gets fresh counting for the
        new geometry (carrying over what the saved state has for zones that still exist).
        """
        now = self._clock()
        wanted = {camera.id: camera for camera in cameras}
        for cid in [cid for cid in self._trackers if cid not in wanted]:
            self._pending.extend(self._end_camera(cid, now))
            del self._trackers[cid], self._counting[cid], self._events[cid], self._cameras[cid]
        for cid, camera in wanted.items():
            old = self._cameras.get(cid)
            geometry_changed = old is not None and (old.zones != camera.zones
                                                    or old.lines != camera.lines)
            if old is None:
                self._trackers[cid] = Tracker(cid, self._params, self._gallery,
                                              f"{cid}-{self._session}")
                self._events[cid] = TrackEventBuilder(
                    cid, self._device_id, self._sequence, self._cfg.update_interval_s,
                    self.standin)
            if old is None or geometry_changed:
                restore = (self._counting[cid].snapshot(now) if geometry_changed
                           else self._saved_camera(cid))
                saved_ts = now if geometry_changed else self._saved_ts()
                counting = CameraCounting(
                    [Zone(z.name, tuple(z.polygon)) for z in camera.zones],
                    [LineSpec(x.name, x.start, x.end, x.reset_interval_s) for x in camera.lines],
                    self._cfg.active_min_speed, self._cfg.warmup_s, now,
                )
                counting.restore(restore, saved_ts, now, self._cfg.restore_max_age_s)
                self._counting[cid] = counting
                self._pending.extend(self._count_messages(cid, now))
            self._cameras[cid] = camera

    def _saved_camera(self, cid: str) -> Dict[str, Any]:
        cameras = self._saved.get("cameras")
        value = cameras.get(cid) if isinstance(cameras, dict) else None
        return value if isinstance(value, dict) else {}

    def _saved_ts(self) -> float:
        value = self._saved.get("saved_ts", 0.0)
        return float(value) if isinstance(value, (int, float)) else 0.0

    def start_messages(self) -> List[OutgoingMessage]:
        """Messages queued by set_cameras() (restored counts, ends of removed cameras)."""
        out, self._pending = self._pending, []
        return out

    def handle(self, results: Sequence[PeopleResult]) -> List[OutgoingMessage]:
        """One step per frame result; the messages to publish (events, changed counts)."""
        out = self.start_messages()
        for result in results:
            frame = result.frame
            cid = frame.camera_id
            tracker = self._trackers.get(cid)
            if tracker is None:
                continue  # camera removed by a reload while its frame was in flight
            self._latest_ts = max(self._latest_ts, frame.capture_ts)
            det = result.detections
            self.people_per_frame += _PEOPLE_EWMA * (len(det.boxes) - self.people_per_frame)
            step = tracker.update(frame.monotonic_ts, det.boxes, det.scores, result.embeddings,
                                  frame.size_wh)
            out.extend(self._analyse(cid, result, step.tracks, step.born, step.ended))
        return out

    def _analyse(self, cid: str, result: PeopleResult, tracks: List[Track], born: List[Track],
                 ended: List[Track]) -> List[OutgoingMessage]:
        frame = result.frame
        counting = self._counting[cid]
        now = frame.capture_ts
        # The published tracks (tracking.published) are exactly what is counted and sent.
        points = track_points(tracks, frame.size_wh)
        occupancy = counting.update(now, points)
        counting.observe_lines(now, points)
        if self._feed_tracks:
            self._track_lists.append((frame, _frame_tracks(cid, tracks, occupancy.after)))
        builder = self._events[cid]
        out = [self._message(topic or self._topics.track(cid), payload, retain=False)
               for topic, payload in builder.for_step(frame, tracks, born, points, occupancy,
                                                      counting, ended)]
        return out + self._count_messages(cid, now)

    def take_track_lists(self) -> List[Tuple[Frame, FrameTracks]]:
        """The confirmed tracks of every frame stepped since the last call (feed_tracks)."""
        out, self._track_lists = self._track_lists, []
        return out

    def _count_messages(self, cid: str, now: float) -> List[OutgoingMessage]:
        counting, topics, out = self._counting[cid], self._topics, []
        counts: Optional[Dict[str, ZoneCount]] = counting.published_counts(now)
        restored = not counting.warm(now)
        for zone, value in (counts or {}).items():
            if self._changed(topics.zone(cid, zone), (value.current, value.active)):
                out.append(self._message(topics.zone_person(cid, zone),
                                         str(value.current).encode(), retain=True))
                out.append(self._message(topics.zone_person_active(cid, zone),
                                         str(value.active).encode(), retain=True))
                out.append(self._message(topics.zone_count(cid, zone), self._events[cid]
                                         .zone_payload(zone, value, now, restored), retain=True))
        for name, totals in counting.lines.totals.items():
            key = (totals.count_in, totals.count_out, totals.since_ts)
            if self._changed(topics.line(cid, name), key):
                out.append(self._message(topics.line_in(cid, name),
                                         str(totals.count_in).encode(), retain=True))
                out.append(self._message(topics.line_out(cid, name),
                                         str(totals.count_out).encode(), retain=True))
                out.append(self._message(topics.line_count(cid, name),
                                         self._events[cid].line_payload(name, totals, now),
                                         retain=True))
        return out

    def all_count_messages(self) -> List[OutgoingMessage]:
        """Every camera's retained counts, changed or not (a fleet `rebirth`)."""
        self._published.clear()
        now = self._clock()
        out: List[OutgoingMessage] = []
        for cid in self._counting:
            out.extend(self._count_messages(cid, now))
        return out

    def _changed(self, key: str, value: object) -> bool:
        if self._published.get(key) == value:
            return False
        self._published[key] = value
        return True

    def _message(self, topic: str, payload: bytes, retain: bool) -> OutgoingMessage:
        return OutgoingMessage(topic, payload, self._qos, retain,  # type: ignore[arg-type]
                               "state" if retain else "event")

    def snapshot(self) -> Dict[str, object]:
        """The counting state of every camera, for the state saver (wall-clock stamped)."""
        now = max(self._clock(), self._latest_ts)
        return {"saved_ts": now,
                "cameras": {cid: c.snapshot(now) for cid, c in self._counting.items()}}

    def _end_camera(self, cid: str, now: float) -> List[OutgoingMessage]:
        tracker = self._trackers[cid]
        mono = time.monotonic()
        return [self._message(self._topics.track(cid), payload, retain=False)
                for payload in self._events[cid].end_all(tracker.end_all(mono), now,
                                                         self._counting[cid])]

    def end_messages(self) -> List[OutgoingMessage]:
        """'end' events of every live track (at stop)."""
        now = max(self._clock(), self._latest_ts)
        out = self.start_messages()
        for cid in list(self._trackers):
            out.extend(self._end_camera(cid, now))
        return out


def _frame_tracks(cid: str, tracks: List[Track],
                  zones_by_uid: Dict[str, List[str]]) -> FrameTracks:
    """The confirmed (seen in this frame) tracks of a step, with their zones."""
    people = tuple(
        TrackedPerson(t.track_id, t.uid, tuple(float(v) for v in t.last_box),  # type: ignore[arg-type]
                      tuple(zones_by_uid.get(t.uid, ())))
        for t in tracks if t.state == TrackState.CONFIRMED)
    return FrameTracks(cid, people, frozenset(t.track_id for t in tracks))
