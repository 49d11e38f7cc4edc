"""A paho-mqtt connection implementing `CommandChannel`, for the simulator and `edge-fleet`.

Durable by default: a persistent session (MQTT 5 session expiry, or clean_session=False on
3.1.1) so commands published while a device is offline are queued by the broker and delivered
when it returns. Subscriptions are re-sent on every connect in case the broker lost the
session (persistence off, session expired).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_agent.errors import ServiceUnavailableError
from edge_agent.fleet.channel import MessageCallback, MessageProperties

_SUBSCRIBE_BATCH = 100


@dataclass(frozen=True)
class LinkOptions:
    """Connection settings of one link."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    mqtt5: bool = True
    session_expiry_s: int = 3600
    """0 = clean session (a tool); > 0 keeps subscriptions and queued QoS 1 messages."""
    keepalive_s: int = 30
    username: str = ""
    password: str = ""
    will: Optional[Tuple[str, bytes]] = None
    """(topic, payload) published retained by the broker if the link dies."""


class PahoLink:
    """One MQTT connection; thread-safe publish, per-filter callbacks."""

    def __init__(self, options: LinkOptions) -> None:
        self.options = options
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if options.mqtt5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if options.mqtt5 else options.session_expiry_s == 0,
        )
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(100)
        if options.username:
            self._client.username_pw_set(options.username, options.password or None)
        if options.will is not None:
            self._client.will_set(options.will[0], options.will[1], qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_unrouted
        self._filters: List[str] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._suback = threading.Condition()
        self._pending_subacks = 0
        self.connects = 0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> PahoLink:
        """Connect and wait until connected and subscribed."""
        properties: Optional[Properties] = None
        if self.options.mqtt5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = self.options.session_expiry_s
        try:
            self._client.connect(
                self.options.host,
                self.options.port,
                keepalive=self.options.keepalive_s,
                clean_start=(self.options.session_expiry_s == 0 if self.options.mqtt5
                             else mqtt.MQTT_CLEAN_START_FIRST_ONLY),  # 3.1.1: set in Client()
                properties=properties,
            )
        except OSError as err:
            raise ServiceUnavailableError(
                f"cannot reach the broker {self.options.host}:{self.options.port}: {err}",
                "check --broker HOST:PORT and that the broker runs",
            ) from None
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise ServiceUnavailableError(
                f"the broker {self.options.host}:{self.options.port} did not accept the "
                f"connection within {timeout_s:g} s",
                "check credentials/ACL and the broker log",
            )
        self.wait_subscribed(timeout_s)
        return self

    def stop(self, clean: bool = True) -> None:
        """Disconnect (``clean``: no will) and end the network thread."""
        if clean:
            self._client.disconnect()
            self._client.loop_stop()
            return
        self._client.loop_stop()  # first, or paho would reconnect at once
        sock = self._client.socket()
        if sock is not None:
            sock.close()  # an abrupt loss: the broker publishes the will

    def wait_subscribed(self, timeout_s: float) -> None:
        """Until every subscription sent so far was acknowledged."""
        deadline = time.monotonic() + timeout_s
        with self._suback:
            while self._pending_subacks > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ServiceUnavailableError(
                        "the broker did not acknowledge the subscriptions", "check the ACL"
                    )
                self._suback.wait(remaining)

    # -- CommandChannel ---------------------------------------------------------------------

    def subscribe(self, topic: str, callback: MessageCallback) -> None:
        """Route messages matching ``topic`` to ``callback`` (see CommandChannel)."""
        self.subscribe_many([(topic, callback)])

    def subscribe_many(self, routes: List[Tuple[str, MessageCallback]]) -> None:
        """Several subscriptions in few SUBSCRIBE packets (a simulator has thousands)."""
        for topic, callback in routes:
            self._client.message_callback_add(topic, self._adapter(callback))
        with self._lock:
            self._filters.extend(topic for topic, _ in routes)
        if self._connected.is_set():
            self._send_subscribe([topic for topic, _ in routes])

    def publish_reply(self, topic: str, payload: bytes, correlation_data: bytes) -> None:
        """QoS 1, not retained; correlation data as the MQTT 5 property when there is one."""
        properties: Optional[Properties] = None
        if self.options.mqtt5 and correlation_data:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.CorrelationData = correlation_data
        self._client.publish(topic, payload, qos=1, properties=properties)

    # -- other publishing -------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, retain: bool = False, qos: int = 1,
                response_topic: str = "", correlation_data: bytes = b"") -> mqtt.MQTTMessageInfo:
        """Publish; response topic / correlation data only over MQTT 5. The returned info
        can wait for the broker's acknowledgement."""
        properties: Optional[Properties] = None
        if self.options.mqtt5 and (response_topic or correlation_data):
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if response_topic:
                properties.ResponseTopic = response_topic
            if correlation_data:
                properties.CorrelationData = correlation_data
        return self._client.publish(topic, payload, qos=qos, retain=retain,
                                    properties=properties)

    # -- paho callbacks ---------------------------------------------------------------------

    @staticmethod
    def _adapter(callback: MessageCallback) -> Any:
        def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            props = getattr(message, "properties", None)
            response = getattr(props, "ResponseTopic", "") if props is not None else ""
            correlation = getattr(props, "CorrelationData", b"") if props is not None else b""
            callback(
                message.topic,
                bytes(message.payload),
                MessageProperties(str(response or ""), bytes(correlation or b"")),
            )

        return on_message

    def _send_subscribe(self, topics: List[str]) -> None:
        for start in range(0, len(topics), _SUBSCRIBE_BATCH):
            batch = [(topic, 1) for topic in topics[start : start + _SUBSCRIBE_BATCH]]
            with self._suback:
                self._pending_subacks += 1
            result, _ = self._client.subscribe(batch)
            if result != mqtt.MQTT_ERR_SUCCESS:
                with self._suback:
                    self._pending_subacks -= 1
                    self._suback.notify_all()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if reason_code.is_failure:
            return
        self.connects += 1
        client.on_subscribe = self._on_subscribe
        with self._lock:
            filters = list(self._filters)
        with self._suback:
            self._pending_subacks = 0
        self._send_subscribe(filters)
        self._connected.set()

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any
    ) -> None:
        with self._suback:
            self._pending_subacks = max(0, self._pending_subacks - 1)
            self._suback.notify_all()

    @staticmethod
    def _on_unrouted(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        """Messages matching no callback filter (none expected) are dropped."""


def parse_broker(text: str) -> Dict[str, Any]:
    """'HOST:PORT' -> {'host', 'port'}; ValueError naming the argument otherwise."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--broker {text!r}: expected HOST:PORT, e.g. 127.0.0.1:1883")
    return {"host": host, "port": int(port)}
