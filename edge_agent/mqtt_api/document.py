"""docs/asyncapi.yaml in full: the device's channels plus the fleet command protocol.

Why a package of its own: the device channels are described next to their payload models
(events/, the bottom layer), while the fleet protocol's models live in fleet/, which builds
on events; only a layer above both can put them in one document without an import cycle.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Type

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from edge_agent.events.asyncapi import build_document
from edge_agent.fleet.commands import COMMANDS
from edge_agent.fleet.envelope import CommandReply, CommandRequest
from edge_agent.fleet.target import DeviceCard

_ROOT = "{prefix}/{device_id}"
_FLEET = "{prefix}-fleet"

# name, address, message, payload schema name, action (from the device's view), qos, retain,
# summary
_FLEET_CHANNELS = [
    ("commandRequest", f"{_ROOT}/cmd/req", "CommandRequest", "CommandRequest", "receive", 1,
     False, "Commands to this device (MQTT 5 response topic + correlation data, or the "
     "request_id and the reply topic below). Executed at most once per id; expired ones are "
     "refused."),
    ("siteCommandRequest", f"{_FLEET}/site/{{site}}/cmd/req", "SiteCommandRequest",
     "CommandRequest", "receive", 1, False, "Commands to every device of a site "
     "(fleet.site)."),
    ("fleetCommandRequest", f"{_FLEET}/all/cmd/req", "FleetCommandRequest", "CommandRequest",
     "receive", 1, False, "Commands to every device."),
    ("commandReply", f"{_ROOT}/cmd/res", "CommandReply", "CommandReply", "send", 1, False,
     "Replies when the request named no MQTT 5 response topic: accepted, progress, then done "
     "or failed with a code and a reason (unknown commands and bad args included)."),
    ("fleetCard", f"{_ROOT}/fleet", "DeviceCard", "DeviceCard", "send", 1, True,
     "What `edge-fleet ls` shows: site, module, JetPack, power mode, plan, fps, "
     "temperatures, outbox depth, version."),
]


def full_document(version: str) -> Dict[str, Any]:
    """The AsyncAPI document docs/asyncapi.yaml must load to."""
    doc = build_document(version)
    components = doc["components"]
    models: List[Type[BaseModel]] = [CommandRequest, CommandReply, DeviceCard]
    models += [model for model, _ in COMMANDS.values()]
    _, top = models_json_schema([(m, "serialization") for m in models],
                                ref_template="#/components/schemas/{model}")
    for name, schema in sorted(top.get("$defs", {}).items()):
        components["schemas"].setdefault(name, schema)
    args = {name: {"$ref": f"#/components/schemas/{model.__name__}",
                   "description": description}
            for name, (model, description) in sorted(COMMANDS.items())}
    components["schemas"]["CommandArgs"] = {
        "description": "args of each command, by CommandRequest.command.",
        "type": "object", "properties": args}
    for name, address, message, schema, action, qos, retain, summary in _FLEET_CHANNELS:
        params = {key: {"description": _PARAMS[key]}
                  for key in re.findall(r"{(\w+)}", address)}
        doc["channels"][name] = {
            "address": address, "description": f"{summary} See docs/fleet.md.",
            "parameters": params,
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        }
        components["messages"][message] = {
            "name": message, "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{schema}"}}
        doc["operations"][f"{action}{name[0].upper()}{name[1:]}"] = {
            "action": action, "channel": {"$ref": f"#/channels/{name}"},
            "bindings": {"mqtt": {"qos": qos, "retain": retain, "bindingVersion": "0.2.0"}},
        }
    return doc


_PARAMS = {
    "prefix": "mqtt.topic_prefix (default 'edge-agent'); fleet-wide topics use "
              "'<prefix>-fleet'.",
    "device_id": "device.id, or derived from /etc/machine-id.",
    "site": "fleet.site.",
}
