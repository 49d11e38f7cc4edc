"""SendWindow: what the link thread has sent and not yet heard back about, and what to send next.

Why apart from LinkRunner: the connection life cycle (connect, backoff, drain, stop) and the
per-message bookkeeping (windows, PUBACK settlement, replay marking, batched deletes) change
for different reasons; both run on the ``mqtt-link`` thread only, so nothing here locks
except where DeliveryState is shared with producers.

Order of sending on each fill: priority messages (status, HA discovery, replies), then
latest-only live messages (at most LIVE_INFLIGHT_MAX in flight), then committed outbox rows
in id order within ``max_inflight``; rows with id <= the backlog mark (they existed when the
connection came up) are sent with ``replayed: true``.
"""

from __future__ import annotations

import logging
import time
from typing import Dict, List, Tuple

from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.transport.delivery import DeliveryState, Inflight, mark_replayed
from edge_agent.transport.link import MqttLink
from edge_agent.transport.outbox import Outbox
from edge_agent.transport.outbox_writer import OutboxWriter

logger = logging.getLogger(__name__)

LIVE_INFLIGHT_MAX = 16
_DELETE_BATCH = 512
_DELETE_DELAY_S = 0.05


class SendWindow:
    """In-flight messages of the current connection and the outbox cursor."""

    def __init__(
        self, max_inflight: int, outbox: Outbox, writer: OutboxWriter, state: DeliveryState
    ) -> None:
        self._max_inflight = max_inflight
        self._outbox = outbox
        self._writer = writer
        self._state = state
        self.priority: List[OutgoingMessage] = []
        self._inflight: Dict[int, Inflight] = {}
        self._early: Dict[int, ReasonCode] = {}
        self._acked: List[int] = []
        self._acked_since = 0.0
        self._cursor = 0
        self._backlog_mark = 0

    @property
    def busy(self) -> bool:
        """Something to send or delete soon: the link should poll faster."""
        return bool(self._acked) or bool(self.priority)

    @property
    def idle(self) -> bool:
        """Nothing in flight."""
        return not self._inflight

    def start_session(self, priority: List[OutgoingMessage]) -> None:
        """A CONNACK arrived: send ``priority`` first, then the outbox from its first row."""
        self._backlog_mark = self._outbox.max_id()
        self._cursor = 0
        self.priority = priority

    def fill(self, link: MqttLink) -> None:
        """Send priority messages, then live ones, then outbox rows, within the windows."""
        if self._state.replies:
            with self._state.lock:
                self.priority.extend(self._state.replies)
                self._state.replies.clear()
        if self.priority:
            with self._state.lock:
                self._state.published += len(self.priority)
        for msg in self.priority:
            entry = Inflight(msg.topic, msg.channel, None)
            self._send(link, msg.topic, msg.payload, msg.qos, msg.retain, entry)
        self.priority.clear()
        state = self._state
        while True:
            with state.lock:
                if not state.live or state.live_inflight >= LIVE_INFLIGHT_MAX:
                    break
                msg = state.live.popleft()
                state.live_inflight += 1
            entry = Inflight(msg.topic, msg.channel, None, live=True)
            self._send(link, msg.topic, msg.payload, msg.qos, msg.retain, entry)
        durable = sum(1 for entry in self._inflight.values() if entry.row_id is not None)
        room = self._max_inflight - durable
        if room <= 0:
            return
        for row in self._outbox.fetch(self._cursor, room):
            payload = mark_replayed(row.payload) if row.id <= self._backlog_mark else row.payload
            entry = Inflight(row.topic, "event", row.id)
            self._send(link, row.topic, payload, row.qos, row.retain, entry)
            self._cursor = row.id

    def _send(
        self, link: MqttLink, topic: str, payload: bytes, qos: int, retain: bool, entry: Inflight
    ) -> None:
        mid = link.publish(topic, payload, qos, retain)
        early = self._early.pop(mid, None)
        if early is not None:
            self._settle(entry, early)
        else:
            self._inflight[mid] = entry

    def on_publish(self, mid: int, reason_code: ReasonCode) -> None:
        """paho's PUBACK callback (QoS 0: written out); may come before publish() returned."""
        entry = self._inflight.pop(mid, None)
        if entry is None:
            self._early[mid] = reason_code
            return
        self._settle(entry, reason_code)

    def _settle(self, entry: Inflight, reason_code: ReasonCode) -> None:
        state = self._state
        with state.lock:
            if entry.live:
                state.live_inflight = max(0, state.live_inflight - 1)
            if reason_code.is_failure:
                state.failed += 1
                state.last_error = f"broker refused publish to {entry.topic}: {reason_code}"
            else:
                state.acknowledged += 1
            state.lock.notify_all()
        if reason_code.is_failure:
            if entry.row_id is not None:
                self._outbox.reject(entry.row_id, int(reason_code.value))
            logger.warning(
                "broker refused publish to %s: %s (0x%02x)%s",
                entry.topic,
                reason_code,
                reason_code.value,
                "; kept in the outbox as rejected" if entry.row_id else "",
            )
        elif entry.row_id is not None:
            if not self._acked:
                self._acked_since = time.monotonic()
            self._acked.append(entry.row_id)

    def hand_over_acks(self, force: bool) -> None:
        """Give acknowledged row ids to the writer for deletion, in batches."""
        if self._acked and (
            force
            or len(self._acked) >= _DELETE_BATCH
            or time.monotonic() - self._acked_since >= _DELETE_DELAY_S
        ):
            acked, self._acked = self._acked, []
            self._writer.delete(acked)

    def forget(self) -> Tuple[int, int]:
        """The connection ended: drop the window (rows stay in the outbox); returns
        (live messages lost, outbox rows to replay)."""
        lost_live = sum(1 for entry in self._inflight.values() if entry.live)
        replay = sum(1 for entry in self._inflight.values() if entry.row_id is not None)
        self._inflight.clear()
        self._early.clear()
        self.priority.clear()
        self.hand_over_acks(force=True)
        return lost_live, replay
