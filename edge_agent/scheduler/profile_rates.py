"""The semseg rates in engines/devices/*.toml, derived from the latency tables by the planner.

Device profiles keep a per-power-mode semseg rate for the paths that run a fixed rate (the
`auto` rate at start-up). Those numbers are not typed in by hand: they are what the planner
gives one camera running the profile's own semseg variant (no ShuffleSeg fallback, up to
MAX_RATE_HZ) while PeopleNet and ReID (3 people per frame) run at their minimum rates, rounded
down to 0.5 Hz: the semseg rate the mode can sustain, so it grows with the mode's capacity.
`semseg_rate_hz`, used for a mode the profile does not list, is the slowest listed mode's
rate. A test recomputes them, so a changed table or planner not carried into the profiles fails.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Dict, Optional, Tuple

from edge_agent.device.profiles import DeviceProfile
from edge_agent.scheduler.device_plan import plan_device
from edge_agent.scheduler.latency_table import LatencyTable
from edge_agent.scheduler.tasks import Workload, default_tasks, semseg_task

STEP_HZ = 0.5
REFERENCE_PEOPLE = 3.0
MAX_RATE_HZ = 15.0


def derived_rate_hz(profile: DeviceProfile, table: LatencyTable, mode: str) -> float:
    """The profile's semseg rate in `mode` (0.5 Hz steps, at least 0.5)."""
    pinned = [replace(t, target_hz=t.min_hz)
              for t in default_tasks(profile.semseg_variant, tracking=True) if t.name != "semseg"]
    tasks = (semseg_task(profile.semseg_variant, False, MAX_RATE_HZ), *pinned)
    plan = plan_device(profile, table, mode, Workload(tasks, 1, REFERENCE_PEOPLE))
    rate = plan.rate_hz("semseg")
    return max(STEP_HZ, math.floor(rate / STEP_HZ + 1e-9) * STEP_HZ)


def derived_rates(profile: DeviceProfile,
                  table: Optional[LatencyTable]) -> Optional[Tuple[float, Dict[str, float]]]:
    """(semseg_rate_hz, rates_by_power_mode) for `profile`; None without a table."""
    if table is None:
        return None
    by_mode = {mode: derived_rate_hz(profile, table, mode) for mode in table.modes}
    return min(by_mode.values()), by_mode
