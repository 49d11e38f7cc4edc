"""Wiring and lifecycle: build every part from settings, start in order, stop in reverse.

Everything that can fail because of the user's input (config, files, models, the task graph)
is checked in `prepare()` before any thread starts or any connection opens, so a bad input
never leaves a half-started daemon behind. `start()` then acquires resources in a fixed order
and `stop()` releases them in reverse within a time budget, draining results already
computed. The agent holds a list of tasks (runtime/), not one field per model: models are
loaded once into the registry, tasks borrow them, the executors run them, and the event
worker turns their results into messages through one sink per task.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

from edge_agent import __version__
from edge_agent.agent.sinks import SinkContext, install_sinks, sink_tasks
from edge_agent.agent.status import (
    camera_progress,
    slowest_progress,
    slowest_rate_hz,
    status_snapshot,
)
from edge_agent.capture.camera_worker import CameraWorker
from edge_agent.capture.preflight import preflight
from edge_agent.device.device_id import resolve_device_id
from edge_agent.device.telemetry import DeviceTelemetry
from edge_agent.device.tuning import resolve_settings
from edge_agent.errors import ConfigError
from edge_agent.events.health_payloads import ReloadTelemetry
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.fleet.agent_target import AgentHooks
from edge_agent.fleet.device_side import FleetService, TransportChannel, build_fleet_service
from edge_agent.pipeline.assembly import (
    POSE_STAGE,
    TRACKING_STAGES,
    Loaders,
    SemsegLoader,
    build_tasks,
    load_semseg_engine,
    name_stages,
    semseg_model_name,
    task_rates_hz,
)
from edge_agent.pipeline.event_worker import EventWorker
from edge_agent.pipeline.mask_sink import MaskSink
from edge_agent.pipeline.people_models import PeopleLoader, load_people_engine
from edge_agent.pipeline.pose_sink import PoseSink
from edge_agent.pipeline.scheduler_link import SchedulerLink, build_scheduler_link
from edge_agent.pipeline.snapshots import SnapshotWriter
from edge_agent.pipeline.state_saver import StateSaver
from edge_agent.pipeline.status import StatusSnapshot
from edge_agent.pipeline.track_feed import TRACKS_FEED
from edge_agent.pipeline.tracking_sink import TrackingSink
from edge_agent.runtime.model_registry import ModelRegistry
from edge_agent.runtime.policy import RatePolicy, SchedulingPolicy
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.supervisor import RestartPolicy, Supervisor
from edge_agent.runtime.task import Task
from edge_agent.runtime.task_runtime import TaskRuntime
from edge_agent.runtime.worker import Worker, WorkerHealth
from edge_agent.service.camera_diff import CameraDiff, diff_cameras
from edge_agent.service.reload import ReloadOutcome, ReloadPlan, plan_reload, reload_result
from edge_agent.service.startup_checks import raise_first, startup_problems
from edge_agent.service.telemetry_reporter import TelemetryReporter
from edge_agent.service.watchdog import CameraProgress
from edge_agent.settings import AgentSettings, CameraSettings, enabled_cameras
from edge_agent.transport.durable_publisher import DurablePublisher
from edge_agent.transport.ha_discovery import HaDiscovery

logger = logging.getLogger(__name__)

_MODEL_CALL_GRACE_S = 5.0

# Kept importable from here: tests and tools name them through the daemon.
__all__ = ["Agent", "load_semseg_engine", "semseg_model_name"]


class Agent:
    """The running daemon: cameras → tasks on executors → event sinks → MQTT."""

    def __init__(
        self,
        settings: AgentSettings,
        engine_loader: Optional[SemsegLoader] = None,
        device_root: Path = Path("/"),
        people_loader: PeopleLoader = load_people_engine,
        restart_policy: Optional[RestartPolicy] = None,
    ) -> None:
        self._settings = settings
        self._loaders = Loaders(engine_loader or load_semseg_engine, people_loader)
        self._device_root = device_root  # where 'auto' settings read the device (tests: a tree)
        self._registry = ModelRegistry()
        self._supervisor = Supervisor(restart_policy or RestartPolicy())
        self._lock = threading.RLock()  # parts swapped by reload vs readers (status, watchdog)
        self._prepared = False
        self._device_id = ""
        self._started_monotonic_s = 0.0
        self._sequence = SequenceCounter()
        self._last_reload: Optional[ReloadTelemetry] = None
        self._cameras: Dict[str, CameraWorker] = {}
        self._tasks: List[Task] = []
        self._fleet: Optional[FleetService] = None
        self._next_card_s = 0.0
        self.config_path: Optional[Path] = None  # what reload/fleet commands re-read
        self.restart_requested = threading.Event()  # a fleet command asked for a restart

    # -- building ---------------------------------------------------------------------------

    @property
    def device_id(self) -> str:
        """The resolved device id (known once prepare() has resolved it)."""
        if not self._device_id:
            self._require()
        return self._device_id

    @property
    def prepared(self) -> bool:
        """True once prepare() succeeded (status and health may be read from then on)."""
        return self._prepared

    @property
    def supervisor(self) -> Supervisor:
        """Restarts dead workers, gives up on hopeless ones (the runner polls it)."""
        return self._supervisor

    @property
    def registry(self) -> ModelRegistry:
        """Loaded models (outlive reloads)."""
        return self._registry

    @property
    def runtime(self) -> TaskRuntime:
        """Executors, router and the applied tasks (after prepare())."""
        self._require()
        return self._runtime

    @property
    def tasks(self) -> List[Task]:
        """The tasks running now, upstream first."""
        with self._lock:
            return list(self._tasks)

    def _require(self) -> None:
        if not self._prepared:
            raise RuntimeError("Agent.prepare() has not run")

    def prepare(self) -> None:
        """Validate inputs and build all parts; raises EdgeAgentError on bad input."""
        settings = self._settings = resolve_settings(self._settings, self._device_root)
        # The same checks as `config check --online` (models are checked when they load).
        raise_first(startup_problems(settings, online=True, check_models=False))
        cameras = enabled_cameras(settings)
        device_id = resolve_device_id(settings.device.id)
        try:
            tasks = build_tasks(settings, [c.id for c in cameras], self._registry, self._loaders)
            self._build(settings, device_id, cameras, tasks)
        except Exception:
            self._registry.close_all()
            raise
        for task in tasks:
            if task.standin:
                logger.warning("model %s is a STAND-IN (generated, not NVIDIA's weights): every "
                               "event is flagged standin=true", task.model)
        self._prepared = True

    def _build(self, settings: AgentSettings, device_id: str, cameras: List[CameraSettings],
               tasks: List[Task]) -> None:
        topics = Topics(settings.mqtt.topic_prefix, device_id)
        publisher = DurablePublisher(settings.mqtt, settings.outbox, device_id, __version__)
        publisher.check()
        timings = StageTimings()
        name_stages(timings, settings)
        self._device_id, self._topics, self._publisher = device_id, topics, publisher
        self._timings = timings
        self._scheduler = build_scheduler_link(
            settings, self._device_root, [t.name for t in tasks], [c.id for c in cameras],
            topics, device_id)
        self._policy: SchedulingPolicy = (
            self._scheduler.policy if self._scheduler is not None
            else RatePolicy(task_rates_hz(settings)))
        self._runtime = TaskRuntime(self._policy, timings)
        self._events = EventWorker(self._runtime.router.sink_queue, publisher, timings)
        self._snapshots: Optional[SnapshotWriter] = (
            SnapshotWriter(settings.models.snapshots, settings.models.tracking.enabled)
            if settings.models.snapshots.enabled else None)
        sinks = install_sinks(SinkContext(self._events, self._runtime, self._snapshots,
                                          self._topics, device_id, self._sequence, timings),
                              settings, tasks, cameras)
        self._mask_sink: Optional[MaskSink] = sinks.mask
        self._tracking_sink: Optional[TrackingSink] = sinks.tracking
        self._pose_sink: Optional[PoseSink] = sinks.pose
        self._saver: Optional[StateSaver] = sinks.saver
        self._cameras = {camera.id: CameraWorker(camera) for camera in cameras}
        self._runtime.apply(tasks, {cid: w.slot for cid, w in self._cameras.items()},
                            sink_tasks(tasks), feeds=(TRACKS_FEED,))
        self._tasks = self._runtime.tasks
        self._discovery: Optional[HaDiscovery] = None
        if settings.mqtt.ha_discovery:
            self._discovery = HaDiscovery(topics, device_id, __version__, cameras,
                                          settings.mqtt.ha_discovery_prefix,
                                          tracking=settings.models.tracking.enabled,
                                          pose_classes=(self._pose_sink.classes
                                                        if self._pose_sink is not None else ()))
            publisher.add_session_messages(self._discovery.messages)
            publisher.add_subscription(self._discovery.status_topic,
                                       self._discovery.on_ha_status)
        self._telemetry = TelemetryReporter(
            publisher, topics, device_id, __version__, settings.mqtt.telemetry_interval_s,
            cameras=lambda: [worker.stats() for worker in self.camera_workers()],
            latency=timings.summaries,
            outbox=publisher.outbox_counters,
            session=lambda: publisher.session,
            device=DeviceTelemetry(self._device_root),
            last_reload=lambda: self._last_reload,
            backends=self.model_backends,
            workers=self.worker_health,
            plan=self._scheduler.payload if self._scheduler is not None else None,
            dla_layers=lambda: self._runtime.dla_layers(),
        )
        if settings.fleet.enabled:
            self._fleet = self._build_fleet(settings, publisher)

    def _build_fleet(self, settings: AgentSettings, publisher: DurablePublisher) -> FleetService:
        """The fleet command receiver on the agent's own MQTT session (docs/fleet.md)."""
        def retained(topic: str, payload: bytes) -> None:
            publisher.publish(OutgoingMessage(topic, payload, 1, True, "state"))

        hooks = AgentHooks(restart=self.request_restart, rebirth=self.rebirth,
                           config_path=self.config_path, models_dir=settings.models.dir,
                           calibration_dir=settings.models.calibration_dir,
                           device_root=self._device_root)
        try:
            return build_fleet_service(self, settings, settings.fleet,
                                       TransportChannel(publisher), retained, hooks)
        except (OSError, sqlite3.Error) as err:
            raise ConfigError(
                f"cannot open the fleet command ledger {settings.fleet.ledger_path}: {err}",
                "set fleet.ledger_path to a file in a folder the agent may write, or "
                "fleet.enabled = false") from None

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect, then start events, executors and cameras, in that order."""
        self._require()
        self._started_monotonic_s = time.monotonic()
        publisher = self._publisher
        if self._fleet is not None:
            self._fleet.receiver.start()  # subscribes: must precede the first CONNACK
        publisher.start()
        if not publisher.wait_connected(self._settings.mqtt.connect_timeout_s):
            logger.warning(
                "broker unreachable at %s:%d; events are queued until it answers",
                self._settings.mqtt.host,
                self._settings.mqtt.port,
            )
        self._telemetry.start()
        self._events.start()
        if self._tracking_sink is not None:
            self._events.publish(self._tracking_sink.start_messages())  # restored counts
        if self._scheduler is not None:
            self._events.publish(self._scheduler.start_messages())  # retained plan
        if self._fleet is not None:
            self._fleet.publish_card()
        if self._saver is not None:
            self._saver.start()
        self._runtime.start()
        for camera in self.camera_workers():
            camera.start()
        for worker in self._all_workers():
            self._supervisor.watch(worker)
        self._supervisor.add_probe(self._publisher_health)
        if self._fleet is not None:
            fleet = self._fleet
            self._supervisor.add_probe(lambda: [fleet.receiver.health()])
        logger.info(
            "edge-agent %s running as device %s with %d camera(s) and tasks %s",
            __version__, self._device_id, len(self._cameras),
            ", ".join(f"{t.name}@{t.resource}" for t in self._tasks),
        )

    def camera_workers(self) -> List[CameraWorker]:
        """The running camera workers (a reload may swap some)."""
        with self._lock:
            return list(self._cameras.values())

    def _all_workers(self) -> List[Worker]:
        workers: List[Worker] = [*self.camera_workers(), *self._runtime.workers(), self._events,
                                 self._telemetry]
        if self._saver is not None:
            workers.append(self._saver)
        return workers

    def _publisher_health(self) -> List[WorkerHealth]:
        """The transport's own threads (mqtt-link, outbox-writer, handlers, the availability
        twin): watched, not restarted here; a death makes the agent unhealthy."""
        return [WorkerHealth(r.name, r.alive and r.deaths == 0, r.deaths, 0, r.last_error, None)
                for r in self._publisher.health().threads]

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop in reverse order, publishing what was already computed, within timeout_s."""
        if not self._prepared:
            return
        deadline = time.monotonic() + timeout_s

        def left(share: float) -> float:
            return max(0.05, (deadline - time.monotonic()) * share)

        if self._fleet is not None:
            self._fleet.stop()
        for worker in self.camera_workers():
            worker.stop(left(0.1))
        self._runtime.stop(left(0.3))
        self._events.stop(left(0.3))
        if self._tracking_sink is not None:  # 'end' events and saved counts, before the publisher
            self._events.publish(self._tracking_sink.end_messages())
            if self._saver is not None:
                self._saver.offer(self._tracking_sink.snapshot())
        if self._saver is not None:
            self._saver.stop(left(0.3))
        self._telemetry.stop(left(0.1))
        self._publisher.stop(left(0.9))
        # A model call still running (a slow accelerator) must finish before its engine is
        # released: closing a session under a running call crashes the process.
        if self._runtime.wait_idle(_MODEL_CALL_GRACE_S):
            self._registry.close_all()
        else:
            logger.error("a model call is still running %.0f s after stop; models are left "
                         "for the process exit to release", _MODEL_CALL_GRACE_S)
        logger.info("edge-agent stopped")

    def all_cameras_ended(self) -> bool:
        """True when every camera has ended (files with on_eof = 'stop')."""
        self._require()
        return all(worker.stats().state == "ended" for worker in self.camera_workers())

    # -- reload -----------------------------------------------------------------------------

    def reload(self, settings: AgentSettings) -> ReloadPlan:
        """Apply a re-read config as a diff, keeping the MQTT session and every engine.

        Raises EdgeAgentError (nothing changed) when the new config cannot run. Otherwise
        only what changed is touched: added cameras start, removed ones stop (their tracks
        end), a camera whose capture settings changed is reopened, zones and lines are swapped
        in the sinks, rates go to the policy; the others keep running undisturbed.
        """
        self._require()
        plan = plan_reload(self._settings, resolve_settings(settings, self._device_root))
        if plan.pipeline_changed:
            self._apply_diff(plan.effective)
        if "logging" in plan.live:
            logging.getLogger().setLevel(plan.effective.logging.level)
        self._settings = plan.effective
        return plan

    def _apply_diff(self, new: AgentSettings) -> None:
        cameras = _checked_cameras(new, "new config")
        diff: CameraDiff = diff_cameras(enabled_cameras(self._settings), cameras)
        for camera in diff.reopened:
            preflight(camera)
        fresh = {camera.id: CameraWorker(camera) for camera in diff.reopened}
        slots = {cid: w.slot for cid, w in self._cameras.items() if cid not in diff.removed}
        slots.update({cid: w.slot for cid, w in fresh.items()})
        tasks = build_tasks(new, [c.id for c in cameras], self._registry, self._loaders)
        # Everything that can fail has run; from here the new configuration is committed.
        with self._lock:
            for cid in [*diff.removed, *fresh]:
                old = self._cameras.pop(cid, None)
                if old is not None:
                    old.stop(0.5)
                    self._supervisor.forget(old.name)
            self._cameras.update(fresh)
            self._tasks = self._runtime.apply(tasks, slots, sink_tasks(tasks),
                                              feeds=(TRACKS_FEED,))
            if self._scheduler is not None:  # re-planned at the next tick
                self._scheduler.set_workload(new, [t.name for t in tasks],
                                             [c.id for c in cameras])
            elif isinstance(self._policy, RatePolicy):
                for name, rate in task_rates_hz(new).items():
                    if rate != self._policy.rate_hz(name):
                        self._policy.set_rate(name, rate)
        if self._mask_sink is not None:
            self._events.exclusive(lambda: self._mask_sink.builder.set_cameras(  # type: ignore[union-attr]
                cameras, new.models.semseg))
        if self._pose_sink is not None:
            pose_sink = self._pose_sink
            self._events.exclusive(lambda: pose_sink.set_cameras(cameras))
        if self._tracking_sink is not None:
            sink = self._tracking_sink
            self._events.exclusive(lambda: sink.set_cameras(cameras))
            self._events.exclusive(lambda: self._events.publish(sink.start_messages()))
        if self._discovery is not None:
            for message in self._discovery.set_cameras(cameras):
                self._publisher.publish(message)
        for worker in fresh.values():
            worker.start()
            self._supervisor.watch(worker)
        logger.info("reload: cameras added %s, removed %s, reopened %s, re-zoned %s",
                    diff.added or "-", diff.removed or "-", diff.changed_capture or "-",
                    diff.changed_geometry or "-")

    def tick(self, now_s: float) -> None:
        """Called from the runner's loop: the scheduler polls the device and may re-plan; the
        fleet card (what `edge-fleet ls` shows) is refreshed with the telemetry interval."""
        self._require()
        interval_s = self._settings.mqtt.telemetry_interval_s
        if self._fleet is not None and interval_s > 0 and now_s >= self._next_card_s:
            self._next_card_s = now_s + interval_s
            self._fleet.publish_card()
        if self._scheduler is None:
            return
        if self._tracking_sink is not None:
            self._scheduler.observe_people(self._tracking_sink.people_per_frame)
        messages = self._scheduler.tick(now_s)
        if messages:
            self._events.publish(messages)

    def request_restart(self, delay_s: float) -> None:
        """A fleet `restart`: stop after `delay_s` (the reply goes out first) and exit 75, which
        systemd's Restart=on-failure turns into a fresh start."""
        timer = threading.Timer(max(0.0, delay_s), self.restart_requested.set)
        timer.daemon = True
        timer.start()

    def rebirth(self) -> None:
        """A fleet `rebirth`: send every retained document again (discovery, plan, counts)."""
        messages: List[OutgoingMessage] = []
        if self._discovery is not None:
            messages.extend(self._discovery.messages())
        if self._scheduler is not None:
            messages.extend(self._scheduler.start_messages())
        sink = self._tracking_sink
        if sink is not None:
            self._events.exclusive(lambda: messages.extend(sink.all_count_messages()))
        if self._fleet is not None:
            self._fleet.publish_card()
        self._events.publish(messages)

    @property
    def fleet(self) -> Optional[FleetService]:
        """The fleet command receiver (None with fleet.enabled = false)."""
        return self._fleet

    @property
    def scheduler(self) -> Optional[SchedulerLink]:
        """The power-aware scheduler (None with fixed rates)."""
        return self._scheduler

    def record_reload(self, outcome: ReloadOutcome) -> None:
        """Keep the latest SIGHUP outcome (the runner calls this) so telemetry shows it."""
        self._last_reload = reload_result(outcome)

    # -- health -----------------------------------------------------------------------------

    def worker_health(self) -> List[WorkerHealth]:
        """Every supervised thread (and the transport's), for telemetry and the status line."""
        return self._supervisor.health()

    def healthy(self) -> bool:
        """False once a worker was given up on (the watchdog then stops pinging)."""
        return self._supervisor.healthy()

    def camera_progress(self) -> List[CameraProgress]:
        """Per enabled camera: state and when its last frame was processed (for the watchdog)."""
        self._require()
        sources = [t.name for t in self.tasks if t.upstream is None]
        rate_of = (self._scheduler.policy.rate_hz if self._scheduler is not None
                   else self._policy_rate)
        return camera_progress(
            self.camera_workers(),
            slowest_progress(self._runtime.last_processed_s(), sources),
            self._settings.service.stall_after_s,
            slowest_rate_hz(rate_of(name) for name in sources))

    def _policy_rate(self, task: str) -> float:
        policy = self._policy
        return policy.rate_hz(task) if isinstance(policy, RatePolicy) else 0.0

    def model_backends(self) -> Dict[str, str]:
        """Model name -> backend serving it now ('tensorrt-building', ...; inference.serving)."""
        self._require()
        return self._runtime.backends()

    @property
    def events_published(self) -> int:
        """Messages the event worker handed to the publisher since start."""
        return self._events.events_published

    def snapshot(self) -> StatusSnapshot:
        """Current figures for the status line."""
        self._require()
        return status_snapshot(
            self._started_monotonic_s, self.camera_workers(), self._publisher.stats(),
            self._timings.summaries(), [*TRACKING_STAGES, POSE_STAGE],
            self._events.events_published, self.model_backends(),
            list(self._supervisor.failed()),
            self._scheduler.summary() if self._scheduler is not None else "")


def _checked_cameras(settings: AgentSettings, where: str) -> List[CameraSettings]:
    cameras = enabled_cameras(settings)
    if not cameras:
        raise ConfigError("the new config has no enabled camera",
                          "enable at least one [[cameras]] table")
    return cameras
