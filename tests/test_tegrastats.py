"""tegrastats lines from three releases (JP4 Nano root, JP4.2 Xavier user, JP7.2 AGX Orin)."""

from __future__ import annotations

from jetson_tree import FIXTURES

from edge_agent.device.tegrastats import parse_tegrastats

LINES = FIXTURES / "tegrastats"


def test_nano_jp4_root() -> None:
    out = parse_tegrastats((LINES / "nano__jp4__root.txt").read_text())
    assert (out["ram_used_mb"], out["ram_total_mb"]) == (1180, 3965)
    assert out["cpu"] == [(30.0, 1036.0), (33.0, 1036.0), (28.0, 1036.0), (26.0, 1036.0)]
    assert out["gpu_load_pct"] == 0.0 and out["gpu_freq_mhz"] == [76.0]
    assert out["emc_load_pct"] == 10.0
    assert out["temps_c"] == {"pll": 57.0, "cpu": 60.5, "pmic": 100.0, "gpu": 59.0,
                              "ao": 65.0, "thermal": 59.75}
    assert out["rails_mw"] == {"POM_5V_IN": {"cur_mw": 4520.0, "avg_mw": 4680.0},
                               "POM_5V_GPU": {"cur_mw": 0.0, "avg_mw": 0.0},
                               "POM_5V_CPU": {"cur_mw": 1078.0, "avg_mw": 1205.0}}


def test_agx_xavier_user_line_without_freqs() -> None:
    out = parse_tegrastats((LINES / "agx-xavier__jp4.2__user.txt").read_text())
    assert out["gpu_load_pct"] == 0.0 and "gpu_freq_mhz" not in out
    assert len(out["cpu"]) == 8  # type: ignore[arg-type]
    assert out["temps_c"]["tdiode"] == 32.0  # type: ignore[index]
    rails = out["rails_mw"]
    assert set(rails) == {"GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"}  # type: ignore[arg-type]
    assert rails["SYS5V"] == {"cur_mw": 3306.0, "avg_mw": 3306.0}  # type: ignore[index]


def test_agx_orin_jp72_per_gpc_clock_double_temps_triple_rails() -> None:
    out = parse_tegrastats((LINES / "agx-orin-64gb__jp7.2_r39.2__root.txt").read_text())
    assert out["gpu_load_pct"] == 12.0 and out["gpu_freq_mhz"] == [1300.0, 1300.0]
    assert out["temps_c"] == {"cpu": 52.968, "soc2": 48.406, "soc0": 49.531, "gpu": 47.625}
    assert out["rails_mw"]["VIN_SYS_5V0"] == {  # type: ignore[index]
        "cur_mw": 5500.0, "avg_mw": 5500.0, "peak_mw": 5500.0}
    assert len(out["cpu"]) == 12  # type: ignore[arg-type]


def test_offline_core_and_sensor() -> None:
    out = parse_tegrastats("RAM 1/2MB CPU [10%@1000,off] GR3D_FREQ 5% CV0@-256C GPU@40C")
    assert out["cpu"] == [(10.0, 1000.0), None]
    assert out["temps_c"] == {"cv0": None, "gpu": 40.0}
    assert "rails_mw" not in out
