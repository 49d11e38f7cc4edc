"""The command protocol over a real mosquitto: MQTT 5 and the 3.1.1 fallback, commands sent
while a device is offline (run exactly once on its return, or refused as expired), and the
edge-fleet CLI end to end."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import pytest
from mosquitto_broker import MosquittoBroker

from edge_agent.fleet.cli import main as fleet_main
from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.paho_link import LinkOptions
from edge_agent.fleet.simulator import SimulatedFleet, SimulationOptions


def _wait_until(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.02)


@pytest.fixture
def fleet(broker: MosquittoBroker, tmp_path: Path) -> Iterator[SimulatedFleet]:
    simulated = SimulatedFleet(LinkOptions(port=broker.port),
                               SimulationOptions(devices=3, per_connection=1, sites=2),
                               tmp_path / "sim")
    simulated.start()
    yield simulated
    simulated.stop()


@pytest.fixture
def client(broker: MosquittoBroker) -> Iterator[FleetClient]:
    # durable: replies sent while the tool reconnects after a broker restart are kept for it
    tool = FleetClient(LinkOptions(port=broker.port, client_id="tool", session_expiry_s=300))
    tool.start()
    yield tool
    tool.stop()


def test_devices_are_discovered_from_retained_status_and_cards(
    fleet: SimulatedFleet, client: FleetClient
) -> None:
    assert client.wait_devices(expected=3, timeout_s=10) == 3
    views = client.devices()
    assert {v.status.state for v in views.values() if v.status} == {"online"}
    assert sorted(v.card.site for v in views.values() if v.card) == ["site-0", "site-0",
                                                                     "site-1"]


def test_site_command_reaches_only_that_site(fleet: SimulatedFleet, client: FleetClient) -> None:
    client.wait_devices(expected=3, timeout_s=10)
    tracker = client.send("set_power_mode", {"mode": "15W"}, site="site-0")
    assert client.wait(tracker, 10) == []
    assert sorted(tracker.replies) == ["sim-0000", "sim-0002"]
    modes = {d: dev.card().power_mode for d, dev in fleet.devices.items()}
    assert modes == {"sim-0000": "15W", "sim-0001": "MAXN", "sim-0002": "15W"}


def test_offline_command_runs_exactly_once_on_return_and_a_stale_one_is_refused(
    fleet: SimulatedFleet, client: FleetClient, broker: MosquittoBroker
) -> None:
    client.wait_devices(expected=3, timeout_s=10)
    fleet.disconnect("sim-0001")
    _wait_until(lambda: (client.devices()["sim-0001"].status or object()).__dict__.get("state")
                == "offline", 10, "the will marks sim-0001 offline")
    wanted = client.send("set_power_mode", {"mode": "10W"}, devices=["sim-0001"],
                         expires_in_s=300)
    stale = client.send("set_power_mode", {"mode": "25W"}, devices=["sim-0001"],
                        expires_in_s=0.3)
    time_sent = time.time()
    _wait_until(lambda: time.time() > time_sent + 0.4, 2, "the stale command expires")
    broker.restart()  # the queued commands survive a broker restart too (persistence)
    fleet.reconnect("sim-0001")
    assert client.wait(wanted, 15) == [] and client.wait(stale, 15) == []
    assert wanted.final("sim-0001").state == "done"  # type: ignore[union-attr]
    assert stale.final("sim-0001").code == "expired"  # type: ignore[union-attr]
    device = fleet.devices["sim-0001"]
    assert device.card().power_mode == "10W"
    done = sum(r.counters().get("done", 0) for r in fleet.receivers())
    assert done == 1  # exactly once, although the broker restarted in between


def test_mqtt_311_fallback_correlates_by_request_id(broker: MosquittoBroker,
                                                    tmp_path: Path) -> None:
    simulated = SimulatedFleet(LinkOptions(port=broker.port, mqtt5=False),
                               SimulationOptions(devices=2, per_connection=2), tmp_path)
    simulated.start()
    tool = FleetClient(LinkOptions(port=broker.port, client_id="tool311", mqtt5=False,
                                   session_expiry_s=0)).start()
    try:
        tool.wait_devices(expected=2, timeout_s=10)
        tracker = tool.send("ping", {}, everyone=True)
        assert tool.wait(tracker, 10) == []
        for device_id in ("sim-0000", "sim-0001"):
            reply = tracker.final(device_id)
            assert reply is not None and reply.request_id == tracker.command_id
    finally:
        tool.stop()
        simulated.stop()


def test_edge_fleet_cli_inventory_send_and_export(
    fleet: SimulatedFleet, broker: MosquittoBroker, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    common = ["--broker", f"127.0.0.1:{broker.port}", "--discover-s", "0.5"]
    assert fleet_main([*common, "ls", "--sort", "device"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("DEVICE") and table[-1].endswith("3 device(s)")
    assert all(len(line) <= 90 for line in table)
    assert fleet_main([*common, "send", "set_log_level", "--args", '{"level": "DEBUG"}',
                       "--device", "sim-0002"]) == 0
    assert "1 done, 0 failed" in capsys.readouterr().out
    assert fleet_main([*common, "send", "set_log_level", "--args", '{"level": 1}',
                       "--device", "sim-0002"]) == 1
    assert "args.level" in capsys.readouterr().out
    out = tmp_path / "inventory.json"
    assert fleet_main([*common, "export", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert [d["device"] for d in exported["devices"]] == ["sim-0000", "sim-0001", "sim-0002"]
    assert exported["devices"][0]["module"] == "orin_nx_16gb"


def test_edge_fleet_cli_bad_arguments_name_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert fleet_main(["--broker", "nowhere", "ls"]) == 78
    assert "--broker 'nowhere'" in capsys.readouterr().err
    assert fleet_main(["--broker", "127.0.0.1:1", "send", "ping", "--args", "[]",
                       "--device", "x"]) == 78
    assert "--args: must be a JSON object" in capsys.readouterr().err
