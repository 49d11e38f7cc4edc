"""The planner: per task a rate, a placement and a variant, maximising weighted utility.

Structure of the problem (why this is exact and not a heuristic): once every task's discrete
choice (variant and resource) is fixed, each resource is independent and its sub-problem is a
fractional knapsack — utility grows linearly with each task's rate above its minimum, and each
Hz costs tick_ms / 1000 of the resource — which the greedy fill by utility per unit of load
solves optimally. The discrete choices are few (a task has at most two variants times three
resources), so the planner enumerates them and keeps the best. Past ENUMERATION_LIMIT
combinations it falls back to a greedy choice per task and says so in the plan's notes. A task
that consumes another's output (ReID needs PeopleNet's detections) is capped at its input's
rate and the capacity it cannot use is handed on; with such a dependency the result is no longer
guaranteed optimal (the benchmark measures the gap against the MILP, which models it exactly).

Minimums are hard: a task runs at least at its minimum or is shed. Tasks are admitted in
priority order (weight); one whose minimum cannot fit beside those already admitted is shed,
so a lower-priority task is only ever shed for a higher one; the plan names what was shed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from edge_agent.scheduler.options import Option
from edge_agent.scheduler.tasks import TaskSpec

ENUMERATION_LIMIT = 20000
DEFAULT_UTILISATION_TARGET = 0.8


@dataclass(frozen=True)
class PlannedTask:
    """One task's share of the plan."""

    name: str
    model: str
    resource: str
    batch: int
    rate_hz: float
    utility: float
    load: float
    deadline_s: float
    probe: bool = False


@dataclass(frozen=True)
class Plan:
    """What the device runs until the next re-plan."""

    tasks: Dict[str, PlannedTask]
    shed: Tuple[str, ...]
    utilisation: Dict[str, float]
    utility: float
    notes: Tuple[str, ...] = ()
    mode: str = ""
    reason: str = ""
    extras: Dict[str, float] = field(default_factory=dict)

    def rate_hz(self, task: str) -> float:
        """Planned per-camera rate; 0 for a shed or unknown task."""
        planned = self.tasks.get(task)
        return planned.rate_hz if planned is not None else 0.0


def _fill(combo: Sequence[Option], specs: Mapping[str, TaskSpec],
          capacity: Mapping[str, float]) -> Optional[Tuple[float, Dict[str, float]]]:
    """Best rates for fixed choices: minimums, then greedy by utility per load; None if the
    minimums do not fit."""
    left = dict(capacity)
    rates: Dict[str, float] = {}
    for option in combo:
        spec = specs[option.task]
        rates[option.task] = spec.min_hz
        if option.tick_ms is None:
            continue
        left[option.resource] = left.get(option.resource, 0.0) - option.load(spec.min_hz)
        if left[option.resource] < -1e-12:
            return None

    def efficiency(option: Option) -> float:
        slope = specs[option.task].slope(option.quality)
        per_hz = option.load(1.0)
        return float("inf") if per_hz <= 0 else slope / per_hz

    capped: Dict[str, float] = {}
    for _ in range(2):  # second pass: hand on what a capped dependent task could not use
        for option in sorted(combo, key=efficiency, reverse=True):
            spec = specs[option.task]
            if option.tick_ms is None:
                continue  # a probe stays at its minimum until measured
            room = capped.get(option.task, spec.target_hz) - rates[option.task]
            per_hz = option.load(1.0)
            extra = room if per_hz <= 0 else min(room, max(0.0, left[option.resource]) / per_hz)
            rates[option.task] += max(0.0, extra)
            left[option.resource] -= max(0.0, extra) * per_hz
        # a task consuming another's output cannot usefully run faster than its input
        for option in combo:
            inputs = [rates[name] for name in specs[option.task].requires if name in rates]
            cap = max(specs[option.task].min_hz, min(inputs)) if inputs else None
            if cap is not None and rates[option.task] > cap + 1e-12:
                left[option.resource] += option.load(rates[option.task] - cap)
                rates[option.task] = capped[option.task] = cap
        if not capped:
            break
    utility = sum(specs[o.task].utility(o.quality, rates[o.task]) for o in combo)
    return utility, rates


def _search(active: Sequence[TaskSpec], options: Mapping[str, List[Option]],
            capacity: Mapping[str, float]) -> Tuple[Optional[Tuple[Option, ...]],
                                                    Dict[str, float], float, bool]:
    specs = {t.name: t for t in active}
    choices = [options.get(t.name, []) for t in active]
    if any(not c for c in choices):
        return None, {}, 0.0, False
    size = 1
    for c in choices:
        size *= len(c)
    greedy = size > ENUMERATION_LIMIT
    if greedy:
        # one choice per task, each the best alone: utility per load at the target rate
        choices = [[max(c, key=lambda o: specs[o.task].utility(o.quality, specs[o.task].target_hz)
                        / max(1e-9, o.load(specs[o.task].target_hz)))] for c in choices]
    best: Optional[Tuple[Option, ...]] = None
    best_rates: Dict[str, float] = {}
    best_utility = -1.0
    for combo in itertools.product(*choices):
        filled = _fill(combo, specs, capacity)
        if filled is not None and filled[0] > best_utility + 1e-12:
            best, best_utility, best_rates = tuple(combo), filled[0], filled[1]
    return best, best_rates, max(best_utility, 0.0), greedy


def plan(tasks: Sequence[TaskSpec], options: Mapping[str, List[Option]],
         capacity: Mapping[str, float]) -> Plan:
    """The best plan for `tasks` given each task's options and each resource's capacity."""
    active = sorted(tasks, key=lambda t: (-t.weight, t.name))
    shed: List[str] = []
    notes: List[str] = []
    for task in [t for t in active if not options.get(t.name)]:
        active.remove(task)
        shed.append(task.name)
        notes.append(f"{task.name}: no placement meets its {task.deadline_s:g} s deadline")
    # Admit tasks in priority order; one whose minimum cannot join the admitted set is shed,
    # and so is one whose input comes from a shed task.
    kept: List[TaskSpec] = []
    for task in active:
        missing = [name for name in task.requires if name not in {k.name for k in kept}]
        if missing:
            shed.append(task.name)
            notes.append(f"{task.name}: needs {', '.join(missing)}, which is not running")
        elif _search([*kept, task], options, capacity)[0] is not None:
            kept.append(task)
        else:
            shed.append(task.name)
            notes.append(f"{task.name}: its minimum {task.min_hz:g} Hz does not fit beside "
                         "higher-priority tasks")
    active = kept
    combo, rates, utility, greedy = _search(active, options, capacity)
    if greedy:
        notes.append(f"more than {ENUMERATION_LIMIT} combinations: greedy choice per task")
    if shed:
        notes.insert(0, "cannot meet every minimum: shed " + ", ".join(shed))
    planned: Dict[str, PlannedTask] = {}
    load: Dict[str, float] = {resource: 0.0 for resource in capacity}
    specs = {t.name: t for t in active}
    for option in combo or ():
        spec = specs[option.task]
        rate = rates[option.task]
        share = option.load(rate)
        load[option.resource] = load.get(option.resource, 0.0) + share
        deadline = min(spec.deadline_s, 2.0 / rate) if rate > 0 else spec.deadline_s
        planned[option.task] = PlannedTask(
            option.task, option.model, option.resource, option.batch, rate,
            spec.utility(option.quality, rate), share, deadline, probe=option.tick_ms is None)
        if option.tick_ms is None:
            notes.append(f"{option.task}: no latency known for {option.model} on "
                         f"{option.resource}; probing at the minimum {rate:g} Hz")
    return Plan(planned, tuple(shed), load, utility, tuple(notes))
