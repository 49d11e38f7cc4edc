"""The plain-text `available` topic (online / offline / stopped) on a connection of its own.

MQTT gives a connection exactly one will, and the main connection's will is the JSON
`status` document (with the session counter). Home Assistant and other simple consumers want
a plain `offline` on `available` when the device dies, so this second, tiny connection exists
only to carry that will. It never touches the outbox.

It follows the main connection instead of keeping its own schedule, so `available` and
`status` change together: ``main_up()`` (the main CONNACK) makes it connect at once and say
retained `online`; ``main_down()`` (the main connection lost) makes it say retained `offline`
and disconnect; ``stop()`` says retained `stopped`. If the process or its network dies, the
broker publishes both wills. While the main link is up and this one cannot connect, it retries
with a short backoff.

Client id: '<main client id>-avail'; same credentials and TLS settings. The shipped broker
configuration (deploy/mosquitto) only lets a device use these two ids for its own identity.
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
from edge_agent.transport.watched_thread import ThreadReport, WatchedThread

logger = logging.getLogger(__name__)

_PUMP_S = 0.5
_SAY_GRACE_S = 1.0


class AvailabilityTwin:
    """Owns the `available` topic; one thread, one small connection that follows the main."""

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
        self._cond = threading.Condition()
        self._wanted = False
        self._stopping = False
        self._waker = Waker()
        # Short: while the main link is up, `available` must not lag behind `status`.
        cap_s = max(settings.reconnect_min_s, min(5.0, settings.reconnect_max_s))
        self._backoff = Backoff(settings.reconnect_min_s, cap_s)
        self._thread = WatchedThread("mqtt-available", self._run)
        self._link: Optional[MqttLink] = None
        self._acked = threading.Event()
        self.online = False

    def start(self) -> None:
        """Start the thread; it connects once ``main_up()`` is called."""
        self._thread.start()

    def report(self) -> ThreadReport:
        """Liveness of the twin's thread."""
        return self._thread.report()

    def main_up(self) -> None:
        """The main connection was accepted: connect now and say `online`."""
        with self._cond:
            self._wanted = True
            self._backoff.reset()
            self._cond.notify_all()
        self._waker.wake()

    def main_down(self) -> None:
        """The main connection was lost: say `offline` and disconnect."""
        with self._cond:
            self._wanted = False
            self._cond.notify_all()
        self._waker.wake()

    def stop(self, timeout_s: float) -> None:
        """Publish retained 'stopped' (when connected), disconnect without the will, end."""
        self._thread.stopping()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._waker.wake()
        self._thread.join(max(0.0, timeout_s))
        self._waker.close()

    def _wait_until_wanted(self) -> bool:
        with self._cond:
            while not self._stopping and not self._wanted:
                self._cond.wait()
            return not self._stopping

    def _keep_going(self) -> bool:
        with self._cond:
            return self._wanted and not self._stopping

    def _run(self) -> None:
        while self._wait_until_wanted():
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
                while self._keep_going() and link.pump(self._waker, _PUMP_S):
                    pass
                if link.alive and self.online:
                    self._say(link, b"stopped" if self._stopping else b"offline")
            except (OSError, ValueError) as err:
                logger.debug("available twin cannot connect: %s", err)
            finally:
                link.close()
                self._link = None
                self.online = False
            if self._keep_going():
                delay_s = self._backoff.next_delay_s()
                with self._cond:
                    self._cond.wait_for(lambda: self._stopping or not self._wanted, delay_s)

    def _on_connack(self, reason_code: ReasonCode) -> None:
        if reason_code.is_failure or self._link is None:
            logger.debug("available twin refused: %s", reason_code)
            return
        self._link.publish(self._topic, b"online", qos=1, retain=True)
        self.online = True

    def _say(self, link: MqttLink, state: bytes) -> None:
        """A retained state, waiting briefly for its PUBACK so it is not lost."""
        self._acked.clear()
        link.publish(self._topic, state, qos=1, retain=True)
        deadline = time.monotonic() + _SAY_GRACE_S
        while not self._acked.is_set() and time.monotonic() < deadline:
            if not link.pump(self._waker, 0.05):
                break
