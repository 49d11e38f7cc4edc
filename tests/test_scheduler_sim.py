"""The simulated runtime (bench/sim_engine.py) realises plans: deadlines met, bounded queues,
re-plan within one device poll of a power-mode change, near the MILP optimum."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from bench_scheduler import analyse  # noqa: E402
from sim_engine import POLL_S, Simulation  # noqa: E402
from sim_world import Change, Scenario, World  # noqa: E402

from edge_agent.device.profiles import load_profiles  # noqa: E402
from edge_agent.scheduler.latency_table import load_latency_tables  # noqa: E402
from edge_agent.scheduler.tasks import default_tasks  # noqa: E402


def run(scenario: Scenario, policy: str) -> dict:  # type: ignore[type-arg]
    profile = load_profiles()[scenario.device]
    world = World(scenario, profile, load_latency_tables()[scenario.device])
    tasks = default_tasks(profile.semseg_variant)
    trace = Simulation(world, policy, tasks).run()
    result = analyse(world, trace, tasks)
    result["plans"] = trace.plans
    return result


def test_scheduler_meets_deadlines_and_replans_on_a_mode_change() -> None:
    scenario = Scenario("t", "Orin NX 25W -> 10W", "orin_nx", "25W", 2, 30.0, 16.0,
                        (Change(8.0, mode="10W"),))
    result = run(scenario, "scheduler")
    assert result["deadlines_met"] >= 0.99
    assert result["utility_ratio"] >= 0.9
    assert isinstance(result["queue_max"], int) and result["queue_max"] <= 2 * 3
    replans = [t for t, reason, *_ in result["plans"] if "power mode 25W -> 10W" in reason]
    assert replans and 8.0 <= replans[0] <= 8.0 + POLL_S + 1e-9


def test_fifo_on_the_same_trace_builds_a_queue() -> None:
    scenario = Scenario("t", "Orin NX 25W", "orin_nx", "25W", 2, 30.0, 8.0)
    result = run(scenario, "fifo")
    assert result["deadlines_met"] < 0.5
    assert result["queue_max"] > 100
