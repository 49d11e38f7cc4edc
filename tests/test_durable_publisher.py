"""DurablePublisher against a real mosquitto: delivery, status sessions, refusals, bad input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from durable_helpers import (
    DEVICE,
    ROOT,
    check_delivery,
    event,
    is_event,
    mqtt_settings,
    outbox_settings,
    wait_until,
)
from mosquitto_broker import MosquittoBroker, free_port
from mqtt_subscriber import Subscriber

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.transport.durable_publisher import DurablePublisher


def test_events_are_delivered_in_order_and_the_outbox_empties(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    with Subscriber(broker.port, [f"{ROOT}/#"]) as sub:
        publisher = DurablePublisher(
            mqtt_settings(broker.port), outbox_settings(tmp_path), DEVICE, "1.0"
        )
        publisher.start()
        try:
            assert publisher.wait_connected(5.0)
            for seq in range(300):
                publisher.publish(event(seq))
            assert publisher.flush(10.0), publisher.stats()
            figures = check_delivery(sub.wait_count(is_event, 300, 10.0), 300)
            assert figures["duplicates"] == 0 and figures["replayed"] == 0
            assert publisher.outbox_counters().depth == 0
        finally:
            publisher.stop(3.0)
        status = [json.loads(m.payload) for m in sub.messages() if m.topic == f"{ROOT}/status"]
    assert [(s["state"], s["session"]) for s in status] == [("online", 1), ("stopped", 1)]


def test_unreachable_broker_at_start_queues_then_replays(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path)
    # A durable subscription registered before the outage, so nothing the publisher replays
    # the moment the broker is back can slip past a subscriber that is still connecting.
    broker.start()
    with Subscriber(broker.port, [f"{ROOT}/#"], client_id="replay-watch", durable=True):
        pass
    broker.stop()
    publisher = DurablePublisher(
        mqtt_settings(broker.port), outbox_settings(tmp_path), DEVICE, "1.0"
    )
    publisher.start()
    try:
        assert not publisher.wait_connected(0.5)
        for seq in range(20):
            publisher.publish(event(seq))
        wait_until(lambda: "unreachable" in publisher.stats().last_error, 5.0, "error")
        assert publisher.stats().pending == 20
        broker.start()
        with Subscriber(broker.port, [f"{ROOT}/#"], client_id="replay-watch", durable=True) as sub:
            assert publisher.flush(15.0), publisher.stats()
            figures = check_delivery(sub.wait_count(is_event, 20, 5.0), 20)
        assert figures["replayed"] == 20  # queued while offline: sent from the backlog
    finally:
        publisher.stop(3.0)
        broker.stop()


def test_acl_denied_publish_is_counted_and_kept(tmp_path: Path) -> None:
    broker = MosquittoBroker(
        tmp_path,
        users={DEVICE: "secret-pw"},
        acl_lines=[f"user {DEVICE}", f"topic write {ROOT}/#"],
    )
    broker.start()
    publisher = DurablePublisher(
        mqtt_settings(broker.port, username=DEVICE, password="secret-pw"),
        outbox_settings(tmp_path),
        DEVICE,
        "1.0",
    )
    publisher.start()
    try:
        assert publisher.wait_connected(5.0)
        publisher.publish(event(1, topic="someone-else/dev2/cam/event"))
        publisher.publish(event(2))
        wait_until(lambda: publisher.stats().failed == 1, 5.0, "the refusal")
        assert publisher.flush(5.0)
        # flush() returns once everything is acknowledged; the deletion follows in the next
        # group commit
        wait_until(lambda: publisher.outbox_counters().rows == 1, 5.0, "the deletion")
        counters = publisher.outbox_counters()
        assert counters.rejected == 1 and counters.rows == 1 and counters.depth == 0
        assert "Not authorized" in publisher.stats().last_error
    finally:
        publisher.stop(3.0)
        broker.stop()


def test_wrong_password_names_the_setting_and_never_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = MosquittoBroker(tmp_path, users={DEVICE: "right-pw"})
    broker.start()
    caplog.set_level(logging.DEBUG)
    publisher = DurablePublisher(
        mqtt_settings(broker.port, username=DEVICE, password="wrong-pw-123"),
        outbox_settings(tmp_path),
        DEVICE,
        "1.0",
    )
    publisher.start()
    try:
        wait_until(lambda: "mqtt.password" in publisher.stats().last_error, 5.0, "refusal")
    finally:
        publisher.stop(3.0)
        broker.stop()
    assert "mqtt.username and mqtt.password" in caplog.text
    assert "wrong-pw-123" not in caplog.text


def test_oversize_payload_is_refused_with_a_log_line(
    broker: MosquittoBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = DurablePublisher(
        mqtt_settings(broker.port, max_payload_bytes=1024), outbox_settings(tmp_path), DEVICE, "1"
    )
    publisher.start()
    try:
        assert publisher.wait_connected(5.0)
        big = OutgoingMessage(f"{ROOT}/cam1/event", b"x" * 2000, 1, False, "event")
        publisher.publish(big)
        mask = OutgoingMessage(f"{ROOT}/cam1/mask", b"x" * 2000, 1, False, "mask")
        publisher.publish(mask)  # masks are exempt from the cap
        assert publisher.flush(5.0)
        stats = publisher.stats()
        assert publisher.oversize == 1 and stats.dropped == 1
    finally:
        publisher.stop(3.0)
    assert "mqtt.max_payload_bytes = 1024" in caplog.text


def test_masks_are_latest_only_and_never_stored(tmp_path: Path) -> None:
    publisher = DurablePublisher(
        mqtt_settings(free_port()), outbox_settings(tmp_path), DEVICE, "1.0"
    )
    publisher.start()
    try:
        publisher.publish(OutgoingMessage(f"{ROOT}/cam1/mask", b"{}", 1, False, "mask"))
        assert publisher.stats().dropped == 1
        assert publisher.outbox_counters().rows == 0
    finally:
        publisher.stop(1.0)


def test_ha_status_online_triggers_session_messages_again(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    publisher = DurablePublisher(
        mqtt_settings(broker.port), outbox_settings(tmp_path), DEVICE, "1.0"
    )
    config = OutgoingMessage("homeassistant/sensor/dev1/x/config", b"{}", 1, True, "state")
    publisher.add_session_messages(lambda: [config])
    publisher.add_subscription(
        "homeassistant/status", lambda payload: [config] if payload == b"online" else []
    )
    with Subscriber(broker.port, ["homeassistant/sensor/#"]) as sub:
        publisher.start()
        try:
            sub.wait_count(lambda m: m.topic == config.topic, 1, 5.0)
            with Subscriber(broker.port, ["nothing"]) as ha:
                assert ha is not None
            import paho.mqtt.publish as single

            single.single("homeassistant/status", "online", port=broker.port)
            sub.wait_count(lambda m: m.topic == config.topic, 2, 5.0)
        finally:
            publisher.stop(3.0)
