"""Discrete-event simulation of cameras, executors (one per resource) and three policies.

- "fifo": every engine on every frame. Each frame queues a semseg and a PeopleNet job, each
  PeopleNet result queues a ReID job for its people; every resource serves its queue in order.
  Placement and variant as the device profile says. Queues grow without bound when overloaded.
- "static": the agent before the scheduler. Semseg at the profile's previous hand-set rate for
  the power mode read at start-up (PREVIOUS_RATES_HZ),
  PeopleNet at the tracking default (5 Hz), ReID on every detection, per-resource FIFO queues.
- "scheduler": edge_agent.scheduler. Executors take the newest frame per camera (latest slot),
  ask PlannedPolicy what is due, order by earliest deadline, drop frames too old, batch one
  task's frames across cameras, feed measured latencies back; the device is polled every
  POLL_S and the scheduler re-plans on its triggers.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, List, Optional, Tuple

from sim_world import World

from edge_agent.runtime.rate_gate import RateGate
from edge_agent.scheduler.core import Scheduler
from edge_agent.scheduler.policy import Candidate
from edge_agent.scheduler.tasks import SEMSEG_VARIANTS, TaskSpec

POLL_S = 0.25
SAMPLE_S = 0.25
QUEUE_CAP = 20000  # per resource; beyond it the simulation stops queueing (memory), counted
STATIC_TRACKING_HZ = 5.0  # settings.tracking.rate_hz default
# The per-mode semseg rates the device profiles carried before the scheduler (hand-set, marked
# UNCONFIRMED): the "static" baseline is the agent as it ran before this change.
PREVIOUS_RATES_HZ: Dict[str, Dict[str, float]] = {
    "nano": {"MAXN": 1.0, "5W": 0.5},
    "orin_nx": {"10W": 2.0, "15W": 4.0, "20W": 5.0, "25W": 6.0, "MAXN": 8.0},
    "agx_orin": {"MODE_15W": 3.0, "MODE_30W": 8.0, "MODE_40W": 10.0, "MODE_50W": 12.0,
                 "MAXN": 15.0},
    "xavier_nx": {"MODE_10W_4CORE": 1.5, "MODE_15W_6CORE": 3.0, "MODE_20W_6CORE": 4.0},
    "orin_nano": {"7W": 2.0, "10W": 3.0, "15W": 4.0, "25W": 6.0, "MAXN_SUPER": 6.0},
}


@dataclass
class Job:
    task: str
    model: str
    resource: str
    frames: List[Tuple[int, float, int]]  # (camera, frame_ts, items)
    batch_max: int
    static_batch: bool


@dataclass
class Trace:
    """What one run produced."""

    completions: List[Tuple[str, str, int, float, float, float]] = field(default_factory=list)
    # (task, model, camera, frame_ts, done_s, deadline_s claimed by the policy)
    queues: List[Tuple[float, Dict[str, int]]] = field(default_factory=list)
    plans: List[Tuple[float, str, float, Dict[str, float], Dict[str, str]]] = field(
        default_factory=list)  # (t, reason, plan_ms, rates, models)
    dropped: Dict[str, int] = field(default_factory=dict)
    overflow: int = 0


class Simulation:
    """One policy on one world."""

    def __init__(self, world: World, kind: str, tasks: List[TaskSpec]) -> None:
        self.world = world
        self.kind = kind
        self.tasks = {t.name: t for t in tasks}
        self.trace = Trace()
        self._events: List[Tuple[float, int, str, object]] = []
        self._seq = itertools.count()
        self._busy: Dict[str, bool] = {}
        self._queues: Dict[str, Deque[Job]] = {}
        self._latest: Dict[int, Tuple[float, int]] = {}
        self._people: Dict[Tuple[int, float], int] = {}
        self._detections: Dict[int, Tuple[float, int]] = {}
        self._consumed: Dict[Tuple[str, int], float] = {}
        self._wake_at: Dict[str, float] = {}
        self._people_ewma = world.scenario.people
        profile = world.profile
        self._placement: Dict[str, Tuple[str, str, int, bool]] = {}  # task → (model, res, b, st)
        semseg_model = SEMSEG_VARIANTS[profile.semseg_variant][0]
        for name, model in (("semseg", semseg_model), ("peoplenet", "peoplenet"),
                            ("reid", "reidentificationnet")):
            settings = profile.model(model)
            resource = f"dla{settings.dla_core}" if settings.dla_core >= 0 else "gpu"
            self._placement[name] = (model, resource, settings.batch_max, settings.dla_core >= 0)
        start = world.reading(0.0)
        self._gates = {
            "semseg": RateGate(PREVIOUS_RATES_HZ.get(profile.name, {}).get(
                start.mode, profile.semseg_rate_for(start.mode))),
            "peoplenet": RateGate(STATIC_TRACKING_HZ),
        }
        self.scheduler: Optional[Scheduler] = None
        if kind == "scheduler":
            self.scheduler = Scheduler(profile, world.table, start, tasks,
                                       [str(c) for c in range(world.scenario.cameras)], 0.0,
                                       people_per_frame=world.scenario.people)
            self._record_plan(0.0)

    # -- event loop ---------------------------------------------------------------------
    def _push(self, t: float, kind: str, payload: object = None) -> None:
        heapq.heappush(self._events, (t, next(self._seq), kind, payload))

    def run(self) -> Trace:
        scenario = self.world.scenario
        for camera in range(16):
            self._push(camera * 0.0037, "frame", camera)
        self._push(0.0, "sample")
        if self.scheduler is not None:
            self._push(POLL_S, "poll")
        handlers: Dict[str, Callable[[float, object], None]] = {
            "frame": self._on_frame, "done": self._on_done, "wake": self._on_wake,
            "sample": self._on_sample, "poll": self._on_poll}
        while self._events:
            t, _, kind, payload = heapq.heappop(self._events)
            if t > scenario.duration_s:
                break
            handlers[kind](t, payload)
        return self.trace

    def _on_frame(self, t: float, payload: object) -> None:
        camera = int(str(payload))
        self._push(t + 1.0 / self.world.scenario.fps, "frame", camera)
        if camera >= self.world.state(t).cameras:
            return  # not connected (yet)
        people = self.world.people_in_frame()
        self._latest[camera] = (t, people)
        self._people[(camera, t)] = people
        if self.kind == "scheduler":
            self._dispatch_all(t)
            return
        for task in ("semseg", "peoplenet"):
            if self.kind == "static":
                gate = self._gates[task]
                if not gate.due(str(camera), t):
                    continue
                gate.mark_run(str(camera), t)
            self._enqueue(task, [(camera, t, 1)], t)

    def _enqueue(self, task: str, frames: List[Tuple[int, float, int]], t: float) -> None:
        model, resource, batch_max, static = self._placement[task]
        queue = self._queues.setdefault(resource, deque())
        if len(queue) >= QUEUE_CAP:
            self.trace.overflow += 1
            return
        queue.append(Job(task, model, resource, frames, batch_max, static))
        self._serve_fifo(resource, t)

    def _serve_fifo(self, resource: str, t: float) -> None:
        if self._busy.get(resource) or not self._queues.get(resource):
            return
        self._start(self._queues[resource].popleft(), t)

    def _start(self, job: Job, t: float) -> None:
        self._busy[job.resource] = True
        items = sum(n for _, _, n in job.frames)
        calls = self._calls(items, job.batch_max, job.static_batch)
        latencies = [self.world.call_ms(job.model, job.resource, b, t) for b in calls]
        self._push(t + sum(latencies) / 1000.0, "done", (job, calls, latencies))

    @staticmethod
    def _calls(items: int, batch_max: int, static: bool) -> List[int]:
        if items <= 0:
            return [1]
        full, rest = divmod(items, max(1, batch_max))
        calls = [batch_max] * full
        if rest:
            calls.append(batch_max if static else rest)
        return calls

    def _on_done(self, t: float, payload: object) -> None:
        job, calls, latencies = payload  # type: ignore[misc]
        self._busy[job.resource] = False
        claimed = self.tasks[job.task].deadline_s
        if self.scheduler is not None:
            policy = self.scheduler.policy
            claimed = policy.deadline_s(job.task)
            for batch, latency in zip(calls, latencies):
                policy.observe(job.task, job.resource, batch, latency)
        for camera, frame_ts, _ in job.frames:
            self.trace.completions.append((job.task, job.model, camera, frame_ts, t, claimed))
            if self.scheduler is not None:
                self.scheduler.policy.completed(job.task, frame_ts, t)
        if job.task == "peoplenet":
            for camera, frame_ts, _ in job.frames:
                people = self._people.get((camera, frame_ts), 0)
                self._people_ewma += 0.05 * (people - self._people_ewma)
                if self.kind == "scheduler":
                    self._detections[camera] = (frame_ts, people)
                elif people > 0:
                    self._enqueue("reid", [(camera, frame_ts, people)], t)
            if self.scheduler is not None:
                self.scheduler.set_workload(people_per_frame=self._people_ewma)
        if self.kind == "scheduler":
            self._dispatch_all(t)
        else:
            self._serve_fifo(job.resource, t)

    # -- scheduler executors ------------------------------------------------------------
    def _dispatch_all(self, t: float) -> None:
        assert self.scheduler is not None
        for resource in {p.resource for p in self.scheduler.plan.tasks.values()}:
            if not self._busy.get(resource):
                self._dispatch(resource, t)

    def _dispatch(self, resource: str, t: float) -> None:
        assert self.scheduler is not None
        policy, plan = self.scheduler.policy, self.scheduler.plan
        here = [p for p in plan.tasks.values() if p.resource == resource]
        cameras = range(self.world.state(t).cameras)
        candidates: List[Candidate] = []
        for planned in here:
            source = self._detections if planned.name == "reid" else self._latest
            for camera in cameras:
                item = source.get(camera)
                if item is None or item[0] <= self._consumed.get((planned.name, camera), -1.0):
                    continue
                if policy.due(planned.name, str(camera), t):
                    candidates.append(Candidate(planned.name, str(camera), item[0]))
        ordered, dropped = policy.order_due(candidates, t)
        for candidate in dropped:
            self._consumed[(candidate.task, int(candidate.camera_id))] = candidate.frame_ts_s
            self.trace.dropped[candidate.task] = self.trace.dropped.get(candidate.task, 0) + 1
        if not ordered:
            waits = [policy.wait_s(p.name, str(c), t) for p in here for c in cameras]
            positive = [w for w in waits if w > 0]
            if positive:
                self._wake(resource, t + min(positive))
            return
        top = plan.tasks[ordered[0].task]
        settings = self.world.profile.model(top.model)
        group = [c for c in ordered if c.task == top.name]
        if top.name != "reid":
            group = group[:max(1, settings.batch_max)]
        frames = []
        for candidate in group:
            camera = int(candidate.camera_id)
            policy.mark_run(top.name, candidate.camera_id, t)
            self._consumed[(top.name, camera)] = candidate.frame_ts_s
            items = self._detections[camera][1] if top.name == "reid" else 1
            frames.append((camera, candidate.frame_ts_s, items))
        self._start(Job(top.name, top.model, resource, frames, settings.batch_max,
                        resource.startswith("dla")), t)

    def _wake(self, resource: str, at: float) -> None:
        if self._wake_at.get(resource, math.inf) <= at:
            return  # an earlier wake-up is already pending
        self._wake_at[resource] = at
        self._push(at, "wake", resource)

    def _on_wake(self, t: float, payload: object) -> None:
        resource = str(payload)
        if self._wake_at.get(resource) == t:
            del self._wake_at[resource]
        if not self._busy.get(resource):
            self._dispatch(resource, t)

    def _on_poll(self, t: float, payload: object) -> None:
        assert self.scheduler is not None
        self._push(t + POLL_S, "poll")
        self.scheduler.set_workload(cameras=[str(c) for c in range(self.world.state(t).cameras)])
        if self.scheduler.update(self.world.reading(t), t) is not None:
            self._record_plan(t)
            self._dispatch_all(t)

    def _record_plan(self, t: float) -> None:
        assert self.scheduler is not None
        plan = self.scheduler.plan
        self.trace.plans.append((t, plan.reason, plan.extras.get("plan_ms", 0.0),
                                 {n: p.rate_hz for n, p in plan.tasks.items()},
                                 {n: p.model for n, p in plan.tasks.items()}))

    def _on_sample(self, t: float, payload: object) -> None:
        self._push(t + SAMPLE_S, "sample")
        if self.kind == "scheduler":
            pending = {r: 0 for r in ("gpu", "dla0", "dla1")}
            for (task, camera), consumed in self._consumed.items():
                latest = (self._detections if task == "reid" else self._latest).get(camera)
                if latest is not None and latest[0] > consumed:
                    planned = self.scheduler.plan.tasks.get(task) if self.scheduler else None
                    if planned is not None:
                        pending[planned.resource] += 1
            self.trace.queues.append((t, pending))
        else:
            self.trace.queues.append((t, {r: len(q) for r, q in self._queues.items()}))
