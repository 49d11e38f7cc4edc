"""The semseg rates in engines/devices/*.toml are the planner's, from the latency tables."""

from __future__ import annotations

import pytest

from edge_agent.device.profiles import load_profiles
from edge_agent.scheduler.latency_table import load_latency_tables
from edge_agent.scheduler.profile_rates import derived_rates

TABLES = load_latency_tables()


@pytest.mark.parametrize("name", sorted(TABLES))
def test_profile_rates_derive_from_the_latency_table(name: str) -> None:
    profile = load_profiles()[name]
    derived = derived_rates(profile, TABLES[name])
    assert derived is not None
    default_hz, by_mode = derived
    assert profile.semseg_rate_hz == default_hz
    if name == "x86_gpu":  # no power modes: the default rate is the only one
        assert not profile.rates_by_power_mode
    else:
        assert profile.rates_by_power_mode == by_mode


def test_a_lower_power_mode_never_gets_a_higher_rate() -> None:
    profile = load_profiles()["agx_orin"]
    rates = profile.rates_by_power_mode
    assert rates["MODE_15W"] <= rates["MODE_30W"] <= rates["MODE_50W"] <= rates["MAXN"]
