"""Topic names of people tracking (proposed; see events/track_payloads.py for payloads).

Layout under ``<root>/<camera_id>/``::

    track                     TrackEvent JSON (new | update | end), QoS 1, not retained
    zone/<zone>/person        people in the zone, plain integer, retained
    zone/<zone>/person/active people moving in the zone, plain integer, retained
    zone/<zone>/people        ZoneCountPayload JSON, retained
    line/<line>/in            crossings in since the last reset, plain integer, retained
    line/<line>/out           crossings out, plain integer, retained
    line/<line>               LineCountPayload JSON ({"in", "out", "since", ...}), retained

The camera level is always present, so equal zone names on two cameras never collide.
"""

from __future__ import annotations

from edge_agent.events.topics import check_level


class TrackingTopics:
    """Topic builder for one device root (``<prefix>/<device_id>``)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def _camera(self, camera_id: str) -> str:
        return f"{self.root}/{check_level(camera_id, 'camera id')}"

    def track(self, camera_id: str) -> str:
        """Track lifecycle events of a camera."""
        return f"{self._camera(camera_id)}/track"

    def zone(self, camera_id: str, zone: str) -> str:
        """Base of a zone's count topics: ``…/zone/<zone>``."""
        return f"{self._camera(camera_id)}/zone/{check_level(zone, 'zone name')}"

    def line(self, camera_id: str, line: str) -> str:
        """JSON counter topic of a line (and base of its in/out scalars)."""
        return f"{self._camera(camera_id)}/line/{check_level(line, 'line name')}"
