"""PlannedPolicy with a fake clock: planned rates, EDF order, deadline drops, plan swaps."""

from __future__ import annotations

import pytest

from edge_agent.runtime.policy import SchedulingPolicy
from edge_agent.scheduler.latency_model import LatencyModel
from edge_agent.scheduler.latency_table import load_latency_tables
from edge_agent.scheduler.planner import Plan, PlannedTask
from edge_agent.scheduler.policy import Candidate, PlannedPolicy


def make_plan(detect_hz: float = 10.0, masks_hz: float = 2.0) -> Plan:
    tasks = {
        "peoplenet": PlannedTask("peoplenet", "peoplenet", "dla0", 2, detect_hz, 3.0, 0.4,
                                 2.0 / detect_hz),
        "semseg": PlannedTask("semseg", "peoplesemsegnet_shuffleseg", "gpu", 1, masks_hz, 2.0,
                              0.1, 0.5),
    }
    return Plan(tasks, ("reid",), {"gpu": 0.1, "dla0": 0.4}, 5.0)


def make_policy(plan: Plan) -> PlannedPolicy:
    return PlannedPolicy(plan, LatencyModel(load_latency_tables()["agx_orin"], "MAXN"))


def run(policy: PlannedPolicy, task: str, cameras: int, until_s: float,
        step_s: float = 0.001) -> None:
    """Executor loop on a fake clock: every camera takes the task whenever due."""
    now = 0.0
    while now < until_s:
        for camera in range(cameras):
            if policy.due(task, f"cam{camera}", now):
                policy.mark_run(task, f"cam{camera}", now)
        now += step_s


def test_implements_the_runtime_protocol() -> None:
    policy: SchedulingPolicy = make_policy(make_plan())
    assert policy.deadline_s("peoplenet") == pytest.approx(0.2)


def test_achieved_rates_follow_the_plan_per_camera() -> None:
    policy = make_policy(make_plan(detect_hz=10.0))
    run(policy, "peoplenet", cameras=3, until_s=10.0)
    stats = policy.stats(now_s=10.0)["peoplenet"]
    assert stats.planned_hz == 10.0
    assert stats.achieved_hz == pytest.approx(10.0, rel=0.05)


def test_shed_task_is_never_due_and_unknown_task_is_reported() -> None:
    policy = make_policy(make_plan())
    assert not policy.due("reid", "cam0", 5.0)
    assert policy.wait_s("reid", "cam0", 5.0) > 0
    assert not policy.due("pose", "cam0", 5.0)
    assert policy.unplanned_tasks() == {"pose"}


def test_edf_order_and_too_old_frames_dropped_and_counted() -> None:
    policy = make_policy(make_plan(detect_hz=10.0))  # peoplenet deadline 0.2 s, semseg 0.5 s
    now = 10.0
    ordered, dropped = policy.order_due([
        Candidate("semseg", "cam0", now - 0.40),     # due at now + 0.10
        Candidate("peoplenet", "cam1", now - 0.05),  # due at now + 0.15
        Candidate("peoplenet", "cam0", now - 0.15),  # due at now + 0.05
        Candidate("peoplenet", "cam2", now - 0.25),  # 0.25 s old > 0.2 s: dropped
    ], now)
    assert [(c.task, c.camera_id) for c in ordered] == [
        ("peoplenet", "cam0"), ("semseg", "cam0"), ("peoplenet", "cam1")]
    assert [(c.task, c.camera_id) for c in dropped] == [("peoplenet", "cam2")]
    assert policy.stats(now)["peoplenet"].dropped == 1


def test_late_completion_is_a_counted_miss() -> None:
    policy = make_policy(make_plan(detect_hz=10.0))
    assert policy.completed("peoplenet", frame_ts_s=1.0, done_s=1.15)
    assert not policy.completed("peoplenet", frame_ts_s=1.0, done_s=1.25)
    assert policy.stats(2.0)["peoplenet"].deadline_misses == 1


def test_new_plan_changes_rates_and_keeps_phase_of_unchanged_tasks() -> None:
    policy = make_policy(make_plan(detect_hz=10.0, masks_hz=2.0))
    policy.mark_run("semseg", "cam0", 0.0)
    policy.mark_run("peoplenet", "cam0", 0.0)
    policy.set_plan(make_plan(detect_hz=4.0, masks_hz=2.0))
    assert policy.wait_s("semseg", "cam0", 0.1) == pytest.approx(0.4)  # same gate kept
    assert policy.due("peoplenet", "cam0", 0.1)  # new rate starts afresh
    policy.mark_run("peoplenet", "cam0", 0.1)
    assert policy.wait_s("peoplenet", "cam0", 0.1) == pytest.approx(0.25)


def test_observe_feeds_the_latency_model_under_the_planned_model() -> None:
    latency = LatencyModel(load_latency_tables()["agx_orin"], "MAXN")
    policy = PlannedPolicy(make_plan(), latency)
    for _ in range(5):
        policy.observe("peoplenet", "dla0", 2, 50.0)
    policy.observe("peoplenet", "dla0", 2, 0.0)
    assert latency.measured("peoplenet", "dla0") == 5
    assert latency.absurd["not_positive"] == 1


def test_plan_payload_event_and_log_line_agree() -> None:
    from edge_agent.scheduler.report import describe, plan_payload, replan_event
    from edge_agent.scheduler.signals import DeviceReading

    old, new = make_plan(detect_hz=10.0), make_plan(detect_hz=4.0)
    policy = make_policy(old)
    run(policy, "peoplenet", cameras=2, until_s=6.0)
    payload = plan_payload(old, policy.stats(6.0), DeviceReading("MAXN", 1300.0, False),
                           {"jump_100x": 2})
    tasks = payload["tasks"]
    assert isinstance(tasks, dict)
    assert tasks["peoplenet"]["planned_hz"] == 10.0
    assert tasks["peoplenet"]["achieved_hz"] == pytest.approx(10.0, rel=0.05)
    assert tasks["reid"]["state"] == "shed" and payload["shed"] == ["reid"]
    assert payload["power_mode"] == "MAXN" and payload["absurd_latency_samples"] == {
        "jump_100x": 2}
    event = replan_event(new, old)
    assert set(event["changes"]) == {"peoplenet"}  # type: ignore[arg-type]
    line = describe(new)
    assert "peoplenet 4.0 Hz on dla0" in line and "SHED reid" in line
