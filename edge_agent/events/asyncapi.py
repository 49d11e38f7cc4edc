"""The MQTT API as an AsyncAPI 3.0 document, built from the code that publishes it.

Why built and not hand-written: topics come from Topics, QoS/retain from the channel policy
and the JSON Schemas from the pydantic models, so docs/asyncapi.yaml is a rendering of this
dict and tests/test_asyncapi.py fails when the two differ (regenerate with
``EDGE_AGENT_REGEN_ASYNCAPI=1 pytest tests/test_asyncapi.py``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple, Type

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from edge_agent.events.payloads import MaskEvent, StatusPayload
from edge_agent.events.plan_payloads import PlanPayload, ReplanEvent
from edge_agent.events.pose_payloads import PoseEvent, PoseKeypointsMessage, PoseZoneCountPayload
from edge_agent.events.state_payloads import OccupancyPayload, TelemetryPayload
from edge_agent.events.topics import Topics
from edge_agent.events.track_payloads import LineCountPayload, TrackEvent, ZoneCountPayload

_T = Topics("{prefix}", "{device_id}")  # the real topic builder, with placeholders

_PARAMETERS = {
    "prefix": {"description": "mqtt.topic_prefix (default 'edge-agent')."},
    "device_id": {"description": "device.id, or derived from /etc/machine-id."},
    "camera_id": {"description": "cameras[].id."},
    "zone": {"description": "cameras[].zones[].name."},
    "line": {"description": "cameras[].lines[].name."},
    "ha_prefix": {"description": "mqtt.ha_discovery_prefix (default 'homeassistant')."},
    "object_id": {
        "description": (
            "'status', '<camera_id>_<zone>_coverage', and with models.tracking: "
            "'<camera_id>_<zone>_person', '<camera_id>_<line>_in', '<camera_id>_<line>_out'; "
            "with models.pose: '<camera_id>_<zone>_pose_<class>' per pose class and 'unknown'."
        )
    },
}

# Payload of the plain-text channels (contentType text/plain), in place of a model.
_TEXT = {"type": "string"}
_COUNT = {"type": "string", "pattern": "^[0-9]+$", "description": "A non-negative integer."}
_TRACKING = " Only with models.tracking.enabled."
_POSE = " Only with models.pose.enabled (which needs models.tracking)."

# name, address, message, payload model (None: plain text), qos, retain, durable, summary
_CHANNELS: List[Tuple[str, str, str, Any, int, bool, str, str]] = [
    (
        "status",
        _T.status,
        "Status",
        StatusPayload,
        1,
        True,
        "connection",
        "Availability with a session counter; 'offline' is the last will of that session.",
    ),
    (
        "available",
        _T.available,
        "Available",
        _TEXT,
        1,
        True,
        "connection",
        "Plain-text twin of status: 'online' or 'stopped' (Home Assistant availability).",
    ),
    (
        "telemetry",
        _T.telemetry,
        "Telemetry",
        TelemetryPayload,
        1,
        False,
        "latest-only",
        "Health every mqtt.telemetry_interval_s seconds.",
    ),
    (
        "plan",
        _T.plan,
        "Plan",
        PlanPayload,
        1,
        True,
        "durable",
        "The power-aware scheduler's plan (rates, placement, shed tasks, planned vs achieved); "
        "re-sent on every re-plan. Only with models.scheduler planned.",
    ),
    (
        "plan_event",
        _T.plan_event,
        "ReplanEvent",
        ReplanEvent,
        1,
        False,
        "durable",
        "One event per re-plan: the reason (power mode, clock, throttling, cameras, latency "
        "drift) and what changed per task.",
    ),
    (
        "occupancy",
        _T.occupancy("{camera_id}", "{zone}"),
        "Occupancy",
        OccupancyPayload,
        1,
        True,
        "durable",
        "Person coverage of one zone, on change and at least every 60 s.",
    ),
    (
        "track",
        _T.track("{camera_id}"),
        "TrackEvent",
        TrackEvent,
        1,
        False,
        "durable",
        "Track lifecycle (new | update | end) of one person; updates at most every "
        "models.tracking.update_interval_s unless zones change." + _TRACKING,
    ),
    (
        "zonePerson",
        _T.zone_person("{camera_id}", "{zone}"),
        "ZonePerson",
        _COUNT,
        1,
        True,
        "durable",
        "People whose foot point is in the zone (tracking head count, not pixel coverage), "
        "on change; restored after a restart." + _TRACKING,
    ),
    (
        "zonePersonActive",
        _T.zone_person_active("{camera_id}", "{zone}"),
        "ZonePersonActive",
        _COUNT,
        1,
        True,
        "durable",
        "Of those, people moving faster than models.tracking.active_min_speed." + _TRACKING,
    ),
    (
        "zoneCount",
        _T.zone_count("{camera_id}", "{zone}"),
        "ZoneCount",
        ZoneCountPayload,
        1,
        True,
        "durable",
        "JSON twin of zonePerson and zonePersonActive, with restored=true while the value "
        "is the one saved before a restart." + _TRACKING,
    ),
    (
        "lineIn",
        _T.line_in("{camera_id}", "{line}"),
        "LineIn",
        _COUNT,
        1,
        True,
        "durable",
        "Crossings 'in' since the last reset (cameras[].lines[].reset_interval_s; drops to 0 "
        "at a reset, like a meter starting a new cycle)." + _TRACKING,
    ),
    (
        "lineOut",
        _T.line_out("{camera_id}", "{line}"),
        "LineOut",
        _COUNT,
        1,
        True,
        "durable",
        "Crossings 'out' since the last reset." + _TRACKING,
    ),
    (
        "lineCount",
        _T.line_count("{camera_id}", "{line}"),
        "LineCount",
        LineCountPayload,
        1,
        True,
        "durable",
        "JSON twin of lineIn and lineOut, with 'since', the start of the interval." + _TRACKING,
    ),
    (
        "pose",
        _T.pose("{camera_id}"),
        "PoseEvent",
        PoseEvent,
        1,
        False,
        "durable",
        "A tracked person's stable pose class changed (states sitting, standing, walking; "
        "actions sitting_down, getting_up, jumping); `id` is the track's id." + _POSE,
    ),
    (
        "keypoints",
        _T.keypoints("{camera_id}"),
        "PoseKeypoints",
        PoseKeypointsMessage,
        1,
        False,
        "latest-only",
        "One tracked person's 34 keypoints, at most every "
        "models.pose.keypoint_messages.min_interval_s per track. Opt-in "
        "(models.pose.keypoint_messages.enabled)." + _POSE,
    ),
    (
        "zonePose",
        _T.zone_pose("{camera_id}", "{zone}"),
        "PoseZoneCount",
        PoseZoneCountPayload,
        1,
        True,
        "durable",
        "People in one zone per pose class ('unknown': pose not known yet), sent when a "
        "count changes." + _POSE,
    ),
    (
        "mask",
        _T.mask("{camera_id}"),
        "MaskEvent",
        MaskEvent,
        1,
        False,
        "latest-only",
        "One segmentation event per processed frame (the per-frame event stream).",
    ),
    (
        "haDiscovery",
        _T.ha_config("{ha_prefix}", "sensor", "{object_id}"),
        "HaDiscoveryConfig",
        None,
        1,
        True,
        "connection",
        "Home Assistant MQTT discovery configs; re-sent when homeassistant/status is 'online'.",
    ),
]


def _schemas() -> Dict[str, Any]:
    models: List[Type[BaseModel]] = [
        MaskEvent, StatusPayload, OccupancyPayload, TelemetryPayload, TrackEvent,
        ZoneCountPayload, LineCountPayload, PlanPayload, ReplanEvent, PoseEvent,
        PoseKeypointsMessage, PoseZoneCountPayload,
    ]
    _, top = models_json_schema(
        [(model, "serialization") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    return dict(sorted(top.get("$defs", {}).items()))


def _params(address: str) -> Dict[str, Any]:
    names = [part.strip("{}") for part in address.split("/") if part.startswith("{")]
    return {name: dict(_PARAMETERS[name]) for name in names}


def build_document(version: str) -> Dict[str, Any]:
    """The whole AsyncAPI document as plain data (what docs/asyncapi.yaml must load to)."""
    channels: Dict[str, Any] = {}
    operations: Dict[str, Any] = {}
    messages: Dict[str, Any] = {}
    for name, address, message, model, qos, retain, policy, summary in _CHANNELS:
        channels[name] = {
            "address": address,
            "description": f"{summary} Delivery: {policy}.",
            "parameters": _params(address),
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        }
        text = isinstance(model, dict)
        payload: Dict[str, Any] = (
            dict(model)
            if text
            else {"$ref": f"#/components/schemas/{model.__name__}"}
            if model is not None
            else {"type": "object"}
        )
        messages[message] = {
            "name": message,
            "contentType": "text/plain" if text else "application/json",
            "payload": payload,
        }
        operations[f"send{name[0].upper()}{name[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "bindings": {"mqtt": {"qos": qos, "retain": retain, "bindingVersion": "0.2.0"}},
        }
    channels["haStatus"] = {
        "address": "{ha_prefix}/status",
        "description": "Home Assistant's birth/will; 'online' makes the agent re-announce.",
        "parameters": _params("{ha_prefix}/status"),
        "messages": {"HaStatus": {"$ref": "#/components/messages/HaStatus"}},
    }
    messages["HaStatus"] = {
        "name": "HaStatus",
        "contentType": "text/plain",
        "payload": {"type": "string", "enum": ["online", "offline"]},
    }
    operations["receiveHaStatus"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/haStatus"},
        "bindings": {"mqtt": {"qos": 1, "bindingVersion": "0.2.0"}},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "edge-agent MQTT API",
            "version": version,
            "description": (
                "What one edge-agent device publishes. Durable channels (occupancy, track, "
                "zone counts, line counters) go "
                "through the on-disk outbox: at least once, in order, copies sent after an "
                "outage carry replayed=true. Latest-only channels (mask, telemetry) are "
                "dropped while disconnected. Non-mask payloads are at most "
                "mqtt.max_payload_bytes (default 8192) bytes."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "broker.local:8883",
                "protocol": "mqtt",
                "protocolVersion": "5",
                "description": "TLS (mqtt.tls_ca_file) with a client certificate per device "
                "or username/password; see deploy/mosquitto/.",
                "bindings": {
                    "mqtt": {
                        "clientId": "{prefix}-{device_id}",
                        "cleanSession": False,
                        "keepAlive": 30,
                        "sessionExpiryInterval": 3600,
                        "lastWill": {
                            "topic": _T.status,
                            "qos": 1,
                            "message": '{"state":"offline","session":<n>,...}',
                            "retain": True,
                        },
                        "bindingVersion": "0.2.0",
                    }
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _schemas()},
    }
