"""Subscribes to the documented channels and feeds every message to a FleetState.

Why paho's own network thread (connect_async + loop_start) rather than the agent's transport:
a read-only consumer needs no outbox, and paho already retries with an exponential back-off
(reconnect_delay_set) after a refused or lost connection. What the page must tell apart —
broker unreachable versus credentials refused — comes from on_connect_fail (no TCP
connection) and a failing CONNACK reason code; both are kept in BrokerLink for the views.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_agent.dashboard.channels import subscriptions
from edge_agent.dashboard.fleet_state import FleetState

RETRY_MIN_S = 1
RETRY_MAX_S = 30


@dataclass
class BrokerSettings:
    """Where and how to reach the broker (the dashboard only ever subscribes)."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""
    tls_ca_file: str = ""
    tls_cert_file: str = ""  # client certificate (deploy/mosquitto: CN 'dashboard')
    tls_key_file: str = ""
    client_id: str = ""


class BrokerLink:
    """A paho client bound to one FleetState, with a connection state the page can show."""

    def __init__(self, settings: BrokerSettings, fleet: FleetState) -> None:
        self._settings = settings
        self._fleet = fleet
        self._lock = threading.Lock()
        self.state = "connecting"
        self.detail = f"connecting to {settings.host}:{settings.port}"
        self.since_s = time.time()
        self.attempts = 0
        self.messages = 0
        fleet.source_down = True
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id or f"edge-dashboard-{os.getpid()}-{time.time_ns()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        if settings.tls_ca_file:
            client.tls_set(ca_certs=settings.tls_ca_file,
                           certfile=settings.tls_cert_file or None,
                           keyfile=settings.tls_key_file or None)
        client.reconnect_delay_set(RETRY_MIN_S, RETRY_MAX_S)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    def start(self) -> None:
        """Connect in the background; paho keeps retrying with back-off until stop()."""
        self._client.connect_async(self._settings.host, self._settings.port, keepalive=15)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect and join paho's thread."""
        self._client.disconnect()
        self._client.loop_stop()

    def view(self) -> Dict[str, Any]:
        """The connection state for the page's banner."""
        with self._lock:
            return {"state": self.state, "detail": self.detail, "since": self.since_s,
                    "attempts": self.attempts, "messages": self.messages,
                    "retry_max_s": RETRY_MAX_S,
                    "broker": f"{self._settings.host}:{self._settings.port}"}

    def _set(self, state: str, detail: str) -> None:
        with self._lock:
            if state != self.state:
                self.since_s = time.time()
            self.state, self.detail = state, detail
        self._fleet.source_down = state != "connected"

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        with self._lock:
            self.attempts += 1
        if reason_code.is_failure:
            # 134 bad user name or password, 135 not authorised: the fix is the credentials
            self._set("refused", f"broker {self._settings.host}:{self._settings.port} refused "
                      f"the login: {reason_code} (check --username and the password)")
            return
        # QoS 0: the dashboard wants the latest value, and a newer one supersedes a lost one;
        # QoS 1 would make the broker drop messages anyway once a burst from hundreds of
        # devices exceeds its per-client queue (mosquitto max_queued_messages, 1000).
        client.subscribe([(topic, 0) for topic in subscriptions(self._fleet.prefix)])
        self._set("connected", f"connected to {self._settings.host}:{self._settings.port}")

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        with self._lock:
            self.attempts += 1
        self._set("unreachable", f"broker {self._settings.host}:{self._settings.port} "
                  "unreachable (no TCP connection); retrying with back-off")

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        if self.state == "refused":
            return  # keep the reason: the broker closes the socket after a refused CONNACK
        self._set("lost", f"connection to {self._settings.host}:{self._settings.port} lost "
                  f"({reason_code}); retrying with back-off")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: Any) -> None:
        with self._lock:
            self.messages += 1
        self._fleet.handle(message.topic, bytes(message.payload))

