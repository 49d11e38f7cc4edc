"""Telemetry's device and last_reload sections: typed, quiet off Jetson, failed reloads visible."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import List

import pytest
from jetson_tree import agx_orin_tree, write

from edge_agent.device.telemetry import DeviceTelemetry
from edge_agent.events.health_payloads import ReloadTelemetry
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.state_payloads import TelemetryPayload
from edge_agent.events.topics import Topics
from edge_agent.service.reload import ReloadOutcome, plan_reload, reload_result
from edge_agent.service.telemetry_reporter import TelemetryReporter
from edge_agent.settings import AgentSettings
from edge_agent.transport.outbox_records import OutboxCounters


class _Collect:
    """A Publisher that keeps what it is given (the transport is tested elsewhere)."""

    def __init__(self) -> None:
        self.messages: List[OutgoingMessage] = []

    def publish(self, msg: OutgoingMessage) -> None:
        self.messages.append(msg)


def _reporter(device: DeviceTelemetry, last: List[ReloadTelemetry]) -> TelemetryReporter:
    return TelemetryReporter(
        _Collect(),  # type: ignore[arg-type]
        Topics("edge-agent", "dev1"),
        "dev1",
        "1.0",
        60.0,
        cameras=lambda: [],
        latency=lambda: {},
        outbox=lambda: OutboxCounters(0, 0, 0, None, 0, 0, 0, 0),
        session=lambda: 1,
        device=device,
        last_reload=lambda: last[-1] if last else None,
    )


def test_jetson_readings_become_typed_fields(tmp_path: Path) -> None:
    root = agx_orin_tree(tmp_path)
    reporter = _reporter(DeviceTelemetry(root), [])
    document = TelemetryPayload.model_validate_json(reporter.build().model_dump_json())
    device = document.device
    assert device is not None
    assert device.max_temp_c is not None and device.temps_c
    assert device.power_mw is not None and device.rails_mw
    assert device.gpu is not None and device.gpu.load_pct == pytest.approx(51.2)
    assert device.power_mode is not None and device.power_mode.id == 2
    assert document.last_reload is None


def test_off_jetson_each_reading_warns_once_and_reads_stay_cheap(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    device = DeviceTelemetry(tmp_path, nvpmodel_query=lambda: None)  # FAKE nvpmodel: absent
    reporter = _reporter(device, [])
    reporter.start()
    try:
        first = len(caplog.records)
        assert first <= 6
        for _ in range(50):
            health = reporter.build().device
        assert len(caplog.records) == first  # no repeats, however often it is read
    finally:
        reporter.stop(1.0)
    assert health is not None and health.gpu is None and health.power_mode is None
    assert health.temps_c == {} and health.power_mw is None


def test_a_refused_reload_shows_in_telemetry(tmp_path: Path) -> None:
    reloads: List[ReloadTelemetry] = []
    reporter = _reporter(DeviceTelemetry(tmp_path, nvpmodel_query=lambda: None), reloads)
    reloads.append(reload_result(ReloadOutcome(None, "cameras.0.url: file not found"), ts=5.0))
    last = reporter.build().last_reload
    assert last is not None and not last.ok and "file not found" in last.error
    old = AgentSettings()
    new = old.model_copy(update={"logging": old.logging.model_copy(update={"level": "DEBUG"})})
    reloads.append(reload_result(ReloadOutcome(plan_reload(old, new))))
    last = reporter.build().last_reload
    assert last is not None and last.ok and last.live == ["logging"] and last.error == ""


def test_off_a_jetson_missing_readings_are_one_info_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edge_agent.device")
    DeviceTelemetry(tmp_path).start()
    device = [r for r in caplog.records if r.name.startswith("edge_agent.device")]
    assert [r.levelno for r in device] == [logging.INFO]
    assert "not a Jetson" in device[0].getMessage()


def test_on_a_jetson_each_missing_reading_is_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "/proc/device-tree/compatible", "nvidia,p3737-0000\0nvidia,tegra234\0")
    caplog.set_level(logging.INFO, logger="edge_agent.device")
    DeviceTelemetry(tmp_path).start()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) >= 3 and all("disabled" in r.getMessage() for r in warnings)
