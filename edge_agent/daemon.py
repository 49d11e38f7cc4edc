"""Wiring and lifecycle: build every part from settings, start in order, stop in reverse.

Everything that can fail because of the user's input (config, files, models) is checked in
`prepare()` before any thread starts or any connection opens, so a bad input never leaves a
half-started daemon behind. `start()` then acquires resources in a fixed order and `stop()`
releases them in reverse within a time budget, draining results already computed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from edge_agent import __version__
from edge_agent.capture.camera_worker import CameraWorker
from edge_agent.capture.preflight import preflight
from edge_agent.device.telemetry import DeviceTelemetry
from edge_agent.device.tuning import resolve_settings, semseg_rate_hz
from edge_agent.device_id import resolve_device_id
from edge_agent.errors import ConfigError
from edge_agent.events.ha_discovery import HaDiscovery
from edge_agent.events.health_payloads import ReloadTelemetry, reload_result
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.telemetry import TelemetryReporter
from edge_agent.events.topics import Topics
from edge_agent.pipeline.assembly import (
    TRACKING_STAGES,
    build_semseg,
    build_tracking,
    load_semseg_engine,
    semseg_model_name,
    stage_names,
)
from edge_agent.pipeline.event_worker import EventWorker
from edge_agent.pipeline.inference_worker import InferenceWorker
from edge_agent.pipeline.people_models import (
    PeopleLoader,
    load_people_engine,
)
from edge_agent.pipeline.semseg_engine import SemSegEngine
from edge_agent.pipeline.status import CameraLine, StatusSnapshot
from edge_agent.pipeline.timing import StageTimings
from edge_agent.pipeline.tracking_worker import TrackingWorker
from edge_agent.service.reload import ReloadOutcome, ReloadPlan, plan_reload
from edge_agent.service.watchdog import CameraProgress, stall_threshold_s
from edge_agent.settings import AgentSettings, enabled_cameras
from edge_agent.transport.durable_publisher import DurablePublisher

logger = logging.getLogger(__name__)

# Kept importable from here: tests and tools name them through the daemon.
__all__ = ["Agent", "load_semseg_engine", "semseg_model_name"]


@dataclass
class _Parts:
    """Everything `prepare()` built; `start()` only switches it on."""

    device_id: str
    engine: Optional[SemSegEngine]  # None when models.semseg.enabled is false
    cameras: List[CameraWorker]
    publisher: DurablePublisher
    inference: Optional[InferenceWorker]
    events: Optional[EventWorker]
    timings: StageTimings
    telemetry: TelemetryReporter
    tracking: Optional[TrackingWorker] = None


class Agent:
    """The running daemon: cameras → inference → events → MQTT."""

    def __init__(
        self,
        settings: AgentSettings,
        engine_loader: Callable[[AgentSettings], SemSegEngine] = load_semseg_engine,
        device_root: Path = Path("/"),
        people_loader: PeopleLoader = load_people_engine,
    ) -> None:
        self._settings = settings
        self._engine_loader = engine_loader
        self._people_loader = people_loader  # PeopleNet + ReID (tests: on a FAKE TensorRT)
        self._device_root = device_root  # where 'auto' settings read the device (tests: a tree)
        self._parts: Optional[_Parts] = None
        self._started_monotonic_s = 0.0
        self._events_before_reload = 0
        self._sequence = SequenceCounter()
        self._topics: Optional[Topics] = None
        self._last_reload: Optional[ReloadTelemetry] = None  # for telemetry

    @property
    def device_id(self) -> str:
        """The resolved device id (after prepare())."""
        return self._require().device_id

    def _require(self) -> _Parts:
        if self._parts is None:
            raise RuntimeError("Agent.prepare() has not run")
        return self._parts

    def prepare(self) -> None:
        """Validate inputs and build all parts; raises EdgeAgentError on bad input."""
        settings = self._settings = resolve_settings(self._settings, self._device_root)
        cameras = enabled_cameras(settings)
        if not cameras:
            raise ConfigError(
                "no enabled camera is configured",
                "add a [[cameras]] table with id and url (see deploy/agent.example.toml)",
            )
        if not (settings.models.semseg.enabled or settings.models.tracking.enabled):
            raise ConfigError(
                "models.semseg.enabled and models.tracking.enabled are both false: "
                "nothing would run",
                "enable segmentation, tracking or both",
            )
        device_id = resolve_device_id(settings.device.id)
        for camera in cameras:
            preflight(camera)
        engine = self._engine_loader(settings) if settings.models.semseg.enabled else None
        try:
            topics = Topics(settings.mqtt.topic_prefix, device_id)
            publisher = DurablePublisher(settings.mqtt, settings.outbox, device_id, __version__)
            publisher.check()
            timings = StageTimings(stage_names(settings))
            telemetry = self._build_telemetry(publisher, topics, device_id, timings)
            self._topics, self._sequence = topics, SequenceCounter()
            workers, inference, events, tracking = self._build_branches(
                settings, device_id, engine, publisher, timings
            )
        except Exception:
            if engine is not None:
                engine.close()
            raise
        if engine is not None and engine.standin:
            logger.warning(
                "model %s is a STAND-IN (generated, not NVIDIA's weights): every event is "
                "flagged standin=true",
                engine.model_name,
            )
        self._parts = _Parts(
            device_id, engine, workers, publisher, inference, events, timings, telemetry, tracking
        )

    def _build_branches(
        self,
        settings: AgentSettings,
        device_id: str,
        engine: Optional[SemSegEngine],
        publisher: DurablePublisher,
        timings: StageTimings,
    ) -> Tuple[
        List[CameraWorker],
        Optional[InferenceWorker],
        Optional[EventWorker],
        Optional[TrackingWorker],
    ]:
        """Cameras plus the enabled branches for `settings`; built, not started."""
        if self._topics is None:
            raise RuntimeError("topics are set in prepare() before the pipeline is built")
        workers = [CameraWorker(camera) for camera in enabled_cameras(settings)]
        inference: Optional[InferenceWorker] = None
        events: Optional[EventWorker] = None
        if engine is not None:
            inference, events = build_semseg(
                settings,
                device_id,
                engine,
                workers,
                publisher,
                self._topics,
                timings,
                self._sequence,
            )
        tracking = build_tracking(
            settings,
            device_id,
            workers,
            publisher,
            self._topics,
            timings,
            self._sequence,
            self._people_loader,
        )
        return workers, inference, events, tracking

    def _build_telemetry(
        self, publisher: DurablePublisher, topics: Topics, device_id: str, timings: StageTimings
    ) -> TelemetryReporter:
        """Telemetry every mqtt.telemetry_interval_s, and Home Assistant discovery hooks."""
        mqtt = self._settings.mqtt
        if mqtt.ha_discovery:
            discovery = HaDiscovery(
                topics,
                device_id,
                __version__,
                enabled_cameras(self._settings),
                mqtt.ha_discovery_prefix,
                tracking=self._settings.models.tracking.enabled,
            )
            publisher.add_session_messages(discovery.messages)
            publisher.add_subscription(discovery.status_topic, discovery.on_ha_status)
        return TelemetryReporter(
            publisher,
            topics,
            device_id,
            __version__,
            mqtt.telemetry_interval_s,
            cameras=lambda: [worker.stats() for worker in self._require().cameras],
            latency=timings.summaries,
            outbox=publisher.outbox_counters,
            session=lambda: publisher.session,
            device=DeviceTelemetry(self._device_root),
            last_reload=lambda: self._last_reload,
            backends=self.model_backends,
        )

    def reload(self, settings: AgentSettings) -> ReloadPlan:
        """Apply a re-read config live, keeping the MQTT session and the engine.

        Raises EdgeAgentError (nothing changed) when the new config cannot run; otherwise
        swaps the pipeline (cameras, inference, events; computed results are drained first)
        when it changed, and returns what was applied and what needs a restart.
        """
        parts = self._require()
        plan = plan_reload(self._settings, resolve_settings(settings, self._device_root))
        if plan.pipeline_changed:
            cameras = enabled_cameras(plan.effective)
            if not cameras:
                raise ConfigError(
                    "the new config has no enabled camera",
                    "enable at least one [[cameras]] table",
                )
            for camera in cameras:
                preflight(camera)
            workers, inference, events, tracking = self._build_branches(
                plan.effective, parts.device_id, parts.engine, parts.publisher, parts.timings
            )
            for worker in parts.cameras:
                worker.stop(0.5)
            if parts.inference is not None:
                parts.inference.stop(1.0)
            if parts.tracking is not None:  # ends its tracks and saves the counts
                parts.tracking.stop(2.0)
                self._events_before_reload += parts.tracking.events_published
            if parts.events is not None:
                parts.events.stop(2.0)
                self._events_before_reload += parts.events.events_published
            parts.cameras, parts.inference, parts.events = workers, inference, events
            parts.tracking = tracking
            self._start_branches(parts)
        if "logging" in plan.live:
            logging.getLogger().setLevel(plan.effective.logging.level)
        self._settings = plan.effective
        return plan

    def record_reload(self, outcome: ReloadOutcome) -> None:
        """Keep the latest SIGHUP outcome (the runner calls this) so telemetry shows it."""
        self._last_reload = reload_result(outcome)

    def camera_progress(self) -> List[CameraProgress]:
        """Per enabled camera: state and when its last frame was processed (for the watchdog)."""
        parts = self._require()
        processed = _slowest_progress(parts)
        by_id = {camera.id: camera for camera in self._settings.cameras}
        progress = []
        for worker in parts.cameras:
            camera = by_id[worker.camera_id]
            progress.append(
                CameraProgress(
                    worker.camera_id,
                    worker.stats().state,
                    processed.get(worker.camera_id),
                    stall_threshold_s(
                        self._settings.service.stall_after_s,
                        camera.read_timeout_s,
                        _slowest_rate_hz(self._settings),
                    ),
                )
            )
        return progress

    def start(self) -> None:
        """Connect, then start cameras, inference and events, in that order."""
        parts = self._require()
        self._started_monotonic_s = time.monotonic()
        parts.publisher.start()
        if not parts.publisher.wait_connected(self._settings.mqtt.connect_timeout_s):
            logger.warning(
                "broker unreachable at %s:%d; events are queued until it answers",
                self._settings.mqtt.host,
                self._settings.mqtt.port,
            )
        parts.telemetry.start()
        self._start_branches(parts)
        logger.info(
            "edge-agent %s running as device %s with %d camera(s)",
            __version__,
            parts.device_id,
            len(parts.cameras),
        )

    @staticmethod
    def _start_branches(parts: _Parts) -> None:
        """Consumers first, cameras last, so the first frames find someone waiting."""
        if parts.events is not None:
            parts.events.start()
        if parts.inference is not None:
            parts.inference.start()
        if parts.tracking is not None:
            parts.tracking.start()  # publishes the restored counts
        for worker in parts.cameras:
            worker.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop in reverse order, publishing what was already computed, within timeout_s."""
        parts = self._parts
        if parts is None:
            return
        deadline = time.monotonic() + timeout_s

        def left(share: float) -> float:
            return max(0.05, (deadline - time.monotonic()) * share)

        for worker in parts.cameras:
            worker.stop(left(0.1))
        if parts.inference is not None:
            parts.inference.stop(left(0.3))
        if parts.tracking is not None:
            parts.tracking.stop(left(0.3))  # 'end' events and saved counts, before the publisher
        if parts.events is not None:
            parts.events.stop(left(0.3))
        parts.telemetry.stop(left(0.1))
        parts.publisher.stop(left(0.9))
        if parts.engine is not None:
            parts.engine.close()
        logger.info("edge-agent stopped")

    def all_cameras_ended(self) -> bool:
        """True when every camera has ended (files with on_eof = 'stop')."""
        parts = self._require()
        return all(worker.stats().state == "ended" for worker in parts.cameras)

    def model_backends(self) -> Dict[str, str]:
        """Model name -> backend serving it now ('tensorrt-building', ...; inference.serving)."""
        parts = self._require()
        out = {parts.engine.model_name: parts.engine.backend} if parts.engine is not None else {}
        if parts.tracking is not None:
            out.update(parts.tracking.backends())
        return out

    def snapshot(self) -> StatusSnapshot:
        """Current figures for the status line."""
        parts = self._require()
        stats = parts.publisher.stats()
        summaries = parts.timings.summaries()
        cameras = []
        for worker in parts.cameras:
            cam = worker.stats()
            cameras.append(
                CameraLine(cam.camera_id, cam.state, cam.fps, cam.frames_dropped, cam.reconnects)
            )
        stage_ms: Dict[str, float] = {name: s.mean_ms for name, s in summaries.items()}
        return StatusSnapshot(
            uptime_s=time.monotonic() - self._started_monotonic_s,
            cameras=cameras,
            inference_ms=stage_ms.get("inference", 0.0),
            stage_ms=stage_ms,
            events_published=self._events_before_reload
            + (parts.events.events_published if parts.events is not None else 0)
            + (parts.tracking.events_published if parts.tracking is not None else 0),
            events_acknowledged=stats.acknowledged,
            events_pending=stats.pending,
            broker="up" if stats.connected else "unreachable",
            engine_ms={
                name: (summaries[name].p50_ms, summaries[name].p95_ms)
                for name in TRACKING_STAGES
                if name in summaries
            },
            backends=self.model_backends(),
        )


def _slowest_progress(parts: _Parts) -> Dict[str, float]:
    """Per camera, the older of the branches' last processed times: both must progress."""
    branches = [b.last_processed_s() for b in (parts.inference, parts.tracking) if b is not None]
    cameras = set.intersection(*(set(times) for times in branches)) if branches else set()
    return {cid: min(times[cid] for times in branches) for cid in cameras}


def _slowest_rate_hz(settings: AgentSettings) -> float:
    """The lowest configured rate of the enabled branches (0 = as fast as possible)."""
    rates = []
    if settings.models.semseg.enabled:
        rates.append(semseg_rate_hz(settings))
    if settings.models.tracking.enabled:
        rates.append(settings.models.tracking.rate_hz)
    limited = [rate for rate in rates if rate > 0]
    return min(limited) if limited else 0.0
