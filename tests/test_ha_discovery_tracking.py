"""Home Assistant discovery of tracking sensors: zone people counts and line counters."""

from __future__ import annotations

import json
from typing import Any, Dict

from edge_agent.events.topics import Topics
from edge_agent.settings import CameraSettings
from edge_agent.transport.ha_discovery import HaDiscovery

CAMERA = CameraSettings(
    id="lobby",
    url="x.avi",
    zones=[{"name": "door", "polygon": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]}],
    lines=[{"name": "gate", "start": [0.5, 0.0], "end": [0.5, 1.0]}],
)


def configs(tracking: bool) -> Dict[str, Dict[str, Any]]:
    discovery = HaDiscovery(Topics("ea", "dev1"), "dev1", "1.0", [CAMERA], tracking=tracking)
    return {m.topic: json.loads(m.payload) for m in discovery.messages()}


def test_tracking_adds_a_people_sensor_per_zone_and_counters_per_line() -> None:
    without, with_tracking = configs(False), configs(True)
    added = {t: c for t, c in with_tracking.items() if t not in without}
    assert set(added) == {
        "homeassistant/sensor/dev1/lobby_door_person/config",
        "homeassistant/sensor/dev1/lobby_gate_in/config",
        "homeassistant/sensor/dev1/lobby_gate_out/config",
    }
    person = added["homeassistant/sensor/dev1/lobby_door_person/config"]
    assert person["state_topic"] == "ea/dev1/lobby/zone/door/person"
    assert person["json_attributes_topic"] == "ea/dev1/lobby/zone/door/count"
    assert person["state_class"] == "measurement"
    gate_in = added["homeassistant/sensor/dev1/lobby_gate_in/config"]
    assert gate_in["state_topic"] == "ea/dev1/lobby/line/gate/in"
    assert gate_in["state_class"] == "total_increasing", "a reset to 0 starts a new cycle"
    assert gate_in["availability_topic"] == "ea/dev1/status"
    unique = [c["unique_id"] for c in with_tracking.values()]
    assert len(unique) == len(set(unique))
    coverage = with_tracking["homeassistant/sensor/dev1/lobby_door_coverage/config"]
    assert coverage["state_topic"] != person["state_topic"]
