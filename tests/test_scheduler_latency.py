"""Latency tables (sources, scaling per power mode) and the online latency model."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edge_agent.device.profiles import load_profiles
from edge_agent.errors import ConfigError
from edge_agent.models.manifest import known_model_names
from edge_agent.scheduler.latency_model import LatencyModel
from edge_agent.scheduler.latency_table import (
    load_latency_tables,
    parse_latency_file,
    seed_latency_ms,
)


def test_every_table_parses_names_known_models_and_cites_every_number() -> None:
    tables = load_latency_tables()
    profiles = load_profiles()
    models = set(known_model_names())
    assert {"nano", "xavier_nx", "agx_xavier", "orin_nano", "orin_nx", "agx_orin"} <= set(tables)
    for name, table in tables.items():
        assert name in profiles
        for engine in table.engines:
            assert engine.model in models, (name, engine.model)
            assert len(engine.source) > 20
        for mode in table.modes.values():
            assert mode.source
        # the profile's own modes are all in the table (rates derive from it)
        assert set(profiles[name].rates_by_power_mode) <= set(table.modes)


def test_nano_5w_scales_the_card_figure_by_the_clock_cap() -> None:
    table = load_latency_tables()["nano"]
    maxn = seed_latency_ms(table, "peoplesemsegnet_shuffleseg", "gpu", 16, "MAXN")
    five = seed_latency_ms(table, "peoplesemsegnet_shuffleseg", "gpu", 16, "5W")
    assert maxn is not None and five is not None
    assert maxn.latency_ms == pytest.approx(1000 * 16 / 199)  # card: BS 16 at 199 FPS
    assert five.latency_ms == pytest.approx(maxn.latency_ms * 921.6 / 640.0)
    assert not maxn.estimate


def test_orin_mode_capacity_counts_tpcs_and_clock() -> None:
    table = load_latency_tables()["agx_orin"]
    mode = table.mode("mode_15w")
    assert mode is not None
    assert table.gpu_capacity(mode) == pytest.approx(3 * 408 / (8 * 1300))
    assert table.dla_capacity(mode) == pytest.approx(614.4 / 1600)
    # throttled: a clock reading below the cap lowers the capacity further
    maxn = table.mode("MAXN")
    assert maxn is not None and table.gpu_capacity(maxn, 780.0) == pytest.approx(0.6)


def test_reid_line_follows_the_cards_three_points() -> None:
    table = load_latency_tables()["agx_orin"]
    for batch, card_ms in ((1, 0.96), (16, 6.42), (64, 23.09)):
        seeded = seed_latency_ms(table, "reidentificationnet", "gpu", batch, "MAXN")
        assert seeded is not None
        assert seeded.latency_ms == pytest.approx(card_ms, rel=0.15)


def test_unknown_mode_or_model_has_no_seed() -> None:
    table = load_latency_tables()["agx_orin"]
    assert seed_latency_ms(table, "peoplenet", "gpu", 1, "MODE_99W") is None
    assert seed_latency_ms(table, "no_such_model", "gpu", 1, "MAXN") is None


def test_bad_table_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "nano.toml"
    path.write_text('device = "nano"\nreference_mode = "MAXN"\n[gpu]\nreference_mhz = 921.6\n'
                    'source = "x"\n[modes.MAXN]\ngpu_mhz = 921.6\nsource = "x"\n'
                    '[[engines]]\nmodel = "peoplenet"\nresource = "gpu"\nprecision = "fp16"\n'
                    'source = "x"\n')
    with pytest.raises(ConfigError) as caught:
        parse_latency_file(path)
    assert "nano.toml" in caught.value.problem and "engines.0" in caught.value.problem


def test_absurd_samples_are_ignored_and_counted() -> None:
    model = LatencyModel(load_latency_tables()["agx_orin"], "MAXN")
    assert model.observe("reidentificationnet", "gpu", 1, 1.0)
    assert not model.observe("reidentificationnet", "gpu", 1, 0.0)
    assert not model.observe("reidentificationnet", "gpu", 1, -3.0)
    assert not model.observe("reidentificationnet", "gpu", 1, math.nan)
    assert not model.observe("reidentificationnet", "gpu", 1, 150.0)  # > 100x the last
    assert model.observe("reidentificationnet", "gpu", 1, 90.0)  # < 100x: a real slowdown
    assert model.absurd == {"not_finite": 1, "not_positive": 2, "jump_100x": 1}


def test_measurements_correct_the_seed_for_every_batch() -> None:
    model = LatencyModel(load_latency_tables()["agx_orin"], "MAXN")
    seed_16 = model.predict_ms("reidentificationnet", "gpu", 16)
    seed_1 = model.predict_ms("reidentificationnet", "gpu", 1)
    assert seed_16 is not None and seed_1 is not None
    for _ in range(40):  # the engine runs 1.5x slower than the card at batch 1
        model.observe("reidentificationnet", "gpu", 1, seed_1 * 1.5)
    assert model.ratio("reidentificationnet", "gpu") == pytest.approx(1.5, rel=1e-3)
    assert model.predict_ms("reidentificationnet", "gpu", 16) == pytest.approx(seed_16 * 1.5,
                                                                              rel=1e-3)
    # throttled to 60 % of the clock: prediction follows, the correction is kept
    model.set_gpu_clock_mhz(780.0)
    assert model.predict_ms("reidentificationnet", "gpu", 16) == pytest.approx(
        seed_16 * 1.5 / 0.6, rel=1e-3)


def test_p95_comes_from_the_measured_spread() -> None:
    model = LatencyModel(load_latency_tables()["agx_orin"], "MAXN")
    seed = model.predict_ms("reidentificationnet", "gpu", 1)
    assert seed is not None
    assert model.p95_ms("reidentificationnet", "gpu", 1) == pytest.approx(seed * 1.2)
    for index in range(100):
        model.observe("reidentificationnet", "gpu", 1, seed * (2.0 if index % 10 == 0 else 1.0))
    mean = model.predict_ms("reidentificationnet", "gpu", 1)
    high = model.p95_ms("reidentificationnet", "gpu", 1)
    assert mean is not None and high is not None and high > mean * 1.5


def test_unknown_mode_uses_measurements_only() -> None:
    model = LatencyModel(load_latency_tables()["agx_orin"], "MODE_BOGUS")
    assert not model.seeded
    assert model.predict_ms("peoplenet", "gpu", 2) is None
    for _ in range(5):
        model.observe("peoplenet", "gpu", 1, 20.0)
    assert model.predict_ms("peoplenet", "gpu", 1) == pytest.approx(20.0)
    assert model.predict_ms("peoplenet", "gpu", 2) == pytest.approx(40.0)  # linear, pessimistic
    model.set_mode("MODE_OTHER")  # measurements of another mode are not reused
    assert model.predict_ms("peoplenet", "gpu", 1) is None
