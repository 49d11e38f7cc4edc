"""Small pieces of the durable publisher: counters, in-flight entries, replay marking, status.

Why here: they are plain values and pure functions, testable without a broker, and keeping
them out of durable_publisher.py leaves that file to the connection life cycle alone.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Deque, List, Optional

from typing_extensions import Literal

from edge_agent.events.payloads import StatusPayload, to_json_bytes
from edge_agent.events.publisher import Channel, OutgoingMessage
from edge_agent.events.topics import Topics

DURABLE_CHANNELS = ("event", "state")
"""Channels kept in the outbox; every other channel (mask, telemetry) is 'latest only'."""

_REPLAYED_FALSE = b'"replayed":false'
REPLIES_MAX = 256


@dataclass(frozen=True)
class Inflight:
    """A PUBLISH waiting for its PUBACK: an outbox row (row_id) or a live message."""

    topic: str
    channel: Channel
    row_id: Optional[int]
    live: bool = False
    """Taken from the live queue (counted in DeliveryState.live_inflight)."""


class DeliveryState:
    """What producers and the link thread share, under one condition variable.

    Counters are since start; ``live`` holds latest-only messages waiting for the link thread
    and ``live_inflight`` those handed to paho and not yet answered.
    """

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.published = 0
        self.acknowledged = 0
        self.failed = 0
        self.live_dropped = 0
        self.oversize = 0
        self.refused = 0
        """Durable messages refused before they reached the outbox (not started, writer stalled)."""
        self.connected = False
        self.session = 0
        self.last_error = ""
        self.live: Deque[OutgoingMessage] = deque()
        self.live_inflight = 0
        self.replies: Deque[OutgoingMessage] = deque(maxlen=REPLIES_MAX)
        """Messages subscription handlers returned, for the link thread to send first."""

    def note(self, error: str) -> None:
        """Remember the latest problem."""
        with self.lock:
            self.last_error = error
            self.lock.notify_all()


def mark_replayed(payload: bytes) -> bytes:
    """Set ``replayed`` to true in a JSON document that declares it; anything else unchanged.

    Only documents whose schema has the field (EventEnvelope, OccupancyPayload) carry
    ``"replayed":false``, so the cheap byte test skips the parse for all others.
    """
    if _REPLAYED_FALSE not in payload:
        return payload
    try:
        document = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(document, dict) or document.get("replayed") is not False:
        return payload
    document["replayed"] = True
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def status_messages(
    topics: Topics,
    device_id: str,
    version: str,
    state: Literal["online", "stopped"],
    session: int,
) -> List[OutgoingMessage]:
    """The retained JSON status for one state.

    The plain-text `available` twin is not here: it lives on its own connection so that it
    can carry a will of its own (transport/availability.py).
    """
    status = StatusPayload(
        state=state, device_id=device_id, ts=time.time(), version=version, session=session
    )
    return [OutgoingMessage(topics.status, to_json_bytes(status), 1, True, "state")]


def will_payload(device_id: str, version: str, session: int) -> bytes:
    """The 'offline' status the broker publishes if this connection dies."""
    will = StatusPayload(
        state="offline", device_id=device_id, ts=None, version=version, session=session
    )
    return to_json_bytes(will)


def describe_connack(reason: str) -> str:
    """A refused CONNACK as a message naming the settings to check (no secrets)."""
    lowered = reason.lower()
    if "user name" in lowered or "password" in lowered or "not authorized" in lowered:
        return (
            f"broker refused the login ({reason}); check mqtt.username and mqtt.password "
            "(or EDGE_AGENT_MQTT__PASSWORD), or the client certificate mqtt.tls_cert_file"
        )
    if "identifier" in lowered:
        return f"broker refused the client id ({reason}); check mqtt.client_id"
    return f"broker refused the connection ({reason})"
