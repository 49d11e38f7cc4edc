"""MqttPublisher: the Publisher interface on top of one paho-mqtt 2.x client.

Why paho's threaded loop: ``connect_async`` + ``loop_start`` never block the caller, paho
reconnects by itself (1 s doubling to 30 s here), and QoS 1 messages published while offline
stay in paho's RAM queue and go out after the reconnect. What the broker answered is counted
by AckTracker from ``on_publish`` alone (docs/reliability.md section 0.2).

Availability follows Frigate and Sparkplug (docs/mqtt-anchors.md b.2): a retained JSON status
whose ``session`` grows on every connect, with a will saying 'offline' for that session, plus
a retained plain-text twin on ``available``. MQTT allows one will per connection, so the twin
says 'online' and 'stopped' but is NOT set to 'offline' when the agent dies or loses its
network; crash detection must watch ``status``.

Limits: paho keeps unacknowledged messages in RAM only; they survive reconnects but not a
process restart (the durable outbox of the next iteration implements Publisher instead).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, List, Optional

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from typing_extensions import Literal

from edge_agent.events.payloads import StatusPayload, to_json_bytes
from edge_agent.events.topics import Topics
from edge_agent.settings import MqttSettings
from edge_agent.transport.ack_tracker import AckTracker
from edge_agent.transport.publisher import OutgoingMessage, PublisherStats

logger = logging.getLogger(__name__)

_RECONNECT_MIN_S = 1
_RECONNECT_MAX_S = 30
_STOP_FLUSH_SHARE = 0.6  # share of stop()'s time for pending events; the rest is for 'stopped'


class MqttPublisher:
    """Publishes OutgoingMessages through paho and reports what the broker acknowledged."""

    def __init__(self, settings: MqttSettings, device_id: str, version: str) -> None:
        self._settings = settings
        self._device_id = device_id
        self._version = version
        self._topics = Topics(settings.topic_prefix, device_id)
        self._tracker = AckTracker()
        self._state_lock = threading.Lock()
        self._client: Optional[mqtt.Client] = None
        self._session = 0
        self._stopping = False

    @property
    def client_id(self) -> str:
        """The MQTT client id: from the settings, else '<topic_prefix>-<device_id>'."""
        return self._settings.client_id or f"{self._settings.topic_prefix}-{self._device_id}"

    @property
    def topics(self) -> Topics:
        """Topic names of this device (status, available, events)."""
        return self._topics

    def start(self) -> None:
        """Begin connecting in paho's network thread; returns at once (see wait_connected)."""
        if self._client is not None:
            raise RuntimeError("MqttPublisher.start() called twice")
        protocol = (
            MQTTProtocolVersion.MQTTv5
            if self._settings.protocol == "5"
            else MQTTProtocolVersion.MQTTv311
        )
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=protocol
        )
        if self._settings.username:
            client.username_pw_set(self._settings.username, self._settings.password or None)
        client.reconnect_delay_set(min_delay=_RECONNECT_MIN_S, max_delay=_RECONNECT_MAX_S)
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        with self._state_lock:
            self._stopping = False
        self._client = client
        logger.info(
            "connecting to %s:%d as %r (MQTT %s)",
            self._settings.host,
            self._settings.port,
            self.client_id,
            self._settings.protocol,
        )
        client.connect_async(
            self._settings.host, self._settings.port, keepalive=self._settings.keepalive_s
        )
        client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until the broker accepted the connection; False after ``timeout_s``."""
        return self._tracker.wait_connected(time.monotonic() + timeout_s)

    def publish(self, msg: OutgoingMessage) -> None:
        """Hand one message to paho; QoS 1/2 messages are kept and re-sent across outages."""
        self._send(msg)

    def flush(self, timeout_s: float) -> bool:
        """Wait until every message handed over was answered (acknowledged or failed)."""
        return self._tracker.wait_settled(None, time.monotonic() + timeout_s)

    def stats(self) -> PublisherStats:
        """A consistent snapshot of the counters since construction."""
        return self._tracker.snapshot()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Flush, announce 'stopped' (retained), disconnect cleanly, end paho's thread.

        A clean DISCONNECT makes the broker discard the will, so 'offline' is not sent.
        Messages still unacknowledged when the time is up are lost (paho holds them in RAM).
        """
        client = self._client
        if client is None:
            return
        start = time.monotonic()
        self._tracker.wait_settled(None, start + timeout_s * _STOP_FLUSH_SHARE)
        with self._state_lock:
            self._stopping = True
            session = self._session
        if self._tracker.snapshot().connected:
            mids = self._publish_state("stopped", session)
            if not self._tracker.wait_settled(mids, start + timeout_s):
                logger.warning("the broker did not acknowledge the 'stopped' status in time")
        client.disconnect()
        client.loop_stop()
        self._client = None
        self._tracker.set_connected(False)
        left = self._tracker.snapshot().pending
        if left:
            logger.warning("%d messages were not acknowledged before stop and are lost", left)
        logger.info("disconnected from %s:%d", self._settings.host, self._settings.port)

    def _send(self, msg: OutgoingMessage) -> Optional[int]:
        """Publish through paho and track the mid; returns it unless the message was dropped.

        Never called while holding a lock: paho's on_publish takes the tracker's lock while
        holding paho's own, so the reverse order could deadlock.
        """
        client = self._client
        if client is None:
            self._tracker.drop(f"publish to {msg.topic} while the publisher is not started")
            return None
        info = client.publish(msg.topic, msg.payload, qos=msg.qos, retain=msg.retain)
        return self._tracker.track(msg.topic, msg.qos, info)

    def _publish_state(self, state: Literal["online", "stopped"], session: int) -> List[int]:
        """Publish the retained JSON status and its plain-text twin; returns their mids."""
        status = StatusPayload(
            state=state,
            device_id=self._device_id,
            ts=time.time(),
            version=self._version,
            session=session,
        )
        messages = (
            OutgoingMessage(self._topics.status, to_json_bytes(status), 1, True, "state"),
            OutgoingMessage(self._topics.available, state.encode("ascii"), 1, True, "state"),
        )
        mids = [self._send(message) for message in messages]
        return [mid for mid in mids if mid is not None]

    # paho callbacks: they run on paho's network thread.

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        """Register the will of the session this connection attempt would start."""
        with self._state_lock:
            session = self._session + 1
        will = StatusPayload(
            state="offline",
            device_id=self._device_id,
            ts=None,
            version=self._version,
            session=session,
        )
        client.will_set(self._topics.status, to_json_bytes(will), qos=1, retain=True)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Optional[Properties],
    ) -> None:
        if reason_code.is_failure:
            self._tracker.set_connected(False, f"connection refused: {reason_code}")
            logger.warning(
                "broker %s:%d refused the connection: %s",
                self._settings.host,
                self._settings.port,
                reason_code,
            )
            return
        with self._state_lock:
            self._session += 1
            session, stopping = self._session, self._stopping
        if not stopping:
            # Before marking connected, so that wait_connected() + flush() covers 'online'.
            self._publish_state("online", session)
        self._tracker.set_connected(True)
        logger.info("connected (session %d)", session)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        host, port = self._settings.host, self._settings.port
        self._tracker.note_error(f"cannot reach broker {host}:{port}")

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Optional[Properties],
    ) -> None:
        with self._state_lock:
            stopping = self._stopping
        error = None if stopping else f"connection lost: {reason_code}"
        was_connected = self._tracker.mark_lost(error)
        if was_connected and not stopping:
            logger.warning("connection to the broker lost (%s); paho reconnects", reason_code)

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        refusal = self._tracker.settle(mid, reason_code)
        if refusal:
            logger.warning("%s", refusal)
