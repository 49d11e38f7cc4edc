"""nvpmodel parsing, thermal zones, INA3221 rails (both layouts), GPU, throttling, telemetry."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from jetson_tree import AGX_ORIN_CONF, FIXTURES, agx_orin_tree, nano_tree, orin_rails, write

from edge_agent.device.nvpmodel import (
    budget_from_name,
    parse_nvpmodel_conf,
    parse_nvpmodel_verbose,
    parse_query,
    parse_status_file,
)
from edge_agent.device.power_rails import PowerRailReader, total_power_mw
from edge_agent.device.sysfs import WarnOnce
from edge_agent.device.telemetry import DeviceTelemetry
from edge_agent.device.thermal import ThermalReader, hottest_c

VERBOSE = FIXTURES / "nvpmodel-parse"


def test_conf_table_names_budgets_and_caps() -> None:
    table = parse_nvpmodel_conf(AGX_ORIN_CONF)
    assert table.default_id == 2
    assert [m.name for m in table.modes.values()] == ["MAXN", "MODE_15W", "MODE_30W", "MODE_50W"]
    maxn, low = table.modes[0], table.modes[1]
    assert maxn.uncapped and maxn.budget_w is None and maxn.gpu_max_hz is None
    assert (low.budget_w, low.cpu_online, low.cpu_max_khz, low.gpu_max_hz) == (
        15.0, 1, 1113600, 408000000)
    assert table.by_name("mode_30w") is table.modes[2]


def test_verbose_nano_capture() -> None:
    table = parse_nvpmodel_verbose((VERBOSE / "nano__nvpmodel_-p_--verbose.txt").read_text())
    assert table.default_id == 0
    five = table.modes[1]
    assert (five.name, five.budget_w, five.cpu_online) == ("5W", 5.0, 2)
    assert (five.cpu_max_khz, five.gpu_max_hz) == (918000, 640000000)
    assert table.modes[0].gpu_max_hz is None  # 2147483647 = uncapped


def test_verbose_agx_xavier_capture() -> None:
    table = parse_nvpmodel_verbose((VERBOSE / "agx-xavier__nvpmodel_-p_--verbose.txt").read_text())
    assert table.default_id == 2
    assert table.modes[2].name == "MODE_15W"
    assert table.modes[0].cpu_online == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NV Power Mode: MODE_15W_6CORE\n2\n", ("MODE_15W_6CORE", 2)),
        ("NV Fan Mode:quiet\nNV Power Mode: MAXN\n0\n", ("MAXN", 0)),
        ("NVPM WARN: fan mode is not set!\nNV Power Mode: 15W\n0\n", ("15W", 0)),
        ("NVPM VERB: Current mode: NV Power Mode: MODE_15W_6CORE\nNVPM VERB: 2\n",
         ("MODE_15W_6CORE", 2)),
        ("NV Power Mode: MAXN\n", None),
        ("garbage", None),
    ],
)
def test_query_output(text: str, expected: object) -> None:
    assert parse_query(text) == expected


def test_status_file_and_budget_names() -> None:
    assert parse_status_file("pmode:0002 fmode:fan_mode_quiet") == 2
    assert parse_status_file("pmode:0000") == 0
    assert parse_status_file("") is None
    assert budget_from_name("7W_AI") == 7.0 and budget_from_name("MAXN_SUPER") is None


def test_orin_thermal_zones_eagain_is_off(tmp_path: Path) -> None:
    temps = ThermalReader(agx_orin_tree(tmp_path), WarnOnce()).read()
    assert temps["cpu-thermal"] == 47.5 and temps["tdiode-thermal"] == 39.75
    assert temps["cv0-thermal"] is None
    assert list(temps)[:2] == ["cpu-thermal", "gpu-thermal"]  # zone order, numeric
    assert hottest_c(temps) == 47.5


def test_nano_thermal_ignores_pmic_for_hottest(tmp_path: Path) -> None:
    temps = ThermalReader(nano_tree(tmp_path), WarnOnce()).read()
    assert temps["PMIC-Die"] == 100.0
    assert hottest_c(temps) == 41.5


def test_hwmon_rails_from_orin_capture(tmp_path: Path) -> None:
    expected = orin_rails(tmp_path)
    reader = PowerRailReader(tmp_path, WarnOnce())
    rails = reader.read()
    assert reader.layout == "hwmon"
    assert rails == pytest.approx(expected)
    assert "sum of shunt voltages" not in rails
    # AGX Orin has no input rail: total is the sum.
    assert total_power_mw(rails) == pytest.approx(sum(expected.values()))


def test_iio_rails_nano_total_is_input_rail(tmp_path: Path) -> None:
    reader = PowerRailReader(nano_tree(tmp_path), WarnOnce())
    rails = reader.read()
    assert reader.layout == "iio"
    assert rails == {"POM_5V_IN": 4520.0, "POM_5V_GPU": 0.0, "POM_5V_CPU": 1078.0}
    assert total_power_mw(rails) == 4520.0


def test_telemetry_snapshot_agx_orin(tmp_path: Path) -> None:
    root = agx_orin_tree(tmp_path)
    telemetry = DeviceTelemetry(root)
    telemetry.start()
    snap = telemetry.read()
    assert snap["power_mode"] == {"id": 2, "name": "MODE_30W", "budget_w": 30.0,
                                  "uncapped": False}
    assert snap["gpu"] == {"load_pct": 51.2, "freq_hz": 624750000.0,
                           "max_freq_hz": 1300500000.0}
    assert snap["throttle"] == {"oc_events": {"oc1_event_cnt": 0, "oc2_event_cnt": 3,
                                              "oc3_event_cnt": 0}, "throttled": False}
    assert snap["max_temp_c"] == 47.5 and snap["power_mw"] > 0
    # Cheap reads see changes: mode switch, a new over-current event.
    write(root, "/var/lib/nvpmodel/status", "pmode:0000\n")
    write(root, "/sys/class/hwmon/hwmon5/oc2_event_cnt", "4\n")
    snap = telemetry.read()
    assert snap["power_mode"]["name"] == "MAXN" and snap["power_mode"]["uncapped"]
    assert snap["throttle"]["throttled"] is True
    assert telemetry.disabled == []


def test_missing_files_disable_readings_with_one_warning_each(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    # A Jetson whose sensors are all missing: each is worth a warning (off a Jetson: one info).
    write(tmp_path, "/proc/device-tree/compatible", "nvidia,p3737-0000\0nvidia,tegra234\0")
    telemetry = DeviceTelemetry(tmp_path, nvpmodel_query=lambda: None)  # FAKE nvpmodel: absent
    for _ in range(3):
        snap = telemetry.read()
    assert snap == {"power_mode": {}, "temps_c": {}, "max_temp_c": None, "rails_mw": {},
                    "power_mw": None, "gpu": {}, "throttle": {}}
    warnings = [r.getMessage() for r in caplog.records if "disabled" in r.getMessage()]
    assert len(warnings) == len(set(warnings)) == 5
    assert set(telemetry.disabled) == {"gpu", "power_mode_table", "power_rails",
                                       "temperatures", "throttle"}


def test_nvpmodel_query_fallback_when_status_missing(tmp_path: Path) -> None:
    agx_orin_tree(tmp_path, status="")
    calls = []

    def fake_query() -> str:  # FAKE of `nvpmodel -q` at the tool boundary
        calls.append(1)
        return "NV Power Mode: MODE_50W\n3\n"

    snap = DeviceTelemetry(tmp_path, nvpmodel_query=fake_query).read()
    assert snap["power_mode"]["name"] == "MODE_50W" and snap["power_mode"]["budget_w"] == 50.0
    assert calls == [1]
