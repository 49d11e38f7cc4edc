"""Backoff: full jitter stays within min(cap, base * 2**attempt), caps, resets, reproduces."""

from __future__ import annotations

import random

import pytest

from edge_agent.capture.backoff import Backoff


def test_delays_stay_within_doubling_ceiling() -> None:
    backoff = Backoff(0.5, 100.0, random.Random(1))
    for attempt in range(8):
        ceiling = 0.5 * 2**attempt
        assert backoff.ceiling_s() == pytest.approx(ceiling)
        assert 0.0 <= backoff.next_delay_s() <= ceiling
        assert backoff.attempt == attempt + 1


def test_ceiling_is_capped_and_never_overflows() -> None:
    backoff = Backoff(1.0, 30.0, random.Random(2))
    delays = [backoff.next_delay_s() for _ in range(2000)]
    assert backoff.ceiling_s() == 30.0
    assert max(delays) <= 30.0
    # Full jitter: once capped, delays spread over the whole range instead of bunching at it.
    tail = delays[100:]
    assert min(tail) < 3.0 and max(tail) > 27.0


def test_reset_starts_over_at_base() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(3))
    for _ in range(5):
        backoff.next_delay_s()
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.ceiling_s() == 1.0
    assert backoff.next_delay_s() <= 1.0


def test_seeded_rng_reproduces_the_schedule() -> None:
    first = Backoff(0.1, 5.0, random.Random(42))
    second = Backoff(0.1, 5.0, random.Random(42))
    assert [first.next_delay_s() for _ in range(20)] == [second.next_delay_s() for _ in range(20)]


def test_different_seeds_do_not_retry_in_lock_step() -> None:
    first_delays = {Backoff(1.0, 10.0, random.Random(seed)).next_delay_s() for seed in range(20)}
    assert len(first_delays) == 20


@pytest.mark.parametrize(("base_s", "cap_s"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_rejects_impossible_bounds(base_s: float, cap_s: float) -> None:
    with pytest.raises(ValueError, match="base_s"):
        Backoff(base_s, cap_s)
