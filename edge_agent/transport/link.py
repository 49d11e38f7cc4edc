"""One MQTT connection: a fresh paho client per attempt, driven by the caller's own thread.

Why a fresh client per connection and no paho thread: paho re-sends its RAM queue after a
reconnect on its own and reconnects without jitter (docs/reliability.md 0.1, 0.5). With one
client per connection, everything unacknowledged when a connection dies is forgotten by paho
and replayed from the outbox instead, in order and marked; reconnect timing is ours.

The owner thread calls ``pump()`` in a loop: a select() over paho's socket and a wake-up
socket that producers poke (``wake()``), then paho's loop_read / loop_write / loop_misc, the
documented external-event-loop API. paho's callbacks therefore run on the owner thread, and
all paho calls come from one thread.
"""

from __future__ import annotations

import select
import socket
from typing import Any, Callable, List, Optional, Tuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.settings.mqtt import MqttSettings
from edge_agent.transport.tls import TrackingContext

OnConnack = Callable[[ReasonCode], None]
OnPublish = Callable[[int, ReasonCode], None]
OnMessage = Callable[[str, bytes], None]
OnLost = Callable[[str], None]


class Waker:
    """A socket pair: any thread calls wake(); the owner's select() returns."""

    def __init__(self) -> None:
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)

    def fileno_socket(self) -> socket.socket:
        """The end to select() on."""
        return self._read

    def wake(self) -> None:
        """Poke the owner; never blocks (a full buffer already means 'awake')."""
        try:
            self._write.send(b"\0")
        except (BlockingIOError, OSError):
            pass

    def drain(self) -> None:
        """Consume pokes after select() reported them."""
        try:
            while self._read.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        """Release both sockets."""
        self._read.close()
        self._write.close()


class MqttLink:
    """A single connection attempt and its life; discard it after it ends."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        tls_context: Optional[TrackingContext],
        will: Tuple[str, bytes],
        on_connack: OnConnack,
        on_publish: OnPublish,
        on_message: OnMessage,
        on_lost: OnLost,
        max_inflight: int,
    ) -> None:
        self._settings = settings
        v5 = settings.protocol == "5"
        self._v5 = v5
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if v5 else settings.session_expiry_s == 0,
        )
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        if tls_context is not None:
            client.tls_set_context(tls_context)
        client.will_set(will[0], will[1], qos=1, retain=True)
        client.max_inflight_messages_set(max_inflight)
        client.connect_timeout = settings.connect_timeout_s
        client.on_connect = lambda c, u, f, rc, p: on_connack(rc)
        client.on_publish = lambda c, u, mid, rc, p: on_publish(mid, rc)
        client.on_message = lambda c, u, m: on_message(m.topic, bytes(m.payload))
        client.on_disconnect = self._on_disconnect
        self._tls_context = tls_context
        self._on_lost = on_lost
        self._client = client
        self.alive = False

    def connect(self) -> None:
        """Open TCP (and TLS) and send CONNECT; raises OSError / ssl.SSLError on failure.
        The CONNACK arrives later through pump() and the on_connack callback."""
        try:
            self._connect()
        except BaseException:
            if self._tls_context is not None:
                self._tls_context.close_last()
            raise
        self.alive = True

    def _connect(self) -> None:
        settings = self._settings
        if self._v5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = settings.session_expiry_s
            self._client.connect(
                settings.host,
                settings.port,
                keepalive=settings.keepalive_s,
                clean_start=settings.session_expiry_s == 0,
                properties=properties,
            )
        else:
            self._client.connect(settings.host, settings.port, keepalive=settings.keepalive_s)

    def pump(self, waker: Waker, timeout_s: float) -> bool:
        """Wait for network or wake-up events at most ``timeout_s`` and process them;
        False once the connection is gone (keepalive expiry included)."""
        client = self._client
        sock = client.socket()
        if not self.alive or sock is None:
            return False
        pending = getattr(sock, "pending", None)
        if callable(pending) and pending() > 0:
            timeout_s = 0.0
        wlist: List[Any] = [sock] if client.want_write() else []
        try:
            readable, writable, _ = select.select(
                [sock, waker.fileno_socket()], wlist, [], timeout_s
            )
        except (OSError, ValueError, TypeError):
            self._lost("socket closed")
            return False
        if waker.fileno_socket() in readable:
            waker.drain()
        has_input = sock in readable or (callable(pending) and pending() > 0)
        if has_input and (
            client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or client.socket() is None
        ):
            self._lost("read failed")
            return False
        if client.want_write() and client.loop_write() != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._lost("write failed")
            return False
        if client.loop_misc() != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._lost("keepalive expired")
            return False
        return self.alive

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> int:
        """Queue one PUBLISH on this connection; returns paho's mid."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        return int(info.mid)

    def subscribe(self, topics: List[str]) -> None:
        """Subscribe (QoS 1) to each topic; called after every CONNACK."""
        if topics:
            self._client.subscribe([(topic, 1) for topic in topics])

    def close(self) -> None:
        """Send DISCONNECT if still connected (the broker then drops the will), then close."""
        client = self._client
        if self.alive and client.is_connected():
            client.disconnect()
            try:
                client.loop_write()
            except OSError:
                pass
        sock = client.socket()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        self.alive = False

    def _lost(self, why: str) -> None:
        if self.alive:
            self.alive = False
            self._on_lost(why)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        self._lost(f"connection lost: {reason_code}")
