"""Two real mosquittos bridged with deploy/mosquitto/bridge.conf: simulated devices on the site
broker, edge-fleet on the central one; status, cards, commands and replies cross both ways.
And MQTT 5 shared subscriptions: two back-end consumers split one telemetry stream."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Iterator, List

import paho.mqtt.client as mqtt
import pytest
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Subscriber
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.paho_link import LinkOptions
from edge_agent.fleet.simulator import SimulatedFleet, SimulationOptions

BRIDGE_CONF = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto" / "bridge.conf"


class SiteBroker(MosquittoBroker):
    """A mosquitto whose config also includes the shipped bridge, pointed at ``central``."""

    def __init__(self, tmp_path: Path, central_port: int) -> None:
        super().__init__(tmp_path / "site")
        self._central_port = central_port

    def _write_config(self) -> Path:
        config = super()._write_config()
        bridge = BRIDGE_CONF.read_text()
        bridge = bridge.replace("central.example.net:8883", f"127.0.0.1:{self._central_port}")
        bridge = re.sub(r"^bridge_(cafile|certfile|keyfile|tls_version) .*$", "", bridge,
                        flags=re.M)  # plain TCP on loopback in the test
        bridge = bridge.replace("restart_timeout 5 60", "restart_timeout 1 2")
        config.write_text(config.read_text() + bridge)
        return config


@pytest.fixture
def central(tmp_path: Path) -> Iterator[MosquittoBroker]:
    broker = MosquittoBroker(tmp_path / "central")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def site(tmp_path: Path, central: MosquittoBroker) -> Iterator[MosquittoBroker]:
    broker = SiteBroker(tmp_path, central.port)
    broker.start()
    yield broker
    broker.stop()


def test_commands_and_events_cross_the_bridge_both_ways(
    site: MosquittoBroker, central: MosquittoBroker, tmp_path: Path
) -> None:
    fleet = SimulatedFleet(LinkOptions(port=site.port),
                           SimulationOptions(devices=4, per_connection=2, sites=2),
                           tmp_path / "sim")
    fleet.start()
    tool = FleetClient(LinkOptions(port=central.port, client_id="central-tool",
                                   session_expiry_s=0)).start()
    try:
        assert tool.wait_devices(expected=4, timeout_s=20) == 4  # up: retained status + cards
        tracker = tool.send("set_power_mode", {"mode": "10W"}, devices=["sim-0001"])
        assert tool.wait(tracker, 15) == []  # down: command; up: replies
        assert tracker.final("sim-0001").state == "done"  # type: ignore[union-attr]
        everyone = tool.send("ping", {}, everyone=True)  # fleet-wide topic crosses too
        assert tool.wait(everyone, 15) == []
        states = [r.state for r in everyone.replies["sim-0002"]]
        assert states == ["accepted", "done"]  # once: the bridge did not loop the command
        assert fleet.devices["sim-0001"].card().power_mode == "10W"
        assert sum(r.counters().get("duplicate", 0) for r in fleet.receivers()) == 0
    finally:
        tool.stop()
        fleet.stop()


def test_shared_subscription_splits_one_stream_between_two_consumers(
    central: MosquittoBroker,
) -> None:
    share = "$share/backend/edge-agent/+/telemetry"
    with Subscriber(central.port, [share]) as first, Subscriber(central.port, [share]) as second:
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="telemetry-source",
                                protocol=MQTTProtocolVersion.MQTTv5)
        publisher.connect("127.0.0.1", central.port)
        publisher.loop_start()
        try:
            infos = [publisher.publish(f"edge-agent/dev-{i % 10}/telemetry",
                                       json.dumps({"n": i}).encode(), qos=1) for i in range(200)]
            for info in infos:
                info.wait_for_publish(10)
            deadline = time.monotonic() + 10
            while len(first.messages()) + len(second.messages()) < 200:
                assert time.monotonic() < deadline, "the stream did not arrive"
                time.sleep(0.02)
        finally:
            publisher.disconnect()
            publisher.loop_stop()
        got: List[int] = [json.loads(m.payload)["n"] for m in first.messages() + second.messages()]
        assert sorted(got) == list(range(200))  # every message once, to one of the two
        assert first.messages() and second.messages()  # both took a share
