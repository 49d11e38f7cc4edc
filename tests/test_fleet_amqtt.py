"""The protocol against a second, independent broker: amqtt (pure Python, MQTT 3.1.1 only),
installed with the test extra. Devices and edge-fleet therefore run the 3.1.1 fallback here:
correlation by request_id in the payload, replies on each device's documented cmd/res topic,
durable sessions by clean_session=False."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

if sys.version_info < (3, 10):  # amqtt itself requires 3.10; setup.cfg installs it from there
    pytest.skip("amqtt (the second broker) needs Python >= 3.10", allow_module_level=True)

from edge_agent.demo.local_broker import free_port
from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.paho_link import LinkOptions
from edge_agent.fleet.simulator import SimulatedFleet, SimulationOptions

_CONFIG = """\
listeners:
  default:
    type: tcp
    bind: 127.0.0.1:{port}
plugins:
  amqtt.plugins.authentication.FileAuthPlugin:
    password_file: {passwords}
"""
# amqtt queues QoS 1 messages for an offline persistent session only when the client logged
# in (anonymous sessions get nothing queued), so every client here has a user.
USER, PASSWORD = "fleet", "fleet-test-password"


class AmqttBroker:
    """``amqtt -c FILE`` as a child process on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self._workdir = workdir
        self._process: "subprocess.Popen[bytes] | None" = None

    def start(self, timeout_s: float = 20.0) -> None:
        self._workdir.mkdir(parents=True, exist_ok=True)
        config = self._workdir / "amqtt.yaml"
        from pwdlib.hashers.argon2 import Argon2Hasher

        passwords = self._workdir / "passwords"
        passwords.write_text(f"{USER}:{Argon2Hasher().hash(PASSWORD)}\n")
        config.write_text(_CONFIG.format(port=self.port, passwords=passwords))
        with (self._workdir / "amqtt.log").open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(config)],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self._process.poll() is None, (self._workdir / "amqtt.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("amqtt did not listen")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


@pytest.fixture
def amqtt_broker(tmp_path: Path) -> Iterator[AmqttBroker]:
    broker = AmqttBroker(tmp_path / "amqtt")
    broker.start()
    yield broker
    broker.stop()


def test_protocol_on_amqtt_with_the_311_fallback(amqtt_broker: AmqttBroker,
                                                 tmp_path: Path) -> None:
    link = LinkOptions(port=amqtt_broker.port, mqtt5=False, username=USER, password=PASSWORD)
    fleet = SimulatedFleet(link, SimulationOptions(devices=3, per_connection=1, sites=1),
                           tmp_path / "sim")
    fleet.start()
    tool = FleetClient(LinkOptions(port=amqtt_broker.port, client_id="tool", mqtt5=False,
                                   session_expiry_s=300, username=USER,
                                   password=PASSWORD)).start()
    try:
        assert tool.wait_devices(expected=3, timeout_s=20) == 3  # retained cards
        tracker = tool.send("set_power_mode", {"mode": "25W"}, devices=["sim-0000"])
        assert tool.wait(tracker, 15) == []
        reply = tracker.final("sim-0000")
        assert reply is not None and reply.state == "done"
        assert reply.request_id == tracker.command_id  # the 3.1.1 correlation
        bad = tool.send("set_power_mode", {"mode": "ludicrous"}, devices=["sim-0000"])
        assert tool.wait(bad, 15) == []
        assert "args.mode" in bad.final("sim-0000").reason  # type: ignore[union-attr]
        everyone = tool.send("ping", {}, everyone=True)
        assert tool.wait(everyone, 15) == []

        fleet.disconnect("sim-0002")  # offline: amqtt queues for the persistent session
        queued = tool.send("set_power_mode", {"mode": "10W"}, devices=["sim-0002"])
        fleet.reconnect("sim-0002")
        assert tool.wait(queued, 20) == []
        assert queued.final("sim-0002").state == "done"  # type: ignore[union-attr]
        assert fleet.devices["sim-0002"].card().power_mode == "10W"
    finally:
        tool.stop()
        fleet.stop()
