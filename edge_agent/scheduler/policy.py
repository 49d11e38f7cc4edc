"""PlannedPolicy: the runtime's SchedulingPolicy, realising a Plan.

Executors (one thread per resource) ask `due` per task and camera, pick among due work with
`order_due` (earliest deadline first; frames already older than their task's deadline are
dropped and counted — running them would only make the next frame late too), report each run
with `mark_run` and its measured latency with `observe`. A new plan swaps in atomically; cameras
of a task whose rate did not change keep their phase.

Thread-safe (one lock; every method is O(tasks) at most) and clock-free: every method takes the
caller's monotonic time, so tests drive it with a fake clock.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, List, Optional, Sequence, Set, Tuple

from edge_agent.runtime.rate_gate import RateGate
from edge_agent.scheduler.latency_model import LatencyModel
from edge_agent.scheduler.planner import Plan

RATE_WINDOW_S = 5.0
SHED_POLL_S = 1.0  # how soon a shed task asks again (a re-plan may revive it)


@dataclass(frozen=True)
class Candidate:
    """A frame one task could take now."""

    task: str
    camera_id: str
    frame_ts_s: float  # capture time, same monotonic clock


@dataclass(frozen=True)
class TaskStats:
    """Planned vs achieved for telemetry."""

    planned_hz: float
    achieved_hz: float
    dropped: int
    deadline_misses: int
    resource: str
    model: str


class PlannedPolicy:
    """SchedulingPolicy over a Plan, with EDF ordering and deadline drops."""

    def __init__(self, plan: Plan, latency: LatencyModel) -> None:
        self._lock = threading.Lock()
        self._latency = latency
        self._plan = plan
        self._gates: Dict[str, RateGate] = {}
        self._runs: Dict[str, Deque[Tuple[str, float]]] = {}
        self._dropped: Dict[str, int] = {}
        self._misses: Dict[str, int] = {}
        self._unplanned: Set[str] = set()
        self._install(plan)

    # -- plan -----------------------------------------------------------------------------
    def _install(self, plan: Plan) -> None:
        gates: Dict[str, RateGate] = {}
        for name, planned in plan.tasks.items():
            old = self._gates.get(name)
            same = old is not None and math.isclose(old.rate_hz, planned.rate_hz, rel_tol=1e-6)
            gates[name] = old if same and old is not None else RateGate(planned.rate_hz)
        self._gates = gates
        self._plan = plan

    def set_plan(self, plan: Plan) -> None:
        """Swap in a new plan (rates, deadlines, placements) at once."""
        with self._lock:
            self._install(plan)

    @property
    def plan(self) -> Plan:
        with self._lock:
            return self._plan

    def unplanned_tasks(self) -> Set[str]:
        """Tasks an executor asked about that the plan does not know (a re-plan trigger)."""
        with self._lock:
            return set(self._unplanned)

    # -- SchedulingPolicy -------------------------------------------------------------------
    def due(self, task: str, camera_id: str, now_s: float) -> bool:
        with self._lock:
            gate = self._gate(task)
            return gate is not None and gate.due(camera_id, now_s)

    def wait_s(self, task: str, camera_id: str, now_s: float) -> float:
        with self._lock:
            gate = self._gate(task)
            return SHED_POLL_S if gate is None else gate.wait_s(camera_id, now_s)

    def mark_run(self, task: str, camera_id: str, now_s: float) -> None:
        with self._lock:
            gate = self._gate(task)
            if gate is not None:
                gate.mark_run(camera_id, now_s)
            runs = self._runs.setdefault(task, deque())
            runs.append((camera_id, now_s))
            while runs and runs[0][1] < now_s - RATE_WINDOW_S:
                runs.popleft()

    def deadline_s(self, task: str) -> float:
        with self._lock:
            planned = self._plan.tasks.get(task)
            return planned.deadline_s if planned is not None else math.inf

    def observe(self, task: str, resource: str, batch_size: int, latency_ms: float) -> None:
        with self._lock:
            planned = self._plan.tasks.get(task)
            model = planned.model if planned is not None else task
            self._latency.observe(model, resource, batch_size, latency_ms)

    # -- executor helpers -------------------------------------------------------------------
    def order_due(self, candidates: Sequence[Candidate],
                  now_s: float) -> Tuple[List[Candidate], List[Candidate]]:
        """(to run, earliest absolute deadline first; dropped as too old, counted)."""
        keep: List[Tuple[float, Candidate]] = []
        dropped: List[Candidate] = []
        with self._lock:
            for candidate in candidates:
                planned = self._plan.tasks.get(candidate.task)
                deadline = planned.deadline_s if planned is not None else math.inf
                if now_s - candidate.frame_ts_s > deadline:
                    dropped.append(candidate)
                    self._dropped[candidate.task] = self._dropped.get(candidate.task, 0) + 1
                else:
                    keep.append((candidate.frame_ts_s + deadline, candidate))
        keep.sort(key=lambda pair: (pair[0], pair[1].task, pair[1].camera_id))
        return [c for _, c in keep], dropped

    def completed(self, task: str, frame_ts_s: float, done_s: float) -> bool:
        """Record a finished frame; False (and a counted miss) when it finished past its
        deadline."""
        deadline = self.deadline_s(task)
        late = done_s - frame_ts_s > deadline
        if late:
            with self._lock:
                self._misses[task] = self._misses.get(task, 0) + 1
        return not late

    def stats(self, now_s: float) -> Dict[str, TaskStats]:
        """Planned vs achieved rate (per camera, over the last RATE_WINDOW_S), drops, misses."""
        with self._lock:
            out: Dict[str, TaskStats] = {}
            for name in set(self._plan.tasks) | set(self._runs) | set(self._plan.shed):
                planned = self._plan.tasks.get(name)
                runs = [t for _, t in self._runs.get(name, ()) if t >= now_s - RATE_WINDOW_S]
                cameras = {c for c, t in self._runs.get(name, ()) if t >= now_s - RATE_WINDOW_S}
                achieved = len(runs) / RATE_WINDOW_S / max(1, len(cameras))
                out[name] = TaskStats(
                    planned.rate_hz if planned else 0.0, achieved, self._dropped.get(name, 0),
                    self._misses.get(name, 0), planned.resource if planned else "",
                    planned.model if planned else "")
            return out

    def _gate(self, task: str) -> Optional[RateGate]:
        gate = self._gates.get(task)
        if gate is None and task not in self._plan.shed:
            self._unplanned.add(task)
        return gate


def policy_ratios(latency: LatencyModel, plan: Plan) -> Dict[str, float]:
    """Measured / seed ratio of every planned engine (the drift signal), by task name."""
    return {name: latency.ratio(p.model, p.resource) for name, p in plan.tasks.items()}

