"""AckTracker: which publishes the broker has answered, counted the only truthful way.

Why a separate class: paho's MQTTMessageInfo is not trustworthy for messages published while
offline (its rc stays MQTT_ERR_NO_CONN after delivery, docs/reliability.md section 0.2), so
every message is tracked by mid and only paho's ``on_publish`` settles it. Keeping that
bookkeeping apart from the connection handling makes both small enough to reason about.

Threading: ``settle`` runs on paho's network thread, ``track`` on producer threads. paho may
call ``on_publish`` before ``client.publish()`` has returned the mid to the producer; such
early answers are parked in ``_early`` and settled when ``track`` sees the mid. paho calls
``on_publish`` while holding its own message lock, so callers must never call into paho
while they hold this tracker's lock (nothing here calls paho, so that holds by construction).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Dict, Iterable, Optional

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.transport.publisher import PublisherStats

_POLL_S = 0.1  # how often waits re-check QoS 0 messages paho dropped with a lost connection


@dataclass
class _Pending:
    """A message paho accepted and has not answered yet."""

    topic: str
    qos: int
    info: mqtt.MQTTMessageInfo


class AckTracker:
    """Thread-safe counters and pending set behind MqttPublisher.stats() and flush()."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: Dict[int, _Pending] = {}
        self._early: Dict[int, ReasonCode] = {}
        self._published = 0
        self._acknowledged = 0
        self._failed = 0
        self._dropped = 0
        self._connected = False
        self._last_error = ""

    def track(self, topic: str, qos: int, info: mqtt.MQTTMessageInfo) -> Optional[int]:
        """Record what ``client.publish()`` returned; the mid to wait on, None if dropped.

        QoS 0 is dropped by paho when there is no connection; any QoS is dropped when paho's
        queue is full. QoS 1/2 returning MQTT_ERR_NO_CONN is kept by paho and sent later.
        """
        with self._lock:
            self._published += 1
            not_kept = info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE or (
                qos == 0 and info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS
            )
            if not_kept:
                self._dropped += 1
                self._last_error = f"publish to {topic} dropped: {mqtt.error_string(info.rc)}"
                return None
            early = self._early.pop(info.mid, None)
            if early is not None:
                self._count_locked(topic, early)
            else:
                self._pending[info.mid] = _Pending(topic, qos, info)
            return info.mid

    def drop(self, error: str) -> None:
        """Count a message that never reached paho (e.g. the publisher was not started)."""
        with self._lock:
            self._published += 1
            self._dropped += 1
            self._last_error = error

    def settle(self, mid: int, reason_code: ReasonCode) -> Optional[str]:
        """Apply paho's on_publish; returns a message to log when the broker refused it."""
        with self._lock:
            entry = self._pending.pop(mid, None)
            if entry is None:
                self._early[mid] = reason_code
                return None
            return self._count_locked(entry.topic, reason_code)

    def _count_locked(self, topic: str, reason_code: ReasonCode) -> Optional[str]:
        """0x10 'No matching subscribers' and other codes below 0x80 are successes."""
        self._changed.notify_all()
        if reason_code.is_failure:
            self._failed += 1
            self._last_error = f"broker refused publish to {topic}: {reason_code}"
            return self._last_error
        self._acknowledged += 1
        return None

    def _sweep_lost_locked(self) -> None:
        """Count QoS 0 messages paho discarded when a connection dropped (no on_publish)."""
        lost = [
            mid
            for mid, entry in self._pending.items()
            if entry.qos == 0 and entry.info.rc == MQTTErrorCode.MQTT_ERR_CONN_LOST
        ]
        for mid in lost:
            del self._pending[mid]
            self._dropped += 1

    def wait_settled(self, mids: Optional[Iterable[int]], deadline: float) -> bool:
        """Wait until the given mids (None: all) are no longer pending, or time.monotonic()
        passes ``deadline``; True when nothing asked for is pending."""
        wanted = None if mids is None else set(mids)
        with self._changed:
            while True:
                self._sweep_lost_locked()
                pending = self._pending.keys()
                if not (pending if wanted is None else wanted & pending):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, _POLL_S))

    def set_connected(self, connected: bool, error: Optional[str] = None) -> bool:
        """Record the connection state (and an error, if given); returns the previous state."""
        with self._lock:
            previous = self._connected
            self._connected = connected
            if error is not None:
                self._last_error = error
            self._changed.notify_all()
            return previous

    def mark_lost(self, error: Optional[str]) -> bool:
        """Record a dropped connection; returns whether it had been up. The error is kept
        only if it had: after a refused CONNACK paho also reports a disconnect, and the
        refusal is the more useful message."""
        with self._lock:
            previous = self._connected
            self._connected = False
            if previous and error is not None:
                self._last_error = error
            self._changed.notify_all()
            return previous

    def note_error(self, error: str) -> None:
        """Remember the latest problem for stats().last_error."""
        with self._lock:
            self._last_error = error

    def wait_connected(self, deadline: float) -> bool:
        """Wait until connected or time.monotonic() passes ``deadline``."""
        with self._changed:
            while not self._connected:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def snapshot(self) -> PublisherStats:
        """A consistent copy of all counters."""
        with self._lock:
            self._sweep_lost_locked()
            return PublisherStats(
                published=self._published,
                acknowledged=self._acknowledged,
                failed=self._failed,
                dropped=self._dropped,
                pending=len(self._pending),
                connected=self._connected,
                last_error=self._last_error,
            )
