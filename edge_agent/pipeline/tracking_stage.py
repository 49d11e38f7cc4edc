"""People tracking as one pipeline stage: frames in, track events and retained counts out.

Lifecycle: `__init__` stores collaborators; `load()` loads PeopleNet and ReID on the
configured backend (pipeline.people_models) and checks them against their packaged contracts
(the agent calls it in prepare(), so a bad model stops start-up before any thread runs);
`start()` restores the saved counting state and publishes the restored counts at once
(retained), so dashboards keep the right numbers across a restart; `process(frames)`
handles one round of frames from any number of cameras in one batched inference; `stop()`
ends every track ('end' events), saves the state and releases the models. Not thread-safe:
one thread (the inference thread) calls process(). Counts are republished only when they
change. With `timings`, each round adds 'peoplenet' and 'reid' (model time) and 'tracker'
(association, analytics, hand-off) samples.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from edge_agent.analytics.counting import CameraCounting
from edge_agent.analytics.geometry import foot_points
from edge_agent.analytics.lines import LineSpec
from edge_agent.analytics.occupancy import TrackPoint, ZoneCount
from edge_agent.analytics.state import StateStore
from edge_agent.analytics.zone_coverage import Zone
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.frames import Frame
from edge_agent.pipeline.people_engine import PeopleEngine
from edge_agent.pipeline.people_models import PeopleLoader, load_people_engine
from edge_agent.pipeline.track_events import TrackEventBuilder
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.settings import AgentSettings, enabled_cameras
from edge_agent.tracking.gallery import Gallery
from edge_agent.tracking.track import Track
from edge_agent.tracking.tracker import Tracker, TrackerParams
from edge_agent.transport.publisher import OutgoingMessage, Publisher

logger = logging.getLogger(__name__)

_SAVE_EVERY_S = 5.0


class TrackingStage:
    """PeopleNet + ReID + tracker + analytics for every enabled camera of one device."""

    def __init__(
        self,
        settings: AgentSettings,
        publisher: Publisher,
        topics: Topics,
        device_id: str,
        sequence: SequenceCounter,
        clock: Callable[[], float] = time.time,
        timings: Optional[StageTimings] = None,
        loader: PeopleLoader = load_people_engine,
    ) -> None:
        self._settings = settings
        self._loader = loader
        self._cfg = settings.models.tracking
        self._publisher = publisher
        self._topics = topics
        self._device_id = device_id
        self._sequence = sequence
        self._clock = clock
        self._timings = timings
        self._engine: Optional[PeopleEngine] = None
        self._trackers: Dict[str, Tracker] = {}
        self._counting: Dict[str, CameraCounting] = {}
        self._events: Dict[str, TrackEventBuilder] = {}
        self._published: Dict[str, object] = {}
        self._store = StateStore(self._cfg.state_dir)
        self._last_save = 0.0
        self._latest_ts = 0.0
        self.standin = False
        self.events_published = 0

    def load(self) -> None:
        """Load and check the models; raises EdgeAgentError on a missing or wrong model."""
        if self._engine is None:
            self._engine, self.standin = self._loader(self._settings)

    def backends(self) -> Dict[str, str]:
        """Model name -> backend serving it now (inference.serving); {} when not loaded."""
        engine, cfg = self._engine, self._cfg
        if engine is None:
            return {}
        out = {cfg.peoplenet_model: engine.detector_backend}
        if engine.embedder_backend is not None and cfg.reid_model:
            out[cfg.reid_model] = engine.embedder_backend
        return out

    def start(self) -> None:
        """Restore counts and publish them (loading the models first if load() was not called)."""
        cfg = self._cfg
        self.load()
        now = self._clock()
        saved = self._store.load()
        saved_ts = float(saved.get("saved_ts", 0.0))
        gallery = Gallery(cfg.gallery_size, cfg.gallery_ttl_s, cfg.reid_threshold,
                          cfg.cross_camera)
        params = TrackerParams(
            min_hits=cfg.min_hits, max_lost_s=cfg.max_lost_s, iou_gate=cfg.iou_gate,
            appearance_gate=cfg.appearance_gate, appearance_weight=cfg.appearance_weight,
            max_tracks=cfg.max_tracks,
        )
        session = format(int(now * 1000) % (36**6), "x")
        for camera in enabled_cameras(self._settings):
            cid = camera.id
            self._trackers[cid] = Tracker(cid, params, gallery, f"{cid}-{session}")
            counting = CameraCounting(
                [Zone(z.name, tuple(z.polygon)) for z in camera.zones],
                [LineSpec(x.name, x.start, x.end, x.reset_interval_s) for x in camera.lines],
                cfg.active_min_speed, cfg.warmup_s, now,
            )
            counting.restore((saved.get("cameras") or {}).get(cid, {}), saved_ts, now,
                             cfg.restore_max_age_s)
            self._counting[cid] = counting
            self._events[cid] = TrackEventBuilder(
                cid, self._device_id, self._sequence, cfg.update_interval_s, self.standin
            )
            self._publish_counts(cid, now)

    def process(self, frames: Sequence[Frame]) -> int:
        """One round: batched inference, tracking, analytics, publishing; returns events sent."""
        if self._engine is None:
            raise RuntimeError("TrackingStage.process() before start()")
        frames = [f for f in frames if f.camera_id in self._trackers]
        if not frames:
            return 0
        started = time.perf_counter()
        result = self._engine.infer(frames)
        self._latest_ts = max([self._latest_ts] + [f.capture_ts for f in frames])
        sent = 0
        for item in result.results:
            frame = item.frame
            cid = frame.camera_id
            step = self._trackers[cid].update(
                frame.capture_ts, item.detections.boxes, item.detections.scores,
                item.embeddings,
            )
            sent += self._analyse(cid, frame, step.tracks, step.born, step.ended)
        now = self._clock()
        if now - self._last_save >= _SAVE_EVERY_S:
            self._save(now)
        if self._timings is not None:
            total_ms = (time.perf_counter() - started) * 1000.0
            self._timings.add("peoplenet", result.detect_ms)
            self._timings.add("reid", result.reid_ms)
            self._timings.add("tracker", max(0.0, total_ms - result.inference_ms))
        return sent

    def _analyse(self, cid: str, frame: Frame, tracks: List[Track], born: List[Track],
                 ended: List[Track]) -> int:
        counting = self._counting[cid]
        width, height = frame.size_wh
        now = frame.capture_ts
        feet = foot_points(np.array([t.last_box for t in tracks]).reshape(-1, 4), (width, height))
        points = [
            TrackPoint(t.uid, (float(feet[i][0]), float(feet[i][1])),
                       float((t.velocity_px_s ** 2).sum() ** 0.5) / height,
                       t.state.value == "lost")
            for i, t in enumerate(tracks)
        ]
        occupancy = counting.update(now, points)
        counting.observe_lines(now, points)
        builder = self._events[cid]
        messages = builder.for_step(frame, tracks, born, points, occupancy, counting, ended)
        for topic, payload in messages:
            self._send(topic or self._topics.track(cid), payload, retain=False)
        self._publish_counts(cid, now)
        return len(messages)

    def _publish_counts(self, cid: str, now: float) -> None:
        counting = self._counting[cid]
        counts: Optional[Dict[str, ZoneCount]] = counting.published_counts(now)
        restored = not counting.warm(now)
        if counts is not None:
            for zone, value in counts.items():
                topics = self._topics
                if self._changed(topics.zone(cid, zone), (value.current, value.active)):
                    self._send(topics.zone_person(cid, zone), str(value.current).encode(),
                               retain=True)
                    self._send(topics.zone_person_active(cid, zone), str(value.active).encode(),
                               retain=True)
                    self._send(topics.zone_count(cid, zone), self._events[cid].zone_payload(
                        zone, value, now, restored), retain=True)
        for name, totals in counting.lines.totals.items():
            key = (totals.count_in, totals.count_out, totals.since_ts)
            if self._changed(self._topics.line(cid, name), key):
                self._send(self._topics.line_in(cid, name), str(totals.count_in).encode(),
                           retain=True)
                self._send(self._topics.line_out(cid, name), str(totals.count_out).encode(),
                           retain=True)
                self._send(self._topics.line_count(cid, name),
                           self._events[cid].line_payload(name, totals, now), retain=True)

    def _changed(self, key: str, value: object) -> bool:
        if self._published.get(key) == value:
            return False
        self._published[key] = value
        return True

    def _send(self, topic: str, payload: bytes, retain: bool) -> None:
        qos = self._settings.mqtt.qos
        self._publisher.publish(OutgoingMessage(topic, payload, qos, retain,
                                                "state" if retain else "event"))
        self.events_published += 1

    def _save(self, now: float) -> None:
        self._store.save({cid: c.snapshot(now) for cid, c in self._counting.items()}, now)
        self._last_save = now

    def stop(self) -> None:
        """End every track ('end' events), save the counting state, release the models."""
        now = max(self._clock(), self._latest_ts)
        for cid, tracker in self._trackers.items():
            for payload in self._events[cid].end_all(tracker.end_all(now), now,
                                                     self._counting[cid]):
                self._send(self._topics.track(cid), payload, retain=False)
        if self._counting:
            self._save(now)
        if self._engine is not None:
            self._engine.close()
            self._engine = None
