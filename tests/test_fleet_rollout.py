"""Rollouts over a real mosquitto with simulated devices: an unhealthy canary stops the
rollout, and a device that times out in a later wave aborts it and rolls back every device
where the change had been applied."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List

import pytest
from mosquitto_broker import MosquittoBroker

from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.paho_link import LinkOptions
from edge_agent.fleet.rollout import Rollout, RolloutPolicy, revert_config_rollback
from edge_agent.fleet.simulator import SimulatedFleet, SimulationOptions

BAD_CAMERA = {"cameras": [{"id": "entrance", "url": "rtsp://camera.invalid/entrance"}]}
GOOD_PATCH = {"logging": {"level": "DEBUG"}}


@pytest.fixture
def fleet(broker: MosquittoBroker, tmp_path: Path) -> Iterator[SimulatedFleet]:
    simulated = SimulatedFleet(LinkOptions(port=broker.port),
                               SimulationOptions(devices=20, per_connection=1),
                               tmp_path / "sim")
    simulated.start()
    yield simulated
    simulated.stop()


@pytest.fixture
def client(broker: MosquittoBroker, fleet: SimulatedFleet) -> Iterator[FleetClient]:
    tool = FleetClient(LinkOptions(port=broker.port, client_id="tool", session_expiry_s=0))
    tool.start()
    assert tool.wait_devices(expected=20, timeout_s=15) == 20
    yield tool
    tool.stop()


def _levels(fleet: SimulatedFleet) -> List[str]:
    return [d.current_config()["logging"]["level"] for _, d in sorted(fleet.devices.items())]


def test_unhealthy_canary_stops_the_rollout_and_nothing_else_changes(
    fleet: SimulatedFleet, client: FleetClient
) -> None:
    before = {d: dev.current_config() for d, dev in fleet.devices.items()}
    log: List[str] = []
    report = Rollout(
        client, "patch_config", {"patch": BAD_CAMERA, "health_timeout_s": 0.5},
        RolloutPolicy(canary_pct=10, wave_pct=30, device_timeout_s=20),
        revert_config_rollback, log.append,
    ).run(sorted(fleet.devices))
    assert report.aborted and report.waves == 1 and "failure ratio" in report.reason
    assert sorted(report.failed) == ["sim-0000", "sim-0001"]
    assert all(r.startswith("rolled_back:") and "cameras[entrance].url" in r
               for r in report.failed.values())
    assert len(report.not_attempted) == 18 and report.done == []
    after = {d: dev.current_config() for d, dev in fleet.devices.items()}
    assert after == before  # the canaries restored themselves; the rest never received it
    assert sum(dev.applied for dev in fleet.devices.values()) == 4  # canaries: apply + restore


def test_timeout_in_a_later_wave_aborts_and_rolls_back_where_applied(
    fleet: SimulatedFleet, client: FleetClient
) -> None:
    fleet.disconnect("sim-0005")  # in the first wave after the canary; will not answer
    report = Rollout(
        client, "patch_config", {"patch": GOOD_PATCH, "health_timeout_s": 5.0},
        RolloutPolicy(canary_pct=5, wave_pct=25, device_timeout_s=3.0),
        revert_config_rollback,
    ).run(sorted(fleet.devices))
    assert report.aborted and report.timed_out == ["sim-0005"] and "timed out" in report.reason
    assert report.waves == 2
    applied = list(report.done)
    assert len(applied) == 5  # the canary sim-0000, and sim-0001..0004 of wave 1
    assert sorted(report.rolled_back) == sorted(applied) and report.rollback_failed == {}
    levels = {d: dev.current_config()["logging"]["level"] for d, dev in fleet.devices.items()}
    assert set(levels.values()) == {"INFO"}  # back everywhere it had been applied


def test_healthy_rollout_reaches_every_device_in_waves(
    fleet: SimulatedFleet, client: FleetClient
) -> None:
    log: List[str] = []
    report = Rollout(
        client, "patch_config", {"patch": GOOD_PATCH, "health_timeout_s": 5.0},
        RolloutPolicy(canary_pct=5, wave_pct=50, device_timeout_s=20, rate_per_min=6000),
        revert_config_rollback, log.append,
    ).run(sorted(fleet.devices))
    assert not report.aborted and len(report.done) == 20 and report.waves == 3
    assert log[0] == "canary: 1 device(s)"
    assert _levels(fleet) == ["DEBUG"] * 20
