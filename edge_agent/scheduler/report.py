"""The plan as people and dashboards see it: telemetry, the retained `plan` message, the
re-plan event and one log line. Pure dict builders; the runtime publishes them.

Why separate from the policy: the same plan is rendered three ways (JSON for MQTT, a line for
the journal and the status line), and a shed task or an unknown power mode must read the same
in all of them.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional

from edge_agent.scheduler.planner import Plan
from edge_agent.scheduler.policy import TaskStats
from edge_agent.scheduler.signals import DeviceReading


def plan_payload(plan: Plan, stats: Mapping[str, TaskStats], reading: DeviceReading,
                 absurd_samples: Mapping[str, int]) -> Dict[str, object]:
    """Telemetry / retained `plan` message: planned vs achieved per task, device state."""
    tasks: Dict[str, object] = {}
    for name in sorted(set(plan.tasks) | set(stats) | set(plan.shed)):
        planned = plan.tasks.get(name)
        seen = stats.get(name)
        tasks[name] = {
            "state": "shed" if name in plan.shed else ("probe" if planned and planned.probe
                                                       else "planned"),
            "model": planned.model if planned else None,
            "resource": planned.resource if planned else None,
            "batch": planned.batch if planned else None,
            "planned_hz": round(planned.rate_hz, 3) if planned else 0.0,
            "achieved_hz": round(seen.achieved_hz, 3) if seen else 0.0,
            "deadline_s": round(planned.deadline_s, 3) if planned else None,
            "dropped": seen.dropped if seen else 0,
            "deadline_misses": seen.deadline_misses if seen else 0,
        }
    return {
        "reason": plan.reason,
        "power_mode": reading.mode or None,
        "gpu_mhz": round(reading.gpu_mhz, 1) if reading.gpu_mhz else None,
        "throttled": reading.throttled,
        "utility": round(plan.utility, 4),
        "utilisation": {k: round(v, 4) for k, v in sorted(plan.utilisation.items())},
        "shed": list(plan.shed),
        "notes": list(plan.notes),
        "plan_ms": round(plan.extras.get("plan_ms", 0.0), 2),
        "absurd_latency_samples": dict(absurd_samples),
        "tasks": tasks,
    }


def replan_event(plan: Plan, previous: Optional[Plan]) -> Dict[str, object]:
    """The event published on every re-plan: why, and what changed per task."""
    changes: Dict[str, object] = {}
    names = set(plan.tasks) | (set(previous.tasks) if previous else set())
    for name in sorted(names):
        new = plan.tasks.get(name)
        old = previous.tasks.get(name) if previous else None
        before = (old.model, old.resource, round(old.rate_hz, 2)) if old else None
        after = (new.model, new.resource, round(new.rate_hz, 2)) if new else None
        if before != after:
            changes[name] = {
                "from": None if old is None else {"model": old.model, "resource": old.resource,
                                                  "rate_hz": round(old.rate_hz, 3)},
                "to": None if new is None else {"model": new.model, "resource": new.resource,
                                                "rate_hz": round(new.rate_hz, 3)},
            }
    return {"reason": plan.reason, "power_mode": plan.mode or None, "shed": list(plan.shed),
            "changes": changes}


def describe(plan: Plan) -> str:
    """One line for the log and the status line."""
    parts = [f"{name} {t.rate_hz:.1f} Hz on {t.resource}"
             + (f" ({t.model.replace('peoplesemsegnet_', '')})" if name == "semseg" else "")
             + (" probe" if t.probe else "")
             for name, t in sorted(plan.tasks.items())]
    text = f"plan ({plan.reason or 'start'}; mode {plan.mode or 'unknown'}): " + ", ".join(parts)
    if plan.shed:
        text += "; SHED " + ", ".join(plan.shed)
    return text
