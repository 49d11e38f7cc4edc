"""Threads of the transport that die are seen, handlers that raise are contained, and the
status consumers read tells the truth: session numbers continue, `available` follows `status`.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import List, Tuple

import paho.mqtt.client as mqtt
import pytest
from durable_helpers import (
    DEVICE,
    ROOT,
    event,
    is_event,
    mqtt_settings,
    outbox_settings,
    wait_until,
)
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.transport.durable_publisher import DurablePublisher
from edge_agent.transport.outbox import Outbox
from edge_agent.transport.outbox_writer import OutboxWriter
from edge_agent.transport.watched_thread import WatchedThread

STATUS = f"{ROOT}/status"
AVAILABLE = f"{ROOT}/available"
CMD = f"{ROOT}/cmd/ping"
REPLY = f"{ROOT}/reply"


class Fatal(BaseException):
    """Beyond what any guard catches: what a thread dies of in these tests."""


def _publisher(port: int, tmp_path: Path) -> DurablePublisher:
    return DurablePublisher(mqtt_settings(port), outbox_settings(tmp_path), DEVICE, "1.0")


def _send(port: int, topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(5.0)
    finally:
        client.disconnect()
        client.loop_stop()


def test_watched_thread_reports_a_death_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    deaths: List[str] = []
    thread = WatchedThread("worker-x", explode, deaths.append)
    thread.start()
    assert thread.join(5.0)
    report = thread.report()
    assert not report.alive and report.deaths == 1
    assert "RuntimeError: boom" in report.last_error
    assert "test_transport_health.py" in report.last_error
    assert deaths == [report.last_error]
    assert "thread worker-x died" in caplog.text and "Traceback" in caplog.text
    quiet = WatchedThread("worker-y", lambda: None)
    quiet.start()
    assert quiet.join(5.0) and quiet.report().deaths == 1  # returned while meant to run
    done = threading.Event()
    stopped = WatchedThread("worker-z", done.wait)
    stopped.start()
    stopped.stopping()
    done.set()
    assert stopped.join(5.0) and stopped.report().deaths == 0


def test_a_dead_writer_refuses_and_releases_waiters(tmp_path: Path) -> None:
    outbox = Outbox(outbox_settings(tmp_path))
    outbox.open()

    def on_commit() -> None:
        raise Fatal("writer killed")

    writer = OutboxWriter(outbox, on_commit, lambda count, reason: None)
    writer.start()
    try:
        ticket = writer.stage(event(1))
        assert ticket is not None
        started = time.monotonic()
        assert writer.sync(5.0) in (True, False)
        wait_until(lambda: writer.report().deaths == 1, 5.0, "the writer's death")
        assert not writer.wait_committed(ticket + 1, 5.0)
        assert time.monotonic() - started < 4.0, "a waiter hung on a dead writer"
        assert writer.stage(event(2)) is None, "a dead writer must refuse, not queue forever"
        assert writer.uncommitted() == 0, "nothing may look pending forever"
        assert "writer killed" in writer.report().last_error
    finally:
        writer.stop(1.0)
        outbox.close()


@pytest.mark.timeout(60)
def test_a_raising_subscription_handler_stops_neither_delivery_nor_the_link(
    broker: MosquittoBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def on_ping(payload: bytes) -> List[OutgoingMessage]:
        if payload == b"boom":
            raise ValueError("bad command")
        return [OutgoingMessage(REPLY, b"pong:" + payload, 1, False, "state")]

    publisher = _publisher(broker.port, tmp_path)
    publisher.add_subscription(f"{ROOT}/cmd/#", on_ping)
    with Subscriber(broker.port, [f"{ROOT}/#"]) as sub:
        publisher.start()
        try:
            assert publisher.wait_connected(5.0)
            wait_until(lambda: publisher.health().ok, 5.0, "all threads up")
            time.sleep(0.3)  # let the SUBSCRIBE land
            _send(broker.port, CMD, b"boom")
            _send(broker.port, CMD, b"1")
            sub.wait_for(lambda m: m.topic == REPLY and m.payload == b"pong:1", 5.0)
            publisher.publish(event(7))
            assert publisher.flush(5.0), publisher.stats()
            sub.wait_for(is_event, 5.0)
            health = publisher.health()
            assert health.ok and health.handler_failures == 1, health
            assert publisher.stats().connected
        finally:
            publisher.stop(3.0)
    assert "ValueError: bad command" in caplog.text


@pytest.mark.timeout(60)
def test_a_dead_link_thread_is_reported_not_connected(
    broker: MosquittoBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def fatal_session_hook() -> List[OutgoingMessage]:
        raise Fatal("link killed")

    publisher = _publisher(broker.port, tmp_path)
    publisher.add_session_messages(fatal_session_hook)
    publisher.start()
    try:
        wait_until(lambda: not publisher.health().ok, 10.0, "the link thread's death")
        health = publisher.health()
        dead = [t for t in health.threads if t.name == "mqtt-link"]
        assert dead and dead[0].deaths == 1 and "link killed" in dead[0].last_error
        assert any("mqtt-link died" in line for line in health.problems())
        assert not publisher.alive()
        assert not publisher.stats().connected
        assert "link killed" in publisher.stats().last_error
    finally:
        publisher.stop(2.0)
    assert "thread mqtt-link died" in caplog.text and "Traceback" in caplog.text


@pytest.mark.timeout(60)
def test_session_number_continues_across_restarts(broker: MosquittoBroker, tmp_path: Path) -> None:
    sessions = []
    for _ in range(2):
        publisher = _publisher(broker.port, tmp_path)
        publisher.start()
        try:
            assert publisher.wait_connected(5.0)
            sessions.append(publisher.session)
        finally:
            publisher.stop(3.0)
        assert publisher.health().ok, publisher.health().problems()  # a stop is no death
    with Subscriber(broker.port, [STATUS]) as late:
        retained = late.wait_for(lambda m: m.topic == STATUS, 5.0)
    assert sessions == [1, 2] and json.loads(retained.payload)["session"] == 2


def _state(message: Received) -> Tuple[str, str]:
    if message.topic == STATUS:
        return "status", str(json.loads(message.payload)["state"])
    return "available", message.payload.decode()


@pytest.mark.timeout(60)
def test_available_follows_status_when_the_main_connection_drops(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    publisher = _publisher(broker.port, tmp_path)
    with Subscriber(broker.port, [STATUS, AVAILABLE]) as sub:
        publisher.start()
        try:
            assert publisher.wait_connected(5.0)
            sub.wait_for(lambda m: _state(m) == ("available", "online"), 5.0)
            seen = len(sub.messages())

            def since(wanted: Tuple[str, str]) -> bool:
                return wanted in [_state(m) for m in sub.messages()[seen:]]

            # Another client takes the main client id: the broker drops our main connection
            # (its will says 'offline' on status) while the twin's own connection stays up.
            thief = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=publisher.client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
            )
            thief.connect("127.0.0.1", broker.port)
            thief.loop_start()
            try:
                wait_until(lambda: since(("status", "offline")), 5.0, "status offline")
                offline_s = wait_until(lambda: since(("available", "offline")), 5.0, "twin")
                wait_until(lambda: since(("status", "online")), 15.0, "status online again")
                online_s = wait_until(lambda: since(("available", "online")), 5.0, "twin online")
            finally:
                thief.loop_stop()
                thief.disconnect()
        finally:
            publisher.stop(3.0)
    assert offline_s < 2.0 and online_s < 1.0, (offline_s, online_s)
