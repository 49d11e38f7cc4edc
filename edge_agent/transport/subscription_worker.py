"""SubscriptionWorker: MQTT subscription hooks run here, off the network thread, each guarded.

Why: a hook (a command handler, the Home Assistant birth hook) is code from elsewhere in the
agent. Run on the ``mqtt-link`` thread, one that raised killed the thread (no more sending,
while ``stats()`` still said connected) and one that blocked froze keepalives. Here the link
thread only queues the message (bounded; overflow dropped, counted, logged at most every
30 s); this thread calls the hooks one by one, logs a raising hook with its traceback, counts
it, and goes on with the next message. Replies go back to the link thread through
``on_replies`` (it queues them and wakes the link).
"""

from __future__ import annotations

import logging
import queue
from typing import Callable, List, Optional, Tuple

import paho.mqtt.client as mqtt

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.transport.loss_log import LossLog
from edge_agent.transport.watched_thread import ThreadReport, WatchedThread

logger = logging.getLogger(__name__)

MessageHook = Callable[[bytes], List[OutgoingMessage]]
QUEUE_MAX = 256
_Item = Optional[Tuple[str, str, MessageHook, bytes]]


class SubscriptionWorker:
    """One thread calling the subscription hooks (see module docstring)."""

    def __init__(
        self,
        subscriptions: List[Tuple[str, MessageHook]],
        on_replies: Callable[[List[OutgoingMessage]], None],
    ) -> None:
        self._subscriptions = list(subscriptions)
        self._on_replies = on_replies
        self._queue: "queue.Queue[_Item]" = queue.Queue(QUEUE_MAX)
        self._thread = WatchedThread("mqtt-handlers", self._run)
        self._losses = LossLog(logger)
        self.failures = 0
        """Hook calls that raised."""
        self.dropped = 0
        """Messages not handled because the queue was full."""
        self.handled = 0

    @property
    def topics(self) -> List[str]:
        """The subscribed topic filters."""
        return [pattern for pattern, _ in self._subscriptions]

    def start(self) -> None:
        """Start the handler thread."""
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Let queued messages be handled, then end the thread."""
        self._thread.stopping()
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            pass
        self._thread.join(timeout_s)

    def report(self) -> ThreadReport:
        """Liveness of the handler thread."""
        return self._thread.report()

    def submit(self, topic: str, payload: bytes) -> None:
        """Network thread: queue ``payload`` for every hook whose filter matches ``topic``."""
        for pattern, hook in self._subscriptions:
            if not mqtt.topic_matches_sub(pattern, topic):
                continue
            try:
                self._queue.put_nowait((pattern, topic, hook, payload))
            except queue.Full:
                self.dropped += 1
                self._losses.report(
                    "incoming MQTT messages dropped (handlers too slow)",
                    1,
                    f"handler queue of {QUEUE_MAX} full; last topic {topic}",
                )

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            pattern, topic, hook, payload = item
            try:
                replies = hook(payload)
            except Exception:  # noqa: BLE001 - one bad handler must not stop the others
                self.failures += 1
                logger.exception(
                    "the handler subscribed to %s raised on a message to %s; that message is "
                    "dropped, delivery goes on",
                    pattern,
                    topic,
                )
                continue
            self.handled += 1
            if replies:
                self._on_replies(list(replies))
