"""Ways to run each task: (variant, resource, batch) with the resource time one tick costs.

A "tick" is one round of a task over every camera: with all cameras at the same per-camera
rate the executor batches their frames (or, for crop models, all their detections) into calls
of at most the engine's batch. A DLA engine has one static batch shape (TensorRT's DLA rule
min == opt == max), so a short batch is padded and costs a full call. Utilisation of a
resource = rate_hz x tick_ms / 1000, summed over the tasks placed on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from edge_agent.scheduler.latency_model import LatencyModel
from edge_agent.scheduler.tasks import TaskSpec, Workload

# One call must finish within this share of the task's deadline (the rest is queueing behind
# other work on the resource and the frame's age at admission).
DEADLINE_SHARE = 0.5


@dataclass(frozen=True)
class Placement:
    """Where a model may run and with which batch: 'gpu', 'dla0', 'dla1' or 'cpu'."""

    resource: str
    batch_max: int = 1
    static_batch: bool = False


@dataclass(frozen=True)
class Option:
    """One way to serve a task; tick_ms None = never measured and no seed (probe it)."""

    task: str
    model: str
    quality: float
    resource: str
    batch: int
    tick_ms: Optional[float]
    tick_p95_ms: Optional[float]

    def load(self, rate_hz: float) -> float:
        """Share of the resource this option takes at `rate_hz` per camera."""
        return 0.0 if self.tick_ms is None else rate_hz * self.tick_ms / 1000.0


def _tick_cost(model: LatencyModel, name: str, place: Placement, items: float,
               p95: bool) -> Optional[Tuple[float, int, float]]:
    """(ms, largest batch, longest call ms) to serve `items` inputs in calls of at most the
    batch size."""
    if items <= 0:
        return 0.0, 0, 0.0
    batch = max(1, place.batch_max)
    predict = model.p95_ms if p95 else model.predict_ms
    full_calls = int(items // batch)
    rest = items - full_calls * batch
    total = longest = 0.0
    if full_calls:
        one = predict(name, place.resource, batch)
        if one is None:
            return None
        total += full_calls * one
        longest = one
    if rest > 1e-9:
        rest_batch = batch if place.static_batch else int(math.ceil(rest))
        one = predict(name, place.resource, rest_batch)
        if one is None:
            return None
        total += one
        longest = max(longest, one)
    return total, min(batch, int(math.ceil(items))), longest


def build_options(workload: Workload, model: LatencyModel,
                  placements: Mapping[str, Sequence[Placement]]) -> Dict[str, List[Option]]:
    """Every feasible option per task (deadline permitting); unknown costs become probes."""
    options: Dict[str, List[Option]] = {}
    for task in workload.tasks:
        found: List[Option] = []
        items = workload.cameras * workload.items_per_frame(task)
        for variant in task.variants:
            for place in placements.get(variant.model, ()):
                mean = _tick_cost(model, variant.model, place, items, p95=False)
                high = _tick_cost(model, variant.model, place, items, p95=True)
                if mean is None or high is None:
                    if variant is not task.variants[0]:
                        continue  # probe only the configured variant, never a fallback
                    found.append(Option(task.name, variant.model, variant.quality,
                                        place.resource, place.batch_max, None, None))
                    continue
                if high[2] / 1000.0 > task.deadline_s * DEADLINE_SHARE:
                    continue  # one call alone would eat the deadline
                found.append(Option(task.name, variant.model, variant.quality, place.resource,
                                    mean[1], mean[0], high[0]))
        options[task.name] = _prune(found)
    return options


def _prune(found: List[Option]) -> List[Option]:
    """Drop options another option beats on the same resource with the same quality."""
    best: Dict[Tuple[str, float, bool], Option] = {}
    for option in found:
        key = (option.resource, option.quality, option.tick_ms is None)
        kept = best.get(key)
        if kept is None or (option.tick_ms or 0.0) < (kept.tick_ms or 0.0):
            best[key] = option
    return list(best.values())


def tasks_by_name(tasks: Sequence[TaskSpec]) -> Dict[str, TaskSpec]:
    """Index helper."""
    return {task.name: task for task in tasks}
