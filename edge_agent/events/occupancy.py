"""OccupancyTap: turns the zone coverage inside mask events into retained occupancy state.

Why a Publisher wrapper: mask events are 'latest only' (high rate, never stored), but a
dashboard or Home Assistant needs the current occupancy of each zone after *its* restart, and
an archive needs the changes even across an outage. So every mask event passing through is
read, and a retained OccupancyPayload per camera/zone goes to the durable 'state' channel when
the value changed by at least ``min_change`` or occupancy flipped, and at least every
``refresh_s`` otherwise. The pipeline keeps publishing through the one Publisher it knows.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Dict, Tuple

from edge_agent.events.payloads import to_json_bytes
from edge_agent.events.state_payloads import OccupancyPayload
from edge_agent.events.topics import Topics
from edge_agent.transport.publisher import OutgoingMessage, Publisher, PublisherStats

logger = logging.getLogger(__name__)

OCCUPIED_THRESHOLD = 0.01


class OccupancyTap:
    """A Publisher that forwards everything and derives occupancy state from mask events."""

    def __init__(
        self,
        inner: Publisher,
        topics: Topics,
        min_change: float = 0.02,
        refresh_s: float = 60.0,
    ) -> None:
        self._inner = inner
        self._topics = topics
        self._min_change = min_change
        self._refresh_s = refresh_s
        self._last: Dict[Tuple[str, str], Tuple[float, float]] = {}

    def publish(self, msg: OutgoingMessage) -> None:
        """Forward ``msg``; for a mask event, also publish changed zone occupancy."""
        self._inner.publish(msg)
        if msg.channel == "mask":
            try:
                self._derive(json.loads(msg.payload))
            except (ValueError, KeyError, TypeError) as exc:
                logger.debug("no occupancy from %s: %s", msg.topic, exc)

    def _derive(self, event: Dict[str, object]) -> None:
        camera = str(event["camera_id"])
        zones = event.get("zones") or []
        assert isinstance(zones, list)
        now = time.monotonic()
        for zone in zones:
            name, coverage = str(zone["name"]), float(zone["coverage"])
            key = (camera, name)
            last = self._last.get(key)
            if last is not None:
                changed = abs(coverage - last[0]) >= self._min_change or (
                    (coverage > OCCUPIED_THRESHOLD) != (last[0] > OCCUPIED_THRESHOLD)
                )
                if not changed and now - last[1] < self._refresh_s:
                    continue
            self._last[key] = (coverage, now)
            state = OccupancyPayload(
                device_id=str(event["device_id"]),
                camera_id=camera,
                zone=name,
                coverage=coverage,
                occupied=coverage > OCCUPIED_THRESHOLD,
                capture_ts=float(str(event["capture_ts"])),
                standin=bool(event["standin"]),
            )
            topic = self._topics.occupancy(camera, name)
            self._inner.publish(OutgoingMessage(topic, to_json_bytes(state), 1, True, "state"))

    def flush(self, timeout_s: float) -> bool:
        """Same as the wrapped publisher."""
        return self._inner.flush(timeout_s)

    def stats(self) -> PublisherStats:
        """Same as the wrapped publisher."""
        return self._inner.stats()
