"""DurablePublisher: the Publisher interface over an on-disk outbox and our own MQTT link.

Durability contract for state and event messages:
- ``publish()`` returning means the message is staged in RAM, in order; the ``outbox-writer``
  thread commits everything staged in one transaction (group commit: one fsync for all
  events that arrived during the previous fsync), normally within milliseconds.
- Only committed rows are ever sent: a message is on disk before the broker sees it.
- Power loss or SIGKILL can lose only what was staged and not yet committed (at most
  ``outbox_writer.MAX_STAGED`` messages, in practice the last few milliseconds). With
  ``outbox.synchronous = NORMAL`` a power loss may also take the last committed rows.
- ``sync()`` waits until everything published so far is committed;
  ``outbox.publish_waits_for_commit = true`` makes every publish() wait (one commit per
  call for a single producer: slower, no loss window).
- ``flush()`` waits for commit AND PUBACK of everything published so far.
A row is deleted only on a PUBACK below 0x80 (0x10 'no matching subscribers' included); a
refusal (>= 0x80, e.g. 0x87 from an ACL) keeps the row as rejected, counts it and logs it.
Mask and telemetry messages are 'latest only': sent while connected, dropped (counted) while
not, never stored.

Threads: ``mqtt-link`` (below), ``outbox-writer`` (group commit), ``mqtt-handlers``
(subscription hooks, each call guarded) and ``mqtt-available`` (the `available` twin). Each
is a WatchedThread: a death is logged with its traceback and counted, and ``health()`` says
which died and why, for the supervisor that feeds the systemd watchdog. A dead link thread
also turns ``stats().connected`` false.

One thread (``mqtt-link``) owns everything paho: it connects, pumps the socket, sends the
backlog in id order within a window of ``outbox.max_inflight``, and reconnects with
exponential backoff and full jitter capped at ``mqtt.reconnect_max_s`` (<= 60 s). After every
CONNACK it publishes the retained status (session number + 1, the Sparkplug bdSeq idea; the
number is stored in the outbox file and keeps growing across restarts) and
the session messages (HA discovery), resubscribes, then replays: rows that existed when the
connection came up are sent with ``replayed: true``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from edge_agent.events.publisher import OutgoingMessage, PublisherStats
from edge_agent.events.topics import Topics
from edge_agent.settings.mqtt import MqttSettings
from edge_agent.settings.outbox import OutboxSettings
from edge_agent.transport.availability import AvailabilityTwin
from edge_agent.transport.delivery import DURABLE_CHANNELS, DeliveryState
from edge_agent.transport.link import Waker
from edge_agent.transport.loss_log import LossLog
from edge_agent.transport.outbox import Outbox
from edge_agent.transport.outbox_records import OutboxCounters
from edge_agent.transport.outbox_writer import OutboxWriter
from edge_agent.transport.session import (
    SESSION_KEY,
    LinkConfig,
    LinkRunner,
    MessageHook,
    SessionHook,
)
from edge_agent.transport.subscription_worker import SubscriptionWorker
from edge_agent.transport.tls import build_tls_context
from edge_agent.transport.watched_thread import ThreadReport, WatchedThread

logger = logging.getLogger(__name__)

_LIVE_QUEUE = 32  # latest-only messages waiting for the link thread
_OVERSIZE_LOG_EVERY_S = 60.0
_COMMIT_WAIT_S = 10.0  # publish_waits_for_commit: longest wait for a stalled disk


@dataclass(frozen=True)
class TransportHealth:
    """Liveness of the publisher's threads, for the status line and the watchdog."""

    ok: bool
    """Every thread that should run is running and none has died."""
    threads: Tuple[ThreadReport, ...]
    handler_failures: int
    """Subscription hook calls that raised (the hook's message was dropped, nothing else)."""
    outbox_available: bool
    """False while the outbox file cannot be written (durable messages are refused)."""

    def problems(self) -> List[str]:
        """One line per dead thread: 'outbox-writer died 1 time(s): ...'."""
        return [
            f"{t.name} died {t.deaths} time(s): {t.last_error}"
            for t in self.threads
            if t.deaths or not t.alive
        ]


class DurablePublisher:
    """Publishes through the outbox; survives outages, restarts and power loss (see module)."""

    def __init__(
        self, settings: MqttSettings, outbox: OutboxSettings, device_id: str, version: str
    ) -> None:
        self._settings = settings
        self._device_id = device_id
        self._version = version
        self._topics = Topics(settings.topic_prefix, device_id)
        self._outbox = Outbox(outbox)
        self._max_inflight = outbox.max_inflight
        self._wait_for_commit = outbox.publish_waits_for_commit
        self._state = DeliveryState()
        self._writer = OutboxWriter(self._outbox, self._on_commit, self._on_refused)
        self._session_hooks: List[SessionHook] = []
        self._subscriptions: List[Tuple[str, MessageHook]] = []
        self._waker: Optional[Waker] = None
        self._stop = threading.Event()
        self._runner: Optional[LinkRunner] = None
        self._thread: Optional[WatchedThread] = None
        self._handlers: Optional[SubscriptionWorker] = None
        self._oversize_logged: Dict[str, float] = {}
        self._losses = LossLog(logger)
        self._twin: Optional[AvailabilityTwin] = None

    @property
    def client_id(self) -> str:
        """The MQTT client id: from the settings, else '<topic_prefix>-<device_id>'."""
        return self._settings.client_id or f"{self._settings.topic_prefix}-{self._device_id}"

    @property
    def topics(self) -> Topics:
        """Topic names of this device."""
        return self._topics

    @property
    def session(self) -> int:
        """Connections accepted so far (the status 'session'); 0 before the first."""
        with self._state.lock:
            return self._state.session

    def add_session_messages(self, hook: SessionHook) -> None:
        """Messages to send first after every CONNACK (e.g. HA discovery); before start()."""
        self._session_hooks.append(hook)

    def add_subscription(self, topic: str, hook: MessageHook) -> None:
        """Subscribe after every CONNACK; ``hook`` returns messages to send in reply."""
        self._subscriptions.append((topic, hook))

    def check(self) -> None:
        """Validate the TLS files now (ConfigError naming the setting), before anything starts."""
        build_tls_context(self._settings)

    def start(self) -> None:
        """Check TLS files, open the outbox (both raise ConfigError), start the link thread."""
        if self._thread is not None:
            raise RuntimeError("DurablePublisher.start() called twice")
        tls_context = build_tls_context(self._settings)
        self._outbox.open()
        stored = self._outbox.read_meta(SESSION_KEY)
        with self._state.lock:
            self._state.session = max(self._state.session, stored or 0)
        self._writer.start()
        self._waker = Waker()
        self._stop.clear()
        self._twin = AvailabilityTwin(
            self._settings,
            f"{self.client_id}-avail",
            self._topics.available,
            lambda: build_tls_context(self._settings),
        )
        self._handlers = SubscriptionWorker(self._subscriptions, self._queue_replies)
        twin = self._twin
        config = LinkConfig(
            settings=self._settings,
            client_id=self.client_id,
            device_id=self._device_id,
            version=self._version,
            topics=self._topics,
            tls_context=tls_context,
            max_inflight=self._max_inflight,
            session_hooks=list(self._session_hooks),
            handlers=self._handlers,
            on_up=twin.main_up,
            on_down=twin.main_down,
        )
        self._runner = LinkRunner(
            config, self._outbox, self._writer, self._state, self._waker, self._stop
        )
        self._thread = WatchedThread("mqtt-link", self._runner.run, self._link_died)
        logger.info(
            "connecting to %s:%d as %r (MQTT %s%s)",
            self._settings.host,
            self._settings.port,
            self.client_id,
            self._settings.protocol,
            ", TLS" if tls_context is not None else "",
        )
        self._handlers.start()
        twin.start()
        self._thread.start()

    def _queue_replies(self, replies: List[OutgoingMessage]) -> None:
        """Handler thread: messages a subscription hook returned go out first."""
        with self._state.lock:
            self._state.replies.extend(replies)
        waker = self._waker
        if waker is not None:
            waker.wake()

    def _link_died(self, reason: str) -> None:
        """The link thread is gone: say so instead of claiming to be connected."""
        with self._state.lock:
            self._state.connected = False
            self._state.last_error = f"MQTT link thread died: {reason}"
            self._state.lock.notify_all()
        if self._twin is not None:
            self._twin.main_down()

    def health(self) -> TransportHealth:
        """Which threads run, which died and why (see the module docstring)."""
        reports: List[ThreadReport] = [self._writer.report()]
        for source in (self._thread, self._handlers, self._twin):
            if source is not None:
                reports.append(source.report())
        running = self._runner is not None
        ok = all(r.deaths == 0 and (r.alive or not running) for r in reports)
        failures = self._handlers.failures if self._handlers is not None else 0
        return TransportHealth(ok, tuple(reports), failures, self._outbox.available)

    def alive(self) -> bool:
        """True while every publisher thread runs and none has died (watchdog input)."""
        return self.health().ok

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until the broker accepted the connection; False after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._state.lock:
            while not self._state.connected:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.lock.wait(remaining)
            return True

    def publish(self, msg: OutgoingMessage) -> None:
        """Stage for commit (state, event) or hand over (mask, telemetry); never raises for
        the broker (see the module docstring for what returning guarantees)."""
        state = self._state
        with state.lock:
            state.published += 1
        limit = self._settings.max_payload_bytes
        if msg.channel != "mask" and len(msg.payload) > limit:
            self._refuse_oversize(msg, limit)
            return
        if msg.channel in DURABLE_CHANNELS:
            if self._runner is None:
                self._refuse(f"publish to {msg.topic} before start()")
                return
            ticket = self._writer.stage(msg)
            if ticket is None:
                self._refuse(f"outbox writer stalled or stopped: message to {msg.topic} refused")
                return
            if self._wait_for_commit and not self._writer.wait_committed(ticket, _COMMIT_WAIT_S):
                logger.warning("%s: not committed within %.0f s", msg.topic, _COMMIT_WAIT_S)
            return
        with state.lock:
            if not state.connected or len(state.live) >= _LIVE_QUEUE:
                state.live_dropped += 1
                return
            state.live.append(msg)
        waker = self._waker
        if waker is not None:
            waker.wake()

    def _refuse(self, error: str) -> None:
        with self._state.lock:
            self._state.refused += 1
            self._state.last_error = error
        self._losses.report("durable messages refused before the outbox", 1, error)

    def _on_commit(self) -> None:
        """Writer thread, after each commit: the sender has new rows, flush() may be done."""
        waker = self._waker
        if waker is not None:
            waker.wake()
        with self._state.lock:
            self._state.lock.notify_all()

    def _on_refused(self, count: int, reason: str) -> None:
        """Writer thread: the outbox counted and logged (rate-limited) the refusal."""
        self._state.note(reason)

    def sync(self, timeout_s: float) -> bool:
        """Wait until every message published so far is committed to the outbox file."""
        return self._writer.sync(timeout_s)

    def _refuse_oversize(self, msg: OutgoingMessage, limit: int) -> None:
        error = (
            f"refused a {len(msg.payload)}-byte payload to {msg.topic}: larger than "
            f"mqtt.max_payload_bytes = {limit}"
        )
        with self._state.lock:
            self._state.oversize += 1
            self._state.last_error = error
            last = self._oversize_logged.get(msg.topic)
            now = time.monotonic()
            due = last is None or now - last >= _OVERSIZE_LOG_EVERY_S
            if due:
                self._oversize_logged[msg.topic] = now
        if due:
            logger.warning("%s", error)

    def flush(self, timeout_s: float) -> bool:
        """Wait until everything published so far is committed and acknowledged (PUBACK), and
        no live message is queued or in flight; False after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._state.lock:
            while self._pending_locked() > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.lock.wait(min(remaining, 0.05))
            return True

    def _pending_locked(self) -> int:
        depth = self._outbox.depth() + self._writer.uncommitted() if self._runner else 0
        return depth + len(self._state.live) + self._state.live_inflight

    def stats(self) -> PublisherStats:
        """Counters since start(); ``pending`` includes rows left from an earlier run."""
        state = self._state
        outbox = self._outbox.counters() if self._runner is not None else None
        with state.lock:
            lost = state.live_dropped + state.oversize + state.refused
            if outbox is not None:
                lost += outbox.dropped + outbox.refused + outbox.expired
            return PublisherStats(
                published=state.published,
                acknowledged=state.acknowledged,
                failed=state.failed,
                dropped=lost,
                pending=self._pending_locked(),
                connected=state.connected,
                last_error=state.last_error,
            )

    def outbox_counters(self) -> OutboxCounters:
        """The outbox's depth, age and loss counters (for telemetry)."""
        return self._outbox.counters()

    @property
    def oversize(self) -> int:
        """Messages refused for exceeding mqtt.max_payload_bytes."""
        with self._state.lock:
            return self._state.oversize

    def stop(self, timeout_s: float = 5.0) -> None:
        """Drain what the broker takes within ``timeout_s``, say 'stopped', disconnect.

        Whatever is still queued stays in the outbox file and is sent after the next start.
        """
        thread, runner = self._thread, self._runner
        if thread is None or runner is None:
            return
        started_s = time.monotonic()
        runner.stop_deadline = time.monotonic() + timeout_s * 0.7
        runner.stop_grace_s = timeout_s * 0.2  # for the 'stopped' status after the drain
        thread.stopping()  # before the stop flag: an early return is then not a death
        self._stop.set()
        if self._waker is not None:
            self._waker.wake()
        if not thread.join(timeout_s):
            logger.warning("the MQTT link thread did not end within %.1f s", timeout_s)
            self._stop_twin(0.2)
            return
        self._writer.stop(timeout_s)
        if self._handlers is not None:
            self._handlers.stop(0.5)
        self._thread = None
        self._runner = None
        left = self._outbox.depth()
        self._outbox.close()
        if self._waker is not None:
            self._waker.close()
            self._waker = None
        # After the JSON status said 'stopped', so both agree when consumers look.
        self._stop_twin(max(0.2, timeout_s - (time.monotonic() - started_s)))
        if left:
            logger.info("%d message(s) stay in the outbox for the next start", left)
        logger.info("disconnected from %s:%d", self._settings.host, self._settings.port)

    def _stop_twin(self, timeout_s: float) -> None:
        if self._twin is not None:
            self._twin.stop(timeout_s)
            self._twin = None
