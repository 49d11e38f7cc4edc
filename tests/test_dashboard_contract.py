"""The dashboard and exporter read only the documented API (docs/asyncapi.yaml).

* every channel they subscribe to is a channel of the document, with the same address and the
  payload schema of the model they validate with;
* every field their reducers read — recorded while folding realistic documents — resolves in
  that channel's schema (a renamed or undocumented field fails here);
* the page itself talks only to the dashboard server (no broker, no CDN).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Set

import pytest
import yaml

from edge_agent.dashboard.channels import CHANNELS, route, subscriptions
from edge_agent.dashboard.demo_traffic import device_tick, status_message
from edge_agent.dashboard.fleet_state import FleetState
from edge_agent.events.topics import Topics

REPO = Path(__file__).resolve().parents[1]
DOC = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))
STATIC = REPO / "edge_agent" / "dashboard" / "static"


def node_ref(ref: str) -> Dict[str, Any]:
    node: Any = DOC
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return dict(node)


def resolve(schema: Dict[str, Any], path: List[str]) -> bool:
    """True when ``path`` (field names, map keys) exists in ``schema``."""
    if "$ref" in schema:
        return resolve(node_ref(schema["$ref"]), path)
    if "anyOf" in schema:
        return any(resolve(branch, path) for branch in schema["anyOf"])
    if not path:
        return True
    head, rest = path[0], path[1:]
    properties = schema.get("properties", {})
    if head in properties:
        return resolve(properties[head], rest)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):  # a map keyed by ids (cameras, temps_c, ...): any key
        return resolve(extra, rest)
    return False


def payload_schema(channel_name: str) -> Dict[str, Any]:
    """The payload schema of a channel's (only) message, references followed."""
    (message,) = DOC["channels"][channel_name]["messages"].values()
    payload = node_ref(message["$ref"])["payload"]
    return node_ref(payload["$ref"]) if "$ref" in payload else dict(payload)


class Recorder(Mapping[str, Any]):
    """A read-only view of a document that records the path of every field read."""

    def __init__(self, data: Mapping[str, Any], path: str, seen: Set[str]) -> None:
        self._data, self._path, self._seen = data, path, seen

    def __getitem__(self, key: str) -> Any:
        path = f"{self._path}.{key}" if self._path else key
        self._seen.add(path)
        value = self._data[key]
        return Recorder(value, path, self._seen) if isinstance(value, Mapping) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_every_channel_read_is_documented_with_the_same_address_and_schema() -> None:
    for channel in CHANNELS:
        assert channel.name in DOC["channels"], f"{channel.name} is not in docs/asyncapi.yaml"
        documented = DOC["channels"][channel.name]
        assert documented["address"] == channel.address
        assert payload_schema(channel.name)["title"] == channel.model.__name__
    for topic, channel in zip(subscriptions("site7"), CHANNELS):
        assert topic == re.sub(r"\{[a-z_]+\}", "+", channel.address).replace("+", "site7", 1)


def test_topics_route_to_their_channel_and_others_are_ignored() -> None:
    topics = Topics("edge-agent", "dev1")
    assert route(topics.zone_count("cam1", "left"), "edge-agent").params == {  # type: ignore
        "device_id": "dev1", "camera_id": "cam1", "zone": "left"}
    assert route(topics.status, "edge-agent").channel.name == "status"  # type: ignore
    assert route(topics.mask("cam1"), "edge-agent") is None
    assert route(topics.zone_person("cam1", "left"), "edge-agent") is None
    assert route(topics.status, "other-prefix") is None


def test_every_field_the_reducers_read_is_in_the_document() -> None:
    import json

    topics = Topics("edge-agent", "dev1")
    messages = [status_message(topics, "dev1", "online", 1)]
    messages += device_tick(topics, "dev1", 1, 3)
    fleet = FleetState("edge-agent")
    read: Dict[str, Set[str]] = {}
    for topic, payload, _ in messages:
        routed = route(topic, "edge-agent")
        assert routed is not None, topic
        doc = json.loads(routed.channel.model.model_validate_json(payload)
                         .model_dump_json(by_alias=True))
        seen = read.setdefault(routed.channel.name, set())
        fleet.apply(routed.channel.name, "dev1", routed.params, Recorder(doc, "", seen))
    assert set(read) == {c.name for c in CHANNELS}, "the sample covers every channel"
    missing = [f"{channel}: {path}" for channel, paths in read.items() for path in paths
               if not resolve(payload_schema(channel), path.split("."))]
    assert not missing, f"fields read but not documented: {missing}"
    # the recording sees what matters (a reducer reading nothing would pass vacuously)
    assert {"cameras.cam1.fps", "device.max_temp_c", "outbox.depth", "plan.utilisation"} <= \
        read["telemetry"]
    assert {"in", "out"} <= read["lineCount"] and {"count", "active"} <= read["zoneCount"]
    assert "coverage" in read["occupancy"] and "box" in read["track"]


def test_the_resolver_rejects_undocumented_fields() -> None:
    schema = payload_schema("telemetry")
    assert resolve(schema, ["cameras", "cam9", "fps"])
    assert not resolve(schema, ["cameras", "cam9", "fpz"])
    assert not resolve(schema, ["site"])
    assert not resolve(payload_schema("zoneCount"), ["people"])


@pytest.mark.parametrize("name", ["index.html", "app.js"])
def test_the_page_talks_only_to_its_server(name: str) -> None:
    source = (STATIC / name).read_text(encoding="utf-8")
    assert not re.search(r"(https?|wss?)://", source), "nothing from the internet or a broker"
    assert not re.search(r"WebSocket|Paho|mqtt\.connect", source), "no broker from the page"
    urls = set(re.findall(r"""["'`](/[a-z/._-]*)""", source))
    allowed = {"/",  # a path separator in a chart key
               "/static/app.css", "/static/app.js", "/vendor/chart.js", "/events",
               "/api/device/"}
    assert urls <= allowed, f"unexpected URLs {urls - allowed}"
