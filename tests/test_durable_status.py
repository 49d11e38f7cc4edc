"""DurablePublisher's status contract and flush/stop semantics against a real mosquitto.

Ported from the tests of the earlier RAM-only MqttPublisher (removed): retained 'online' and
'stopped' with their plain-text twin, the 'offline' will after SIGKILL, refused logins,
flush() against a hung broker, publish before start(), and stop() keeping its time limit.
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

import pytest
from durable_helpers import DEVICE, ROOT, event, mqtt_settings, outbox_settings
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.transport.durable_publisher import DurablePublisher
from edge_agent.transport.outbox import Outbox

VERSION = "9.9.9"
STATUS = f"{ROOT}/status"
AVAILABLE = f"{ROOT}/available"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _state_of(message: Received) -> str:
    return str(json.loads(message.payload)["state"])


def _publisher(port: int, tmp_path: Path, **mqtt: object) -> DurablePublisher:
    return DurablePublisher(mqtt_settings(port, **mqtt), outbox_settings(tmp_path), DEVICE, VERSION)


def test_clean_stop_leaves_stopped_retained_and_no_will(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    publisher = _publisher(broker.port, tmp_path)
    with Subscriber(broker.port, [STATUS, AVAILABLE]) as watcher:
        publisher.start()
        assert publisher.wait_connected(5.0)
        publisher.publish(event(1))
        started = time.monotonic()
        publisher.stop(3.0)
        assert time.monotonic() - started < 3.5
        watcher.wait_for(lambda m: m.topic == AVAILABLE and m.payload == b"stopped", 5.0)
        time.sleep(0.5)  # a will would arrive right after the connection closes
        states = [_state_of(m) for m in watcher.messages() if m.topic == STATUS]
        twins = [m.payload for m in watcher.messages() if m.topic == AVAILABLE]
    assert states == ["online", "stopped"] and twins == [b"online", b"stopped"]
    with Subscriber(broker.port, [STATUS, AVAILABLE]) as late:
        status = late.wait_for(lambda m: m.topic == STATUS, 5.0)
        available = late.wait_for(lambda m: m.topic == AVAILABLE, 5.0)
    assert status.retain and _state_of(status) == "stopped"
    assert available.retain and available.payload == b"stopped"
    assert not publisher.stats().connected


_KILLED_AGENT = """
import sys, time
from pathlib import Path
from edge_agent.settings import MqttSettings, OutboxSettings
from edge_agent.transport.durable_publisher import DurablePublisher
publisher = DurablePublisher(
    MqttSettings(port=int(sys.argv[1]), keepalive_s=5),
    OutboxSettings(path=Path(sys.argv[2])),
    "dev1",
    "9.9.9",
)
publisher.start()
assert publisher.wait_connected(5.0) and publisher.flush(5.0)
print("ready", flush=True)
time.sleep(60)
"""


def test_killed_agent_leaves_offline_will_for_its_session(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    with Subscriber(broker.port, [STATUS, AVAILABLE]) as watcher:
        child = subprocess.Popen(
            [sys.executable, "-c", _KILLED_AGENT, str(broker.port), str(tmp_path / "o.sqlite")],
            stdout=subprocess.PIPE,
            env=env,
            cwd=REPO_ROOT,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"
            # The plain-text twin is on its own connection; kill only once it holds its will.
            watcher.wait_for(lambda m: m.topic == AVAILABLE and m.payload == b"online", 5.0)
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
        will = watcher.wait_for(lambda m: m.topic == STATUS and _state_of(m) == "offline", 15.0)
        watcher.wait_for(lambda m: m.topic == AVAILABLE and m.payload == b"offline", 15.0)
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


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_refused_login_is_not_connected_and_says_why(
    tmp_path: Path, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    broker = MosquittoBroker(tmp_path, users={DEVICE: "right-password"})
    broker.start()
    try:
        publisher = _publisher(
            broker.port, tmp_path, username=DEVICE, password="wrong-password", protocol=protocol
        )
        publisher.start()
        try:
            assert not publisher.wait_connected(2.0)
            stats = publisher.stats()
            assert not stats.connected
            assert "refused" in stats.last_error and "mqtt.password" in stats.last_error
        finally:
            publisher.stop(2.0)
        assert "wrong-password" not in caplog.text
    finally:
        broker.stop()


def test_flush_waits_for_a_hung_broker(broker: MosquittoBroker, tmp_path: Path) -> None:
    publisher = _publisher(broker.port, tmp_path)
    publisher.start()
    try:
        assert publisher.wait_connected(5.0) and publisher.flush(5.0)
        broker.freeze()
        try:
            publisher.publish(event(1))
            assert not publisher.flush(0.5)  # committed, but no PUBACK
            assert publisher.stats().pending == 1
        finally:
            broker.thaw()
        assert publisher.flush(5.0)
        assert publisher.stats().acknowledged == 2  # 'online' status and the event
    finally:
        publisher.stop(3.0)


def test_publish_before_start_is_dropped_not_raised(tmp_path: Path) -> None:
    publisher = _publisher(1, tmp_path)
    publisher.publish(event(1))
    publisher.publish(OutgoingMessage(f"{ROOT}/cam1/mask", b"{}", 1, False, "mask"))
    stats = publisher.stats()
    assert stats.dropped == 2 and "before start()" in stats.last_error
    assert stats.published == stats.dropped
    assert publisher.flush(0.1)
    publisher.stop(1.0)  # nothing started: a no-op


def test_stop_keeps_its_time_limit_and_the_message_stays_queued(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    publisher = _publisher(broker.port, tmp_path)
    publisher.start()
    assert publisher.wait_connected(5.0) and publisher.flush(5.0)
    broker.freeze()
    try:
        publisher.publish(event(1))
        started = time.monotonic()
        publisher.stop(1.0)
        elapsed = time.monotonic() - started
    finally:
        broker.thaw()
    assert elapsed < 2.5
    outbox = Outbox(outbox_settings(tmp_path))
    outbox.open()
    try:
        assert outbox.depth() == 1  # sent after the next start
    finally:
        outbox.close()
