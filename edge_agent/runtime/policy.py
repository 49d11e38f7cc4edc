"""The seam between the executors and whatever decides *when* work runs.

Executors ask the policy which (task, camera) pairs are due, tell it what ran, and feed back
measured latencies. The first policy is `RatePolicy`: one fixed rate per task, the behaviour
the per-branch rate gates had. The power-aware scheduler replaces the policy object, not the
executors or the daemon.
"""

from __future__ import annotations

import math
import threading
from typing import Dict, Mapping

from typing_extensions import Protocol

from edge_agent.runtime.rate_gate import RateGate


class SchedulingPolicy(Protocol):
    """Decides per task and camera when the next frame is due; learns from what ran."""

    def due(self, task: str, camera_id: str, now_s: float) -> bool:
        """True when `task` should take a new frame of `camera_id` at monotonic `now_s`."""
        ...

    def wait_s(self, task: str, camera_id: str, now_s: float) -> float:
        """Seconds until `task` is due for `camera_id` (0 when due now)."""
        ...

    def mark_run(self, task: str, camera_id: str, now_s: float) -> None:
        """Record that `task` took a frame of `camera_id` at `now_s`."""
        ...

    def deadline_s(self, task: str) -> float:
        """Oldest frame age (seconds since capture) still worth running; inf = no limit."""
        ...

    def observe(self, task: str, resource: str, batch_size: int, latency_ms: float) -> None:
        """A measured run of `task` on `resource` (feedback for adaptive policies)."""
        ...


class RatePolicy:
    """Fixed per-task rates (Hz, 0 = every frame); no deadline; ignores feedback.

    Thread-safe: executors of different resources call it concurrently.
    """

    def __init__(self, rates_hz: Mapping[str, float]) -> None:
        self._lock = threading.Lock()
        self._gates: Dict[str, RateGate] = {task: RateGate(rate) for task, rate in rates_hz.items()}

    def set_rate(self, task: str, rate_hz: float) -> None:
        """Change (or add) one task's rate; its cameras' next ticks start afresh."""
        with self._lock:
            self._gates[task] = RateGate(rate_hz)

    def remove(self, task: str) -> None:
        """Forget a task (after a reload removed it)."""
        with self._lock:
            self._gates.pop(task, None)

    def rate_hz(self, task: str) -> float:
        """The task's configured rate (0 = every frame)."""
        with self._lock:
            gate = self._gates.get(task)
        return gate.rate_hz if gate is not None else 0.0

    def _gate(self, task: str) -> RateGate:
        gate = self._gates.get(task)
        if gate is None:
            gate = self._gates[task] = RateGate(0.0)
        return gate

    def due(self, task: str, camera_id: str, now_s: float) -> bool:
        with self._lock:
            return self._gate(task).due(camera_id, now_s)

    def wait_s(self, task: str, camera_id: str, now_s: float) -> float:
        with self._lock:
            return self._gate(task).wait_s(camera_id, now_s)

    def mark_run(self, task: str, camera_id: str, now_s: float) -> None:
        with self._lock:
            self._gate(task).mark_run(camera_id, now_s)

    def deadline_s(self, task: str) -> float:
        return math.inf

    def observe(self, task: str, resource: str, batch_size: int, latency_ms: float) -> None:
        return None
