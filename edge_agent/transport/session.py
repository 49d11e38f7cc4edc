"""LinkRunner: the body of the ``mqtt-link`` thread (connect, replay, send, reconnect).

Incoming messages are only queued here: the subscription hooks run on their own thread
(subscription_worker.py), so a hook that raises or blocks cannot stop this one. ``on_up`` and
``on_down`` tell the availability twin to follow this connection.

Why one thread for all of it: paho's callbacks, the send window (``send_window.py``) and the
outbox cursor then never race; producers only stage durable messages with the outbox writer
(which wakes this thread after each commit) or append to the live queue and poke the Waker.

Per connection: CONNACK → status 'online' with the next session number (stored in the outbox
file, so it keeps growing across restarts), session messages (HA discovery), subscriptions,
then the outbox from its first row; rows that existed at the
CONNACK are sent with ``replayed: true``. A connection that ends forgets its in-flight window
(the rows are still in the outbox) and the next attempt waits a full-jitter backoff delay.
A broker that accepts TCP but never answers CONNACK is given up after connect_timeout_s;
a broker that hangs later is detected by paho's keepalive within 2 x keepalive_s.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.capture.backoff import Backoff
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.topics import Topics
from edge_agent.settings.mqtt import MqttSettings
from edge_agent.transport.delivery import (
    DeliveryState,
    describe_connack,
    status_messages,
    will_payload,
)
from edge_agent.transport.link import MqttLink, Waker
from edge_agent.transport.outbox import Outbox
from edge_agent.transport.outbox_writer import OutboxWriter
from edge_agent.transport.send_window import LIVE_INFLIGHT_MAX, SendWindow
from edge_agent.transport.subscription_worker import MessageHook, SubscriptionWorker
from edge_agent.transport.tls import TrackingContext, describe_tls_failure

logger = logging.getLogger(__name__)

SessionHook = Callable[[], List[OutgoingMessage]]
SESSION_KEY = "session"
"""The outbox meta key holding the last status session number."""

__all__ = ["LinkConfig", "LinkRunner", "MessageHook", "SessionHook", "SESSION_KEY"]

_IDLE_TICK_S = 0.5
_BUSY_TICK_S = 0.02
_EXPIRE_EVERY_S = 1.0


@dataclass
class LinkConfig:
    """Everything the link thread needs that does not change while it runs."""

    settings: MqttSettings
    client_id: str
    device_id: str
    version: str
    topics: Topics
    tls_context: Optional[TrackingContext]
    max_inflight: int
    session_hooks: List[SessionHook] = field(default_factory=list)
    handlers: Optional[SubscriptionWorker] = None
    on_up: Callable[[], None] = lambda: None
    """After each accepted CONNACK (the availability twin connects)."""
    on_down: Callable[[], None] = lambda: None
    """After an accepted connection ended, unless stopping (the twin says offline)."""


class LinkRunner:
    """Runs connections one after another until stop is set (see module docstring)."""

    def __init__(
        self,
        config: LinkConfig,
        outbox: Outbox,
        writer: OutboxWriter,
        state: DeliveryState,
        waker: Waker,
        stop: threading.Event,
    ) -> None:
        self._config = config
        self._outbox = outbox
        self._writer = writer
        self._state = state
        self._waker = waker
        self._stop = stop
        self.stop_deadline = 0.0
        self.stop_grace_s = 0.5
        self._window = SendWindow(config.max_inflight, outbox, writer, state)
        self._connack: Optional[ReasonCode] = None
        self._next_expire = 0.0
        self._last_failure = ""
        self._link: Optional[MqttLink] = None

    def run(self) -> None:
        """Thread body."""
        settings = self._config.settings
        backoff = Backoff(settings.reconnect_min_s, settings.reconnect_max_s)
        while not self._stop.is_set():
            if self._one_connection():
                backoff.reset()
            if self._stop.is_set():
                break
            delay_s = backoff.next_delay_s()
            logger.debug("reconnecting in %.2f s", delay_s)
            deadline = time.monotonic() + delay_s
            while not self._stop.is_set() and time.monotonic() < deadline:
                self._stop.wait(min(_IDLE_TICK_S, max(0.0, deadline - time.monotonic())))
                self._maintain(force_delete=True)
        self._maintain(force_delete=True)

    # One connection.

    def _one_connection(self) -> bool:
        config = self._config
        settings = config.settings
        stored = self._outbox.read_meta(SESSION_KEY) or 0  # the file may have opened late
        with self._state.lock:
            self._state.session = max(self._state.session, stored)
        will = (
            config.topics.status,
            will_payload(config.device_id, config.version, self._state.session + 1),
        )
        link = MqttLink(
            settings,
            config.client_id,
            config.tls_context,
            will,
            self._on_connack,
            self._window.on_publish,
            self._on_message,
            self._on_lost,
            config.max_inflight + LIVE_INFLIGHT_MAX,
        )
        self._connack = None
        self._link = link
        try:
            link.connect()
        except ssl.SSLError as exc:
            self._failure(describe_tls_failure(exc, settings))
            return False
        except (OSError, ValueError) as exc:
            self._failure(f"broker unreachable at {settings.host}:{settings.port}: {exc}")
            return False
        connack_deadline = time.monotonic() + settings.connect_timeout_s
        while link.alive and not self._stop.is_set():
            link.pump(self._waker, _BUSY_TICK_S if self._window.busy else _IDLE_TICK_S)
            connack = self._current_connack()
            if connack is None:
                if time.monotonic() > connack_deadline:
                    self._failure(
                        f"no CONNACK from {settings.host}:{settings.port} within "
                        f"{settings.connect_timeout_s} s (broker hung?)"
                    )
                    break
                continue
            if connack.is_failure:
                break
            self._window.fill(link)
            self._maintain(force_delete=False)
        connack = self._current_connack()
        accepted = connack is not None and not connack.is_failure
        if accepted and link.alive and self._stop.is_set():
            self._drain_and_stop(link)
        link.close()
        self._link = None
        self._down()
        return accepted

    def _current_connack(self) -> Optional[ReasonCode]:
        """The CONNACK of the current attempt (set by a callback inside pump())."""
        return self._connack

    def _drain_and_stop(self, link: MqttLink) -> None:
        """On stop: send what the broker takes before the deadline, then 'stopped'."""
        window = self._window
        while link.alive and time.monotonic() < self.stop_deadline:
            window.fill(link)
            self._maintain(force_delete=True)
            if window.idle and self._pending_durable() == 0 and not self._state.live:
                break
            link.pump(self._waker, _BUSY_TICK_S)
        config = self._config
        window.priority.extend(
            status_messages(
                config.topics, config.device_id, config.version, "stopped", self._state.session
            )
        )
        window.fill(link)
        last_s = self.stop_deadline + self.stop_grace_s
        while link.alive and not window.idle and time.monotonic() < last_s:
            link.pump(self._waker, _BUSY_TICK_S)
        self._maintain(force_delete=True)

    def _pending_durable(self) -> int:
        """Durable messages not yet acknowledged: committed rows plus staged ones."""
        return self._outbox.depth() + self._writer.uncommitted()

    def _down(self) -> None:
        """Forget the window (rows stay in the outbox), count lost live messages."""
        lost_live, replay = self._window.forget()
        self._maintain(force_delete=True)
        state = self._state
        with state.lock:
            was_connected = state.connected
            state.connected = False
            state.live_dropped += lost_live + len(state.live)
            state.live.clear()
            state.live_inflight = 0
            state.lock.notify_all()
        if was_connected and not self._stop.is_set():
            self._config.on_down()
            logger.warning(
                "connection to the broker lost; %d unacknowledged message(s) will "
                "be replayed from the outbox",
                replay,
            )

    def _maintain(self, force_delete: bool) -> None:
        """Hand acknowledged rows to the writer in batches; expire old ones once a second."""
        self._window.hand_over_acks(force_delete)
        now = time.monotonic()
        if now >= self._next_expire:
            self._next_expire = now + _EXPIRE_EVERY_S
            self._outbox.expire()  # counted and logged (rate-limited) by the outbox

    def _failure(self, message: str) -> None:
        self._state.note(message)
        if message != self._last_failure:
            logger.warning("%s; retrying with backoff", message)
            self._last_failure = message

    # paho callbacks (on this thread, inside link.pump()).

    def _on_connack(self, reason_code: ReasonCode) -> None:
        self._connack = reason_code
        config = self._config
        if reason_code.is_failure:
            self._failure(describe_connack(str(reason_code)))
            return
        state = self._state
        with state.lock:
            state.session += 1
            session = state.session
        if not self._outbox.write_meta(SESSION_KEY, session):
            logger.debug("session %d not stored (outbox not writable)", session)
        priority = status_messages(
            config.topics, config.device_id, config.version, "online", session
        )
        for hook in config.session_hooks:
            try:
                priority.extend(hook())
            except Exception:  # noqa: BLE001 - a bad hook must not take the link down
                logger.exception("a session-message hook raised; its messages are skipped")
        self._window.start_session(priority)
        if self._link is not None and config.handlers is not None:
            self._link.subscribe(config.handlers.topics)
        with state.lock:
            state.connected = True
            state.lock.notify_all()
        config.on_up()
        self._last_failure = ""
        backlog = self._outbox.depth()
        logger.info("connected (session %d); %d queued message(s) to replay", session, backlog)

    def _on_message(self, topic: str, payload: bytes) -> None:
        handlers = self._config.handlers
        if handlers is not None:
            handlers.submit(topic, payload)

    def _on_lost(self, why: str) -> None:
        """Record why an accepted connection ended; after a refused CONNACK paho reports a
        disconnect too, and the refusal is the more useful message."""
        connack = self._current_connack()
        if connack is not None and not connack.is_failure:
            self._state.note(why)
