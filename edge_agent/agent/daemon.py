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
from typing import Dict, List, Optional, Sequence, Set

from edge_agent import __version__
from edge_agent.analytics.mask_occupancy import MaskOccupancy
from edge_agent.analytics.state import StateStore
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
    POSE_SINK_STAGE,
    POSE_STAGE,
    TRACKER_STAGE,
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
from edge_agent.pipeline.mask_events import MaskEventBuilder
from edge_agent.pipeline.mask_sink import MaskSink
from edge_agent.pipeline.people_models import PeopleLoader, load_people_engine
from edge_agent.pipeline.people_tasks import PEOPLENET_TASK, REID_TASK
from edge_agent.pipeline.pose_sink import PoseSink
from edge_agent.pipeline.pose_task import POSE_TASK, PoseTask
from edge_agent.pipeline.scheduler_link import SchedulerLink, build_scheduler_link
from edge_agent.pipeline.semseg_task import SEMSEG_TASK
from edge_agent.pipeline.snapshots import SnapshotWriter
from edge_agent.pipeline.state_saver import StateSaver
from edge_agent.pipeline.status import CameraLine, StatusSnapshot
from edge_agent.pipeline.track_feed import TRACKS_FEED
from edge_agent.pipeline.tracking_sink import TrackingSink
from edge_agent.runtime.model_registry import ModelRegistry
from edge_agent.runtime.policy import RatePolicy, SchedulingPolicy
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.supervisor import RestartPolicy, Supervisor
from edge_agent.runtime.task import Task, TaskResult, WorkItem
from edge_agent.runtime.task_runtime import TaskRuntime
from edge_agent.runtime.worker import Worker, WorkerHealth
from edge_agent.service.camera_diff import CameraDiff, diff_cameras
from edge_agent.service.reload import ReloadOutcome, ReloadPlan, plan_reload, reload_result
from edge_agent.service.startup_checks import raise_first, startup_problems
from edge_agent.service.telemetry_reporter import TelemetryReporter
from edge_agent.service.watchdog import CameraProgress, stall_threshold_s
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
        self._mask_sink: Optional[MaskSink] = None
        self._tracking_sink: Optional[TrackingSink] = None
        self._pose_sink: Optional[PoseSink] = None
        self._saver: Optional[StateSaver] = None
        self._snapshots: Optional[SnapshotWriter] = (
            SnapshotWriter(settings.models.snapshots, settings.models.tracking.enabled)
            if settings.models.snapshots.enabled else None)
        self._install_sinks(settings, tasks, cameras)
        self._cameras = {camera.id: CameraWorker(camera) for camera in cameras}
        self._runtime.apply(tasks, {cid: w.slot for cid, w in self._cameras.items()},
                            self._sink_tasks(tasks), feeds=(TRACKS_FEED,))
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

    def _install_sinks(self, settings: AgentSettings, tasks: List[Task],
                       cameras: List[CameraSettings]) -> None:
        by_name = {task.name: task for task in tasks}
        qos = settings.mqtt.qos
        semseg = by_name.get(SEMSEG_TASK)
        if semseg is not None:
            builder = MaskEventBuilder(self._device_id, cameras, settings.models.semseg,
                                       self._sequence)
            self._mask_sink = MaskSink(builder, self._topics, qos, semseg.model, semseg.standin,
                                       MaskOccupancy(self._topics), self._timings)
            mask_handle, snapshots = self._mask_sink.handle, self._snapshots

            def handle_masks(results: Sequence[TaskResult]) -> List[OutgoingMessage]:
                if snapshots is not None:
                    snapshots.observe_masks(results)
                return mask_handle(results)

            self._events.set_sink(SEMSEG_TASK, handle_masks)
        people = by_name.get(REID_TASK) or by_name.get(PEOPLENET_TASK)
        if people is not None:
            cfg = settings.models.tracking
            store = StateStore(cfg.state_dir)
            self._saver = StateSaver(store)
            sink = TrackingSink(cfg, self._topics, self._device_id, self._sequence, qos,
                                people.standin, saved=store.load(), feed_tracks=True)
            sink.set_cameras(cameras)
            self._tracking_sink = sink
            saver = self._saver
            last_offer = [time.monotonic()]
            runtime, snapshots = self._runtime, self._snapshots

            def handle(results: Sequence[TaskResult]) -> List[OutgoingMessage]:
                messages = sink.handle([r.value for r in results])
                # Each frame's confirmed tracks go back into the runtime as the `tracks`
                # feed (pose's upstream); nobody consumes it without pose: a no-op then.
                fed = [TaskResult(TRACKS_FEED, WorkItem(frame), tracks)
                       for frame, tracks in sink.take_track_lists()]
                runtime.feed(TRACKS_FEED, fed)
                if snapshots is not None:
                    snapshots.observe_tracks(fed)
                now_s = time.monotonic()
                if now_s - last_offer[0] >= saver.interval_s:
                    saver.offer(sink.snapshot())  # written by the saver's own thread
                    last_offer[0] = now_s
                return messages

            self._events.set_sink(people.name, handle, TRACKER_STAGE)
        pose = by_name.get(POSE_TASK)
        if isinstance(pose, PoseTask):
            engine = pose.engine
            pose_sink = PoseSink(self._topics, self._device_id, self._sequence, qos,
                                 pose.standin, engine.labels, engine.settings.keypoint_messages,
                                 cameras)
            self._pose_sink = pose_sink
            snapshots = self._snapshots

            def handle_poses(results: Sequence[TaskResult]) -> List[OutgoingMessage]:
                if snapshots is not None:
                    snapshots.observe_poses(results)
                return pose_sink.handle(results)

            self._events.set_sink(POSE_TASK, handle_poses, POSE_SINK_STAGE)

    @staticmethod
    def _sink_tasks(tasks: List[Task]) -> Set[str]:
        names = {task.name for task in tasks}
        sinks = {SEMSEG_TASK, POSE_TASK} & names
        sinks.add(REID_TASK if REID_TASK in names else PEOPLENET_TASK)
        return sinks & names

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
            self._tasks = self._runtime.apply(tasks, slots, self._sink_tasks(tasks),
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
        processed = self._slowest_progress()
        progress = []
        for worker in self.camera_workers():
            camera = worker.camera
            progress.append(
                CameraProgress(
                    worker.camera_id,
                    worker.stats().state,
                    processed.get(worker.camera_id),
                    stall_threshold_s(
                        self._settings.service.stall_after_s,
                        camera.read_timeout_s,
                        self._slowest_rate_hz(),
                    ),
                )
            )
        return progress

    def _slowest_progress(self) -> Dict[str, float]:
        """Per camera, the oldest last-processed time over the source tasks: all must progress."""
        by_task = self._runtime.last_processed_s()
        sources = [t.name for t in self.tasks if t.upstream is None]
        if not sources or any(name not in by_task for name in sources):
            return {}
        cameras = set.intersection(*(set(by_task[name]) for name in sources))
        return {cid: min(by_task[name][cid] for name in sources) for cid in cameras}

    def _slowest_rate_hz(self) -> float:
        """The lowest configured rate of the source tasks (0 = as fast as possible)."""
        rate_of = (self._scheduler.policy.rate_hz if self._scheduler is not None
                   else self._policy_rate)
        limited = [rate_of(t.name) for t in self.tasks if t.upstream is None]
        limited = [rate for rate in limited if rate > 0]
        return min(limited) if limited else 0.0

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
        stats = self._publisher.stats()
        summaries = self._timings.summaries()
        cameras = []
        for worker in self.camera_workers():
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
            events_published=self._events.events_published,
            events_acknowledged=stats.acknowledged,
            messages_published=stats.published,
            events_pending=stats.pending,
            broker="up" if stats.connected else "unreachable",
            engine_ms={
                name: (summaries[name].p50_ms, summaries[name].p95_ms)
                for name in [*TRACKING_STAGES, POSE_STAGE]
                if name in summaries and summaries[name].count
            },
            backends=self.model_backends(),
            failed_workers=sorted(self._supervisor.failed()),
            plan=self._scheduler.summary() if self._scheduler is not None else "",
        )


def _checked_cameras(settings: AgentSettings, where: str) -> List[CameraSettings]:
    cameras = enabled_cameras(settings)
    if not cameras:
        raise ConfigError("the new config has no enabled camera",
                          "enable at least one [[cameras]] table")
    return cameras
