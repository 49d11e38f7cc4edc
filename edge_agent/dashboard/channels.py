"""The documented channels the dashboard and the exporter read, and how a topic maps to one.

One table (CHANNELS) names, per AsyncAPI channel, the address template exactly as
docs/asyncapi.yaml writes it and the pydantic model of its payload; subscriptions and topic
parsing are both derived from it, and tests/test_dashboard_contract.py checks the table
against the document, so the dashboard cannot quietly depend on an undocumented topic.

Not read: `mask` (large, per frame: coverage arrives on `occupancy`), the plain-integer twins
(`person`, `in`, `out`: the JSON `count` documents carry the same numbers with their time and
flags), Home Assistant discovery and `available` (the JSON `status` carries the session).
"""

from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Type

from pydantic import BaseModel

from edge_agent.events.payloads import StatusPayload
from edge_agent.events.plan_payloads import PlanPayload
from edge_agent.events.pose_payloads import PoseZoneCountPayload
from edge_agent.events.state_payloads import OccupancyPayload, TelemetryPayload
from edge_agent.events.topics import check_level
from edge_agent.events.track_payloads import LineCountPayload, TrackEvent, ZoneCountPayload


class Channel(NamedTuple):
    """One AsyncAPI channel: its name in the document, address template and payload model."""

    name: str
    address: str
    model: Type[BaseModel]


CHANNELS: List[Channel] = [
    Channel("status", "{prefix}/{device_id}/status", StatusPayload),
    Channel("telemetry", "{prefix}/{device_id}/telemetry", TelemetryPayload),
    Channel("plan", "{prefix}/{device_id}/plan", PlanPayload),
    Channel("occupancy", "{prefix}/{device_id}/{camera_id}/zone/{zone}/occupancy",
            OccupancyPayload),
    Channel("zoneCount", "{prefix}/{device_id}/{camera_id}/zone/{zone}/count", ZoneCountPayload),
    Channel("lineCount", "{prefix}/{device_id}/{camera_id}/line/{line}/count", LineCountPayload),
    Channel("track", "{prefix}/{device_id}/{camera_id}/track", TrackEvent),
    Channel("zonePose", "{prefix}/{device_id}/{camera_id}/zone/{zone}/pose",
            PoseZoneCountPayload),
]


class Routed(NamedTuple):
    """A received topic resolved to its channel and the values of the address parameters."""

    channel: Channel
    params: Dict[str, str]


def subscriptions(prefix: str) -> List[str]:
    """One MQTT filter per channel: the prefix filled in, every other parameter '+'."""
    check_level(prefix, "topic prefix")
    return [_template_levels(c.address, prefix, wildcard=True) for c in CHANNELS]


def _template_levels(address: str, prefix: str, wildcard: bool) -> str:
    levels = []
    for level in address.split("/"):
        if level == "{prefix}":
            levels.append(prefix)
        elif level.startswith("{") and wildcard:
            levels.append("+")
        else:
            levels.append(level)
    return "/".join(levels)


def route(topic: str, prefix: str) -> Optional[Routed]:
    """The channel a topic belongs to, with its parameters; None for any other topic."""
    levels = topic.split("/")
    for channel in CHANNELS:
        template = channel.address.split("/")
        if len(template) != len(levels):
            continue
        params: Dict[str, str] = {}
        for want, got in zip(template, levels):
            if want == "{prefix}":
                if got != prefix:
                    break
            elif want.startswith("{"):
                if not got:
                    break
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            return Routed(channel, params)
    return None
