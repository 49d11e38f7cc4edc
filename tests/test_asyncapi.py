"""docs/asyncapi.yaml must equal what the code publishes (topics, QoS/retain, JSON Schemas).

Regenerate after a deliberate change: EDGE_AGENT_REGEN_ASYNCAPI=1 pytest tests/test_asyncapi.py
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from edge_agent import __version__
from edge_agent.events.asyncapi import build_document
from edge_agent.events.payloads import payload_schemas
from edge_agent.events.topics import Topics

DOC = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.yaml"
HEADER = (
    "# edge-agent MQTT API (AsyncAPI 3.0). Generated from edge_agent/events/asyncapi.py;\n"
    "# tests/test_asyncapi.py fails when this file and the code disagree.\n"
)


def test_document_matches_the_code() -> None:
    expected = build_document(__version__.split("+")[0])
    if os.environ.get("EDGE_AGENT_REGEN_ASYNCAPI"):
        text = yaml.safe_dump(expected, sort_keys=False, width=100, allow_unicode=True)
        DOC.write_text(HEADER + text, encoding="utf-8")
    assert yaml.safe_load(DOC.read_text(encoding="utf-8")) == expected


def test_every_payload_model_is_in_the_document() -> None:
    schemas = build_document("x")["components"]["schemas"]
    assert set(payload_schemas()) <= set(schemas)
    assert "replayed" in schemas["MaskEvent"]["properties"]


def test_every_channel_address_resolves_to_a_real_topic() -> None:
    topics = Topics("edge-agent", "dev1")
    document = build_document("x")
    concrete = {
        "status": topics.status,
        "available": topics.available,
        "telemetry": topics.telemetry,
        "occupancy": topics.occupancy("cam1", "door"),
        "mask": topics.mask("cam1"),
        "track": topics.track("cam1"),
        "zonePerson": topics.zone_person("cam1", "door"),
        "zonePersonActive": topics.zone_person_active("cam1", "door"),
        "zoneCount": topics.zone_count("cam1", "door"),
        "lineIn": topics.line_in("cam1", "gate"),
        "lineOut": topics.line_out("cam1", "gate"),
        "lineCount": topics.line_count("cam1", "gate"),
        "haDiscovery": topics.ha_config("homeassistant", "sensor", "status"),
    }
    values = {
        "prefix": "edge-agent",
        "device_id": "dev1",
        "camera_id": "cam1",
        "zone": "door",
        "line": "gate",
        "ha_prefix": "homeassistant",
        "object_id": "status",
    }
    for name, topic in concrete.items():
        assert document["channels"][name]["address"].format(**values) == topic


def test_coverage_and_head_count_topics_of_a_zone_never_coincide() -> None:
    addresses = [c["address"] for c in build_document("x")["channels"].values()]
    assert len(addresses) == len(set(addresses))
    topics = Topics("edge-agent", "dev1")
    zone_topics = {
        topics.occupancy("cam1", "door"),
        topics.zone_person("cam1", "door"),
        topics.zone_person_active("cam1", "door"),
        topics.zone_count("cam1", "door"),
        topics.line_in("cam1", "door"),
        topics.line_out("cam1", "door"),
        topics.line_count("cam1", "door"),
    }
    assert len(zone_topics) == 7, "a zone and a line may share a name"
