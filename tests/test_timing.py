"""Rolling stage latency statistics."""

from __future__ import annotations

import pytest

from edge_agent.runtime.stage_timings import RollingLatency, StageTimings


def test_summary_of_known_samples() -> None:
    rolling = RollingLatency(window=100)
    for value in range(1, 101):
        rolling.add(float(value))
    summary = rolling.summary()
    assert summary.count == 100
    assert summary.mean_ms == pytest.approx(50.5)
    assert summary.p50_ms == 50.0
    assert summary.p95_ms == 95.0


def test_window_is_bounded() -> None:
    rolling = RollingLatency(window=3)
    for value in (100.0, 1.0, 2.0, 3.0):
        rolling.add(value)
    assert rolling.summary().count == 3
    assert rolling.summary().mean_ms == pytest.approx(2.0)


def test_empty_and_measure() -> None:
    timings = StageTimings(["a"])
    assert timings.summaries()["a"].count == 0
    with timings.measure("a"):
        pass
    assert timings.summaries()["a"].count == 1
    timings.add("later", 1.0)  # stages appear with their first sample (tasks come and go)
    assert list(timings.summaries()) == ["a", "later"]


def test_task_steps_map_to_stage_names_and_equal_names_sum() -> None:
    timings = StageTimings()
    timings.name_task("seg", ("preprocess", "inference", "decode"))
    timings.name_task("det", ("det", "det", "det"))
    timings.add_batch("seg", 1.0, 2.0, 3.0, 1)
    timings.add_batch("det", 1.0, 2.0, 3.0, 4)
    summaries = timings.summaries()
    assert [summaries[n].mean_ms for n in ("preprocess", "inference", "decode", "det")] == [
        1.0, 2.0, 3.0, 6.0]
    assert summaries["det"].count == 1
