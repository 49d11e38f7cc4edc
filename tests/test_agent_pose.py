"""`edge-agent run` with models.pose on (stand-in models, a synthetic clip, a real mosquitto):
the tracker feeds confirmed tracks to the pose task; pose events, per-zone pose counts and
keypoints reach the broker and match their AsyncAPI schemas; Home Assistant gets the pose
sensors; `edge-agent snapshot` draws the agent's latest local snapshot from another entry
point. Pose without tracking is refused, naming both settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import cv2
import pytest
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber

from edge_agent import __version__
from edge_agent.agent.daemon import Agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.cli.main import main
from edge_agent.errors import ConfigError, ExitCode
from edge_agent.events.asyncapi import build_document
from edge_agent.events.pose_payloads import PoseEvent, PoseKeypointsMessage, PoseZoneCountPayload
from edge_agent.models.manifest import load_manifest
from edge_agent.models.standin import write_standin
from edge_agent.settings.config_file import load_settings

DEVICE = "pose-dev"
ROOT = f"edge-agent/{DEVICE}"
MODELS = ("peoplesemsegnet_shuffleseg", "peoplenet", "reidentificationnet", "bodypose3dnet",
          "poseclassificationnet")


def pose_config(tmp_path: Path, clip: Path, port: int, tracking: bool = True) -> Path:
    models = tmp_path / "models"
    for name in MODELS:
        write_standin(name, models)
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
[device]
id = "{DEVICE}"
[[cameras]]
id = "cam1"
url = "{clip}"
on_eof = "loop"
max_fps = 10
[[cameras.zones]]
name = "floor"
polygon = [[0, 0], [1, 0], [1, 1], [0, 1]]
[models]
dir = "{models}"
threads = 1
[models.semseg]
rate_hz = 2
mask_width = 96
mask_height = 54
[models.tracking]
enabled = {str(tracking).lower()}
rate_hz = 10
min_hits = 2
warmup_s = 0.0
state_dir = "{tmp_path / 'state'}"
[models.pose]
enabled = true
rate_hz = 10
min_frames = 5
classify_interval_s = 0.3
confirm_count = 1
threshold = 0.01
[models.pose.keypoint_messages]
enabled = true
min_interval_s = 0.5
include_3d = true
[models.snapshots]
enabled = true
dir = "{tmp_path / 'snapshots'}"
interval_s = 0.2
[mqtt]
port = {port}
[outbox]
path = "{tmp_path / 'outbox.sqlite'}"
""",
        encoding="utf-8",
    )
    return path


def on(messages: List[Received], suffix: str) -> List[Received]:
    return [m for m in messages if m.topic.endswith(suffix)]


def classified(message: Received) -> bool:
    """A zone pose count with someone whose pose class is known."""
    counts = json.loads(message.payload)
    return bool(counts["total"] > counts["counts"]["unknown"])


def check_schema(doc: Dict[str, Any], schema_name: str, payload: Dict[str, Any]) -> None:
    """The payload has every required field of the published schema and no other field."""
    schema = doc["components"]["schemas"][schema_name]
    assert set(schema.get("required", [])) <= set(payload), schema_name
    assert set(payload) <= set(schema["properties"]), (schema_name, set(payload))


def test_run_with_pose_publishes_pose_events_zone_counts_keypoints_and_snapshots(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 320, 240, 10, 3.0)
    config = pose_config(tmp_path, clip, broker.port)
    settings = load_settings(config)
    agent = Agent(settings)
    agent.prepare()
    with Subscriber(broker.port, [f"{ROOT}/#", "homeassistant/#"]) as subscriber:
        agent.start()
        try:  # the clip loops until what is checked has arrived (a loaded machine is slower)
            subscriber.wait_for(lambda m: m.topic.endswith("/cam1/pose"), timeout_s=90)
            subscriber.wait_for(lambda m: m.topic.endswith("/cam1/zone/floor/pose")
                                and classified(m), timeout_s=60)
            subscriber.wait_for(lambda m: m.topic.endswith("/cam1/keypoints"), timeout_s=30)
        finally:
            agent.stop(5.0)
        subscriber.wait_for(
            lambda m: m.topic.endswith("/status") and b'"stopped"' in m.payload, timeout_s=5
        )
        messages = subscriber.messages()
    assert "pose" in {t.name for t in agent.tasks}
    assert agent.snapshot().engine_ms["pose"][0] > 0.0, "pose timings on the status line"
    document = build_document(__version__)
    labels = load_manifest("poseclassificationnet").labels
    track_ids = {json.loads(m.payload)["id"] for m in on(messages, "/cam1/track")}

    events = [json.loads(m.payload) for m in on(messages, "/cam1/pose")]
    assert events, "no pose event arrived"
    for event in events:
        PoseEvent.model_validate(event)
        check_schema(document, "PoseEvent", event)
        assert event["pose"] in labels and event["id"] in track_ids
        assert event["standin"] is True
    first = {}
    for event in events:
        first.setdefault(event["id"], event)
    assert all(e["previous"] is None for e in first.values()), "a track's first class"

    counts = on(messages, f"{ROOT}/cam1/zone/floor/pose")
    assert counts
    with Subscriber(broker.port, [f"{ROOT}/cam1/zone/floor/pose"]) as late:
        kept = late.wait_for(lambda m: m.retain, timeout_s=5)
    assert kept.payload == counts[-1].payload, "the last count is retained"
    for message in counts:
        payload = json.loads(message.payload)
        PoseZoneCountPayload.model_validate(payload)
        check_schema(document, "PoseZoneCountPayload", payload)
        assert set(payload["counts"]) == set(labels) | {"unknown"}
        assert payload["total"] == sum(payload["counts"].values())
    assert any(classified(m) for m in counts), "someone in the zone got a pose class"

    keypoints = on(messages, "/cam1/keypoints")
    assert keypoints and all(len(m.payload) < 8192 for m in keypoints)
    for message in keypoints:
        payload = json.loads(message.payload)
        PoseKeypointsMessage.model_validate(payload)
        check_schema(document, "PoseKeypointsMessage", payload)
        assert len(payload["keypoints"]) == 34

    ha = {m.topic for m in messages if m.topic.startswith("homeassistant/") and m.payload}
    for label in [*labels, "unknown"]:
        assert f"homeassistant/sensor/{DEVICE}/cam1_floor_pose_{label}/config" in ha

    snapshots = tmp_path / "snapshots"
    saved = json.loads((snapshots / "cam1.json").read_text(encoding="utf-8"))
    assert saved["camera_id"] == "cam1" and (snapshots / "cam1.jpg").is_file()
    assert (snapshots / "cam1.mask.png").is_file()
    png = tmp_path / "out" / "cam1.png"
    assert main(["snapshot", "--camera", "cam1", "--config", str(config),
                 "--out", str(png)]) == ExitCode.OK
    picture = cv2.imread(str(png))
    assert picture is not None and picture.shape[:2] == (saved["height"], saved["width"])
    frame = cv2.imread(str(snapshots / "cam1.jpg"))
    assert (picture != frame).any(), "something was drawn over the frame"
    assert main(["snapshot", "--camera", "nope", "--config", str(config),
                 "--out", str(png)]) == ExitCode.NO_INPUT


def test_pose_without_tracking_is_refused_naming_both_settings(tmp_path: Path) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 160, 120, 5, 1.0)
    config = pose_config(tmp_path, clip, 1883, tracking=False)
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    text = str(err.value.problem) + str(err.value.fix)
    assert "models.pose.enabled" in text and "models.tracking.enabled" in text
    assert main(["config", "check", str(config)]) == ExitCode.CONFIG
    assert main(["run", "--config", str(config), "--duration-s", "1"]) == ExitCode.CONFIG
