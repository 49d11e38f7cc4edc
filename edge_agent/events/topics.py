"""MQTT topic names, built in one place so the layout is documented and testable.

Layout (``<root>`` = ``<prefix>/<device_id>``)::

    <root>/status               retained JSON StatusPayload (online | offline | stopped)
    <root>/available            retained plain text twin: online | offline | stopped
                                (Home Assistant ``availability_topic`` reads it as is)
    <root>/telemetry            periodic stats JSON
    <root>/<camera_id>/mask     MaskEvent JSON
    <root>/<camera_id>/<kind>   other per-camera events
    <root>/<camera_id>/zone/<zone>/occupancy   retained OccupancyPayload JSON: the share of the
                                zone covered by person pixels (segmentation), occupied yes/no
    <root>/<camera_id>/track    TrackEvent JSON (new | update | end), durable, not retained
    <root>/<camera_id>/zone/<zone>/person         people counted in the zone (tracking), plain
                                integer, retained (Frigate-style)
    <root>/<camera_id>/zone/<zone>/person/active  of those, people moving; plain integer, retained
    <root>/<camera_id>/zone/<zone>/count          retained ZoneCountPayload JSON of both
    <root>/<camera_id>/line/<line>/in|out         crossings since the last reset, plain
                                integer, retained
    <root>/<camera_id>/line/<line>/count          retained LineCountPayload JSON {"in", "out",
                                "since", ...}
    <root>/<camera_id>/pose     PoseEvent JSON: a tracked person's pose class changed, durable
    <root>/<camera_id>/keypoints  PoseKeypointsMessage JSON (opt-in, rate-limited per track)
    <root>/<camera_id>/zone/<zone>/pose           retained PoseZoneCountPayload JSON: people
                                in the zone per pose class ("3 sitting in zone lounge")
    <root>/cmd/<verb>           commands to this device (the only topics it may read)
    <ha_prefix>/sensor/<device_id>/<object_id>/config   Home Assistant discovery (retained)

Coverage (`occupancy`, from segmentation) and head counts (`person`, `count`, from tracking)
are different measurements and live on different leaves of the same zone, so one zone name
never means two numbers on one topic. The camera level is always present, so equal zone names
on two cameras never collide. Every level is checked: '+' and '#' are subscription wildcards
and '/' would add a level, so any of them in an id would make topics collide or become
unpublishable.
"""

from __future__ import annotations

import re

_FORBIDDEN = re.compile(r"[+#/\x00]")

RESERVED_LEVELS = frozenset({
    "status", "available", "telemetry", "cmd",  # device level, beside the camera ids
    "mask", "track", "zone", "line",  # camera level, beside nothing user-named today
    "occupancy", "person", "active", "count", "in", "out",  # zone and line leaves
})
"""Topic levels the agent writes itself. A camera id, zone or line name equal to one of them
(in any case) is refused at config check: a camera called 'status' would publish its events
under the device's status topic, and a consumer subscribing to `<root>/+/track` or
`<root>/status` could no longer tell the two apart."""
_MAX_TOPIC_BYTES = 65535


def check_level(value: str, what: str) -> str:
    """Return ``value`` if it can be one topic level, else raise ValueError naming ``what``."""
    if not value:
        raise ValueError(f"{what} must not be empty (it is a topic level)")
    if _FORBIDDEN.search(value):
        raise ValueError(
            f"{what} {value!r} must not contain '/', '+', '#' or NUL (it is one topic level)"
        )
    return value


class Topics:
    """The topic names of one device."""

    def __init__(self, prefix: str, device_id: str) -> None:
        self._prefix = check_level(prefix, "topic prefix")
        self._device_id = check_level(device_id, "device id")

    @property
    def root(self) -> str:
        """``<prefix>/<device_id>``: everything this device publishes lies below it."""
        return f"{self._prefix}/{self._device_id}"

    @property
    def status(self) -> str:
        """Retained JSON status; also the topic of the will."""
        return f"{self.root}/status"

    @property
    def available(self) -> str:
        """Retained plain-text twin of ``status`` for tools that want a bare word."""
        return f"{self.root}/available"

    @property
    def telemetry(self) -> str:
        """Periodic statistics."""
        return f"{self.root}/telemetry"

    def event(self, camera_id: str, kind: str) -> str:
        """``<root>/<camera_id>/<kind>`` for events of one camera."""
        topic = (
            f"{self.root}/{check_level(camera_id, 'camera id')}/{check_level(kind, 'event kind')}"
        )
        if len(topic.encode("utf-8")) > _MAX_TOPIC_BYTES:
            raise ValueError(f"topic is longer than {_MAX_TOPIC_BYTES} bytes: {topic[:80]}...")
        return topic

    def mask(self, camera_id: str) -> str:
        """``<root>/<camera_id>/mask`` for MaskEvent documents."""
        return self.event(camera_id, "mask")

    def zone(self, camera_id: str, zone: str) -> str:
        """``<root>/<camera_id>/zone/<zone>``: the base of every topic of one zone."""
        camera = check_level(camera_id, "camera id")
        return f"{self.root}/{camera}/zone/{check_level(zone, 'zone name')}"

    def occupancy(self, camera_id: str, zone: str) -> str:
        """``<root>/<camera_id>/zone/<zone>/occupancy``: retained OccupancyPayload (coverage)."""
        return f"{self.zone(camera_id, zone)}/occupancy"

    def track(self, camera_id: str) -> str:
        """``<root>/<camera_id>/track``: TrackEvent documents."""
        return self.event(camera_id, "track")

    def zone_person(self, camera_id: str, zone: str) -> str:
        """``…/zone/<zone>/person``: retained plain-integer people count."""
        return f"{self.zone(camera_id, zone)}/person"

    def zone_person_active(self, camera_id: str, zone: str) -> str:
        """``…/zone/<zone>/person/active``: retained plain-integer count of moving people."""
        return f"{self.zone(camera_id, zone)}/person/active"

    def zone_count(self, camera_id: str, zone: str) -> str:
        """``…/zone/<zone>/count``: retained ZoneCountPayload JSON."""
        return f"{self.zone(camera_id, zone)}/count"

    def pose(self, camera_id: str) -> str:
        """``<root>/<camera_id>/pose``: PoseEvent documents."""
        return self.event(camera_id, "pose")

    def keypoints(self, camera_id: str) -> str:
        """``<root>/<camera_id>/keypoints``: opt-in PoseKeypointsMessage documents."""
        return self.event(camera_id, "keypoints")

    def zone_pose(self, camera_id: str, zone: str) -> str:
        """``…/zone/<zone>/pose``: retained PoseZoneCountPayload JSON."""
        return f"{self.zone(camera_id, zone)}/pose"

    def line(self, camera_id: str, line: str) -> str:
        """``<root>/<camera_id>/line/<line>``: the base of every topic of one counting line."""
        camera = check_level(camera_id, "camera id")
        return f"{self.root}/{camera}/line/{check_level(line, 'line name')}"

    def line_in(self, camera_id: str, line: str) -> str:
        """``…/line/<line>/in``: retained plain-integer crossings in since the last reset."""
        return f"{self.line(camera_id, line)}/in"

    def line_out(self, camera_id: str, line: str) -> str:
        """``…/line/<line>/out``: retained plain-integer crossings out since the last reset."""
        return f"{self.line(camera_id, line)}/out"

    def line_count(self, camera_id: str, line: str) -> str:
        """``…/line/<line>/count``: retained LineCountPayload JSON."""
        return f"{self.line(camera_id, line)}/count"

    @property
    def plan(self) -> str:
        """Retained plan of the power-aware scheduler."""
        return f"{self.root}/plan"

    @property
    def plan_event(self) -> str:
        """One event per re-plan (why, what changed)."""
        return f"{self.root}/plan/event"

    @property
    def commands(self) -> str:
        """``<root>/cmd/#``: the subscription for commands addressed to this device."""
        return f"{self.root}/cmd/#"

    def ha_config(self, ha_prefix: str, component: str, object_id: str) -> str:
        """Home Assistant discovery topic ``<ha_prefix>/<component>/<device_id>/<id>/config``."""
        prefix = check_level(ha_prefix, "discovery prefix")
        component = check_level(component, "component")
        object_id = check_level(object_id, "object id")
        return f"{prefix}/{component}/{self._device_id}/{object_id}/config"
