"""Home Assistant MQTT discovery: the device status, zone coverage and, with tracking, counts.

Sensors: one for the device status; per camera/zone a coverage sensor (segmentation, %); with
models.tracking also a people-count sensor per zone (state_class measurement) and an 'in' and
an 'out' counter per line (state_class total_increasing: HA reads the drop to 0 at a reset as
a new meter cycle, so long-term statistics stay right across resets).

Why discovery and not a custom integration: HA then finds every zone sensor by itself
(docs/mqtt-anchors.md b.8, d.9), next to the generic topic tree. Configs are retained and
sent after every connect and again when ``homeassistant/status`` turns 'online' (HA restarted
and lost non-retained state). Availability reads the JSON status topic, whose 'offline' is the
broker's last will, so HA marks the sensors unavailable when the agent dies.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.topics import Topics
from edge_agent.settings.cameras import CameraSettings


def _config(topic: str, body: Dict[str, Any]) -> OutgoingMessage:
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return OutgoingMessage(topic, payload, 1, True, "state")


class HaDiscovery:
    """Builds the retained discovery configs of one device."""

    def __init__(
        self,
        topics: Topics,
        device_id: str,
        version: str,
        cameras: List[CameraSettings],
        prefix: str = "homeassistant",
        tracking: bool = False,
        pose_classes: Sequence[str] = (),
    ) -> None:
        self._topics = topics
        self._device_id = device_id
        self._version = version
        self._cameras = cameras
        self._prefix = prefix
        self._tracking = tracking
        # With models.pose: one sensor per zone and pose class (+ 'unknown'), read from the
        # zone's retained PoseZoneCountPayload ("3 sitting in zone lounge").
        self._pose_classes = list(pose_classes)

    @property
    def status_topic(self) -> str:
        """Where HA announces itself ('online' after it starts)."""
        return f"{self._prefix}/status"

    def _device(self) -> Dict[str, Any]:
        return {
            "identifiers": [self._device_id],
            "name": f"edge-agent {self._device_id}",
            "manufacturer": "edge-agent",
            "sw_version": self._version,
        }

    def _availability(self) -> Dict[str, Any]:
        return {
            "availability_topic": self._topics.status,
            "availability_template": "{{ value_json.state }}",
            "payload_available": "online",
            "payload_not_available": "offline",
        }

    def messages(self) -> List[OutgoingMessage]:
        """All configs: the device status sensor first, then one sensor per zone."""
        device = self._device()
        status_id = f"{self._device_id}_status"
        messages = [
            _config(
                self._topics.ha_config(self._prefix, "sensor", "status"),
                {
                    "name": "Status",
                    "unique_id": status_id,
                    "state_topic": self._topics.status,
                    "value_template": "{{ value_json.state }}",
                    "json_attributes_topic": self._topics.status,
                    "device": device,
                },
            )
        ]
        for camera in self._cameras:
            for zone in camera.zones:
                object_id = f"{camera.id}_{zone.name}_coverage"
                messages.append(
                    _config(
                        self._topics.ha_config(self._prefix, "sensor", object_id),
                        {
                            "name": f"{camera.id} {zone.name} person coverage",
                            "unique_id": f"{self._device_id}_{object_id}",
                            "state_topic": self._topics.occupancy(camera.id, zone.name),
                            "value_template": "{{ (value_json.coverage * 100) | round(1) }}",
                            "unit_of_measurement": "%",
                            "state_class": "measurement",
                            "json_attributes_topic": self._topics.occupancy(camera.id, zone.name),
                            "device": device,
                            **self._availability(),
                        },
                    )
                )
        if self._tracking:
            messages.extend(self._tracking_sensors(device))
        if self._pose_classes:
            messages.extend(self._pose_sensors(device))
        return messages

    def _sensor(self, object_id: str, body: Dict[str, Any]) -> OutgoingMessage:
        return _config(
            self._topics.ha_config(self._prefix, "sensor", object_id),
            {"unique_id": f"{self._device_id}_{object_id}", **body, **self._availability()},
        )

    def _tracking_sensors(self, device: Dict[str, Any]) -> List[OutgoingMessage]:
        """People count per zone and in/out counters per line (plain-number topics)."""
        out = []
        for camera in self._cameras:
            for zone in camera.zones:
                out.append(self._sensor(f"{camera.id}_{zone.name}_person", {
                    "name": f"{camera.id} {zone.name} people",
                    "state_topic": self._topics.zone_person(camera.id, zone.name),
                    "json_attributes_topic": self._topics.zone_count(camera.id, zone.name),
                    "unit_of_measurement": "people",
                    "state_class": "measurement",
                    "icon": "mdi:account-group",
                    "device": device,
                }))
            for line in camera.lines:
                for way in ("in", "out"):
                    topic = (self._topics.line_in if way == "in" else self._topics.line_out)(
                        camera.id, line.name
                    )
                    out.append(self._sensor(f"{camera.id}_{line.name}_{way}", {
                        "name": f"{camera.id} {line.name} {way}",
                        "state_topic": topic,
                        "json_attributes_topic": self._topics.line_count(camera.id, line.name),
                        "unit_of_measurement": "people",
                        "state_class": "total_increasing",
                        "icon": "mdi:counter",
                        "device": device,
                    }))
        return out

    def _pose_sensors(self, device: Dict[str, Any]) -> List[OutgoingMessage]:
        """People per pose class per zone, from the retained pose-count JSON."""
        out = []
        for camera in self._cameras:
            for zone in camera.zones:
                topic = self._topics.zone_pose(camera.id, zone.name)
                for pose in [*self._pose_classes, "unknown"]:
                    out.append(self._sensor(f"{camera.id}_{zone.name}_pose_{pose}", {
                        "name": f"{camera.id} {zone.name} {pose.replace('_', ' ')}",
                        "state_topic": topic,
                        "value_template": f"{{{{ value_json.counts.get('{pose}', 0) }}}}",
                        "json_attributes_topic": topic,
                        "unit_of_measurement": "people",
                        "state_class": "measurement",
                        "icon": "mdi:human",
                        "device": device,
                    }))
        return out

    def set_cameras(self, cameras: List[CameraSettings]) -> List[OutgoingMessage]:
        """Switch to a new camera list (reload); the configs to send now.

        Added sensors get their config; a sensor that no longer exists gets an empty retained
        config, which is how MQTT discovery removes an entity from Home Assistant. Unchanged
        sensors are re-sent too (retained, idempotent), so HA always matches the config.
        """
        before = {message.topic for message in self.messages()}
        self._cameras = list(cameras)
        now = self.messages()
        gone = sorted(before - {message.topic for message in now})
        return now + [OutgoingMessage(topic, b"", 1, True, "state") for topic in gone]

    def on_ha_status(self, payload: bytes) -> List[OutgoingMessage]:
        """Re-announce when Home Assistant comes (back) online."""
        return self.messages() if payload.strip() == b"online" else []
