"""The plain-text `available` topic (online / offline / stopped) on a connection of its own.

MQTT gives a connection exactly one will, and the main connection's will is the JSON
`status` document (with the session counter). Home Assistant and other simple consumers want
a plain `offline` on `available` when the device dies, so this second, tiny connection exists
only to carry that will: it publishes retained `online` after every CONNACK, retained
`stopped` on a clean stop, and the broker publishes its will `offline` when the process or
its network dies (both connections drop together). It never touches the outbox: its only
message is a retained state that it republishes after every reconnect.

Client id: '<main client id>-avail'; it uses the same credentials and TLS settings, so a
broker ACL that lets the device write its own subtree (`%u`) covers it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.capture.backoff import Backoff
from edge_agent.settings.mqtt import MqttSettings
from edge_agent.transport.link import MqttLink, Waker
from edge_agent.transport.tls import TrackingContext

logger = logging.getLogger(__name__)

_PUMP_S = 0.5


class AvailabilityTwin:
    """Owns the `available` topic; one thread, one small connection."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        topic: str,
        tls_context_factory: Callable[[], Optional[TrackingContext]],
    ) -> None:
        # A twin keeps no session: its one message is republished after every connect.
        self._settings = settings.model_copy(update={"session_expiry_s": 0})
        self._client_id = client_id
        self._topic = topic
        self._tls_context_factory = tls_context_factory
        self._stop = threading.Event()
        self._waker = Waker()
        self._backoff = Backoff(settings.reconnect_min_s, settings.reconnect_max_s)
        self._thread: Optional[threading.Thread] = None
        self._link: Optional[MqttLink] = None
        self._acked = threading.Event()
        self.online = False

    def start(self) -> None:
        """Start connecting in the background."""
        self._thread = threading.Thread(target=self._run, name="mqtt-available", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Publish retained 'stopped' (when connected), disconnect without the will, end."""
        deadline = time.monotonic() + timeout_s
        self._stop.set()
        self._waker.wake()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        self._waker.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            link = MqttLink(
                self._settings,
                self._client_id,
                self._tls_context_factory(),
                (self._topic, b"offline"),
                on_connack=self._on_connack,
                on_publish=lambda _mid, _rc: self._acked.set(),
                on_message=lambda _topic, _payload: None,
                on_lost=lambda why: logger.debug("available twin: %s", why),
                max_inflight=2,
            )
            self._link = link
            try:
                link.connect()
                while not self._stop.is_set() and link.pump(self._waker, _PUMP_S):
                    pass
                if self._stop.is_set() and link.alive:
                    self._say_stopped(link)
            except OSError as err:
                logger.debug("available twin cannot connect: %s", err)
            finally:
                link.close()
                self.online = False
            if not self._stop.is_set():
                self._stop.wait(self._backoff.next_delay_s())

    def _on_connack(self, reason_code: ReasonCode) -> None:
        if reason_code.is_failure or self._link is None:
            return
        self._backoff.reset()
        self._link.publish(self._topic, b"online", qos=1, retain=True)
        self.online = True

    def _say_stopped(self, link: MqttLink, grace_s: float = 1.0) -> None:
        """Retained 'stopped', waiting briefly for its PUBACK so it is not lost."""
        self._acked.clear()
        link.publish(self._topic, b"stopped", qos=1, retain=True)
        deadline = time.monotonic() + grace_s
        while not self._acked.is_set() and time.monotonic() < deadline:
            if not link.pump(self._waker, 0.05):
                break
