"""`edge-agent run` with models.tracking on: both consumers share the camera slots, track
events and retained counts reach a real broker, timings reach the status line, stop is clean."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List

from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber

from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.models.standin import write_standin
from edge_agent.pipeline.status import format_status_line
from edge_agent.service.console import StatusLine
from edge_agent.settings.config_file import load_settings

DEVICE = "track-dev"
ROOT = f"edge-agent/{DEVICE}"


def tracking_config(tmp_path: Path, clip: Path, port: int) -> Path:
    models = tmp_path / "models"
    for name in ("peoplesemsegnet_shuffleseg", "peoplenet", "reidentificationnet"):
        write_standin(name, models)
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
[device]
id = "{DEVICE}"
[[cameras]]
id = "cam1"
url = "{clip}"
on_eof = "stop"
max_fps = 20
[[cameras.zones]]
name = "left"
polygon = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
[[cameras.lines]]
name = "middle"
start = [0.5, 0.0]
end = [0.5, 1.0]
[models]
dir = "{models}"
threads = 1
[models.semseg]
rate_hz = 5
mask_width = 96
mask_height = 54
[models.tracking]
enabled = true
rate_hz = 10
min_hits = 2
warmup_s = 0.0
state_dir = "{tmp_path / 'state'}"
[mqtt]
port = {port}
[outbox]
path = "{tmp_path / 'outbox.sqlite'}"
[logging]
stats_interval_s = 0.5
""",
        encoding="utf-8",
    )
    return path


def on(messages: List[Received], suffix: str) -> List[Received]:
    return [m for m in messages if m.topic.endswith(suffix)]


def test_run_with_tracking_publishes_tracks_counts_and_masks(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 320, 240, 10, 3.0)
    settings = load_settings(tracking_config(tmp_path, clip, broker.port))
    with Subscriber(broker.port, [f"{ROOT}/#"]) as subscriber:
        agent = run_agent(settings, StatusLine(sys.stderr, interactive=False), duration_s=60)
        subscriber.wait_for(
            lambda m: m.topic.endswith("/status") and b'"stopped"' in m.payload, timeout_s=5
        )
        messages = subscriber.messages()
    assert on(messages, "/cam1/mask"), "segmentation still gets frames"
    tracks = [json.loads(m.payload) for m in on(messages, "/cam1/track")]
    assert tracks, "no track event arrived"
    assert {t["type"] for t in tracks} >= {"new", "end"}
    ended = {t["id"] for t in tracks if t["type"] == "end"}
    assert ended == {t["id"] for t in tracks if t["type"] == "new"}, "every track ends on stop"
    person = on(messages, f"{ROOT}/cam1/zone/left/person")
    assert person and all(m.payload.isdigit() for m in person)
    doc = json.loads(on(messages, "/cam1/zone/left/count")[-1].payload)
    assert doc["zone"] == "left" and doc["standin"] is True
    assert int(person[-1].payload) == doc["count"], "plain and JSON counts agree"
    line = json.loads(on(messages, "/cam1/line/middle/count")[-1].payload)
    assert {"in", "out", "since"} <= set(line)
    assert (tmp_path / "state" / "counting.json").exists(), "counts saved on stop"
    snapshot = agent.snapshot()
    assert set(snapshot.engine_ms) == {"peoplenet", "reid", "tracker"}
    assert snapshot.engine_ms["peoplenet"][0] > 0.0
    assert "peoplenet" in format_status_line(snapshot)
