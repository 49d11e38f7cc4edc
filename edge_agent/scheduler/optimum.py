"""The planner's problem as a mixed-integer program, solved by scipy's HiGHS `milp`.

Used to check the planner (tests) and to score plans in the benchmark, never to plan on the
device: HiGHS is fast, but the enumeration in planner.py is exact for this structure and has no
solver to fail. Variables per option o of task t: x_o (chosen, binary) and r_o (rate, Hz).

    maximise  sum_o w_t q_o (F x_o + (1 - F) (r_o - m_t x_o) / (T_t - m_t))
    s.t.      sum_o x_o = 1 for each kept task, = 0 for each shed task
              m_t x_o <= r_o <= T_t x_o
              sum_o r_o(t) <= sum_o r_o(q)  when task t consumes task q's output
              sum_{o on R} r_o tick_o / 1000 <= capacity_R     for each resource R
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

import numpy as np

from edge_agent.scheduler.options import Option
from edge_agent.scheduler.tasks import FLOOR_SHARE, TaskSpec


def milp_optimum(tasks: Sequence[TaskSpec], options: Mapping[str, List[Option]],
                 capacity: Mapping[str, float], shed: Sequence[str] = ()) -> float:
    """Optimal utility with `shed` tasks off and every other task at or above its minimum;
    -inf when infeasible. Probe options (unknown cost) are not modelled and must be absent."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    flat = [(t, o) for t in tasks for o in options.get(t.name, [])]
    if any(o.tick_ms is None for _, o in flat):
        raise ValueError("milp_optimum needs measured or seeded costs for every option")
    n = len(flat)
    if n == 0:
        return 0.0
    cost = np.zeros(2 * n)  # [x_0..x_n-1, r_0..r_n-1]; milp minimises
    for i, (t, o) in enumerate(flat):
        if t.target_hz - t.min_hz <= 0:  # a fixed rate: full utility when it runs
            cost[i] = -t.weight * o.quality
            continue
        slope = t.weight * o.quality * (1 - FLOOR_SHARE) / (t.target_hz - t.min_hz)
        cost[i] = -(t.weight * o.quality * FLOOR_SHARE - slope * t.min_hz)
        cost[n + i] = -slope
    rows: List[np.ndarray] = []
    low: List[float] = []
    high: List[float] = []
    for t in tasks:
        row = np.zeros(2 * n)
        for i, (owner, _) in enumerate(flat):
            if owner.name == t.name:
                row[i] = 1.0
        wanted = 0.0 if t.name in shed else 1.0
        rows.append(row)
        low.append(wanted)
        high.append(wanted)
    for i, (t, _) in enumerate(flat):
        row = np.zeros(2 * n)  # r - m x >= 0
        row[n + i], row[i] = 1.0, -t.min_hz
        rows.append(row)
        low.append(0.0)
        high.append(np.inf)
        row = np.zeros(2 * n)  # r - T x <= 0
        row[n + i], row[i] = 1.0, -t.target_hz
        rows.append(row)
        low.append(-np.inf)
        high.append(0.0)
    for t in tasks:  # a dependent task's rate <= its input's rate
        for needed in t.requires:
            if needed in shed or t.name in shed or needed not in {x.name for x in tasks}:
                continue
            row = np.zeros(2 * n)
            for i, (owner, _) in enumerate(flat):
                row[n + i] = 1.0 if owner.name == t.name else (
                    -1.0 if owner.name == needed else 0.0)
            rows.append(row)
            low.append(-np.inf)
            high.append(0.0)
    by_resource: Dict[str, np.ndarray] = {}
    for i, (_, o) in enumerate(flat):
        row = by_resource.setdefault(o.resource, np.zeros(2 * n))
        row[n + i] = (o.tick_ms or 0.0) / 1000.0
    for resource, row in by_resource.items():
        rows.append(row)
        low.append(-np.inf)
        high.append(capacity.get(resource, 0.0))
    integrality = np.concatenate([np.ones(n), np.zeros(n)])
    upper = np.concatenate([np.ones(n), [t.target_hz for t, _ in flat]])
    result = milp(cost, constraints=LinearConstraint(np.array(rows), low, high),
                  integrality=integrality, bounds=Bounds(np.zeros(2 * n), upper),
                  options={"mip_rel_gap": 1e-9})  # default 1e-4 stops short of the optimum
    if not result.success or result.x is None:
        return float("-inf")
    return float(-result.fun)
