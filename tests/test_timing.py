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
    with pytest.raises(KeyError):
        timings.add("unknown", 1.0)
