"""Inference rate gate: ideal ticks, no catch-up bursts."""

from __future__ import annotations

import pytest

from edge_agent.runtime.rate_gate import RateGate


def test_unlimited_rate_is_always_due() -> None:
    gate = RateGate(0.0)
    gate.mark_run("a", 1.0)
    assert gate.due("a", 1.0)


def test_period_and_ideal_ticks() -> None:
    gate = RateGate(2.0)  # every 0.5 s
    assert gate.due("a", 0.0)
    gate.mark_run("a", 0.0)
    assert not gate.due("a", 0.4)
    assert gate.wait_s("a", 0.4) == pytest.approx(0.1)
    gate.mark_run("a", 0.55)  # a little late: next tick stays on the 0.5 s grid
    assert gate.due("a", 1.0)
    assert not gate.due("a", 0.99)


def test_long_stall_reanchors_instead_of_bursting() -> None:
    gate = RateGate(10.0)
    gate.mark_run("a", 0.0)
    gate.mark_run("a", 5.0)
    assert not gate.due("a", 5.05)


def test_cameras_are_independent() -> None:
    gate = RateGate(1.0)
    gate.mark_run("a", 0.0)
    assert gate.due("b", 0.0)


def test_negative_rate_rejected() -> None:
    with pytest.raises(ValueError):
        RateGate(-1.0)
