"""Helpers shared by the durable-publisher tests: settings, numbered events, delivery checks."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from mqtt_subscriber import Received

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.settings import MqttSettings, OutboxSettings

DEVICE = "dev1"
ROOT = f"edge-agent/{DEVICE}"
EVENT_TOPIC = f"{ROOT}/cam1/event"


def mqtt_settings(port: int, **overrides: Any) -> MqttSettings:
    fields: Dict[str, Any] = {
        "port": port,
        "keepalive_s": 5,
        "reconnect_min_s": 0.2,
        "reconnect_max_s": 2.0,
        "connect_timeout_s": 2.0,
    }
    fields.update(overrides)
    return MqttSettings.model_validate(fields)


def outbox_settings(tmp_path: Path, **overrides: Any) -> OutboxSettings:
    return OutboxSettings.model_validate({"path": tmp_path / "outbox.sqlite", **overrides})


def event(seq: int, topic: str = EVENT_TOPIC) -> OutgoingMessage:
    """A small event document that declares ``replayed`` like EventEnvelope does."""
    payload = json.dumps({"seq": seq, "replayed": False}, separators=(",", ":")).encode()
    return OutgoingMessage(topic, payload, 1, False, "event")


def is_event(message: Received) -> bool:
    return message.topic == EVENT_TOPIC


def check_delivery(messages: List[Received], expected: int) -> Dict[str, int]:
    """0 lost, first copies in order, every repeat flagged replayed (or re-sent by the broker
    with DUP set); returns figures."""
    seen: Dict[int, int] = {}
    first_order: List[int] = []
    unflagged_duplicates = 0
    for message in messages:
        document = json.loads(message.payload)
        seq = int(document["seq"])
        if seq in seen:
            # A copy the broker itself re-sent (DUP: it was in flight to the subscriber when
            # the broker stopped) is MQTT's at-least-once, not a replay the agent could flag.
            if not document["replayed"] and not message.dup:
                unflagged_duplicates += 1
        else:
            first_order.append(seq)
        seen[seq] = seen.get(seq, 0) + 1
    missing = sorted(set(range(expected)) - set(seen))
    assert missing == [], f"{len(missing)} lost, e.g. {missing[:10]}"
    assert first_order == sorted(first_order), "order broken"
    assert unflagged_duplicates == 0
    return {
        "received": len(messages),
        "duplicates": len(messages) - len(seen),
        "replayed": sum(1 for m in messages if json.loads(m.payload)["replayed"]),
    }


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll until true; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - start
