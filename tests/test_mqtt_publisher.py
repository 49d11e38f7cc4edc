"""MqttPublisher against a real mosquitto and a real subscribing client.

Each test owns a broker on a free port (fixture ``broker``); none touches the shared 1883.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber
from typing_extensions import Literal

from edge_agent.settings import MqttSettings
from edge_agent.transport.mqtt_client import MqttPublisher
from edge_agent.transport.publisher import OutgoingMessage

DEVICE = "jetson-1"
VERSION = "9.9.9"
ROOT = f"edge-agent/{DEVICE}"
STATUS = f"{ROOT}/status"
AVAILABLE = f"{ROOT}/available"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _settings(port: int, **overrides: object) -> MqttSettings:
    fields = {"host": "127.0.0.1", "port": port, "keepalive_s": 5}
    fields.update(overrides)
    return MqttSettings.model_validate(fields)


def _event(n: int, qos: Literal[0, 1] = 1) -> OutgoingMessage:
    payload = json.dumps({"n": n}).encode()
    return OutgoingMessage(f"{ROOT}/lobby/mask", payload, qos, False, "mask")


def _state_of(message: Received) -> str:
    return str(json.loads(message.payload)["state"])


@pytest.fixture
def publisher(broker: MosquittoBroker) -> Iterator[MqttPublisher]:
    """A connected publisher whose 'online' status has been acknowledged."""
    instance = MqttPublisher(_settings(broker.port), DEVICE, VERSION)
    instance.start()
    try:
        assert instance.wait_connected(5.0), instance.stats()
        assert instance.flush(5.0)
        yield instance
    finally:
        instance.stop(3.0)


def _wait_disconnected(publisher: MqttPublisher, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while publisher.stats().connected:
        assert time.monotonic() < deadline, "publisher did not notice the broker going away"
        time.sleep(0.05)


def test_status_online_is_retained_for_late_subscribers(
    broker: MosquittoBroker, publisher: MqttPublisher
) -> None:
    with Subscriber(broker.port, [STATUS, AVAILABLE]) as late:
        status = late.wait_for(lambda m: m.topic == STATUS, 5.0)
        available = late.wait_for(lambda m: m.topic == AVAILABLE, 5.0)
    assert status.retain and available.retain
    document = json.loads(status.payload)
    assert document["state"] == "online" and document["session"] == 1
    assert document["device_id"] == DEVICE and document["version"] == VERSION
    assert available.payload == b"online"
    stats = publisher.stats()
    assert stats.connected and stats.acknowledged == 2 and stats.pending == 0
    assert stats.last_error == ""


def test_events_arrive_at_qos1_and_flush_reports_the_acks(
    broker: MosquittoBroker, publisher: MqttPublisher
) -> None:
    with Subscriber(broker.port, [f"{ROOT}/+/mask"]) as subscriber:
        for n in range(50):
            publisher.publish(_event(n))
        assert publisher.flush(5.0)
        received = subscriber.wait_count(lambda m: True, 50, 5.0)
    assert [json.loads(m.payload)["n"] for m in received] == list(range(50))
    assert all(m.qos == 1 and not m.retain for m in received)
    stats = publisher.stats()
    assert (stats.published, stats.acknowledged, stats.pending, stats.failed) == (52, 52, 0, 0)


def test_flush_waits_for_a_hung_broker(broker: MosquittoBroker, publisher: MqttPublisher) -> None:
    broker.freeze()
    try:
        publisher.publish(_event(1))
        assert not publisher.flush(0.5)
        assert publisher.stats().pending == 1
    finally:
        broker.thaw()
    assert publisher.flush(5.0)
    assert publisher.stats().acknowledged == 3


def test_clean_stop_leaves_stopped_retained_and_no_will(broker: MosquittoBroker) -> None:
    publisher = MqttPublisher(_settings(broker.port), DEVICE, VERSION)
    with Subscriber(broker.port, [STATUS, AVAILABLE]) as watcher:
        publisher.start()
        assert publisher.wait_connected(5.0)
        publisher.publish(_event(1))
        started = time.monotonic()
        publisher.stop(3.0)
        assert time.monotonic() - started < 3.5
        watcher.wait_for(lambda m: m.topic == AVAILABLE and m.payload == b"stopped", 5.0)
        time.sleep(0.5)  # a will would arrive right after the connection closes
        states = [_state_of(m) for m in watcher.messages() if m.topic == STATUS]
    assert states == ["online", "stopped"]
    with Subscriber(broker.port, [STATUS, AVAILABLE]) as late:
        status = late.wait_for(lambda m: m.topic == STATUS, 5.0)
        available = late.wait_for(lambda m: m.topic == AVAILABLE, 5.0)
    assert status.retain and _state_of(status) == "stopped"
    assert available.retain and available.payload == b"stopped"
    assert publisher.stats().pending == 0 and not publisher.stats().connected


_KILLED_AGENT = """
import sys, time
from edge_agent.settings import MqttSettings
from edge_agent.transport.mqtt_client import MqttPublisher
publisher = MqttPublisher(MqttSettings(port=int(sys.argv[1]), keepalive_s=5), "jetson-1", "9.9.9")
publisher.start()
assert publisher.wait_connected(5.0) and publisher.flush(5.0)
print("ready", flush=True)
time.sleep(60)
"""


def test_killed_agent_leaves_offline_will_for_its_session(broker: MosquittoBroker) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    with Subscriber(broker.port, [STATUS]) as watcher:
        child = subprocess.Popen(
            [sys.executable, "-c", _KILLED_AGENT, str(broker.port)],
            stdout=subprocess.PIPE,
            env=env,
            cwd=REPO_ROOT,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
        will = watcher.wait_for(lambda m: _state_of(m) == "offline", 5.0)
    assert json.loads(will.payload) == {
        "state": "offline",
        "device_id": DEVICE,
        "ts": None,
        "version": VERSION,
        "session": 1,
    }
    with Subscriber(broker.port, [STATUS]) as late:
        retained = late.wait_for(lambda m: True, 5.0)
    assert retained.retain and _state_of(retained) == "offline"


def test_publishing_during_an_outage_does_not_raise_and_arrives_later(
    broker: MosquittoBroker, publisher: MqttPublisher
) -> None:
    durable = Subscriber(broker.port, [f"{ROOT}/+/mask"], client_id="durable-sub", durable=True)
    with durable:
        broker.stop()
        _wait_disconnected(publisher)
        for n in range(10):
            publisher.publish(_event(n))
        stats = publisher.stats()
        assert stats.pending == 10 and not stats.connected and stats.last_error
        broker.start()
        assert publisher.wait_connected(10.0)
        assert publisher.flush(10.0)
        received = durable.wait_count(lambda m: True, 10, 10.0)
    assert sorted(json.loads(m.payload)["n"] for m in received) == list(range(10))
    stats = publisher.stats()
    assert stats.acknowledged == 2 + 10 + 2  # online, 10 events, online again (session 2)
    assert stats.pending == 0 and stats.dropped == 0


def test_qos0_while_disconnected_is_counted_as_dropped(
    broker: MosquittoBroker, publisher: MqttPublisher
) -> None:
    broker.stop()
    _wait_disconnected(publisher)
    publisher.publish(_event(1, qos=0))
    stats = publisher.stats()
    assert stats.dropped == 1 and stats.pending == 0
    broker.start()


def test_publish_before_start_is_dropped_not_raised(broker: MosquittoBroker) -> None:
    publisher = MqttPublisher(_settings(broker.port), DEVICE, VERSION)
    publisher.publish(_event(1))
    stats = publisher.stats()
    assert stats.dropped == 1 and "not started" in stats.last_error
    assert publisher.flush(0.1)
    publisher.stop(1.0)  # nothing started: a no-op


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_refused_login_is_not_connected_and_says_why(
    tmp_path: Path, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    broker = MosquittoBroker(tmp_path, users={"agent": "right-password"})
    broker.start()
    try:
        settings = _settings(
            broker.port, username="agent", password="wrong-password", protocol=protocol
        )
        publisher = MqttPublisher(settings, DEVICE, VERSION)
        publisher.start()
        try:
            assert not publisher.wait_connected(2.0)
            stats = publisher.stats()
            assert not stats.connected
            assert "refused" in stats.last_error
            assert "password" in stats.last_error.lower() or "authori" in stats.last_error
        finally:
            publisher.stop(2.0)
        assert "wrong-password" not in caplog.text
    finally:
        broker.stop()


def test_right_login_connects(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path, users={"agent": "right-password"})
    broker.start()
    try:
        settings = _settings(broker.port, username="agent", password="right-password")
        publisher = MqttPublisher(settings, DEVICE, VERSION)
        publisher.start()
        try:
            assert publisher.wait_connected(5.0)
        finally:
            publisher.stop(2.0)
    finally:
        broker.stop()


@pytest.mark.parametrize(("protocol", "failed"), [("5", 1), ("3.1.1", 0)])
def test_acl_denial_is_a_failure_only_under_mqtt5(
    tmp_path: Path, protocol: str, failed: int
) -> None:
    """MQTT 5 carries 0x87 'Not authorized' in the PUBACK; MQTT 3.1.1 acks and discards."""
    broker = MosquittoBroker(tmp_path, acl_lines=["topic readwrite edge-agent/#"])
    broker.start()
    try:
        publisher = MqttPublisher(_settings(broker.port, protocol=protocol), DEVICE, VERSION)
        publisher.start()
        try:
            assert publisher.wait_connected(5.0)
            publisher.publish(OutgoingMessage("elsewhere/x", b"{}", 1, False, "event"))
            assert publisher.flush(5.0)
            stats = publisher.stats()
            assert stats.failed == failed and stats.pending == 0
            if failed:
                assert "Not authorized" in stats.last_error
        finally:
            publisher.stop(2.0)
    finally:
        broker.stop()


def test_messages_left_after_stop_are_reported(broker: MosquittoBroker) -> None:
    """stop() keeps to its time limit even when the broker never answers."""
    publisher = MqttPublisher(_settings(broker.port), DEVICE, VERSION)
    publisher.start()
    assert publisher.wait_connected(5.0) and publisher.flush(5.0)
    broker.freeze()
    try:
        publisher.publish(_event(1))
        started = time.monotonic()
        publisher.stop(1.0)
        elapsed = time.monotonic() - started
    finally:
        broker.thaw()
    assert elapsed < 2.5
    assert publisher.stats().pending == 3  # the event, then 'stopped' on status and available
