"""The power-aware scheduler inside the running agent: the executors' policy, and re-plans.

The scheduler package is pure (plans, policy, triggers); this module is where it meets the
device and the broker: it reads the power mode, GPU clock and throttling every POLL_S from the
device tree (the runner's loop calls `tick`), lets the scheduler decide whether to re-plan,
and turns a new plan into a log line, the retained `plan` message and a re-plan event. The
executors hold `policy` from the start; a re-plan swaps the plan inside it, so nothing is
rebuilt and no frame waits for it.

Placement: a task runs on the resource it was built for (its engine was built for it); the
plan's placement decides where its latency is accounted, so a plan that wants a task on a DLA
core is reported, and learns latencies, against that resource. Model variants are pinned to
the configured one (a variant switch needs another engine: a reload does that).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import List, Optional, Sequence

from edge_agent.device.tuning import detect_device
from edge_agent.events.payloads import to_json_bytes
from edge_agent.events.plan_payloads import PlanPayload, ReplanEvent
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.topics import Topics
from edge_agent.scheduler.core import Scheduler
from edge_agent.scheduler.latency_table import load_latency_tables
from edge_agent.scheduler.planner import Plan
from edge_agent.scheduler.policy import PlannedPolicy
from edge_agent.scheduler.report import describe, plan_payload, replan_event
from edge_agent.scheduler.signals import DeviceReading, DeviceSignals
from edge_agent.scheduler.tasks import TaskSpec, default_tasks
from edge_agent.settings import AgentSettings

logger = logging.getLogger(__name__)

POLL_S = 0.25


class PlanPolicy:
    """The executors' SchedulingPolicy: PlannedPolicy, with latencies learnt per planned
    resource (the engine a task really runs on may differ from the plan's placement)."""

    def __init__(self, planned: PlannedPolicy) -> None:
        self.planned = planned

    def due(self, task: str, camera_id: str, now_s: float) -> bool:
        return self.planned.due(task, camera_id, now_s)

    def wait_s(self, task: str, camera_id: str, now_s: float) -> float:
        return self.planned.wait_s(task, camera_id, now_s)

    def mark_run(self, task: str, camera_id: str, now_s: float) -> None:
        self.planned.mark_run(task, camera_id, now_s)

    def deadline_s(self, task: str) -> float:
        return self.planned.deadline_s(task)

    def observe(self, task: str, resource: str, batch_size: int, latency_ms: float) -> None:
        planned = self.planned.plan.tasks.get(task)
        self.planned.observe(task, planned.resource if planned else resource, batch_size,
                             latency_ms)

    def rate_hz(self, task: str) -> float:
        """Planned rate per camera (0 = shed)."""
        return self.planned.plan.rate_hz(task)


def task_specs(settings: AgentSettings, task_names: Sequence[str]) -> List[TaskSpec]:
    """The scheduler's view of the tasks the agent runs (configured semseg variant only)."""
    models = settings.models
    variant = models.semseg.variant if models.semseg.variant != "auto" else "shuffleseg"
    specs = default_tasks(variant, models.tracking.enabled, allow_fallback=False,
                          pose=models.pose.enabled, pose_target_hz=models.pose.rate_hz)
    return [spec for spec in specs if spec.name in task_names]


class SchedulerLink:
    """Scheduler + device signals + the messages a re-plan produces."""

    def __init__(self, scheduler: Scheduler, signals: DeviceSignals, topics: Topics,
                 device_id: str, reading: DeviceReading) -> None:
        self.scheduler = scheduler
        self._signals = signals
        self._topics = topics
        self._device_id = device_id
        self.policy = PlanPolicy(scheduler.policy)
        self._reading = reading
        self._next_poll_s = 0.0
        self.replans = 0
        logger.info("%s", describe(scheduler.plan))
        for note in scheduler.plan.notes:
            logger.warning("scheduler: %s", note)

    @property
    def plan(self) -> Plan:
        """The plan in force."""
        return self.scheduler.plan

    def start_messages(self) -> List[OutgoingMessage]:
        """The retained plan, at start."""
        return [self._plan_message(time.monotonic())]

    def tick(self, now_s: float) -> List[OutgoingMessage]:
        """Poll the device (every POLL_S); on a re-plan, the retained plan and the event."""
        if now_s < self._next_poll_s:
            return []
        self._next_poll_s = now_s + POLL_S
        self._reading = self._signals.read()
        previous = self.scheduler.plan
        plan = self.scheduler.update(self._reading, now_s)
        if plan is None:
            return []
        self.replans += 1
        logger.info("re-planned: %s", describe(plan))
        if plan.shed:
            logger.warning("scheduler sheds %s: %s", ", ".join(plan.shed), "; ".join(plan.notes))
        event = ReplanEvent.model_validate({**replan_event(plan, previous),
                                            "device_id": self._device_id, "ts": time.time()})
        return [self._plan_message(now_s),
                OutgoingMessage(self._topics.plan_event, to_json_bytes(event), 1, False,
                                "event")]

    def payload(self, now_s: Optional[float] = None) -> PlanPayload:
        """The plan with achieved rates (telemetry and the retained message)."""
        now = time.monotonic() if now_s is None else now_s
        planned = self.scheduler.policy
        absurd = {key: value for key, value in self.scheduler.latency.absurd.items() if value}
        body = plan_payload(self.scheduler.plan, planned.stats(now), self._reading, absurd)
        return PlanPayload.model_validate({**body, "device_id": self._device_id,
                                           "ts": time.time()})

    def _plan_message(self, now_s: float) -> OutgoingMessage:
        return OutgoingMessage(self._topics.plan, to_json_bytes(self.payload(now_s)), 1, True,
                               "state")

    def set_workload(self, settings: AgentSettings, task_names: Sequence[str],
                     cameras: Sequence[str]) -> None:
        """Tasks or cameras changed (reload): re-planned at the next tick."""
        self.scheduler.set_workload(task_specs(settings, task_names), cameras)

    def observe_people(self, per_frame: float) -> None:
        """Measured people per frame (ReID's cost follows it)."""
        self.scheduler.set_workload(people_per_frame=per_frame)

    def summary(self) -> str:
        """Short form for the status line."""
        plan = self.scheduler.plan
        parts = [f"{name} {task.rate_hz:.1f}Hz" for name, task in sorted(plan.tasks.items())]
        text = "plan " + " ".join(parts)
        return text + (" SHED " + ",".join(plan.shed) if plan.shed else "")


def build_scheduler_link(settings: AgentSettings, device_root: Path, task_names: Sequence[str],
                         cameras: Sequence[str], topics: Topics,
                         device_id: str) -> Optional[SchedulerLink]:
    """The link when models.scheduler asks for the planned policy; None for fixed rates."""
    mode = settings.models.scheduler
    if mode == "fixed" or (mode == "auto" and settings.models.backend != "tensorrt"):
        return None
    device = detect_device(device_root, settings.device.profile)
    profile = device.choice.profile
    table = load_latency_tables().get(profile.name)
    signals = DeviceSignals(device_root)
    reading = signals.read()
    scheduler = Scheduler(profile, table, reading, task_specs(settings, task_names), cameras,
                          time.monotonic())
    logger.info("power-aware scheduler on %s", device.describe())
    return SchedulerLink(scheduler, signals, topics, device_id, reading)
