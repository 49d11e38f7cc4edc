"""MaskOccupancy: turns the zone coverage of mask events into retained occupancy state.

Why: mask events are 'latest only' (high rate, never stored), but a dashboard or Home
Assistant needs the current occupancy of each zone after *its* restart, and an archive needs
the changes even across an outage. So the event thread hands every mask event it builds to
this object, which answers with a retained OccupancyPayload per camera/zone for the durable
'state' channel when the value changed by at least ``min_change`` or occupancy flipped, and
at least every ``refresh_s`` otherwise. It reads the typed event, never the JSON sent.
"""

from __future__ import annotations

import time
from typing import Dict, List, Tuple

from edge_agent.events.payloads import MaskEvent, to_json_bytes
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.state_payloads import OccupancyPayload
from edge_agent.events.topics import Topics

OCCUPIED_THRESHOLD = 0.01


class MaskOccupancy:
    """Retained occupancy state per camera/zone, derived from mask events as they are built."""

    def __init__(self, topics: Topics, min_change: float = 0.02, refresh_s: float = 60.0) -> None:
        self._topics = topics
        self._min_change = min_change
        self._refresh_s = refresh_s
        self._last: Dict[Tuple[str, str], Tuple[float, float]] = {}

    def messages_for(self, event: MaskEvent) -> List[OutgoingMessage]:
        """Retained 'state' messages for the zones of ``event`` whose occupancy changed."""
        now = time.monotonic()
        messages = []
        for zone in event.zones:
            key = (event.camera_id, zone.name)
            coverage = zone.coverage
            last = self._last.get(key)
            if last is not None:
                changed = abs(coverage - last[0]) >= self._min_change or (
                    (coverage > OCCUPIED_THRESHOLD) != (last[0] > OCCUPIED_THRESHOLD)
                )
                if not changed and now - last[1] < self._refresh_s:
                    continue
            self._last[key] = (coverage, now)
            state = OccupancyPayload(
                device_id=event.device_id,
                camera_id=event.camera_id,
                zone=zone.name,
                coverage=coverage,
                occupied=coverage > OCCUPIED_THRESHOLD,
                capture_ts=event.capture_ts,
                standin=event.standin,
            )
            topic = self._topics.occupancy(event.camera_id, zone.name)
            messages.append(OutgoingMessage(topic, to_json_bytes(state), 1, True, "state"))
        return messages
