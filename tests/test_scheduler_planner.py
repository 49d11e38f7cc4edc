"""The planner: exact against a MILP optimum, sheds by priority, switches variant and placement."""

from __future__ import annotations

from typing import Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_agent.device.profiles import load_profiles
from edge_agent.scheduler.device_plan import plan_device, workload_for
from edge_agent.scheduler.latency_table import load_latency_tables
from edge_agent.scheduler.optimum import milp_optimum
from edge_agent.scheduler.options import Option
from edge_agent.scheduler.planner import plan
from edge_agent.scheduler.tasks import TaskSpec, Variant

RESOURCES = ("gpu", "dla0", "dla1")


@st.composite
def instances(draw: st.DrawFn) -> Tuple[List[TaskSpec], Dict[str, List[Option]], Dict[str, float]]:
    """Random tasks (2-5), each with 1-4 options (variant x resource) and random costs."""
    tasks: List[TaskSpec] = []
    options: Dict[str, List[Option]] = {}
    for index in range(draw(st.integers(2, 5))):
        name = f"t{index}"
        min_hz = draw(st.floats(0.2, 5.0))
        # a span of 0 (fixed rate) or a real one: 1e-12 Hz spans only test HiGHS's tolerances
        target = min_hz + draw(st.one_of(st.just(0.0), st.floats(0.1, 25.0)))
        qualities = draw(st.lists(st.floats(0.5, 1.0), min_size=1, max_size=2))
        tasks.append(TaskSpec(name, tuple(Variant(f"m{index}_{k}", q)
                                          for k, q in enumerate(qualities)),
                              target_hz=target, min_hz=min_hz,
                              weight=draw(st.floats(0.5, 5.0)), deadline_s=1.0))
        found = []
        for k, quality in enumerate(qualities):
            for resource in draw(st.sets(st.sampled_from(RESOURCES), min_size=1, max_size=2)):
                tick = draw(st.floats(1.0, 150.0))
                found.append(Option(name, f"m{index}_{k}", quality, resource, 1, tick, tick))
        options[name] = found
    capacity = {r: draw(st.floats(0.3, 1.0)) for r in RESOURCES}
    return tasks, options, capacity


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_planner_matches_the_milp_optimum(
        instance: Tuple[List[TaskSpec], Dict[str, List[Option]], Dict[str, float]]) -> None:
    tasks, options, capacity = instance
    result = plan(tasks, options, capacity)
    optimum = milp_optimum(tasks, options, capacity, shed=result.shed)
    assert result.utility == pytest.approx(optimum, rel=1e-6, abs=1e-6)
    for resource, load in result.utilisation.items():
        assert load <= capacity[resource] + 1e-9
    specs = {t.name: t for t in tasks}
    for name, planned in result.tasks.items():
        assert specs[name].min_hz - 1e-9 <= planned.rate_hz <= specs[name].target_hz + 1e-9
    # a shed task really could not join the tasks of higher priority
    for name in result.shed:
        higher = [t for t in tasks if t.weight > specs[name].weight and t.name in result.tasks]
        assert milp_optimum([*higher, specs[name]], options, capacity) == float("-inf")


def _task(name: str, weight: float, min_hz: float = 1.0, target: float = 10.0,
          requires: Tuple[str, ...] = ()) -> TaskSpec:
    return TaskSpec(name, (Variant(name),), target, min_hz, weight, 1.0, requires=requires)


def test_sheds_lowest_priority_first_and_says_which() -> None:
    tasks = [_task("high", 3.0), _task("mid", 2.0), _task("low", 1.0)]
    # minimums: 0.3 + 0.3 + 0.3 of a 0.8 GPU → only two fit
    options = {t.name: [Option(t.name, t.name, 1.0, "gpu", 1, 300.0, 300.0)] for t in tasks}
    result = plan(tasks, options, {"gpu": 0.8})
    assert result.shed == ("low",)
    assert set(result.tasks) == {"high", "mid"}
    assert any("shed low" in note for note in result.notes)


def test_dependent_task_is_shed_with_its_input() -> None:
    tasks = [_task("detect", 3.0, min_hz=5.0), _task("masks", 2.0),
             _task("reid", 1.0, requires=("detect",))]
    options = {"detect": [Option("detect", "detect", 1.0, "gpu", 1, 200.0, 200.0)],
               "masks": [Option("masks", "masks", 1.0, "gpu", 1, 10.0, 10.0)],
               "reid": [Option("reid", "reid", 1.0, "gpu", 1, 1.0, 1.0)]}
    result = plan(tasks, options, {"gpu": 0.8})
    assert result.shed == ("detect", "reid")
    assert any("reid: needs detect" in note for note in result.notes)


def test_vanilla_unet_gives_way_to_shuffleseg_when_the_budget_shrinks() -> None:
    profile, table = load_profiles()["agx_orin"], load_latency_tables()["agx_orin"]
    roomy = plan_device(profile, table, "MAXN", workload_for(profile, cameras=1))
    tight = plan_device(profile, table, "MODE_15W", workload_for(profile, cameras=1))
    assert roomy.tasks["semseg"].model == "peoplesemsegnet_vanilla_unet"
    assert tight.tasks["semseg"].model == "peoplesemsegnet_shuffleseg"
    assert tight.utility < roomy.utility


def test_placement_follows_the_power_mode() -> None:
    profile, table = load_profiles()["orin_nx"], load_latency_tables()["orin_nx"]
    maxn = plan_device(profile, table, "MAXN", workload_for(profile, cameras=1))
    low = plan_device(profile, table, "15W", workload_for(profile, cameras=1))
    # at 15 W the GPU keeps 2 of 4 TPCs at 612 MHz while the DLA keeps 614 MHz: PeopleNet moves
    assert maxn.tasks["peoplenet"].resource == "gpu"
    assert low.tasks["peoplenet"].resource == "dla0"


def test_unknown_power_mode_plans_probes_and_says_so() -> None:
    profile, table = load_profiles()["orin_nano"], load_latency_tables()["orin_nano"]
    result = plan_device(profile, table, "MODE_BOGUS", workload_for(profile, cameras=2))
    assert "measured latencies only" in result.notes[0]
    assert all(t.probe for t in result.tasks.values())
    assert {t.name: t.rate_hz for t in result.tasks.values()} == {
        "semseg": 0.5, "peoplenet": 2.0, "reid": 1.0}
    assert result.tasks["semseg"].model == "peoplesemsegnet_shuffleseg"  # the profile's variant


def test_eight_cameras_on_an_orin_nano_shed_and_stay_under_target() -> None:
    profile, table = load_profiles()["orin_nano"], load_latency_tables()["orin_nano"]
    result = plan_device(profile, table, "7W", workload_for(profile, cameras=8))
    assert result.shed and "peoplenet" in result.shed
    assert all(load <= 0.8 + 1e-9 for load in result.utilisation.values())
