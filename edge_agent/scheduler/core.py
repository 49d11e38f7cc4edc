"""The scheduler as one object: latency model + policy + re-plan monitor, no threads.

Whoever owns a thread (the runtime, the simulator, a test) calls `update` with fresh device
readings every few hundred milliseconds; the scheduler re-plans when the monitor says so and
swaps the new plan into the policy the executors already hold. Re-planning is a pure
computation of a few milliseconds (measured in `Plan.extras['plan_ms']`), so it runs inline.
"""

from __future__ import annotations

import time
from typing import Callable, FrozenSet, List, Optional, Sequence, Tuple

from edge_agent.device.profiles import DeviceProfile
from edge_agent.scheduler.device_plan import plan_device
from edge_agent.scheduler.latency_model import LatencyModel
from edge_agent.scheduler.latency_table import LatencyTable
from edge_agent.scheduler.planner import DEFAULT_UTILISATION_TARGET, Plan
from edge_agent.scheduler.policy import PlannedPolicy, policy_ratios
from edge_agent.scheduler.signals import DeviceReading
from edge_agent.scheduler.tasks import TaskSpec, Workload
from edge_agent.scheduler.triggers import ReplanMonitor, Snapshot

PEOPLE_KEY = "people/frame"


class Scheduler:
    """Plans for a profile and keeps the plan current."""

    def __init__(self, profile: DeviceProfile, table: Optional[LatencyTable],
                 reading: DeviceReading, tasks: Sequence[TaskSpec], cameras: Sequence[str],
                 now_s: float, people_per_frame: float = 3.0,
                 target: float = DEFAULT_UTILISATION_TARGET,
                 monitor: Optional[ReplanMonitor] = None,
                 timer: Callable[[], float] = time.perf_counter) -> None:
        self._profile = profile
        self._table = table
        self._target = target
        self._timer = timer
        self._tasks = tuple(tasks)
        self._cameras: FrozenSet[str] = frozenset(cameras)
        self._people = people_per_frame
        self._planned_people = people_per_frame
        self.monitor = monitor if monitor is not None else ReplanMonitor()
        self.latency = LatencyModel(table, reading.mode)
        self.latency.set_gpu_clock_mhz(reading.gpu_mhz)
        self.history: List[Tuple[float, Plan]] = []
        first = self._make_plan("start")
        self.policy = PlannedPolicy(first, self.latency)
        self.history.append((now_s, first))
        self._mark_planned(reading, now_s)

    @property
    def plan(self) -> Plan:
        return self.policy.plan

    def set_workload(self, tasks: Optional[Sequence[TaskSpec]] = None,
                     cameras: Optional[Sequence[str]] = None,
                     people_per_frame: Optional[float] = None) -> None:
        """What the device serves changed (seen at the next `update`)."""
        if tasks is not None:
            self._tasks = tuple(tasks)
        if cameras is not None:
            self._cameras = frozenset(cameras)
        if people_per_frame is not None:
            self._people = max(0.0, people_per_frame)

    def update(self, reading: DeviceReading, now_s: float) -> Optional[Plan]:
        """Take fresh readings; returns the new plan when it re-planned."""
        self.latency.set_gpu_clock_mhz(reading.gpu_mhz)
        reason = self.monitor.check(self._snapshot(reading), now_s)
        if reason is None:
            return None
        self.latency.set_mode(reading.mode)
        plan = self._make_plan(reason)
        self.policy.set_plan(plan)
        self.history.append((now_s, plan))
        self._mark_planned(reading, now_s)
        return plan

    def _make_plan(self, reason: str) -> Plan:
        started = self._timer()
        workload = Workload(self._tasks, max(1, len(self._cameras)), self._people)
        plan = plan_device(self._profile, self._table, self.latency.mode_name, workload,
                           self.latency, self._target, reason)
        plan.extras["plan_ms"] = (self._timer() - started) * 1000.0
        plan.extras["people_per_frame"] = self._people
        self._planned_people = self._people
        return plan

    def _snapshot(self, reading: DeviceReading) -> Snapshot:
        plan = self.policy.plan
        ratios = policy_ratios(self.latency, plan)
        ratios[PEOPLE_KEY] = max(self._people, 0.5) / max(self._planned_people, 0.5)
        measured = frozenset(name for name, p in plan.tasks.items()
                             if self.latency.measured(p.model, p.resource) >= 3)
        return Snapshot(reading.mode, reading.gpu_mhz, reading.throttled,
                        frozenset(t.name for t in self._tasks), self._cameras, ratios, measured)

    def _mark_planned(self, reading: DeviceReading, now_s: float) -> None:
        snapshot = self._snapshot(reading)
        snapshot.ratios[PEOPLE_KEY] = 1.0
        self.monitor.planned(snapshot, now_s)
