"""The simulated device: scenario timeline, "true" engine latencies, and the utility optimum.

The truth is the latency table itself with a per-engine bias (uniform 0.85-1.25, fixed per
scenario: the tables are partly estimates, and the scheduler must learn the difference online)
and per-call log-normal noise (sigma 0.08). Mode changes, clock throttling and camera additions
happen at scheduled times. The optimum is the MILP optimum (edge_agent/scheduler/optimum.py)
of the same task set over the *true* latencies, with the tasks an oracle planner would shed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from edge_agent.device.profiles import DeviceProfile
from edge_agent.scheduler.device_plan import capacity_for, placements_for
from edge_agent.scheduler.latency_model import LatencyModel
from edge_agent.scheduler.latency_table import LatencyTable, seed_latency_ms
from edge_agent.scheduler.optimum import milp_optimum
from edge_agent.scheduler.options import build_options
from edge_agent.scheduler.planner import plan
from edge_agent.scheduler.signals import DeviceReading
from edge_agent.scheduler.tasks import TaskSpec, Workload

NOISE_SIGMA = 0.08


@dataclass(frozen=True)
class Change:
    """Something that happens to the device at `at_s`."""

    at_s: float
    mode: Optional[str] = None
    clock_factor: Optional[float] = None
    cameras: Optional[int] = None


@dataclass(frozen=True)
class Scenario:
    """One benchmark run."""

    name: str
    title: str
    device: str
    mode: str
    cameras: int
    fps: float
    duration_s: float
    changes: Tuple[Change, ...] = ()
    people: float = 3.0
    seed: int = 1


@dataclass(frozen=True)
class State:
    mode: str
    clock_factor: float
    cameras: int


class World:
    """Device truth for one scenario."""

    def __init__(self, scenario: Scenario, profile: DeviceProfile, table: LatencyTable) -> None:
        self.scenario = scenario
        self.profile = profile
        self.table = table
        rng = random.Random(scenario.seed)
        engines = [e.model_copy(update={"scale": e.scale * rng.uniform(0.85, 1.25)})
                   for e in table.engines]
        self.truth = table.model_copy(update={"engines": engines})
        self._noise = random.Random(scenario.seed + 1)
        self.people_rng = random.Random(scenario.seed + 2)

    def state(self, t: float) -> State:
        mode, factor, cameras = self.scenario.mode, 1.0, self.scenario.cameras
        for change in self.scenario.changes:
            if change.at_s <= t:
                mode = change.mode or mode
                factor = change.clock_factor if change.clock_factor is not None else factor
                cameras = change.cameras or cameras
        return State(mode, factor, cameras)

    def gpu_mhz(self, state: State) -> Optional[float]:
        spec = self.table.mode(state.mode)
        return None if spec is None else spec.gpu_mhz * state.clock_factor

    def reading(self, t: float) -> DeviceReading:
        state = self.state(t)
        return DeviceReading(state.mode, self.gpu_mhz(state), state.clock_factor < 1.0)

    def call_ms(self, model: str, resource: str, batch: int, t: float) -> float:
        """One call's true latency, noise included."""
        state = self.state(t)
        seeded = seed_latency_ms(self.truth, model, resource, max(1, batch), state.mode,
                                 self.gpu_mhz(state))
        if seeded is None:
            raise ValueError(f"no truth for {model} on {resource} in {state.mode}")
        return seeded.latency_ms * math.exp(self._noise.gauss(0.0, NOISE_SIGMA))

    def people_in_frame(self) -> int:
        """People in one frame: Poisson around the scenario's mean (Knuth's method)."""
        limit, k, p = math.exp(-self.scenario.people), 0, 1.0
        while True:
            p *= self.people_rng.random()
            if p <= limit:
                return k
            k += 1

    def optimum(self, t: float, tasks: Sequence[TaskSpec]) -> Tuple[float, Dict[str, float]]:
        """(MILP optimum utility, the oracle plan's rates) at time `t`, on true latencies."""
        state = self.state(t)
        latency = LatencyModel(self.truth, state.mode)
        latency.set_gpu_clock_mhz(self.gpu_mhz(state))
        workload = Workload(tuple(tasks), state.cameras, self.scenario.people)
        placements = placements_for(self.profile, workload.tasks)
        options = build_options(workload, latency, placements)
        capacity = capacity_for(placements)
        oracle = plan(workload.tasks, options, capacity)
        best = milp_optimum([t for t in tasks], options, capacity, shed=oracle.shed)
        return best, {name: p.rate_hz for name, p in oracle.tasks.items()}


def segments(scenario: Scenario) -> List[Tuple[float, float]]:
    """[start, end) intervals between changes."""
    cuts = [0.0] + sorted(c.at_s for c in scenario.changes) + [scenario.duration_s]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
