"""Plan for a device profile: where its engines may run, what each resource may carry.

Placement follows the profile: every TensorRT model may run on the GPU with its dynamic batch
(batch_max), and on the DLA core the profile names for it with a static batch (DLA engines are
built min == opt == max). A model the profile does not list is not built there, so a semseg
variant the profile omits (vanilla UNet on a Nano) is not offered. The ONNX Runtime profile
runs everything on the CPU with batch 1.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from edge_agent.device.profiles import DeviceProfile
from edge_agent.scheduler.latency_model import LatencyModel
from edge_agent.scheduler.latency_table import LatencyTable
from edge_agent.scheduler.options import Placement, build_options
from edge_agent.scheduler.planner import DEFAULT_UTILISATION_TARGET, Plan, plan
from edge_agent.scheduler.tasks import SEMSEG_VARIANTS, TaskSpec, Workload, default_tasks


def _allowed(profile: DeviceProfile, model: str) -> bool:
    semseg_models = {m for m, _ in SEMSEG_VARIANTS.values()}
    if model in semseg_models:
        return model in profile.models or model == SEMSEG_VARIANTS[profile.semseg_variant][0]
    return True


def placements_for(profile: DeviceProfile, tasks: Sequence[TaskSpec]) -> Dict[str, List[Placement]]:
    """Allowed placements per model of `tasks` on `profile`."""
    placements: Dict[str, List[Placement]] = {}
    for task in tasks:
        for variant in task.variants:
            name = variant.model
            if not _allowed(profile, name):
                continue
            if profile.backend == "onnxruntime":
                placements[name] = [Placement("cpu", 1)]
                continue
            settings = profile.model(name)
            found = [Placement("gpu", settings.batch_max)]
            if settings.dla_core >= 0:
                found.append(Placement(f"dla{settings.dla_core}", settings.batch_max,
                                       static_batch=True))
            placements[name] = found
    return placements


def capacity_for(placements: Dict[str, List[Placement]],
                 target: float = DEFAULT_UTILISATION_TARGET) -> Dict[str, float]:
    """Each used resource may be busy `target` of the time (bounds queueing delay)."""
    return {p.resource: target for found in placements.values() for p in found}


def workload_for(profile: DeviceProfile, cameras: int = 1, people: float = 3.0,
                 tracking: bool = True) -> Workload:
    """The agent's default tasks on `profile`."""
    return Workload(tuple(default_tasks(profile.semseg_variant, tracking)), cameras, people)


def plan_device(profile: DeviceProfile, table: Optional[LatencyTable], mode: str,
                workload: Workload, model: Optional[LatencyModel] = None,
                target: float = DEFAULT_UTILISATION_TARGET, reason: str = "") -> Plan:
    """Plan `workload` on `profile` in power mode `mode` (seeds and any measurements)."""
    latency = model if model is not None else LatencyModel(table, mode)
    placements = placements_for(profile, workload.tasks)
    options = build_options(workload, latency, placements)
    result = plan(workload.tasks, options, capacity_for(placements, target))
    notes = list(result.notes)
    if not latency.seeded:
        why = "no latency table" if table is None else f"power mode {mode!r} not in the table"
        notes.insert(0, f"{why}: planned with measured latencies only")
    return Plan(result.tasks, result.shed, result.utilisation, result.utility, tuple(notes),
                mode=mode, reason=reason)
