"""The running agent's MQTT API end to end: occupancy (retained), HA discovery, telemetry.

Every payload received is validated with the pydantic model the AsyncAPI document was built
from, so a published document that drifts from docs/asyncapi.yaml fails here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Subscriber
from test_agent_end_to_end import DEVICE, agent_config

from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.events.payloads import MaskEvent, StatusPayload
from edge_agent.events.state_payloads import OccupancyPayload, TelemetryPayload
from edge_agent.service.console import StatusLine
from edge_agent.settings.config_file import load_settings

ROOT = f"edge-agent/{DEVICE}"


def test_agent_publishes_its_documented_api(
    tmp_path: Path,
    broker: MosquittoBroker,
) -> None:
    clip = tmp_path / "clip.avi"
    write_synthetic_clip(clip, width=320, height=240, fps=10, seconds=1.0)
    settings = load_settings(agent_config(tmp_path, clip, broker.port, on_eof="loop"))
    settings = settings.model_copy(
        update={"mqtt": settings.mqtt.model_copy(update={"telemetry_interval_s": 0.5})}
    )
    with Subscriber(broker.port, [f"{ROOT}/#", "homeassistant/#"]) as sub:
        run_agent(settings, StatusLine(sys.stderr, interactive=False), duration_s=3)
        sub.wait_for(lambda m: m.topic == f"{ROOT}/status" and b"stopped" in m.payload, 5.0)
        messages = sub.messages()
    by_topic = {}
    for message in messages:
        by_topic.setdefault(message.topic, []).append(message)
    occupancy_topic = f"{ROOT}/cam1/zone/left/occupancy"
    assert occupancy_topic in by_topic
    for message in by_topic[occupancy_topic]:
        state = OccupancyPayload.model_validate_json(message.payload)
        assert state.camera_id == "cam1" and state.zone == "left" and not state.replayed
    telemetry = [
        TelemetryPayload.model_validate_json(m.payload) for m in by_topic[f"{ROOT}/telemetry"]
    ]
    assert any(t.cameras["cam1"].state == "streaming" for t in telemetry)
    assert telemetry[-1].process.rss_bytes > 10_000_000 and "inference" in telemetry[-1].latency
    assert telemetry[-1].device is not None  # typed device section (mostly empty off Jetson)
    for message in by_topic[f"{ROOT}/cam1/mask"]:
        MaskEvent.model_validate_json(message.payload)
    for message in by_topic[f"{ROOT}/status"]:
        StatusPayload.model_validate_json(message.payload)
    config = by_topic[f"homeassistant/sensor/{DEVICE}/cam1_left_coverage/config"][0]
    body = json.loads(config.payload)
    assert body["state_topic"] == occupancy_topic and body["availability_topic"] == f"{ROOT}/status"
    assert f"homeassistant/sensor/{DEVICE}/status/config" in by_topic

    # A dashboard that starts later reads the retained occupancy at once.
    with Subscriber(broker.port, [occupancy_topic]) as late:
        retained = late.wait_for(lambda m: m.topic == occupancy_topic, 5.0)
    assert retained.retain
