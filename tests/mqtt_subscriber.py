"""A real paho subscriber for tests: records every message it receives, with its retain flag.

Why record retain: 'a late subscriber sees the status' is only proven when the message came
from the broker's retained store (retain flag set), not from a live publish.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

_CONNECT_TIMEOUT_S = 5.0
_DURABLE_SESSION_S = 300


@dataclass(frozen=True)
class Received:
    """One message as the subscriber saw it."""

    topic: str
    payload: bytes
    retain: bool
    qos: int
    dup: bool = False
    """MQTT DUP flag: the broker re-sent this PUBLISH (e.g. in flight when it restarted)."""


class Subscriber:
    """Connects, subscribes to ``topics`` (QoS 1) and collects messages until stop()."""

    def __init__(
        self,
        port: int,
        topics: Sequence[str] = ("#",),
        client_id: str = "",
        durable: bool = False,
    ) -> None:
        """``durable`` keeps the session (subscriptions and queued QoS 1 messages) on the
        broker for 5 minutes, so messages published while this client is away still arrive."""
        self._port = port
        self._durable = durable
        self._topics = list(topics)
        self._client_id = client_id or f"test-sub-{time.monotonic_ns()}"
        self._lock = threading.Condition()
        self._messages: List[Received] = []
        self._subscribed = threading.Event()
        self._client: Optional[mqtt.Client] = None

    def start(self) -> Subscriber:
        """Connect and wait until the broker confirmed the subscriptions."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = _DURABLE_SESSION_S if self._durable else 0
        client.connect(
            "127.0.0.1",
            self._port,
            keepalive=10,
            clean_start=not self._durable,
            properties=properties,
        )
        client.loop_start()
        if not self._subscribed.wait(_CONNECT_TIMEOUT_S):
            self.stop()
            raise AssertionError(f"subscriber could not subscribe on port {self._port}")
        return self

    def stop(self) -> None:
        """Disconnect and end the network thread."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    def __enter__(self) -> Subscriber:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def messages(self) -> List[Received]:
        """Everything received so far, in arrival order."""
        with self._lock:
            return list(self._messages)

    def wait_for(self, predicate: Callable[[Received], bool], timeout_s: float) -> Received:
        """The first message (received before or during the wait) matching ``predicate``."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                for message in self._messages:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no matching message within {timeout_s} s; got "
                        f"{[(m.topic, m.payload[:80], m.retain) for m in self._messages]}"
                    )
                self._lock.wait(remaining)

    def wait_count(
        self, predicate: Callable[[Received], bool], count: int, timeout_s: float
    ) -> List[Received]:
        """Wait until ``count`` messages match ``predicate``; returns them in order."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                matched = [m for m in self._messages if predicate(m)]
                if len(matched) >= count:
                    return matched
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(matched)} of {count} messages within {timeout_s} s")
                self._lock.wait(remaining)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if not reason_code.is_failure:
            client.subscribe([(topic, 1) for topic in self._topics])

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any
    ) -> None:
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._messages.append(
                Received(
                    message.topic,
                    bytes(message.payload),
                    bool(message.retain),
                    message.qos,
                    bool(message.dup),
                )
            )
            self._lock.notify_all()
