"""The walking skeleton end to end: real video → stand-in ONNX → real mosquitto → subscriber."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber
from pycocotools import mask as coco_mask

from edge_agent.agent.daemon import Agent
from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.models.standin import write_standin
from edge_agent.service.console import StatusLine
from edge_agent.settings.config_file import load_settings

DEVICE = "test-dev"


def agent_config(tmp_path: Path, clip: Path, port: int, on_eof: str = "stop") -> Path:
    models = tmp_path / "models"
    if not (models / "peoplesemsegnet_shuffleseg.onnx").exists():
        write_standin("peoplesemsegnet_shuffleseg", models)
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
[device]
id = "{DEVICE}"
[[cameras]]
id = "cam1"
url = "{clip}"
on_eof = "{on_eof}"
[[cameras.zones]]
name = "left"
polygon = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
[models]
dir = "{models}"
threads = 1
[models.semseg]
rate_hz = 0
mask_width = 96
mask_height = 54
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


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.avi"
    write_synthetic_clip(path, width=320, height=240, fps=10, seconds=1.0)
    return path


def mask_messages(messages: List[Received]) -> List[Dict[str, Any]]:
    return [json.loads(m.payload) for m in messages if m.topic.endswith("/mask")]


def test_agent_publishes_mask_events(tmp_path: Path, clip: Path, broker: MosquittoBroker) -> None:
    settings = load_settings(agent_config(tmp_path, clip, broker.port))
    with Subscriber(broker.port, [f"edge-agent/{DEVICE}/#"]) as subscriber:
        agent = run_agent(settings, StatusLine(sys.stderr, interactive=False), duration_s=30)
        subscriber.wait_for(
            lambda m: m.topic.endswith("/status") and b'"stopped"' in m.payload, timeout_s=5
        )
        messages = subscriber.messages()
    events = mask_messages(messages)
    assert events, "no mask event arrived"
    snapshot = agent.snapshot()
    assert len(events) == snapshot.events_published
    # The status line's "mqtt acked A/P" counts one population: A can never exceed P.
    assert 0 < snapshot.events_acknowledged <= snapshot.messages_published
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    first = events[0]
    assert first["standin"] is True
    assert first["device_id"] == DEVICE and first["camera_id"] == "cam1"
    assert first["frame_width"] == 320 and first["frame_height"] == 240
    assert [zone["name"] for zone in first["zones"]] == ["left"]
    # The carried mask decodes with pycocotools from both encodings to the same pixels.
    rle = first["mask"]
    from_counts = coco_mask.decode(coco_mask.frPyObjects(dict(rle, counts=rle["counts"]), 54, 96))
    from_string = coco_mask.decode({"size": rle["size"], "counts": rle["counts_str"].encode()})
    assert from_counts.shape == (54, 96)
    np.testing.assert_array_equal(from_counts, from_string)
    assert 0 < from_counts.sum() < from_counts.size  # the synthetic walkers are found
    states = [json.loads(m.payload)["state"] for m in messages if m.topic.endswith("/status")]
    assert states[0] == "online" and states[-1] == "stopped"


def test_sigterm_stops_within_five_seconds(
    tmp_path: Path, clip: Path, broker: MosquittoBroker
) -> None:
    config = agent_config(tmp_path, clip, broker.port, on_eof="loop")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log_path = tmp_path / "agent.log"
    with Subscriber(broker.port, [f"edge-agent/{DEVICE}/#"]) as subscriber, log_path.open(
        "wb"
    ) as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            subscriber.wait_for(lambda m: m.topic.endswith("/mask"), timeout_s=30)
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            elapsed = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        output = log_path.read_text(encoding="utf-8", errors="replace")
        subscriber.wait_for(
            lambda m: m.topic.endswith("/status") and b'"stopped"' in m.payload, timeout_s=5
        )
    assert process.returncode == 0, output
    assert elapsed < 5.0, output
    assert "Traceback" not in output
    assert "received SIGTERM" in output


def test_broker_down_at_start_still_runs(
    tmp_path: Path, clip: Path, broker: MosquittoBroker
) -> None:
    """No broker: the agent starts, says so, and its status line reports it."""
    broker.stop()
    settings = load_settings(agent_config(tmp_path, clip, broker.port))
    settings = settings.model_copy(
        update={"mqtt": settings.mqtt.model_copy(update={"connect_timeout_s": 0.5})}
    )
    stop = threading.Event()
    agent = Agent(settings)
    runner = threading.Thread(
        target=run_agent, name="test-runner",
        kwargs={"settings": settings, "status": StatusLine(sys.stderr, interactive=False),
                "stop_event": stop, "duration_s": 20, "agent": agent})
    runner.start()
    try:
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:  # mask events are computed although nothing connects
            if agent.prepared and agent.snapshot().events_published > 0:
                break
            time.sleep(0.05)
        running = agent.snapshot()
    finally:
        stop.set()
        runner.join(10.0)
    assert running.events_published > 0 and running.broker == "unreachable"
    assert running.events_acknowledged == 0
